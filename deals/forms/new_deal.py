"""The new prospect + deal form."""

from django import forms
from django.core.exceptions import ValidationError

from deals.forms.widgets import DateInput
from deals.models import Contact, Prospect
from deals.visibility import prospect_scope_q


class DealCreateForm(forms.Form):
    prospect = forms.ModelChoiceField(
        queryset=Prospect.objects.none(),
        required=False,
        empty_label="— New prospect —",
        label="Prospect",
        help_text="Pick one of your team's prospects, or leave on “New prospect”.",
    )
    prospect_name = forms.CharField(required=False, max_length=200, label="New prospect name")
    prospect_industry = forms.CharField(required=False, max_length=100, label="Industry")
    prospect_size = forms.ChoiceField(
        required=False, choices=[("", "—"), *Prospect.Size.choices], label="Size"
    )
    contact_name = forms.CharField(required=False, max_length=200, label="Name")
    contact_title = forms.CharField(required=False, max_length=200, label="Job title")
    contact_email = forms.EmailField(required=False, label="Email")
    contact_role = forms.ChoiceField(
        required=False,
        choices=Contact.BuyingRole.choices,
        initial=Contact.BuyingRole.CHAMPION,
        label="Buying role",
    )
    title = forms.CharField(max_length=200, label="Deal title")
    expected_close_date = forms.DateField(
        required=False,
        widget=DateInput(),
        label="Expected close",
        help_text="Your forecast of when the buyer will decide.",
    )
    currency = forms.CharField(max_length=3, initial="USD", label="Currency")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prospect"].queryset = Prospect.objects.filter(prospect_scope_q(user)).order_by(
            "name"
        )
        self.fields["title"].widget.attrs["placeholder"] = "e.g. Onboarding automation, 50 seats"
        self.fields["prospect_name"].widget.attrs["placeholder"] = "The buying organisation"
        # The cursor starts in the form's first field: the prospect picker.
        self.fields["prospect"].widget.attrs["autofocus"] = True
        self.fields["currency"].widget.attrs.update({"maxlength": 3, "style": "max-width:6rem"})

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ValidationError("Use a three-letter ISO code such as USD or EUR.")
        return currency

    def clean(self):
        data = super().clean()
        prospect, name = data.get("prospect"), (data.get("prospect_name") or "").strip()
        if prospect is None and not name and "prospect" not in self.errors:
            self.add_error("prospect_name", "Name the new prospect, or pick an existing one.")
        if prospect is not None and name:
            self.add_error(
                "prospect_name",
                "You picked an existing prospect; clear this name or choose “New prospect”.",
            )
        if (data.get("contact_title") or data.get("contact_email")) and not data.get(
            "contact_name"
        ):
            self.add_error("contact_name", "Give the contact's name.")
        return data
