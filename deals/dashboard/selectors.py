"""Reads behind the manager's deal-balance dashboard, every number aggregated in SQL.

Scope: a manager sees the deals of the sales teams they manage, an admin sees everything
(`dashboard_scope_q`). Every selector here starts from that scope, so another team's deal
never reaches a count, a sum, a point or a trend.

Each selector runs a fixed number of queries whatever the number of deals; the dashboard
tests pin the counts. Today's numbers always come from the live `Deal` and `Flag` tables
(counts are written so PostgreSQL answers them from the covering indexes alone). History
(changes since last week and month, trends) describes past days: it reads
`DashboardDayRollup`, the health snapshots of each past day summed per team, rep and
balance by the hourly sweep (deals.dashboard.services), and falls back to the snapshots
themselves for a filter the rollup cannot answer (one stage, a creation period) or a past
day the rollup has not seen yet.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from deals.dashboard.expressions import MoneyRatio, sla_missed_q
from deals.models import DashboardDayRollup, Deal, Flag, HealthPolicy, HealthSnapshot
from deals.visibility import (
    dashboard_scope_q,
    dashboard_team_ids,
    managed_teams,
)
from deals.visibility import (
    dashboard_team_scope_q as _team_scope_q,
)
from winwin_crm.accounts.models import Team, User
from winwin_crm.accounts.roles import REP

BALANCES = tuple(Deal.Balance.values)  # win_win, buyer_loses, seller_loses, lose_lose
ZERO = Decimal("0.00")
MONEY_FIELD: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)

# Above this many open deals the quadrant ships a density grid instead of every point:
# 2,000 bubbles is about what a canvas draws smoothly and a person can still read.
QUADRANT_MAX_POINTS = 2000
# Grid cell width in score points (100 / 5 = 20 x 20 cells at most).
QUADRANT_CELL = 5
TREND_WEEKS = 12
DEFAULT_WIN_WIN_THRESHOLD = 70

STAGE_OPEN = "open"
STAGE_ALL = "all"
STAGE_CHOICES = [
    (STAGE_OPEN, "Open deals"),
    (STAGE_ALL, "All stages"),
    *Deal.Stage.choices,
]
PERIOD_CHOICES = [
    ("all", "Any time"),
    ("30d", "Created in the last 30 days"),
    ("90d", "Created in the last 90 days"),
    ("180d", "Created in the last 180 days"),
    ("365d", "Created in the last year"),
]
PERIOD_DAYS = {"30d": 30, "90d": 90, "180d": 180, "365d": 365}

# The contract's pressure codes (DESIGN.md); deals.health re-exports the same tuple.
_PRESSURE_CODES_FALLBACK = (
    "PRESSURE_PREMATURE_CLOSE",
    "PRESSURE_CHASING",
    "PRESSURE_ESCALATION",
    "PRESSURE_LANGUAGE",
    "PRESSURE_CLOSE_DATE_PULLED",
)


def pressure_codes() -> tuple[str, ...]:
    from deals import health

    return tuple(getattr(health, "PRESSURE_CODES", _PRESSURE_CODES_FALLBACK))


@dataclass(frozen=True)
class DashboardFilters:
    """What the manager narrowed the dashboard to. Defaults: open deals, any time."""

    team_id: int | None = None
    rep_id: int | None = None
    stage: str = STAGE_OPEN
    period: str = "all"

    def as_params(self) -> dict[str, str]:
        params = {"stage": self.stage, "period": self.period}
        if self.team_id:
            params["team"] = str(self.team_id)
        if self.rep_id:
            params["rep"] = str(self.rep_id)
        return params


@dataclass
class RepRow:
    rep_id: int
    name: str
    open_deals: int = 0
    scored_deals: int = 0
    win_win_deals: int = 0
    win_win_share: float | None = None
    pressure_flags: dict[str, int] = field(default_factory=dict)
    pressure_flags_total: int = 0
    open_flags: int = 0
    avg_discount_pct: float | None = None
    avg_margin_pct: float | None = None
    handoff_sla_misses: int = 0
    customer_value_avg: float | None = None
    check_ins: int = 0


REP_SORT_KEYS = (
    "name",
    "open_deals",
    "win_win_share",
    "pressure_flags_total",
    "avg_discount_pct",
    "avg_margin_pct",
    "handoff_sla_misses",
    "customer_value_avg",
)


# --- Scope (decided in deals.visibility) -------------------------------------------------


def dashboard_teams(*, user) -> QuerySet[Team]:
    return managed_teams(user).order_by("name")


def dashboard_reps(*, user, team_id: int | None = None) -> QuerySet[User]:
    """Reps whose deals appear on the dashboard (the rep filter's choices)."""
    qs = User.objects.filter(groups__name=REP)
    team_ids = dashboard_team_ids(user)
    if team_ids is not None:
        qs = qs.filter(teams__id__in=team_ids)
    if team_id:
        qs = qs.filter(teams__id=team_id)
    return qs.distinct().order_by("first_name", "last_name", "username")


def _period_start(period: str):
    days = PERIOD_DAYS.get(period)
    return timezone.now() - dt.timedelta(days=days) if days else None


def dashboard_deals(*, user, filters: DashboardFilters) -> QuerySet[Deal]:
    """The filtered deals in the user's dashboard scope."""
    qs = Deal.objects.filter(dashboard_scope_q(user))
    return _apply_deal_filters(qs, filters, stage=True)


def _apply_deal_filters(qs, filters: DashboardFilters, *, prefix: str = "", stage: bool = True):
    if filters.team_id:
        qs = qs.filter(**{f"{prefix}team_id": filters.team_id})
    if filters.rep_id:
        qs = qs.filter(**{f"{prefix}owner_id": filters.rep_id})
    if stage:
        if filters.stage == STAGE_OPEN:
            qs = qs.filter(**{f"{prefix}stage__in": Deal.OPEN_STAGES})
        elif filters.stage != STAGE_ALL:
            qs = qs.filter(**{f"{prefix}stage": filters.stage})
    start = _period_start(filters.period)
    if start is not None:
        qs = qs.filter(**{f"{prefix}created_at__gte": start})
    return qs


def _snapshots(user, filters: DashboardFilters) -> QuerySet[HealthSnapshot]:
    qs = HealthSnapshot.objects.filter(_team_scope_q(user))
    if filters.team_id:
        qs = qs.filter(team_id=filters.team_id)
    if filters.rep_id:
        qs = qs.filter(owner_id=filters.rep_id)
    # Snapshots do not record the stage. The sweep snapshots open deals and won deals with
    # a handoff, so "open" keeps the deals not closed by the end of that day; a single
    # stage can only be matched through the deal's stage today.
    if filters.stage == STAGE_OPEN:
        qs = qs.filter(Q(deal__closed_at__isnull=True) | Q(deal__closed_at__date__gt=F("day")))
    elif filters.stage != STAGE_ALL:
        qs = qs.filter(deal__stage=filters.stage)
    start = _period_start(filters.period)
    if start is not None:
        qs = qs.filter(deal__created_at__gte=start)
    return qs


def _latest_day_subquery(snapshots: QuerySet, *, on_or_before: dt.date, after: dt.date | None):
    """The last day with snapshots in the window: the sweep may have skipped a day."""
    qs = snapshots.filter(day__lte=on_or_before)
    if after is not None:
        qs = qs.filter(day__gt=after)
    return Subquery(qs.order_by("-day").values("day")[:1])


# The snapshot fallback (see _history) reads tens of thousands of rows per day, and past
# days' snapshots never change (the health store only upserts today's row), so its result
# is cached; the key carries the newest snapshot and deal ids, so fresh history (a
# backfill, a new deal) is never hidden behind an old entry. Redis in production,
# per-process memory otherwise. The rollup path needs no cache: it reads a few hundred rows.
HISTORY_CACHE_SECONDS = 6 * 60 * 60


def _history_cache_key(user, filters: DashboardFilters, kind: str, today: dt.date) -> str:
    from django.db import connection

    snapshot_table = HealthSnapshot._meta.db_table
    deal_table = Deal._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {snapshot_table}), (SELECT MAX(id) FROM {deal_table})"
        )
        newest_snapshot, newest_deal = cursor.fetchone()
    return _cache_key("history", user, filters, kind, today, newest_snapshot, newest_deal)


