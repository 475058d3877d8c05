"""Reads behind the manager's deal-balance dashboard, every number aggregated in SQL.

Scope: a manager sees the deals of the sales teams they manage, an admin sees everything
(`dashboard_scope_q`). Every selector here starts from that scope, so another team's deal
never reaches a count, a sum, a point or a trend.

Each selector runs a fixed number of queries whatever the number of deals; the dashboard
tests pin the counts. History (changes, trends) reads `HealthSnapshot`, which the health
sweep writes once a day for every open deal; the current week always comes from the live
`Deal` table, so a sweep that has not run yet today never shows a half-written day.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Least
from django.utils import timezone

from deals.models import Deal, Flag, HealthPolicy, HealthSnapshot
from deals.visibility import NOTHING, deal_scope_q, managed_team_ids
from winwin_crm.accounts.models import Team, User
from winwin_crm.accounts.roles import MANAGER, REP, is_admin, roles_of

BALANCES = tuple(Deal.Balance.values)  # win_win, buyer_loses, seller_loses, lose_lose
ZERO = Decimal("0.00")
MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)

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


# --- Scope -------------------------------------------------------------------------------


def can_view_dashboard(user) -> bool:
    return user.is_authenticated and (is_admin(user) or MANAGER in roles_of(user))


def dashboard_scope_q(user, prefix: str = "") -> Q:
    """Deals on this user's dashboard: admins all, managers their teams' deals only.

    It narrows deals.visibility's decision to the managed teams, so a manager who is also
    on a delivery team never counts handed-off deals of another sales team.
    """
    if not can_view_dashboard(user):
        return NOTHING
    if is_admin(user):
        return Q()
    team_ids = managed_team_ids(user)
    if not team_ids:
        return NOTHING
    return deal_scope_q(user, prefix) & Q(**{f"{prefix}team_id__in": team_ids})


def _snapshot_scope_q(user) -> Q:
    # Snapshots carry the deal's team and owner on the day, so history is scoped by the
    # team the deal belonged to then, without joining 100,000s of rows to deals.
    if not can_view_dashboard(user):
        return NOTHING
    if is_admin(user):
        return Q()
    team_ids = managed_team_ids(user)
    return Q(team_id__in=team_ids) if team_ids else NOTHING


def dashboard_teams(*, user) -> QuerySet[Team]:
    qs = Team.objects.filter(kind=Team.Kind.SALES).order_by("name")
    if is_admin(user):
        return qs
    return qs.filter(id__in=managed_team_ids(user))


def dashboard_reps(*, user, team_id: int | None = None) -> QuerySet[User]:
    """Reps whose deals appear on the dashboard (the rep filter's choices)."""
    qs = User.objects.filter(groups__name=REP)
    if not is_admin(user):
        qs = qs.filter(teams__id__in=managed_team_ids(user))
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
    qs = HealthSnapshot.objects.filter(_snapshot_scope_q(user))
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


# Past days' snapshots never change (the health store only upserts today's row), so their
# aggregates are cached; only today's numbers are computed on every request. The key also
# carries the newest snapshot and deal ids, so fresh history (a backfill, a new deal) is
# never hidden behind an old entry. Redis in production, per-process memory otherwise.
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


def _cache_key(family: str, user, filters: DashboardFilters, *parts) -> str:
    """One cache key per user scope (their teams, or all for admins), filters and parts."""
    scope = "all" if is_admin(user) else ",".join(map(str, sorted(managed_team_ids(user))))
    raw = "|".join(
        map(str, (scope, filters.team_id, filters.rep_id, filters.stage, filters.period, *parts))
    )
    return f"dashboard:{family}:v1:" + hashlib.sha1(raw.encode()).hexdigest()


def _cached_history(user, filters: DashboardFilters, kind: str, today: dt.date, compute):
    from django.core.cache import cache

    key = _history_cache_key(user, filters, kind, today)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, HISTORY_CACHE_SECONDS)
    return value


