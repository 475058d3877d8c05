"""The manager's pages: the deal-balance dashboard and the flag review list."""

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from deals import visibility
from deals.health.catalog import flag_info
from deals.models import Deal

from . import forecast, outcomes, selectors
from .forms import (
    AcknowledgeForm,
    BulkAcknowledgeForm,
    DashboardFilterForm,
    FlagFilterForm,
    ForecastFilterForm,
    OutcomeFilterForm,
)
from .services import flags_acknowledge

FLAGS_PER_PAGE = 50
# The flag review list counts this many flags live at most, then says "10,000+".
FLAG_COUNT_LIMIT = selectors.FLAG_COUNT_LIMIT

QUADRANTS = [
    # balance, label, what it means (colour is never the only signal)
    (Deal.Balance.WIN_WIN, "Win-win", "Both scores healthy"),
    (Deal.Balance.BUYER_LOSES, "Buyer loses", "The buyer is being pushed or oversold"),
    (Deal.Balance.SELLER_LOSES, "Seller loses", "Price or margin given away"),
    (Deal.Balance.LOSE_LOSE, "Lose-lose", "Both sides are losing"),
]


def _require_dashboard(request):
    if not visibility.user_can_view_dashboard(request.user):
        raise PermissionDenied("The dashboard is for sales managers and admins.")


def compact_money(value) -> str:
    """12,345,678 -> "12.3M": headline numbers are read at a glance."""
    value = Decimal(value or 0)
    sign = "-" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((Decimal("1e9"), "B"), (Decimal("1e6"), "M"), (Decimal("1e3"), "k")):
        if value >= limit:
            return f"{sign}{value / limit:.1f}{suffix}"
    return f"{sign}{value:.0f}"


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def _stat_cards(summary: dict) -> list[dict]:
    cards = []
    total = summary["total"]["count"] - summary["unscored"]["count"]
    for balance, label, meaning in QUADRANTS:
        count = summary["counts"][balance]
        good_if_up = balance == Deal.Balance.WIN_WIN
        deltas = []
        for period, text in (("week", "vs last week"), ("month", "vs last month")):
            change = summary["change"].get(period)
            if change is None:
                continue
            diff = change["counts"][balance]
            trend = "flat" if diff == 0 else ("up" if (diff > 0) == good_if_up else "down")
            deltas.append({"text": f"{_signed(diff)} {text}", "trend": trend})
        cards.append(
            {
                "balance": balance,
                "label": label,
                "meaning": meaning,
                "count": count,
                "share": round(100 * count / total) if total else None,
                "money": compact_money(summary["money"][balance]),
                "deltas": deltas,
            }
        )
    return cards


def _query(params: dict, **overrides) -> str:
    merged = {**params, **overrides}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def _filters_from(request):
    form = DashboardFilterForm(request.GET)
    if form.is_valid():
        return form, form.filters(), form.sort_key()
    return form, selectors.DashboardFilters(), "name"


@require_GET
def index(request):
    """Filters, headline cards and chart canvases; the charts and the rep table load
    right after (JSON endpoints and the reps partial), so the page itself stays cheap."""
    _require_dashboard(request)
    form, filters, sort = _filters_from(request)
    user = request.user
    teams = list(selectors.dashboard_teams(user=user))
    reps = list(selectors.dashboard_reps(user=user, team_id=filters.team_id))
    summary = selectors.balance_summary(user=user, filters=filters)
    params = filters.as_params()
    outcome_filters = outcomes.dashboard_outcome_filters(filters)
    # The flag review page's own total for the same team and rep, so they agree.
    open_flags = selectors.flag_review_total(
        user=user,
        filters=selectors.FlagFilters(team_id=filters.team_id, rep_id=filters.rep_id),
        limit=FLAG_COUNT_LIMIT,
    )
    return render(
        request,
        "dashboard/index.html",
        {
            "nav": "dashboard",
            "form": form,
            "filters": filters,
            "teams": teams,
            "reps": reps,
            "stage_choices": selectors.STAGE_CHOICES,
            "period_choices": selectors.PERIOD_CHOICES,
            "summary": summary,
            "cards": _stat_cards(summary),
            "sort": sort,
            "query": _query(params),
            "reps_query": _query(params, sort=sort if sort != "name" else ""),
            "open_flags_total": open_flags,
            "open_flags": open_flags.count,
            "open_flags_as_of_today": _is_today(open_flags.as_of),
            "flags_url": _flags_url({"team": filters.team_id or "", "rep": filters.rep_id or ""}),
            "scope_label": _scope_label(teams, filters, user),
            "history_as_of_today": _is_today(summary["history_rolled_up_at"]),
            # Win-win outcomes of the closed-won deals behind the same team, rep and period.
            "win_win": outcomes.dashboard_win_win_rates(user=user, filters=filters),
            "win_win_period": dict(outcomes.OUTCOME_PERIOD_CHOICES)[outcome_filters.period],
            "win_win_query": _query(outcome_filters.as_params()),
            "small_sample": outcomes.SMALL_SAMPLE,
        },
    )


