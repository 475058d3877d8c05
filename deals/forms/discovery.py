"""The discovery call: one form, three repeatable row sets."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from deals.forms.widgets import (
    DATETIME_INPUT_FORMATS,
    IMPORTANCE_CHOICES,
    DateInput,
    DateTimeInput,
    now_for_input,
)
from deals.models import BuyerMilestone, Contact, Need


class DiscoveryCallForm(forms.Form):
    held_at = forms.DateTimeField(
        widget=DateTimeInput(), input_formats=DATETIME_INPUT_FORMATS, label="When"
    )
    attendees = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Who was on the call",
    )
    summary = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Summary"
    )
    next_step = forms.CharField(
        required=False,
        max_length=300,
        label="Agreed next step",
        help_text="What the buyer said they will do next.",
    )

    def __init__(self, *args, deal, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("held_at", now_for_input())
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = Contact.objects.filter(prospect_id=deal.prospect_id)
        self.fields["summary"].widget.attrs["placeholder"] = (
            "What did you learn about how they work and decide?"
        )
        self.fields["held_at"].widget.attrs["autofocus"] = True  # the form's first field
        self.fields["next_step"].widget.attrs["placeholder"] = (
            "e.g. They send the security questionnaire by Friday"
        )

    def clean_held_at(self):
        held_at = self.cleaned_data["held_at"]
        if held_at > timezone.now() + timezone.timedelta(days=1):
            raise ValidationError("A discovery call is logged after it happens.")
        return held_at


class NewAttendeeForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    title = forms.CharField(max_length=200, required=False, label="Job title")
    buying_role = forms.ChoiceField(
        choices=Contact.BuyingRole.choices, initial=Contact.BuyingRole.INFLUENCER, label="Role"
    )


class NeedRowForm(forms.Form):
    kind = forms.ChoiceField(choices=Need.Kind.choices, initial=Need.Kind.PROBLEM, label="Kind")
    statement = forms.CharField(
        max_length=1000,
        label="In the buyer's words",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Onboarding a customer takes 3 weeks"}),
    )
    importance = forms.TypedChoiceField(
        coerce=int, choices=IMPORTANCE_CHOICES, initial=3, label="Importance"
    )
    confirmed_by_buyer = forms.BooleanField(required=False, label="Buyer confirmed")


class MilestoneRowForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        label="Milestone",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Security review"}),
    )
    side = forms.ChoiceField(
        choices=BuyerMilestone.Side.choices, initial=BuyerMilestone.Side.BUYER, label="Side"
    )
    required_for_decision = forms.BooleanField(
        required=False, initial=True, label="Required to decide"
    )
    due_date = forms.DateField(required=False, widget=DateInput(), label="Due")


def _row_formset(form_class, extra):
    return forms.formset_factory(form_class, extra=extra, max_num=30, validate_max=True)


NewAttendeeFormSet = _row_formset(NewAttendeeForm, extra=0)
NeedRowFormSet = _row_formset(NeedRowForm, extra=2)
MilestoneRowFormSet = _row_formset(MilestoneRowForm, extra=1)


def changed_rows(formset) -> list[dict]:
    """The cleaned data of the rows the user filled in (untouched blank rows are skipped)."""
    return [
        form.cleaned_data
        for form in formset.forms
        if form.has_changed() and form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]