# Today's aggregates scan every deal of the scope (a manager of 50,000 deals waits
# 100–400 ms per aggregate), and health itself is recomputed asynchronously, so a dashboard
# a minute behind tells the same story. Live aggregates are cached that long per scope and
# filters; a manager's own change (acknowledging flags) starts a new generation.
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
    and a month ago. Two queries, three when the history is not cached yet."""
    today = timezone.localdate()
    counts = _empty_by_balance(0)
    money = _empty_by_balance(ZERO)
    unscored = {"count": 0, "money": ZERO}
    rows = (
        dashboard_deals(user=user, filters=filters)
        .order_by()
        .values("balance")
        .annotate(n=Count("id"), money=Coalesce(Sum("net_total"), Value(ZERO)))
    )
    for row in rows:
        if row["balance"] in counts:
            counts[row["balance"]] = row["n"]
            money[row["balance"]] = row["money"]
        else:
            unscored["count"] += row["n"]
            unscored["money"] += row["money"]

    snapshots = _snapshots(user, filters)
    ref = {
        "week": today - dt.timedelta(days=7),
        "month": today - dt.timedelta(days=30),
    }
    # A reference day is the last snapshotted day on or before it, within a week of it.
    ref_days = {
        name: _latest_day_subquery(snapshots, on_or_before=day, after=day - dt.timedelta(days=7))
        for name, day in ref.items()
    }

    def compute_history():
        return list(
            snapshots.filter(Q(day=ref_days["week"]) | Q(day=ref_days["month"]))
            .order_by()
            .values("day", "balance")
            .annotate(n=Count("id"), money=Coalesce(Sum("net_total"), Value(ZERO)))
        )

    history = _cached_history(user, filters, "balance", today, compute_history)
    then: dict[dt.date, dict] = {}
    for row in history:
        per_day = then.setdefault(
            row["day"], {"counts": _empty_by_balance(0), "money": _empty_by_balance(ZERO)}
        )
        if row["balance"] in per_day["counts"]:
            per_day["counts"][row["balance"]] += row["n"]
            per_day["money"][row["balance"]] += row["money"]

    change = {}
    for name, ref_day in ref.items():
        # Which snapshot day answered for this reference (the latest in its window).
        candidates = [d for d in then if ref_day - dt.timedelta(days=7) < d <= ref_day]
        if not candidates:
            change[name] = None
            continue
        day = max(candidates)
        change[name] = {
            "as_of": day,
            "counts": {b: counts[b] - then[day]["counts"][b] for b in BALANCES},
            "money": {b: money[b] - then[day]["money"][b] for b in BALANCES},
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
    }


# --- Quadrant ----------------------------------------------------------------------------


def win_win_threshold(*, team_id: int | None) -> int:
    """The team's win-win line if it has its own policy, else the global one. One query."""
    q = Q(team__isnull=True)
    if team_id:
        q |= Q(team_id=team_id)
    thresholds = dict(HealthPolicy.objects.filter(q).values_list("team_id", "win_win_threshold"))
    return thresholds.get(team_id) or thresholds.get(None) or DEFAULT_WIN_WIN_THRESHOLD


