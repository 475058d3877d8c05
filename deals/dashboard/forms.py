"""Query-string filters for the dashboard pages and its JSON endpoints (one definition)."""

from django import forms

from deals.models import Flag, Severity, Side

from .outcomes import OUTCOME_PERIOD_CHOICES, OutcomeFilters
from .selectors import (
    FLAG_AGE_CHOICES,
    FLAG_STATUS_CHOICES,
    PERIOD_CHOICES,
    REP_SORT_KEYS,
    STAGE_CHOICES,
    STAGE_OPEN,
    DashboardFilters,
    FlagFilters,
)

SORT_CHOICES = [(key, key) for key in REP_SORT_KEYS] + [(f"-{key}", key) for key in REP_SORT_KEYS]


class DashboardFilterForm(forms.Form):
    team = forms.IntegerField(required=False, min_value=1)
    rep = forms.IntegerField(required=False, min_value=1)
    stage = forms.ChoiceField(choices=STAGE_CHOICES, required=False)
    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False)
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)

    def filters(self) -> DashboardFilters:
        data = self.cleaned_data
        return DashboardFilters(
            team_id=data.get("team") or None,
            rep_id=data.get("rep") or None,
            stage=data.get("stage") or STAGE_OPEN,
            period=data.get("period") or "all",
        )

    def sort_key(self) -> str:
        return self.cleaned_data.get("sort") or "name"


def code_choices() -> list[tuple[str, str]]:
    """Every code the catalog knows, named in words (the code is what the filter sends)."""
    from deals.health.catalog import CATALOG

    return [("", "Any flag"), *((code, info.label) for code, info in CATALOG.items())]


class FlagFilterForm(forms.Form):
    status = forms.ChoiceField(choices=FLAG_STATUS_CHOICES, required=False)
    code = forms.ChoiceField(choices=code_choices, required=False)
    side = forms.ChoiceField(choices=[("", "Any side"), *Side.choices], required=False)
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    rep = forms.IntegerField(required=False, min_value=1)
    team = forms.IntegerField(required=False, min_value=1)
    age = forms.ChoiceField(choices=FLAG_AGE_CHOICES, required=False)

    def filters(self) -> FlagFilters:
        data = self.cleaned_data
        return FlagFilters(
            status=data.get("status") or Flag.Status.OPEN,
            code=data.get("code") or "",
            side=data.get("side") or "",
            severity=data.get("severity") or "",
            rep_id=data.get("rep") or None,
            team_id=data.get("team") or None,
            min_age_days=int(data["age"]) if data.get("age") else None,
        )


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why this is acceptable"}),
        help_text="Kept with the flag for audit.",
    )


class BulkAcknowledgeForm(AcknowledgeForm):
    """One note for several ticked flags (checkboxes named "flags")."""

    def clean(self):
        cleaned = super().clean()
        raw = self.data.getlist("flags") if hasattr(self.data, "getlist") else []
        try:
            ids = sorted({int(value) for value in raw})
        except ValueError:
            ids = []
        if not ids:
            self.add_error(None, "Tick at least one flag to acknowledge.")
        cleaned["flags"] = ids
        return cleaned


class OutcomeFilterForm(forms.Form):
    """Win-win rates and calibration: team, rep and the period the deals closed in."""

    team = forms.IntegerField(required=False, min_value=1)
    rep = forms.IntegerField(required=False, min_value=1)
    period = forms.ChoiceField(choices=OUTCOME_PERIOD_CHOICES, required=False)

    def filters(self) -> OutcomeFilters:
        data = self.cleaned_data
        return OutcomeFilters(
            team_id=data.get("team") or None,
            rep_id=data.get("rep") or None,
            period=data.get("period") or "all",
        )


class ForecastFilterForm(forms.Form):
    team = forms.IntegerField(required=False, min_value=1)
    rep = forms.IntegerField(required=False, min_value=1)