@require_GET
def rep_table(request):
    """The per-rep table (an htmx partial of the dashboard; also a page of its own)."""
    _require_dashboard(request)
    _form, filters, sort = _filters_from(request)
    rows = selectors.rep_table(user=request.user, filters=filters, sort=sort)
    params = filters.as_params()
    flag_base = {"team": filters.team_id or ""}
    codes = selectors.pressure_codes()
    for row in rows:
        row.flags_url = _flags_url(flag_base, rep=row.rep_id)
        row.code_links = [
            {
                "code": code,
                "label": flag_info(code).short,
                "title": flag_info(code).label,
                "count": row.pressure_flags.get(code, 0),
                "url": _flags_url(flag_base, rep=row.rep_id, code=code),
            }
            for code in codes
            if row.pressure_flags.get(code)
        ]
        row.pressure_url = _flags_url(flag_base, rep=row.rep_id, side="relationship")
        row.discount_url = _flags_url(flag_base, rep=row.rep_id, code="SELLER_DISCOUNT_OVER_POLICY")
        row.margin_url = _flags_url(flag_base, rep=row.rep_id, code="SELLER_MARGIN_BELOW_FLOOR")
        row.sla_url = _flags_url(flag_base, rep=row.rep_id, code="HANDOFF_OVERDUE")
        row.value_url = _flags_url(flag_base, rep=row.rep_id, side="buyer")
    # Sort links re-render the whole page with the new order (works without JavaScript).
    sort_links = {
        key: reverse("dashboard:index")
        + "?"
        + _query(params, sort=(f"-{key}" if sort == key else key))
        for key in selectors.REP_SORT_KEYS
    }
    template = "dashboard/_rep_table.html" if request.htmx else "dashboard/reps.html"
    as_of = rows.as_of
    return render(
        request,
        template,
        {
            "nav": "dashboard",
            "rows": rows,
            "sort": sort,
            "sort_links": sort_links,
            "as_of": as_of,
            "as_of_today": _is_today(as_of),
        },
    )


def _is_today(moment) -> bool:
    """A rollup time shows as "10:07" when it is from today, else with its date."""
    return moment is not None and timezone.localdate(moment) == timezone.localdate()


def _flags_url(base: dict, **params) -> str:
    query = _query(base, **params)
    return reverse("dashboard:flags") + (f"?{query}" if query else "")


def _scope_label(teams, filters, user) -> str:
    if filters.team_id:
        names = [t.name for t in teams if t.id == filters.team_id]
        return names[0] if names else "No team"
    if user.is_superuser:
        return "All teams"
    return ", ".join(t.name for t in teams) or "No team"


class TotalPaginator(Paginator):
    """Pages through the flag review list with the total it was given
    (selectors.flag_review_total: from the rep table's rollup, or counted live up to a
    limit) instead of counting every flag in scope."""

    def __init__(self, object_list, per_page, *, total: selectors.FlagTotal, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.total = total

    @cached_property
    def count(self) -> int:
        return self.total.count


def _flag_page_context(request, form, flags_qs, total: selectors.FlagTotal) -> dict:
    paginator = TotalPaginator(flags_qs, FLAGS_PER_PAGE, total=total)
    page = paginator.get_page(request.GET.get("page"))
    params = {k: v for k, v in request.GET.items() if k != "page"}
    return {"page": page, "page_query": _query(params)}


@require_GET
def flags(request):
    _require_dashboard(request)
    form = FlagFilterForm(request.GET, auto_id="f-%s")
    filters = form.filters() if form.is_valid() else selectors.FlagFilters()
    user = request.user
    context = {
        "nav": "dashboard",
        "form": form,
        "filters": filters,
        "teams": list(selectors.dashboard_teams(user=user)),
        "reps": list(selectors.dashboard_reps(user=user, team_id=filters.team_id)),
        "ack_form": AcknowledgeForm(),
        "back": request.get_full_path(),
        "status_tabs": [
            (value, label, "?" + _query({**request.GET.dict(), "status": value, "page": ""}))
            for value, label in selectors.FLAG_STATUS_CHOICES
        ],
    }
    total = selectors.flag_review_total(user=user, filters=filters, limit=FLAG_COUNT_LIMIT)
    context["total_as_of_today"] = _is_today(total.as_of)
    context.update(
        _flag_page_context(
            request, form, selectors.flag_review_list(user=user, filters=filters), total
        )
    )
    return render(request, "dashboard/flags.html", context)


@require_POST
def flag_acknowledge_view(request, pk: int):
    _require_dashboard(request)
    flag = selectors.flag_get_for_review(user=request.user, flag_id=pk)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        result = flags_acknowledge(flags=[flag], user=request.user, note=form.cleaned_data["note"])
        for _flag, error in result.refused:
            form.add_error("note", error)
    if request.htmx:
        # htmx swaps 2xx only, so an invalid note comes back as the row with its error.
        if not form.errors:
            flag = selectors.flag_get_for_review(user=request.user, flag_id=pk)
        return render(
            request,
            "dashboard/_flag_row.html",
            {
                "flag": flag,
                "ack_form": form if form.errors else AcknowledgeForm(),
                "filters": selectors.FlagFilters(),
            },
        )
    if form.errors:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    else:
        messages.success(request, f"Acknowledged {flag.code} on “{flag.deal.title}”.")
    return redirect(_safe_back(request))


@require_POST
def flag_bulk_acknowledge(request):
    _require_dashboard(request)
    form = BulkAcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect(_safe_back(request))
    wanted = form.cleaned_data["flags"]
    flags = list(
        selectors.flag_review_list(
            user=request.user, filters=selectors.FlagFilters(status="open")
        ).filter(id__in=wanted)
    )
    result = flags_acknowledge(flags=flags, user=request.user, note=form.cleaned_data["note"])
    if done := len(result.acknowledged):
        messages.success(request, f"Acknowledged {done} flag{'s' if done != 1 else ''}.")
    if len(wanted) > len(flags):
        messages.warning(
            request, f"{len(wanted) - len(flags)} flag(s) were no longer open and were skipped."
        )
    for flag, error in result.refused:
        messages.error(request, f"{flag.code} on “{flag.deal.title}”: {error}")
    return redirect(_safe_back(request))


def _safe_back(request) -> str:
    back = request.POST.get("next") or ""
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}):
        return back
    return reverse("dashboard:flags")