@dataclass
class History:
    """The past days a chart compares with: for each window asked for, its last day with
    snapshots under the user's scope and filters, and that day's numbers per balance
    (`{"n": deals, "money": net total, "pressure": pressure flags}`)."""

    days: dict[dt.date, dict[str, dict]]
    # When the rollup rows read were written; None when read from the snapshots.
    rolled_up_at: dt.datetime | None = None

    def last_day(self, first: dt.date, last: dt.date) -> dt.date | None:
        days = [d for d in self.days if first <= d <= last]
        return max(days) if days else None


def _rollup_answers(filters: DashboardFilters) -> bool:
    """The rollup is summed per team, rep, balance and open-at-the-end-of-the-day: a
    single stage or a creation period needs the deals behind the snapshots."""
    return filters.stage in (STAGE_OPEN, STAGE_ALL) and filters.period not in PERIOD_DAYS


def _history(
    user, filters: DashboardFilters, windows: list[tuple[dt.date, dt.date]], kind: str
) -> History:
    """History for `windows` ((first, last) past days, inclusive). From the rollup when it
    can answer the filters and holds every day with snapshots in the windows (the sweep
    rolls up each past day within the hour); otherwise from the snapshots, exactly as
    before the rollup existed. Two queries from the rollup."""
    from .services import snapshot_days

    first = min(lo for lo, _hi in windows)
    last = max(hi for _lo, hi in windows)
    if _rollup_answers(filters) and not snapshot_days(first, last, missing_from_rollup=True):
        return _history_from_rollup(user, filters, windows, first, last)
    return _history_from_snapshots(user, filters, windows, kind)


