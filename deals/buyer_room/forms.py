"""The few fields the buyer room offers; anything else in a post is refused."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from deals.models import Need

NEED_KINDS = {
    "goal": _("Goal"),
    "problem": _("Problem"),
    "interest": _("Interest"),
    "dream": _("Dream"),
}
IMPORTANCE_CHOICES = [(i, str(i)) for i in range(1, 6)]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class NeedChangeForm(forms.Form):
    statement = forms.CharField(label=_("In your words"), max_length=2000, widget=forms.Textarea)
    importance = forms.TypedChoiceField(
        label=_("How much it matters (1–5)"), choices=IMPORTANCE_CHOICES, coerce=int
    )


class NeedAddForm(NeedChangeForm):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=list(NEED_KINDS.items()),
        initial=Need.Kind.GOAL,
    )


class ProposeDateForm(forms.Form):
    proposed_date = forms.DateField(
        label=_("A date that works for you"), widget=forms.DateInput(attrs={"type": "date"})
    )


class QuestionForm(forms.Form):
    question = forms.CharField(
        label=_("Your question"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class TickForm(forms.Form):
    done = forms.TypedChoiceField(choices=YES_NO, coerce=lambda v: v == "yes")


class PulseForm(forms.Form):
    got_what_needed = forms.TypedChoiceField(
        label=_("Did you get what you needed from the meeting?"),
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    felt_pushed = forms.TypedChoiceField(
        label=_("Did you feel pushed?"),
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    next_step_agreed = forms.TypedChoiceField(
        label=_("Is the next step yours, and did you agree to it?"),
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )


class CheckInAnswerForm(forms.Form):
    """One 1–5 field per need sold and one kept/not field per promise, built from the
    check-in content the room shows (so only those can be answered)."""

    comment = forms.CharField(
        label=_("Anything else we should know?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea,
    )

    def __init__(self, *args, check_in: dict, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for need in check_in["needs"]:
            self.fields[f"need_{need['id']}"] = forms.TypedChoiceField(
                label=need["statement"],
                choices=IMPORTANCE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                initial=need["value"],
            )
        for promise in check_in["promises"]:
            self.fields[f"promise_{promise['id']}"] = forms.TypedChoiceField(
                label=promise["description"],
                choices=[("yes", _("Kept")), ("no", _("Not kept"))],
                coerce=lambda v: v == "yes",
                widget=forms.RadioSelect,
                initial=None if promise["kept"] is None else ("yes" if promise["kept"] else "no"),
            )
        self.fields["comment"].initial = check_in["comment"]

    def need_values(self) -> dict[int, int]:
        return {
            int(name.removeprefix("need_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("need_")
        }

    def promises_kept(self) -> dict[int, bool]:
        return {
            int(name.removeprefix("promise_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("promise_")
        }


class ShareForm(forms.Form):
    """Staff side: which of the deal's contacts gets the link."""

    contact = forms.IntegerField()