# --- Outcomes, calibration, forecast -------------------------------------------------------


def _outcome_filters(request: HttpRequest) -> tuple[OutcomeFilterForm, outcomes.OutcomeFilters]:
    form = OutcomeFilterForm(request.GET)
    return form, form.filters() if form.is_valid() else outcomes.OutcomeFilters()


def _outcome_context(
    request: HttpRequest,
    form: OutcomeFilterForm,
    filters: outcomes.OutcomeFilters,
    *,
    nav_page: str,
) -> dict:
    user = request.user
    teams = list(selectors.dashboard_teams(user=user))
    return {
        "nav": "dashboard",
        "nav_page": nav_page,
        "form": form,
        "filters": filters,
        "teams": teams,
        "reps": list(selectors.dashboard_reps(user=user, team_id=filters.team_id)),
        "period_choices": outcomes.OUTCOME_PERIOD_CHOICES,
        "small_sample": outcomes.SMALL_SAMPLE,
        "query": _query(filters.as_params()),
    }


@require_GET
def outcomes_page(request: HttpRequest) -> HttpResponse:
    """Win-win outcome rate per team and rep, beside the share that closed win-win."""
    _require_dashboard(request)
    form, filters = _outcome_filters(request)
    context = _outcome_context(request, form, filters, nav_page="outcomes")
    context["rates"] = outcomes.win_win_rates(user=request.user, filters=filters)
    return render(request, "dashboard/outcomes.html", context)


@require_GET
def calibration_page(request: HttpRequest) -> HttpResponse:
    """Each rule judged by what happened: outcomes with the flag against without."""
    _require_dashboard(request)
    form, filters = _outcome_filters(request)
    context = _outcome_context(request, form, filters, nav_page="calibration")
    context["calibration"] = outcomes.calibration(user=request.user, filters=filters)
    return render(request, "dashboard/calibration.html", context)


@require_GET
def forecast_page(request: HttpRequest) -> HttpResponse:
    """The next six months weighted by stage and split by balance; past months' forecast
    against what closed won."""
    _require_dashboard(request)
    form = ForecastFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    team_id, rep_id = data.get("team") or None, data.get("rep") or None
    user = request.user
    result = forecast.forecast(user=user, team_id=team_id, rep_id=rep_id)
    peak = max((m["weighted_total"] for m in result["months"]), default=0) or 1
    for month in result["months"]:
        month["bar_pct"] = {
            key: round(100 * value / peak, 1) for key, value in month["by_balance"].items()
        }
    return render(
        request,
        "dashboard/forecast.html",
        {
            "nav": "dashboard",
            "nav_page": "forecast",
            "form": form,
            "filters": {"team_id": team_id, "rep_id": rep_id},
            "teams": list(selectors.dashboard_teams(user=user)),
            "reps": list(selectors.dashboard_reps(user=user, team_id=team_id)),
            "forecast": result,
            "query": _query({"team": team_id or "", "rep": rep_id or ""}),
        },
    )
