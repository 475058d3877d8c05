"""The dashboard's headline numbers: balance summary, quadrant and trends.

Each runs a fixed number of queries whatever the number of deals; the dashboard tests pin
the counts. Today's balance counts and quadrant grid come from the sums and deltas of
deals.dashboard.live_rollup (.live), the quadrant's points and the trends' current week
from the `Deal` and `Flag` tables or the rep rollup; history from .history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import (
    Count,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from deals.dashboard.live_rollup import CELL, cell_expression
from deals.models import DashboardDealCells, DashboardDealTotals, Deal, HealthPolicy
from deals.visibility import dashboard_team_scope_q as _team_scope_q

from .cache import _live_cached
from .history import _history
from .live import live_groups
from .reps import rep_rollup_as_of
from .scope import (
    BALANCES,
    ZERO,
    DashboardFilters,
    _apply_deal_filters,
    _empty_by_balance,
    _open_flags,
    _pct,
    dashboard_deals,
    pressure_codes,
)

# Above this many open deals the quadrant ships a density grid instead of every point:
# 2,000 bubbles is about what a canvas draws smoothly and a person can still read.
QUADRANT_MAX_POINTS = 2000
# Grid cell width in score points (100 / 5 = 20 x 20 cells at most), as the sums hold it.
QUADRANT_CELL = CELL
TREND_WEEKS = 12
DEFAULT_WIN_WIN_THRESHOLD = 70


# --- Headline ----------------------------------------------------------------------------


def balance_summary(*, user, filters: DashboardFilters) -> dict:
    """Counts and money (sum of net totals) per balance, now (exact, from the sums and
    deltas: selectors.live; not cached) and the change since a week and a month ago.
    Three queries (four or five when the history comes from snapshots)."""
    today = timezone.localdate()
    counts = _empty_by_balance(0)
    money = _empty_by_balance(ZERO)
    unscored: dict[str, Any] = {"count": 0, "money": ZERO}
    rows = live_groups(
        user=user,
        filters=filters,
        deals=dashboard_deals(user=user, filters=filters),
        table=DashboardDealTotals,
        keys=("balance",),
    )
    for row in rows:
        if row["balance"] in counts:
            counts[row["balance"]] = row["n"]
            money[row["balance"]] = row["money"]
        else:
            unscored["count"] += row["n"]
            unscored["money"] += row["money"]

    # A reference day is the last snapshotted day on or before it, within a week of it.
    windows = {
        name: (day - dt.timedelta(days=6), day)
        for name, day in (
            ("week", today - dt.timedelta(days=7)),
            ("month", today - dt.timedelta(days=30)),
        )
    }
    history = _history(user, filters, list(windows.values()), "balance")
    change: dict[str, dict[str, Any] | None] = {}
    for name, (first, last) in windows.items():
        day = history.last_day(first, last)
        if day is None:
            change[name] = None
            continue
        then = history.days[day]
        change[name] = {
            "as_of": day,
            "counts": {b: counts[b] - then.get(b, {}).get("n", 0) for b in BALANCES},
            "money": {b: money[b] - then.get(b, {}).get("money", ZERO) for b in BALANCES},
        }

    total_count = sum(counts.values()) + unscored["count"]
    total_money = sum(money.values(), ZERO) + unscored["money"]
    return {
        "counts": counts,
        "money": money,
        "unscored": unscored,
        "total": {"count": total_count, "money": total_money},
        "change": change,
        "as_of": today,
        "history_rolled_up_at": history.rolled_up_at,
    }


# --- Quadrant ----------------------------------------------------------------------------


def win_win_threshold(*, team_id: int | None) -> int:
    """The team's win-win line if it has its own policy, else the global one. One query."""
    q = Q(team__isnull=True)
    if team_id:
        q |= Q(team_id=team_id)
    thresholds: dict[int | None, int] = dict(
        HealthPolicy.objects.filter(q).values_list("team_id", "win_win_threshold")
    )
    return thresholds.get(team_id) or thresholds.get(None) or DEFAULT_WIN_WIN_THRESHOLD