def _history_from_rollup(user, filters, windows, first, last) -> History:
    rows = DashboardDayRollup.objects.filter(_team_scope_q(user), day__gte=first, day__lte=last)
    if filters.team_id:
        rows = rows.filter(team_id=filters.team_id)
    if filters.rep_id:
        rows = rows.filter(owner_id=filters.rep_id)
    if filters.stage == STAGE_OPEN:
        rows = rows.filter(open=True)
    groups = list(
        rows.order_by()
        .values("day", "balance")
        .annotate(
            n=Sum("deals"),
            money=Coalesce(Sum("net_total"), Value(ZERO)),
            pressure=Coalesce(Sum("pressure_flags"), Value(0)),
            built_at=Max("built_at"),
        )
    )
    by_day = _by_day(groups)
    built: dict[dt.date, dt.datetime] = {}
    for row in groups:
        built[row["day"]] = max(row["built_at"], built.get(row["day"], row["built_at"]))
    everything = History(by_day)
    chosen = {day for lo, hi in windows if (day := everything.last_day(lo, hi))}
    return History(
        {day: by_day[day] for day in chosen},
        rolled_up_at=max((built[day] for day in chosen), default=None),
    )


def _history_from_snapshots(user, filters, windows, kind) -> History:
    snapshots = _snapshots(user, filters)
    day_q = Q()
    for lo, hi in windows:
        day_q |= Q(
            day=_latest_day_subquery(snapshots, on_or_before=hi, after=lo - dt.timedelta(days=1))
        )

    def compute():
        return list(
            snapshots.filter(day_q)
            .order_by()
            .values("day", "balance")
            .annotate(
                n=Count("*"),
                money=Coalesce(Sum("net_total"), Value(ZERO)),
                pressure=Coalesce(Sum("pressure_flag_count"), Value(0)),
            )
        )

    return History(_by_day(_cached_history(user, filters, kind, timezone.localdate(), compute)))


def _by_day(groups) -> dict[dt.date, dict[str, dict]]:
    """History.days from rows grouped by day and balance (either path's)."""
    by_day: dict[dt.date, dict[str, dict]] = {}
    for row in groups:
        by_day.setdefault(row["day"], {})[row["balance"]] = {
            "n": row["n"],
            "money": row["money"],
            "pressure": row["pressure"],
        }
    return by_day


def _cache_key(family: str, user, filters: DashboardFilters, *parts) -> str:
    """One cache key per user scope (their teams, or all for admins), filters and parts."""
    team_ids = dashboard_team_ids(user)
    scope = "all" if team_ids is None else ",".join(map(str, sorted(team_ids)))
    raw = "|".join(
        map(str, (scope, filters.team_id, filters.rep_id, filters.stage, filters.period, *parts))
    )
    return f"dashboard:{family}:v2:" + hashlib.sha1(raw.encode()).hexdigest()