@_live_cached("quadrant")
def quadrant(*, user, filters: DashboardFilters) -> dict:
    """Scored deals as (buyer score, seller score, net total) points; above
    QUADRANT_MAX_POINTS, a server-side density grid instead. Two or three queries."""
    deals = dashboard_deals(user=user, filters=filters).filter(
        buyer_score__isnull=False, seller_score__isnull=False
    )
    threshold = win_win_threshold(team_id=filters.team_id)
    points = list(
        deals.order_by("id").values(
            "id", "title", "buyer_score", "seller_score", "net_total", "balance"
        )[: QUADRANT_MAX_POINTS + 1]
    )
    if len(points) <= QUADRANT_MAX_POINTS:
        return {
            "mode": "points",
            "total": len(points),
            "threshold": threshold,
            "cell_size": None,
            "points": points,
            "cells": [],
        }
    cells = list(
        deals.order_by()
        .annotate(
            buyer_cell=Least(F("buyer_score") / QUADRANT_CELL, Value(100 // QUADRANT_CELL - 1)),
            seller_cell=Least(F("seller_score") / QUADRANT_CELL, Value(100 // QUADRANT_CELL - 1)),
        )
        .values("buyer_cell", "seller_cell")
        .annotate(count=Count("id"), net_total=Coalesce(Sum("net_total"), Value(ZERO)))
        .order_by("buyer_cell", "seller_cell")
    )
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

    Past weeks read each week's last snapshotted day (cached: past days never change);
    the current week reads the live deals and flags. Three queries, four uncached.
    """
    today = timezone.localdate()
    this_monday = today - dt.timedelta(days=today.weekday())
    week_starts = [this_monday - dt.timedelta(weeks=i) for i in range(TREND_WEEKS - 1, -1, -1)]

    snapshots = _snapshots(user, filters)
    day_q = Q()
    for start in week_starts[:-1]:
        day_q |= Q(
            day=_latest_day_subquery(
                snapshots,
                on_or_before=start + dt.timedelta(days=6),
                after=start - dt.timedelta(days=1),
            )
        )

    def compute_history():
        return list(
            snapshots.filter(day_q)
            .order_by()
            .values("day")
            .annotate(
                total=Count("id"),
                win_win=Count("id", filter=Q(balance=Deal.Balance.WIN_WIN)),
                pressure=Coalesce(Sum("pressure_flag_count"), Value(0)),
            )
        )

    by_day = {
        row["day"]: row for row in _cached_history(user, filters, "trends", today, compute_history)
    }

    codes = pressure_codes()
    deals = dashboard_deals(user=user, filters=filters)
    live = deals.aggregate(
        total=Count("id", filter=~Q(balance="")),
        win_win=Count("id", filter=Q(balance=Deal.Balance.WIN_WIN)),
    )
    live["pressure"] = _apply_deal_filters(
        Flag.objects.filter(
            dashboard_scope_q(user, "deal__"), status=Flag.Status.OPEN, code__in=codes
        ),
        filters,
        prefix="deal__",
    ).count()

    weeks = []
    for start in week_starts:
        end = start + dt.timedelta(days=6)
        if start == this_monday:
            row, as_of = live, today
        else:
            days = [d for d in by_day if start <= d <= end]
            as_of = max(days) if days else None
            row = by_day[as_of] if as_of else None
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
    return {"weeks": weeks}


def _pct(part, whole) -> float | None:
    if not whole:
        return None
    return round(100.0 * part / whole, 1)


# --- Per-rep table -----------------------------------------------------------------------


def rep_table(*, user, filters: DashboardFilters, sort: str = "name") -> list[RepRow]:
    return sort_rep_rows(_rep_rows(user=user, filters=filters), sort)


@_live_cached("reps")
def _rep_rows(*, user, filters: DashboardFilters) -> list[RepRow]:
    """One row per rep with deals in the filtered scope. Five queries.

    Deal columns follow every filter; the handoff columns (SLA misses, post-close customer
    value) are about the rep's closed-won deals, so they ignore the stage filter.
    """
    from handoff.models import CheckIn, Handoff

    codes = pressure_codes()
    deals = dashboard_deals(user=user, filters=filters)
    discount = ExpressionWrapper(
        (Value(1.0) - Cast("net_total", FloatField()) / Cast("list_total", FloatField()))
        * Value(100.0),
        output_field=FloatField(),
    )
    margin = ExpressionWrapper(
        (Cast("net_total", FloatField()) - Cast("cost_total", FloatField()))
        / Cast("net_total", FloatField())
        * Value(100.0),
        output_field=FloatField(),
    )
    rows: dict[int, RepRow] = {}
    for r in (
        deals.order_by()
        .values("owner_id")
        .annotate(
            open_deals=Count("id", filter=Q(stage__in=Deal.OPEN_STAGES)),
            scored=Count("id", filter=~Q(balance="")),
            win_win=Count("id", filter=Q(balance=Deal.Balance.WIN_WIN)),
            avg_discount=Avg(discount, filter=Q(list_total__gt=0)),
            avg_margin=Avg(margin, filter=Q(net_total__gt=0)),
        )
    ):
        rows[r["owner_id"]] = RepRow(
            rep_id=r["owner_id"],
            name="",
            open_deals=r["open_deals"],
            scored_deals=r["scored"],
            win_win_deals=r["win_win"],
            win_win_share=_pct(r["win_win"], r["scored"]),
            avg_discount_pct=_round(r["avg_discount"]),
            avg_margin_pct=_round(r["avg_margin"]),
        )

    def row_for(owner_id) -> RepRow:
        if owner_id not in rows:
            rows[owner_id] = RepRow(rep_id=owner_id, name="")
        return rows[owner_id]

    pressure = set(codes)
    for r in _flag_counts(user, filters):
        row = row_for(r["deal__owner_id"])
        row.open_flags += r["n"]
        if r["code"] in pressure:
            row.pressure_flags[r["code"]] = r["n"]
            row.pressure_flags_total += r["n"]

    now = timezone.now()
    sla_missed = Q(sla_due_at__isnull=False) & (
        Q(claimed_at__gt=F("sla_due_at")) | Q(claimed_at__isnull=True, sla_due_at__lt=now)
    )
    handoffs = _apply_deal_filters(
        Handoff.objects.filter(dashboard_scope_q(user, "deal__")),
        filters,
        prefix="deal__",
        stage=False,
    )
    # Two plain GROUP BYs: joining check-ins to handoffs would need COUNT(DISTINCT).
    for r in (
        handoffs.filter(sla_missed).order_by().values("deal__owner_id").annotate(misses=Count("id"))
    ):
        row_for(r["deal__owner_id"]).handoff_sla_misses = r["misses"]
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
        .annotate(value=Avg("customer_value"), n=Count("id"))
    ):
        row = row_for(r["handoff__deal__owner_id"])
        row.customer_value_avg = _round(r["value"])
        row.check_ins = r["n"]

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
    for row in rows.values():
        row.name = names.get(row.rep_id, f"#{row.rep_id}")
        for code in codes:
            row.pressure_flags.setdefault(code, 0)
    return list(rows.values())


def _flag_counts(user, filters):
    """Open flags per rep and code on the filtered deals (the pressure columns and the
    page's "review flags" count come from this one query)."""
    flags = Flag.objects.filter(dashboard_scope_q(user, "deal__"), status=Flag.Status.OPEN)
    flags = _apply_deal_filters(flags, filters, prefix="deal__")
    return flags.order_by().values("deal__owner_id", "code").annotate(n=Count("id"))


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
    flags = Flag.objects.filter(dashboard_scope_q(user, "deal__"), status=Flag.Status.OPEN)
    return _apply_deal_filters(flags, filters, prefix="deal__").count()


__all__ = [
    "BALANCES",
    "DashboardFilters",
    "FlagFilters",
    "balance_summary",
    "can_view_dashboard",
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