def quadrant(*, user, filters: DashboardFilters) -> dict:
    """Scored deals as (buyer score, seller score, net total) points; above
    QUADRANT_MAX_POINTS, a server-side density grid instead (exact at the request, from
    the sums and deltas; not cached). Three queries; two above the point limit, where the
    grid tells there are too many points before any deal row is read."""
    deals = dashboard_deals(user=user, filters=filters).filter(
        buyer_score__isnull=False, seller_score__isnull=False
    )
    threshold = win_win_threshold(team_id=filters.team_id)
    cells = sorted(
        (
            {
                "buyer_cell": g["buyer_cell"],
                "seller_cell": g["seller_cell"],
                "count": g["n"],
                "net_total": g["money"],
            }
            for g in live_groups(
                user=user,
                filters=filters,
                deals=deals.annotate(
                    buyer_cell=cell_expression("buyer_score"),
                    seller_cell=cell_expression("seller_score"),
                ),
                table=DashboardDealCells,
                keys=("buyer_cell", "seller_cell"),
                where=Q(buyer_cell__isnull=False, seller_cell__isnull=False),
            )
        ),
        key=lambda c: (c["buyer_cell"], c["seller_cell"]),
    )
    if sum(c["count"] for c in cells) <= QUADRANT_MAX_POINTS:
        points = list(
            deals.order_by("id").values(
                "id", "title", "buyer_score", "seller_score", "net_total", "balance"
            )[: QUADRANT_MAX_POINTS + 1]
        )
        if len(points) <= QUADRANT_MAX_POINTS:  # deals may have been added in between
            return {
                "mode": "points",
                "total": len(points),
                "threshold": threshold,
                "cell_size": None,
                "points": points,
                "cells": [],
            }
    for cell in cells:
        cell["buyer_min"] = cell.pop("buyer_cell") * QUADRANT_CELL
        cell["seller_min"] = cell.pop("seller_cell") * QUADRANT_CELL
    return {
        "mode": "grid",
        "total": sum(c["count"] for c in cells),
        "threshold": threshold,
        "cell_size": QUADRANT_CELL,
        "points": [],
        "cells": cells,
    }


# --- Trends ------------------------------------------------------------------------------


@_live_cached("trends")
def trends(*, user, filters: DashboardFilters) -> dict:
    """Per week, last TREND_WEEKS weeks: share of win-win deals and open pressure flags.

    Past weeks read each week's last snapshotted day (from the rollup); the current week
    reads the rep table's rollup when fresh, else the live deals and flags
    (_current_week). Five queries (six or seven from the snapshots).
    """
    today = timezone.localdate()
    this_monday = today - dt.timedelta(days=today.weekday())
    week_starts = [this_monday - dt.timedelta(weeks=i) for i in range(TREND_WEEKS - 1, -1, -1)]
    past_weeks = [(start, start + dt.timedelta(days=6)) for start in week_starts[:-1]]
    history = _history(user, filters, past_weeks, "trends")

    live, current_as_of = _current_week(user, filters)

    weeks = []
    row: dict[str, Any] | None
    as_of: dt.date | None
    for start in week_starts:
        end = start + dt.timedelta(days=6)
        if start == this_monday:
            row, as_of = live, today
        else:
            as_of = history.last_day(start, end)
            row = _day_totals(history.days[as_of]) if as_of else None
        total = row["total"] if row else 0
        weeks.append(
            {
                "week_start": start,
                "as_of": as_of,
                "deals": total,
                "win_win_deals": row["win_win"] if row else 0,
                "win_win_share": _pct(row["win_win"], total) if row else None,
                "pressure_flags": row["pressure"] if row else None,
            }
        )
    return {
        "weeks": weeks,
        "history_rolled_up_at": history.rolled_up_at,
        "current_week_as_of": current_as_of,
    }


def _current_week(user, filters: DashboardFilters) -> tuple[dict[str, Any], dt.datetime | None]:
    """This week's point: scored deals, win-win deals and open pressure flags now, and when
    "now" is (None: the live tables at this request).

    From the rep table's rollup (per team, rep, stage and balance; open flags per code) when
    it may answer (reps.rep_rollup_as_of): two small GROUP BYs whatever the number of deals,
    exact as of the rollup, which the hourly sweep and every acknowledgement refresh.
    Otherwise live: one aggregate over the scope's deals and one count of their open
    pressure flags, costs that grow with the data."""
    from deals.models import DashboardRepDeals, DashboardRepFlags

    codes = pressure_codes()
    as_of = rep_rollup_as_of(user, filters)
    if as_of is not None:
        scoped = _team_scope_q(user)
        point = _apply_deal_filters(DashboardRepDeals.objects.filter(scoped), filters).aggregate(
            total=Coalesce(Sum("deals", filter=~Q(balance="")), Value(0)),
            win_win=Coalesce(Sum("deals", filter=Q(balance=Deal.Balance.WIN_WIN)), Value(0)),
        )
        flags = DashboardRepFlags.objects.filter(scoped, code__in=codes)
        point["pressure"] = _apply_deal_filters(flags, filters).aggregate(
            n=Coalesce(Sum("flags"), Value(0))
        )["n"]
        return point, as_of
    deals = dashboard_deals(user=user, filters=filters)
    point = deals.aggregate(
        total=Count(Value(1), filter=~Q(balance="")),
        win_win=Count(Value(1), filter=Q(balance=Deal.Balance.WIN_WIN)),
    )
    point["pressure"] = _open_flags(user, filters).filter(code__in=codes).count()
    return point, None


def _day_totals(per_balance: dict[str, dict]) -> dict:
    return {
        "total": sum(b["n"] for b in per_balance.values()),
        "win_win": per_balance.get(Deal.Balance.WIN_WIN, {}).get("n", 0),
        "pressure": sum(b["pressure"] for b in per_balance.values()),
    }