def _cached_history(user, filters: DashboardFilters, kind: str, today: dt.date, compute):
    from django.core.cache import cache

    key = _history_cache_key(user, filters, kind, today)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, HISTORY_CACHE_SECONDS)
    return value


# Today's aggregates scan every deal of the scope (hundreds of ms per aggregate for a
# manager of 50,000 deals; bench/RESULTS.md), and health itself is recomputed
# asynchronously, so a dashboard a minute behind tells the same story. Live aggregates are
# cached that long per scope and filters; a manager's own change (acknowledging flags)
# starts a new generation.
LIVE_CACHE_SECONDS = 60
LIVE_GENERATION_KEY = "dashboard:live:generation"


def live_cache_invalidate() -> None:
    """Forget every cached live aggregate (after a manager's own change, e.g. acknowledging
    flags, so their dashboard shows it at once)."""
    from django.core.cache import cache

    try:
        cache.incr(LIVE_GENERATION_KEY)
    except ValueError:  # not set yet
        cache.set(LIVE_GENERATION_KEY, 1, None)


def _live_cache_key(user, filters: DashboardFilters, kind: str) -> str:
    from django.core.cache import cache

    return _cache_key("live", user, filters, kind, cache.get(LIVE_GENERATION_KEY, 0))


def _live_cached(kind: str):
    def decorate(compute):
        @functools.wraps(compute)
        def cached(*, user, filters: DashboardFilters):
            from django.core.cache import cache

            key = _live_cache_key(user, filters, kind)
            value = cache.get(key)
            if value is None:
                value = compute(user=user, filters=filters)
                cache.set(key, value, LIVE_CACHE_SECONDS)
            return value

        return cached

    return decorate


def _empty_by_balance(value):
    return dict.fromkeys(BALANCES, value)


# --- Headline ----------------------------------------------------------------------------


