"""Forms of the handoff pages; the services re-check everything they accept."""

from collections.abc import Iterable

from django import forms

from deals.models import Commitment, Need

from .models import CheckIn, CheckInPromise

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


VALUE_CHOICES = [("", "—")] + [(i, str(i)) for i in range(1, 6)]


class CheckInForm(forms.Form):
    """A check-in: a value per need sold and a verdict per promise (fields `need_<id>` and
    `promise_<id>`, built from the deal), the overall value, account health, referrals."""

    customer_value = forms.TypedChoiceField(
        label="Overall value (1–5)",
        coerce=int,
        empty_value=None,
        required=False,
        choices=VALUE_CHOICES,
        help_text="Is the customer getting the value they bought? Empty: the mean per need.",
    )
    account_health = forms.ChoiceField(
        label="Account health", choices=[("", "—"), *CheckIn.AccountHealth.choices]
    )
    referrals = forms.IntegerField(label="Referrals given", min_value=0, initial=0)
    notes = forms.CharField(
        required=False, max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self, *args, needs: Iterable[Need] = (), commitments: Iterable[Commitment] = (), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.need_fields: list[str] = []
        self.promise_fields: list[str] = []
        for need in needs:
            name = f"need_{need.pk}"
            self.fields[name] = forms.TypedChoiceField(
                label=f"Value for “{need.statement[:80]}”",
                coerce=int,
                empty_value=None,
                required=False,
                choices=VALUE_CHOICES,
            )
            self.need_fields.append(name)
        for commitment in commitments:
            name = f"promise_{commitment.pk}"
            self.fields[name] = forms.ChoiceField(
                label=f"Promise “{commitment.description[:80]}”",
                required=False,
                choices=[("", "—"), *CheckInPromise.Status.choices],
            )
            self.promise_fields.append(name)

    def need_values(self) -> dict[int, int]:
        data = self.cleaned_data
        return {int(n[5:]): data[n] for n in self.need_fields if data.get(n) is not None}

    def promises(self) -> dict[int, str]:
        data = self.cleaned_data
        return {int(n[8:]): data[n] for n in self.promise_fields if data.get(n)}


class CommitmentStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Commitment.Status.choices)
