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
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Max, Min, Q, Sum
from django.utils import timezone

from deals.models import DashboardDealMonths, DashboardForecastDay, Deal, HealthPolicy

from .selectors import (
    STAGE_ALL,
    DashboardFilters,
    _apply_deal_filters,
    _team_scope_q,
    dashboard_scope_q,
)
from .selectors.live import live_groups

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


def deal_months(
    *, user, this_month: dt.date, team_id: int | None = None, rep_id: int | None = None
) -> list:
    """The scope's open deals, and its deals closed won in the past months, per team, rep,
    stage, month (deals.dashboard.live_rollup.month_sql) and balance; `user` None: every
    deal. One query, exact (selectors.live_groups)."""
    from deals.dashboard.live_rollup import month_expression

    deals = Deal.objects.all() if user is None else Deal.objects.filter(dashboard_scope_q(user))
    filters = DashboardFilters(team_id=team_id, rep_id=rep_id, stage=STAGE_ALL)
    return live_groups(
        user=user,
        filters=filters,
        deals=_apply_deal_filters(deals, filters).annotate(month=month_expression()),
        table=DashboardDealMonths,
        keys=("team_id", "owner_id", "stage", "month", "balance"),
        where=Q(stage__in=Deal.OPEN_STAGES)
        | Q(
            stage=Deal.Stage.CLOSED_WON,
            month__gte=add_months(this_month, -PAST_MONTHS),
            month__lt=this_month,
        ),
    )


@dataclass
class FoldedMonths:
    """deal_months' groups as the forecast counts them."""

    # {team_id, owner_id, stage, month, balance, n, net, weighted} per group expected to
    # close before the horizon, an overdue deal in this month.
    upcoming: list[dict] = field(default_factory=list)
    overdue: int = 0
    undated: int = 0
    closed_won: dict[dt.date, Decimal] = field(default_factory=lambda: defaultdict(Decimal))


def fold_months(groups, *, this_month: dt.date, probabilities: dict) -> FoldedMonths:
    """Weight the open groups per team, rep, stage, month and balance — rounded per group,
    as the forecast always was; an overdue deal counts in this month, so its group merges
    with this month's before the weighting — and count the overdue and undated deals."""
    horizon = add_months(this_month, FORECAST_MONTHS)
    folded = FoldedMonths()
    upcoming: dict[tuple, dict] = {}
    for g in groups:
        if g["stage"] == Deal.Stage.CLOSED_WON:
            folded.closed_won[g["month"]] += g["money"]
            continue
        if g["month"] is None:
            folded.undated += g["n"]
            continue
        if g["month"] < this_month:
            folded.overdue += g["n"]
        counted_in = max(g["month"], this_month)
        if counted_in >= horizon:
            continue
        key = (g["team_id"], g["owner_id"], g["stage"], counted_in, g["balance"])
        group = upcoming.setdefault(
            key,
            dict(zip(("team_id", "owner_id", "stage", "month", "balance"), key, strict=True))
            | {"n": 0, "net": Decimal("0")},
        )
        group["n"] += g["n"]
        group["net"] += g["money"]
    for group in upcoming.values():
        percent = _probability(probabilities, group["team_id"], group["stage"])
        group["weighted"] = _weighted(group["net"], percent)
        folded.upcoming.append(group)
    return folded


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
    against what closed won. Four queries: the policies, the scope's deals per month
    (open ones and the past months' closed-won, exact: _deal_months), the snapshot days,
    the past forecasts."""
    today = today or timezone.localdate()
    this_month = month_start(today)
    probabilities = stage_probabilities()

    months = {
        add_months(this_month, i): _empty_month(add_months(this_month, i))
        for i in range(FORECAST_MONTHS)
    }
    folded = fold_months(
        deal_months(user=user, this_month=this_month, team_id=team_id, rep_id=rep_id),
        this_month=this_month,
        probabilities=probabilities,
    )
    for g in folded.upcoming:
        month = months[g["month"]]
        month["deals"] += g["n"]
        month["net_total"] += g["net"]
        month["weighted_total"] += g["weighted"]
        month["by_balance"][g["balance"] or "unscored"] += g["weighted"]
        if g["balance"] in AT_RISK_BALANCES:
            month["commit_at_risk"] += g["weighted"]
    months_ahead = list(months.values())
    return {
        "as_of": today,
        "probabilities": probabilities.get(team_id)
        or probabilities.get(None)
        or DEFAULT_PROBABILITIES,
        "months": months_ahead,
        # Kept for API clients: the months are exact as of this request (live_groups), no
        # longer read from rows the sweep wrote earlier.
        "months_as_of": None,
        "total_weighted": sum((m["weighted_total"] for m in months_ahead), Decimal("0.00")),
        "total_commit_at_risk": sum((m["commit_at_risk"] for m in months_ahead), Decimal("0.00")),
        "overdue_deals": folded.overdue,
        "undated_deals": folded.undated,
        "past": _past_months(user, team_id, rep_id, folded.closed_won, this_month),
    }


def _past_months(
    user, team_id, rep_id, closed_won: dict[dt.date, Decimal], this_month: dt.date
) -> list[dict]:
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
                "actual_closed_won": closed_won.get(month) or Decimal("0.00"),
            }
        )
    return out