@_live_cached("balance")
def balance_summary(*, user, filters: DashboardFilters) -> dict:
    """Counts and money (sum of net totals) per balance, now and the change since a week
    and a month ago. Three queries (four or five when the history comes from snapshots)."""
    today = timezone.localdate()
    counts = _empty_by_balance(0)
    money = _empty_by_balance(ZERO)
    unscored: dict[str, Any] = {"count": 0, "money": ZERO}
    rows = (
        dashboard_deals(user=user, filters=filters)
        .order_by()
        .values("balance")
        .annotate(n=Count("*"), money=Coalesce(Sum("net_total"), Value(ZERO)))
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


@_live_cached("quadrant")
def quadrant(*, user, filters: DashboardFilters) -> dict:
    """Scored deals as (buyer score, seller score, net total) points; above
    QUADRANT_MAX_POINTS, a server-side density grid instead. Three queries; two above the
    point limit, where the grid (from the covering index) tells there are too many points
    before any deal row is read."""
    deals = dashboard_deals(user=user, filters=filters).filter(
        buyer_score__isnull=False, seller_score__isnull=False
    )
    threshold = win_win_threshold(team_id=filters.team_id)
    cells = list(
        deals.order_by()
        .annotate(
            buyer_cell=Least(F("buyer_score") / QUADRANT_CELL, Value(100 // QUADRANT_CELL - 1)),
            seller_cell=Least(F("seller_score") / QUADRANT_CELL, Value(100 // QUADRANT_CELL - 1)),
        )
        .values("buyer_cell", "seller_cell")
        .annotate(count=Count("*"), net_total=Coalesce(Sum("net_total"), Value(ZERO)))
        .order_by("buyer_cell", "seller_cell")
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
    reads the live deals and flags. Four queries (five or six from the snapshots).
    """
    today = timezone.localdate()
    this_monday = today - dt.timedelta(days=today.weekday())
    week_starts = [this_monday - dt.timedelta(weeks=i) for i in range(TREND_WEEKS - 1, -1, -1)]
    past_weeks = [(start, start + dt.timedelta(days=6)) for start in week_starts[:-1]]
    history = _history(user, filters, past_weeks, "trends")

    codes = pressure_codes()
    deals = dashboard_deals(user=user, filters=filters)
    live = deals.aggregate(
        total=Count(Value(1), filter=~Q(balance="")),
        win_win=Count(Value(1), filter=Q(balance=Deal.Balance.WIN_WIN)),
    )
    live["pressure"] = _open_flags(user, filters).filter(code__in=codes).count()

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
    return {"weeks": weeks, "history_rolled_up_at": history.rolled_up_at}


def _day_totals(per_balance: dict[str, dict]) -> dict:
    return {
        "total": sum(b["n"] for b in per_balance.values()),
        "win_win": per_balance.get(Deal.Balance.WIN_WIN, {}).get("n", 0),
        "pressure": sum(b["pressure"] for b in per_balance.values()),
    }


def _pct(part, whole) -> float | None:
    if not whole:
        return None
    return round(100.0 * part / whole, 1)


# --- Per-rep table -----------------------------------------------------------------------


class RepTable(list):
    """The rep rows, sorted. `as_of`: when the rollup they were read from was built; None
    when they were computed from the live tables for this request."""

    as_of: dt.datetime | None = None


def rep_table(*, user, filters: DashboardFilters, sort: str = "name") -> RepTable:
    data = _rep_rows(user=user, filters=filters)
    table = RepTable(sort_rep_rows(data["rows"], sort))
    table.as_of = data["as_of"]
    return table


# Live, the rep table joins flags, handoffs and check-ins to every deal of the scope (over
# 100 ms a request for a team of 50,000 deals; bench/RESULTS.md). So it reads the rollup
# the hourly sweep refreshes (deals.dashboard.services), summed per team, rep, stage and
# balance: any team, rep and stage filter is a sum of its rows. A creation-period filter
# needs the deals themselves, and a rollup older than this (the sweep has stopped) is not
# trusted: both are computed live.
REP_ROLLUP_MAX_AGE = dt.timedelta(hours=2)


@_live_cached("reps")
def _rep_rows(*, user, filters: DashboardFilters) -> dict:
    """{"rows": one RepRow per rep with deals (or handoff numbers) in the filtered scope,
    "as_of": the rollup's time or None}. Five queries from the rollup, six live.

    Deal columns follow every filter; the handoff columns (SLA misses, post-close customer
    value) are about the rep's closed-won deals, so they ignore the stage filter.
    """
    if filters.period not in PERIOD_DAYS:
        from_rollup = _rep_rows_from_rollup(user, filters)
        if from_rollup is not None:
            rows, as_of = from_rollup
            return {"rows": _named_rep_rows(rows), "as_of": as_of}
    return {"rows": _named_rep_rows(_rep_rows_live(user, filters)), "as_of": None}


def _rep_rows_from_rollup(user, filters) -> tuple[dict[int, RepRow], dt.datetime] | None:
    from deals.models import DashboardRepDeals, DashboardRepFlags, DashboardRepHandoffs

    def narrowed(qs, *, stage: bool):
        # Rollup rows name the deal's team, owner and stage as the deal does, and no
        # creation period reaches here, so the deals' filters apply unchanged.
        qs = _apply_deal_filters(qs.filter(_team_scope_q(user)), filters, stage=stage)
        return qs.order_by().values("owner_id")

    # When the scope's teams were rolled up: none yet (before the first sweep) or too long
    # ago (the sweep has stopped) means the live tables answer.
    as_of = (
        DashboardRepDeals.objects.filter(_team_scope_q(user))
        .filter(**({"team_id": filters.team_id} if filters.team_id else {}))
        .aggregate(built_at=Min("built_at"))["built_at"]
    )
    if as_of is None or as_of < timezone.now() - REP_ROLLUP_MAX_AGE:
        return None
    deal_groups = list(
        narrowed(DashboardRepDeals.objects, stage=True).annotate(
            open_deals=Coalesce(Sum("deals", filter=Q(stage__in=Deal.OPEN_STAGES)), Value(0)),
            scored=Coalesce(Sum("deals", filter=~Q(balance="")), Value(0)),
            win_win=Coalesce(Sum("deals", filter=Q(balance=Deal.Balance.WIN_WIN)), Value(0)),
            priced=Sum("priced"),
            net_of_list=Sum("net_of_list"),
            with_net=Sum("with_net"),
            cost_of_net=Sum("cost_of_net"),
        )
    )
    rows = {
        g["owner_id"]: RepRow(
            rep_id=g["owner_id"],
            name="",
            open_deals=g["open_deals"],
            scored_deals=g["scored"],
            win_win_deals=g["win_win"],
            win_win_share=_pct(g["win_win"], g["scored"]),
            avg_discount_pct=_pct_of_one_minus(_mean(g["net_of_list"], g["priced"])),
            avg_margin_pct=_pct_of_one_minus(_mean(g["cost_of_net"], g["with_net"])),
        )
        for g in deal_groups
    }

    _add_flag_counts(
        rows,
        narrowed(DashboardRepFlags.objects, stage=True)
        .values("owner_id", "code")
        .annotate(n=Sum("flags")),
        owner_key="owner_id",
    )
    for g in narrowed(DashboardRepHandoffs.objects, stage=False).annotate(
        misses=Sum("sla_misses"), values=Sum("check_ins"), value_sum=Sum("customer_value_sum")
    ):
        row = _row_for(rows, g["owner_id"])
        row.handoff_sla_misses = g["misses"]
        row.check_ins = g["values"]
        row.customer_value_avg = _round(_mean(g["value_sum"], g["values"]))
    return rows, as_of


def _mean(total, count):
    return total / count if count else None


def _row_for(rows: dict[int, RepRow], owner_id: int) -> RepRow:
    if owner_id not in rows:
        rows[owner_id] = RepRow(rep_id=owner_id, name="")
    return rows[owner_id]


def _add_flag_counts(rows: dict[int, RepRow], groups, *, owner_key: str) -> None:
    """Open flags per rep and code (`n`) into the open-flags and pressure columns."""
    codes = set(pressure_codes())
    for g in groups:
        row = _row_for(rows, g[owner_key])
        row.open_flags += g["n"]
        if g["code"] in codes:
            row.pressure_flags[g["code"]] = g["n"]
            row.pressure_flags_total += g["n"]


def _rep_rows_live(user, filters) -> dict[int, RepRow]:
    from handoff.models import CheckIn, Handoff

    deals = dashboard_deals(user=user, filters=filters)
    rows: dict[int, RepRow] = {}
    for r in (
        deals.order_by()
        .values("owner_id")
        .annotate(
            open_deals=Count(Value(1), filter=Q(stage__in=Deal.OPEN_STAGES)),
            scored=Count(Value(1), filter=~Q(balance="")),
            win_win=Count(Value(1), filter=Q(balance=Deal.Balance.WIN_WIN)),
            # discount = 1 - net/list and margin = 1 - cost/net, averaged over the deals
            avg_net_of_list=Avg(MoneyRatio("net_total", "list_total"), filter=Q(list_total__gt=0)),
            avg_cost_of_net=Avg(MoneyRatio("cost_total", "net_total"), filter=Q(net_total__gt=0)),
        )
    ):
        rows[r["owner_id"]] = RepRow(
            rep_id=r["owner_id"],
            name="",
            open_deals=r["open_deals"],
            scored_deals=r["scored"],
            win_win_deals=r["win_win"],
            win_win_share=_pct(r["win_win"], r["scored"]),
            avg_discount_pct=_pct_of_one_minus(r["avg_net_of_list"]),
            avg_margin_pct=_pct_of_one_minus(r["avg_cost_of_net"]),
        )

    _add_flag_counts(rows, _flag_counts(user, filters), owner_key="deal__owner_id")

    sla_missed = sla_missed_q(timezone.now())
    handoffs = _apply_deal_filters(
        Handoff.objects.filter(dashboard_scope_q(user, "deal__")),
        filters,
        prefix="deal__",
        stage=False,
    )
    # Two plain GROUP BYs: joining check-ins to handoffs would need COUNT(DISTINCT) (a sort
    # of every joined row, measured slower than the two scans).
    for r in (
        handoffs.filter(sla_missed).order_by().values("deal__owner_id").annotate(misses=Count("*"))
    ):
        _row_for(rows, r["deal__owner_id"]).handoff_sla_misses = r["misses"]
    check_ins = _apply_deal_filters(
        CheckIn.objects.filter(
            dashboard_scope_q(user, "handoff__deal__"), customer_value__isnull=False
        ),
        filters,
        prefix="handoff__deal__",
        stage=False,
    )
    for r in (
        check_ins.order_by()
        .values("handoff__deal__owner_id")
        .annotate(value=Avg("customer_value"), n=Count("*"))
    ):
        row = _row_for(rows, r["handoff__deal__owner_id"])
        row.customer_value_avg = _round(r["value"])
        row.check_ins = r["n"]

    return rows


def _named_rep_rows(rows: dict[int, RepRow]) -> list[RepRow]:
    names = (
        {
            u.id: (u.get_full_name() or u.username)
            for u in User.objects.filter(id__in=list(rows)).only(
                "id", "username", "first_name", "last_name"
            )
        }
        if rows
        else {}
    )
    codes = pressure_codes()
    for row in rows.values():
        row.name = names.get(row.rep_id, f"#{row.rep_id}")
        for code in codes:
            row.pressure_flags.setdefault(code, 0)
    return list(rows.values())


def _flag_counts(user, filters):
    """Open flags per rep and code on the filtered deals (the pressure columns and the
    page's "review flags" count come from this one query)."""
    return (
        _open_flags(user, filters)
        .order_by()
        .values("deal__owner_id", "code")
        .annotate(n=Count("*"))
    )


def _open_flags(user, filters: DashboardFilters) -> QuerySet[Flag]:
    """Open flags on the user's filtered dashboard deals."""
    flags = Flag.objects.filter(dashboard_scope_q(user, "deal__"), status=Flag.Status.OPEN)
    return _apply_deal_filters(flags, filters, prefix="deal__")


def sort_rep_rows(rows: list[RepRow], sort: str) -> list[RepRow]:
    """Sort by a REP_SORT_KEYS column; "-" first means descending; empty values last."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in REP_SORT_KEYS:
        key, descending = "name", False
    if key == "name":
        return sorted(rows, key=lambda r: r.name.lower(), reverse=descending)
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    present.sort(key=lambda r: (getattr(r, key), r.name.lower()), reverse=descending)
    return present + sorted(missing, key=lambda r: r.name.lower())


def _round(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _pct_of_one_minus(average) -> float | None:
    """(1 - average) as a percent, two decimals: the average of (1 - x) is 1 - average of x."""
    return None if average is None else _round((1 - average) * 100)


# --- Flag review -------------------------------------------------------------------------

FLAG_STATUS_CHOICES = [
    (Flag.Status.OPEN, "Open"),
    (Flag.Status.ACKNOWLEDGED, "Acknowledged"),
]
FLAG_AGE_CHOICES = [
    ("", "Any age"),
    ("1", "Older than 1 day"),
    ("7", "Older than 7 days"),
    ("30", "Older than 30 days"),
]


@dataclass(frozen=True)
class FlagFilters:
    status: str = Flag.Status.OPEN
    code: str = ""
    side: str = ""
    severity: str = ""
    rep_id: int | None = None
    team_id: int | None = None
    min_age_days: int | None = None


def flag_review_list(*, user, filters: FlagFilters) -> QuerySet[Flag]:
    """Open (or acknowledged, for audit) flags on the user's dashboard deals, worst first."""
    qs = Flag.objects.filter(dashboard_scope_q(user, "deal__"), status=filters.status)
    if filters.code:
        qs = qs.filter(code=filters.code)
    if filters.side:
        qs = qs.filter(side=filters.side)
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    if filters.rep_id:
        qs = qs.filter(deal__owner_id=filters.rep_id)
    if filters.team_id:
        qs = qs.filter(deal__team_id=filters.team_id)
    if filters.min_age_days:
        qs = qs.filter(first_seen_at__lte=timezone.now() - dt.timedelta(days=filters.min_age_days))
    return qs.select_related("deal", "deal__owner", "deal__team", "acknowledged_by").order_by(
        "severity_rank", "first_seen_at", "id"
    )


def flag_get_for_review(*, user, flag_id: int) -> Flag:
    """A flag on the user's dashboard deals, or Http404."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        Flag.objects.select_related("deal", "deal__owner", "deal__team", "acknowledged_by"),
        dashboard_scope_q(user, "deal__"),
        pk=flag_id,
    )


@_live_cached("open_flags")
def open_flag_count(*, user, filters: DashboardFilters) -> int:
    return _open_flags(user, filters).count()


__all__ = [
    "BALANCES",
    "DashboardFilters",
    "FlagFilters",
    "balance_summary",
    "dashboard_deals",
    "dashboard_reps",
    "dashboard_teams",
    "dashboard_scope_q",
    "flag_get_for_review",
    "flag_review_list",
    "open_flag_count",
    "quadrant",
    "rep_table",
    "trends",
]
