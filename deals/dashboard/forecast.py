"""The balance-aware forecast (DESIGN.md "Outcomes and forecast").

Open deals' net totals by month of expected close for the next `FORECAST_MONTHS` months,
each weighted by the probability its team's health policy gives its stage (defaults 10 /
20 / 40 / 60 %), split by balance. "Commit at risk" is the weighted value of buyer-loses
and lose-lose deals: forecast money that rests on a buyer who is losing.

An open deal whose expected close has already passed counts in the current month (it is
still expected, just late); one without an expected close is counted apart.

Past months compare the forecast as it stood at the month's start — from
`DashboardForecastDay`, the forecast the hourly sweep writes for each day
(`deals.dashboard.services.forecast_snapshot_take`) — with the net total actually closed
won in that month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import Greatest, TruncMonth
from django.utils import timezone

from deals.models import DashboardForecastDay, Deal, HealthPolicy

from .selectors import _team_scope_q, dashboard_scope_q

FORECAST_MONTHS = 6
PAST_MONTHS = 6
AT_RISK_BALANCES = (Deal.Balance.BUYER_LOSES, Deal.Balance.LOSE_LOSE)
FORECAST_BALANCES = (*Deal.Balance.values, "")  # "" = not scored yet
STAGE_PROBABILITY_FIELDS: dict[str, str] = {
    Deal.Stage.DISCOVERY: "probability_discovery",
    Deal.Stage.QUALIFICATION: "probability_qualification",
    Deal.Stage.PROPOSAL: "probability_proposal",
    Deal.Stage.NEGOTIATION: "probability_negotiation",
}
DEFAULT_PROBABILITIES: dict[str, int] = {
    str(stage): HealthPolicy._meta.get_field(name).default  # type: ignore[union-attr]
    for stage, name in STAGE_PROBABILITY_FIELDS.items()
}
CENT = Decimal("0.01")
# Today's forecast rows (DashboardForecastDay, written by the hourly sweep) hold the
# upcoming months exactly as the live grouping adds them up (the same per-group rounding);
# read while this fresh, so the page does not group every open deal of the scope on each
# request (the one cost of the forecast that grows with the data; bench/RESULTS.md).
SNAPSHOT_MAX_AGE = dt.timedelta(hours=2)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def stage_probabilities() -> dict[int | None, dict[str, int]]:
    """Per team id (None: the global policy), the percent counted per open stage. One query."""
    out: dict[int | None, dict[str, int]] = {}
    for row in HealthPolicy.objects.values("team_id", *STAGE_PROBABILITY_FIELDS.values()):
        out[row["team_id"]] = {stage: row[name] for stage, name in STAGE_PROBABILITY_FIELDS.items()}
    return out


def _probability(probabilities: dict, team_id: int, stage: str) -> int:
    policy = probabilities.get(team_id) or probabilities.get(None) or DEFAULT_PROBABILITIES
    return policy[stage]


def _weighted(net_total: Decimal, percent: int) -> Decimal:
    return (net_total * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _open_groups(deals, this_month: dt.date, horizon: dt.date):
    """Open deals expected to close before `horizon`, grouped by team, owner, stage,
    month of expected close (an overdue one: this month) and balance."""
    return (
        deals.filter(stage__in=Deal.OPEN_STAGES, expected_close_date__lt=horizon)
        .annotate(month=Greatest(TruncMonth("expected_close_date"), this_month))
        .order_by()
        .values("team_id", "owner_id", "stage", "month", "balance")
        .annotate(n=Count("id"), net=Sum("net_total"))
    )


def _empty_month(month: dt.date) -> dict:
    return {
        "month": month,
        "deals": 0,
        "net_total": Decimal("0.00"),
        "weighted_total": Decimal("0.00"),
        "by_balance": {b or "unscored": Decimal("0.00") for b in FORECAST_BALANCES},
        "commit_at_risk": Decimal("0.00"),
    }


def forecast(
    *, user, team_id: int | None = None, rep_id: int | None = None, today: dt.date | None = None
) -> dict:
    """The next months' weighted forecast split by balance, and the past months' forecast
    against what closed won. Seven queries: the policies, today's forecast rows' age, the
    open deals grouped (from today's rows when fresh, else live), the overdue and undated
    deals, the snapshot days, the past forecasts, the closed-won sums."""
    today = today or timezone.localdate()
    this_month = month_start(today)
    horizon = add_months(this_month, FORECAST_MONTHS)
    deals = Deal.objects.filter(dashboard_scope_q(user))
    if team_id:
        deals = deals.filter(team_id=team_id)
    if rep_id:
        deals = deals.filter(owner_id=rep_id)
    probabilities = stage_probabilities()

    months = {
        add_months(this_month, i): _empty_month(add_months(this_month, i))
        for i in range(FORECAST_MONTHS)
    }
    months_as_of = _snapshot_built_at(today)
    if months_as_of is not None:
        groups = _snapshot_groups(user, team_id, rep_id, today)
    else:
        groups = (
            {
                "month": g["month"],
                "balance": g["balance"],
                "n": g["n"],
                "net": g["net"] or Decimal("0"),
                "weighted": _weighted(
                    g["net"] or Decimal("0"), _probability(probabilities, g["team_id"], g["stage"])
                ),
            }
            for g in _open_groups(deals, this_month, horizon)
        )
    for g in groups:
        month = months[_as_date(g["month"])]
        weighted = g["weighted"]
        month["deals"] += g["n"]
        month["net_total"] += g["net"]
        month["weighted_total"] += weighted
        month["by_balance"][g["balance"] or "unscored"] += weighted
        if g["balance"] in AT_RISK_BALANCES:
            month["commit_at_risk"] += weighted
    overdue = deals.filter(stage__in=Deal.OPEN_STAGES, expected_close_date__lt=this_month).count()
    undated = deals.filter(stage__in=Deal.OPEN_STAGES, expected_close_date__isnull=True).count()
    upcoming = list(months.values())
    return {
        "as_of": today,
        "probabilities": probabilities.get(team_id)
        or probabilities.get(None)
        or DEFAULT_PROBABILITIES,
        "months": upcoming,
        # When the sweep wrote the rows the months were read from; None: computed live.
        "months_as_of": months_as_of,
        "total_weighted": sum((m["weighted_total"] for m in upcoming), Decimal("0.00")),
        "total_commit_at_risk": sum((m["commit_at_risk"] for m in upcoming), Decimal("0.00")),
        "overdue_deals": overdue,
        "undated_deals": undated,
        "past": _past_months(user, team_id, rep_id, deals, this_month),
    }


def _snapshot_built_at(today: dt.date) -> dt.datetime | None:
    """When today's forecast rows were written, if recently enough to answer. One query
    over today's rows (a few per team, rep, month and balance)."""
    built = DashboardForecastDay.objects.filter(day=today).aggregate(built_at=Min("built_at"))[
        "built_at"
    ]
    if built is None or built < timezone.now() - SNAPSHOT_MAX_AGE:
        return None
    return built


def _snapshot_groups(user, team_id: int | None, rep_id: int | None, today: dt.date):
    """Today's forecast rows in scope, per month and balance, shaped like the live groups."""
    rows = DashboardForecastDay.objects.filter(_team_scope_q(user), day=today)
    if team_id:
        rows = rows.filter(team_id=team_id)
    if rep_id:
        rows = rows.filter(owner_id=rep_id)
    return (
        rows.order_by()
        .values("month", "balance")
        .annotate(n=Sum("deals"), net=Sum("net_total"), weighted=Sum("weighted_total"))
    )


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _past_months(user, team_id, rep_id, deals, this_month: dt.date) -> list[dict]:
    first = add_months(this_month, -PAST_MONTHS)
    rows = DashboardForecastDay.objects.filter(
        _team_scope_q(user), month__gte=first, month__lt=this_month
    )
    if team_id:
        rows = rows.filter(team_id=team_id)
    if rep_id:
        rows = rows.filter(owner_id=rep_id)
    # The forecast for month M as it stood at M's start: the last day on or before M's
    # first day with rows; when the snapshots began later, the month's first snapshot day.
    days = {
        g["month"]: g["before"] or g["within"]
        for g in rows.order_by()
        .values("month")
        .annotate(
            before=Max("day", filter=Q(day__lte=F("month"))),
            within=Min("day", filter=Q(day__gt=F("month"))),
        )
    }
    forecast_of: dict[dt.date, dict] = defaultdict(
        lambda: {"weighted": Decimal("0"), "at_risk": Decimal("0")}
    )
    if days:
        picked = Q()
        for month, day in days.items():
            picked |= Q(month=month, day=day)
        for g in (
            rows.filter(picked)
            .order_by()
            .values("month", "balance")
            .annotate(w=Sum("weighted_total"))
        ):
            entry = forecast_of[g["month"]]
            entry["weighted"] += g["w"]
            if g["balance"] in AT_RISK_BALANCES:
                entry["at_risk"] += g["w"]
    actual = {
        _as_date(g["month"]): g["won"]
        for g in deals.filter(
            stage=Deal.Stage.CLOSED_WON,
            closed_at__date__gte=first,
            closed_at__date__lt=this_month,
        )
        .annotate(month=TruncMonth("closed_at"))
        .order_by()
        .values("month")
        .annotate(won=Sum("net_total"), n=Count("id"))
    }
    out = []
    for i in range(PAST_MONTHS):
        month = add_months(first, i)
        made = forecast_of.get(month)
        out.append(
            {
                "month": month,
                "forecast_as_of": days.get(month),
                "forecast_weighted": made["weighted"] if made else None,
                "forecast_commit_at_risk": made["at_risk"] if made else None,
                "actual_closed_won": actual.get(month) or Decimal("0.00"),
            }
        )
    return out
