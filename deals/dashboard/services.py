"""Writes of the dashboard: rolling up past days' health snapshots into DashboardDayRollup.

The hourly health sweep calls `dashboard_history_rollup()`. It is idempotent, so calling
it again, or from two workers at once (they take turns), is harmless. A day costs one
GROUP BY over that day's snapshots (about 130 ms for 85,000 on the 2-core bench machine);
an hourly run rolls up one to three days, the first run of a day the whole window.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from deals.models import DashboardDayRollup, HealthSnapshot

# Every day the dashboard reads lies in the last TREND_WEEKS weeks (the change since a
# month ago looks at most 37 days back), so older days are neither rolled up nor kept.
ROLLUP_DAYS = 12 * 7
# Re-rolled on every run: a recompute that started before midnight may still write
# "yesterday's" snapshot after it, and the sweep runs hourly, so two days are plenty.
ROLLUP_REDO_DAYS = 2
ZERO = Decimal("0.00")
_LOCK_KEY = 0x7E1D_A5B0  # PostgreSQL advisory lock: one rollup writer at a time


def rollup_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last past day the rollup covers."""
    return today - dt.timedelta(days=ROLLUP_DAYS), today - dt.timedelta(days=1)


def snapshot_days(first: dt.date, last: dt.date, *, missing_from_rollup: bool = False):
    """Days in [first, last] that have health snapshots (optionally only those with no
    rollup rows). On PostgreSQL a skip scan over the day index: one probe per day, not
    one row per snapshot."""
    snapshots = HealthSnapshot._meta.db_table
    rollups = DashboardDayRollup._meta.db_table
    missing = (
        f"AND NOT EXISTS (SELECT 1 FROM {rollups} r WHERE r.day = days.day)"
        if missing_from_rollup
        else ""
    )
    sql = f"""
        WITH RECURSIVE days(day) AS (
            SELECT MIN(day) FROM {snapshots} WHERE day >= %s AND day <= %s
            UNION ALL
            SELECT (SELECT MIN(s.day) FROM {snapshots} s WHERE s.day > days.day AND s.day <= %s)
            FROM days WHERE days.day IS NOT NULL
        )
        SELECT day FROM days WHERE day IS NOT NULL {missing} ORDER BY day
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [first, last, last])
        return [_as_date(row[0]) for row in cursor.fetchall()]


def _as_date(value) -> dt.date:
    # SQLite hands dates from raw SQL back as ISO strings.
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def open_on_snapshot_day() -> ExpressionWrapper:
    """On a snapshot: the deal was not closed by the end of the snapshot's day (the same
    rule the dashboard's "open deals" history has always used)."""
    return ExpressionWrapper(
        Q(deal__closed_at__isnull=True) | Q(deal__closed_at__date__gt=F("day")),
        output_field=BooleanField(),
    )


def _rollup_rows(day: dt.date, built_at: dt.datetime) -> list[DashboardDayRollup]:
    groups = (
        HealthSnapshot.objects.filter(day=day)
        .annotate(open=open_on_snapshot_day())
        .order_by()
        .values("team_id", "owner_id", "balance", "open")
        .annotate(
            deals=Count("*"),
            money=Coalesce(Sum("net_total"), Value(ZERO)),
            pressure=Coalesce(Sum("pressure_flag_count"), Value(0)),
        )
    )
    return [
        DashboardDayRollup(
            day=day,
            team_id=g["team_id"],
            owner_id=g["owner_id"],
            balance=g["balance"],
            open=bool(g["open"]),
            deals=g["deals"],
            net_total=g["money"],
            pressure_flags=g["pressure"],
            built_at=built_at,
        )
        for g in groups
    ]


def dashboard_history_rollup(
    *, today: dt.date | None = None, full: bool | None = None
) -> list[dt.date]:
    """Bring DashboardDayRollup up to date with the snapshots; returns the days written.

    Every run rolls up the window's days that have snapshots and no rollup yet, and the
    last ROLLUP_REDO_DAYS days again; it forgets days that left the window or lost their
    snapshots. The first run of a day (or `full=True`) rolls up the whole window again, so
    what changes a past day after it was rolled up (a deal deleted, a close date moved
    back, snapshots written by a bulk load) shows by the next day at the latest.
    """
    today = today or timezone.localdate()
    first, last = rollup_window(today)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        if full is None:
            start_of_today = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
            full = not DashboardDayRollup.objects.filter(built_at__gte=start_of_today).exists()
        have = set(snapshot_days(first, last))
        rolled = set(
            DashboardDayRollup.objects.filter(day__gte=first, day__lte=last)
            .order_by()
            .values_list("day", flat=True)
            .distinct()
        )
        recent = {last - dt.timedelta(days=i) for i in range(ROLLUP_REDO_DAYS)}
        todo = sorted(have if full else (have - rolled) | (recent & have))
        DashboardDayRollup.objects.filter(
            Q(day__lt=first) | Q(day__gt=last) | Q(day__in=sorted((rolled - have) | set(todo)))
        ).delete()
        built_at = timezone.now()
        for day in todo:
            DashboardDayRollup.objects.bulk_create(_rollup_rows(day, built_at))
    return todo


__all__ = ["dashboard_history_rollup", "open_on_snapshot_day", "rollup_window", "snapshot_days"]
