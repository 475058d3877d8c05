"""Forms of the handoff pages; the services re-check everything they accept."""

from django import forms

from deals.models import Commitment

from .models import CheckIn

TEXT_LIMIT = 5000


class NotesForm(forms.Form):
    notes_for_delivery = forms.CharField(
        label="Notes for delivery",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Anything delivery should know that the package does not say.",
    )


class AskForm(forms.Form):
    question = forms.CharField(
        label="Question for the rep",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer", max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3})
    )


class CheckInForm(forms.Form):
    customer_value = forms.TypedChoiceField(
        label="Customer value (1–5)",
        coerce=int,
        choices=[("", "—")] + [(i, str(i)) for i in range(1, 6)],
        help_text="Is the customer getting the value they bought? 5 = fully.",
    )
    account_health = forms.ChoiceField(
        label="Account health", choices=[("", "—"), *CheckIn.AccountHealth.choices]
    )
    referrals = forms.IntegerField(label="Referrals given", min_value=0, initial=0)
    notes = forms.CharField(
        required=False, max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommitmentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Commitment.Status.choices)
