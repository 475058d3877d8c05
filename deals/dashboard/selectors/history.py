"""History: past days' numbers per balance, from the day rollup or the health snapshots.

History (changes since last week and month, trends) describes past days: it reads
`DashboardDayRollup`, the health snapshots of each past day summed per team, rep and
balance by the hourly sweep (deals.dashboard.services), and falls back to the snapshots
themselves for a filter the rollup cannot answer (one stage, a creation period) or a past
day the rollup has not seen yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Count,
    DateField,
    Max,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from deals.health.history import first_snapshot_day, open_on_q, snapshots_as_of
from deals.models import DashboardDayRollup, Deal, HealthSnapshot
from deals.visibility import (
    dashboard_team_scope_q as _team_scope_q,
)

from .cache import _cache_key
from .scope import PERIOD_DAYS, STAGE_ALL, STAGE_OPEN, ZERO, DashboardFilters, _period_start


def _snapshots(user, filters: DashboardFilters, *, on_day: dt.date) -> QuerySet[HealthSnapshot]:
    """The snapshots under the user's scope and filters that can describe `on_day`."""
    qs = HealthSnapshot.objects.filter(_team_scope_q(user))
    if filters.team_id:
        qs = qs.filter(team_id=filters.team_id)
    if filters.rep_id:
        qs = qs.filter(owner_id=filters.rep_id)
    # Snapshots do not record the stage. "Open" keeps the deals not closed by the end of
    # that day; a single stage can only be matched through the deal's stage today.
    if filters.stage == STAGE_OPEN:
        qs = qs.filter(open_on_q(on_day))
    elif filters.stage != STAGE_ALL:
        qs = qs.filter(deal__stage=filters.stage)
    start = _period_start(filters.period)
    if start is not None:
        qs = qs.filter(deal__created_at__gte=start)
    return qs


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
    from deals.dashboard.services import snapshot_days

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
    """Each window is read on its last day: every deal's latest snapshot on or before it
    (snapshots are written when health changes, deals.health.history), one query for all
    windows. A window before the first kept snapshot has no history (unknown, not empty)."""

    def compute():
        first_kept = first_snapshot_day()
        asked = sorted({hi for _lo, hi in windows if first_kept is not None and hi >= first_kept})
        if not asked:
            return []
        per_day = [
            snapshots_as_of(day, _snapshots(user, filters, on_day=day))
            .order_by()
            .values("balance")
            .annotate(
                as_of=Value(day, output_field=DateField()),
                n=Count("*"),
                money=Coalesce(Sum("net_total"), Value(ZERO)),
                pressure=Coalesce(Sum("pressure_flag_count"), Value(0)),
            )
            .values("as_of", "balance", "n", "money", "pressure")
            for day in asked
        ]
        rows = per_day[0].union(*per_day[1:], all=True) if len(per_day) > 1 else per_day[0]
        return [{**row, "day": row["as_of"]} for row in rows]

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


def _cached_history(user, filters: DashboardFilters, kind: str, today: dt.date, compute):
    from django.core.cache import cache

    key = _history_cache_key(user, filters, kind, today)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, HISTORY_CACHE_SECONDS)
    return value
