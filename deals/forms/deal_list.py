"""The deal list's filters, sort and page size."""

from django import forms

from deals.models import Deal


class DealFilterForm(forms.Form):
    SORTS = {
        "updated": ("-updated_at", "-id"),
        "title": ("title", "id"),
        "-title": ("-title", "-id"),
        "net": ("net_total", "id"),
        "-net": ("-net_total", "-id"),
        "close": ("expected_close_date", "id"),
        "-close": ("-expected_close_date", "-id"),
        "flags": ("open_flag_count", "id"),
        "-flags": ("-open_flag_count", "-id"),
        "contact": ("last_buyer_contact_at", "id"),
        "-contact": ("-last_buyer_contact_at", "-id"),
        "stage": ("stage", "id"),
        "-stage": ("-stage", "-id"),
        # Days in stage: fewest first is the latest stage change first.
        "days": ("-stage_changed_at", "id"),
        "-days": ("stage_changed_at", "-id"),
    }
    PAGE_SIZES = (10, 25, 50, 100)

    q = forms.CharField(required=False, max_length=100, label="Search")
    stage = forms.ChoiceField(
        required=False, choices=[("", "All stages"), ("open", "All open"), *Deal.Stage.choices]
    )
    balance = forms.ChoiceField(
        required=False,
        choices=[("", "Any balance"), *Deal.Balance.choices, ("pending", "Not scored yet")],
    )
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])
    per_page = forms.TypedChoiceField(
        required=False,
        coerce=int,
        choices=[(n, n) for n in PAGE_SIZES],
        empty_value=25,  # type: ignore[arg-type]  # coerce=int: the empty value is a size
        initial=25,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"placeholder": "Deal or prospect…", "type": "search", "autocomplete": "off"}
        )

    def filters(self) -> dict[str, str | list[str]]:
        """The choices as the deal list API's filter parameters (selectors.deal_list applies
        them); invalid values are left out, so a list never errors."""
        data = self.cleaned_data if self.is_valid() else {}
        params: dict[str, str | list[str]] = {}
        if q := (data.get("q") or "").strip():
            params["q"] = q
        stage = data.get("stage")
        if stage == "open":
            params["is_open"] = "true"
        elif stage:
            params["stage"] = [stage]
        balance = data.get("balance")
        if balance == "pending":
            params["scored"] = "false"
        elif balance:
            params["balance"] = [balance]
        return params

    @property
    def ordering(self) -> tuple[str, ...]:
        return self.SORTS[self.current_sort]

    @property
    def current_sort(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_valid() else "") or "updated"

    @property
    def page_size(self) -> int:
        return (self.cleaned_data.get("per_page") if self.is_valid() else None) or 25
