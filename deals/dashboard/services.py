"""Writes of the dashboard: its rollups.

- `dashboard_history_rollup()`: past days' health summed per team, rep, balance and
  open-at-day-end (DashboardDayRollup), behind the change since last week and month and
  the 12-week trends. Snapshots are written when a deal's health changes; a day sums each
  deal's latest snapshot on or before it (deals.health.history), one GROUP BY in SQL. An
  hourly run rolls up one to three days, the first run of a day the whole window.
- `dashboard_rep_rollup()`: the rep table's numbers per team, rep, stage and balance
  (DashboardRepDeals, DashboardRepFlags, DashboardRepHandoffs).

- `forecast_snapshot_take()`: today's forecast (open deals per team, rep, month of
  expected close and balance, weighted), kept so past months' forecasts can be compared
  with what closed (DashboardForecastDay).

`dashboard_rollups_refresh()` runs all three; the hourly health sweep calls it. Both are
idempotent, so running them again, or from two workers at once (they take turns), is
harmless.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from deals.dashboard import forecast
from deals.dashboard.expressions import MoneyRatio, sla_missed_q
from deals.dashboard.rollup_sql import rollup_rows_many
from deals.health.history import first_snapshot_day, open_on_q, snapshots_as_of
from deals.models import (
    DashboardDayRollup,
    DashboardForecastDay,
    DashboardRepDeals,
    DashboardRepFlags,
    DashboardRepHandoffs,
    Deal,
    Flag,
    HealthSnapshot,
)
from handoff.models import CheckIn, Handoff
from winwin_crm.accounts.models import User

# Every day the dashboard reads lies in the last TREND_WEEKS weeks (the change since a
# month ago looks at most 37 days back), so older days are neither rolled up nor kept.
ROLLUP_DAYS = 12 * 7
# Re-rolled on every run: a recompute that started before midnight may still write
# "yesterday's" snapshot after it, and the sweep runs hourly, so two days are plenty.
ROLLUP_REDO_DAYS = 2
ZERO = Decimal("0.00")
# More days than this are rolled up in one pass over the snapshots (rollup_sql.py); the
# hourly run's few days one GROUP BY each.
ONE_PASS_FROM_DAYS = 3
# PostgreSQL advisory locks: one writer per rollup at a time.
_LOCK_KEY = 0x7E1D_A5B0
_REP_LOCK_KEY = 0x7E1D_A5B1


def rollup_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last past day the rollup covers."""
    return today - dt.timedelta(days=ROLLUP_DAYS), today - dt.timedelta(days=1)


def snapshot_days(
    first: dt.date, last: dt.date, *, missing_from_rollup: bool = False
) -> list[dt.date]:
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


def _lock(key: int) -> None:
    # Two writers (two sweep workers, a sweep and an acknowledgement) take turns; SQLite
    # already serialises writers.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _as_date(value: str | dt.date) -> dt.date:
    # SQLite hands dates from raw SQL back as ISO strings.
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _rollup_rows(day: dt.date, built_at: dt.datetime) -> list[DashboardDayRollup]:
    """The day's numbers from each deal's state that day: its latest snapshot on or
    before it (snapshots are written on change), summed in SQL."""
    groups = (
        snapshots_as_of(day)
        .annotate(open=ExpressionWrapper(open_on_q(day), output_field=BooleanField()))
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
        _lock(_LOCK_KEY)
        if full is None:
            start_of_today = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
            full = not DashboardDayRollup.objects.filter(built_at__gte=start_of_today).exists()
        # Snapshots are written on change: a deal's state carries to every later day, so
        # every day from the first snapshot on has a rollup, changed or not.
        start = first_snapshot_day()
        begin = max(first, start) if start is not None else None
        have = (
            {begin + dt.timedelta(days=i) for i in range((last - begin).days + 1)}
            if begin is not None and begin <= last
            else set()
        )
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
        if connection.vendor == "postgresql" and len(todo) > ONE_PASS_FROM_DAYS:
            assert begin is not None
            DashboardDayRollup.objects.bulk_create(
                rollup_rows_many(todo, begin, built_at), batch_size=5_000
            )
        else:
            for day in todo:
                DashboardDayRollup.objects.bulk_create(_rollup_rows(day, built_at))
    return todo


def dashboard_rep_rollup(*, team_ids: list[int] | None = None) -> dt.datetime | None:
    """Recompute the rep table's rollup from the live tables, for every team or for
    `team_ids` (after a manager acknowledged flags there). Returns its `built_at`; None
    when asked for some teams of a rollup the sweep has not built yet (the rep table is
    computed live until then, and a rollup of only some teams would hide the others).

    The same aggregates as the live rep table (deals.dashboard.selectors._rep_rows_live),
    grouped by team and stage as well so that any team, rep and stage filter is a sum of
    rows; handoff SLA misses are counted as of `built_at`.
    """
    if team_ids is not None and not DashboardRepDeals.objects.exists():
        return None
    built_at = timezone.now()
    deals = Deal.objects.all()
    flags = Flag.objects.filter(status=Flag.Status.OPEN)
    handoffs = Handoff.objects.all()
    check_ins = CheckIn.objects.filter(customer_value__isnull=False)
    if team_ids is not None:
        deals = deals.filter(team_id__in=team_ids)
        flags = flags.filter(deal__team_id__in=team_ids)
        handoffs = handoffs.filter(deal__team_id__in=team_ids)
        check_ins = check_ins.filter(handoff__deal__team_id__in=team_ids)
    with transaction.atomic():
        _lock(_REP_LOCK_KEY)
        deal_rows = [
            DashboardRepDeals(
                team_id=g["team_id"],
                owner_id=g["owner_id"],
                stage=g["stage"],
                balance=g["balance"],
                deals=g["deals"],
                priced=g["priced"],
                net_of_list=g["net_of_list"] or 0.0,
                with_net=g["with_net"],
                cost_of_net=g["cost_of_net"] or 0.0,
                built_at=built_at,
            )
            for g in deals.order_by()
            .values("team_id", "owner_id", "stage", "balance")
            .annotate(
                deals=Count("*"),
                priced=Count(Value(1), filter=Q(list_total__gt=0)),
                net_of_list=Sum(MoneyRatio("net_total", "list_total"), filter=Q(list_total__gt=0)),
                with_net=Count(Value(1), filter=Q(net_total__gt=0)),
                cost_of_net=Sum(MoneyRatio("cost_total", "net_total"), filter=Q(net_total__gt=0)),
            )
        ]
        flag_rows = [
            DashboardRepFlags(
                team_id=g["deal__team_id"],
                owner_id=g["deal__owner_id"],
                stage=g["deal__stage"],
                code=g["code"],
                flags=g["n"],
                built_at=built_at,
            )
            for g in flags.order_by()
            .values("deal__team_id", "deal__owner_id", "deal__stage", "code")
            .annotate(n=Count("*"))
        ]
        per_rep: dict[tuple[int, int], DashboardRepHandoffs] = {}

        def rep_row(team_id: int, owner_id: int) -> DashboardRepHandoffs:
            key = (team_id, owner_id)
            if key not in per_rep:
                per_rep[key] = DashboardRepHandoffs(
                    team_id=team_id, owner_id=owner_id, built_at=built_at
                )
            return per_rep[key]

        for g in (
            handoffs.filter(sla_missed_q(built_at))
            .order_by()
            .values("deal__team_id", "deal__owner_id")
            .annotate(n=Count("*"))
        ):
            rep_row(g["deal__team_id"], g["deal__owner_id"]).sla_misses = g["n"]
        for g in (
            check_ins.order_by()
            .values("handoff__deal__team_id", "handoff__deal__owner_id")
            .annotate(total=Sum("customer_value"), n=Count("*"))
        ):
            row = rep_row(g["handoff__deal__team_id"], g["handoff__deal__owner_id"])
            row.customer_value_sum, row.check_ins = g["total"], g["n"]

        for model in (DashboardRepDeals, DashboardRepFlags, DashboardRepHandoffs):
            stale = model.objects.all()
            if team_ids is not None:
                stale = stale.filter(team_id__in=team_ids)
            stale.delete()
        DashboardRepDeals.objects.bulk_create(deal_rows)
        DashboardRepFlags.objects.bulk_create(flag_rows)
        DashboardRepHandoffs.objects.bulk_create(per_rep.values())
    return built_at


@transaction.atomic
def forecast_snapshot_take(*, day: dt.date | None = None) -> int:
    """Write the whole forecast as it stands now under `day` (today), replacing that day's
    rows; the sweep calls it every hour, so the last run of the day is what stays.
    Returns the number of rows written."""
    day = day or timezone.localdate()
    this_month = forecast.month_start(day)
    horizon = forecast.add_months(this_month, forecast.FORECAST_MONTHS)
    probabilities = forecast.stage_probabilities()
    built_at = timezone.now()
    rows: dict[tuple, DashboardForecastDay] = {}
    for g in forecast._open_groups(Deal.objects.all(), this_month, horizon):
        key = (g["team_id"], g["owner_id"], forecast._as_date(g["month"]), g["balance"])
        row = rows.get(key)
        if row is None:
            row = rows[key] = DashboardForecastDay(
                day=day,
                team_id=g["team_id"],
                owner_id=g["owner_id"],
                month=key[2],
                balance=g["balance"],
                deals=0,
                net_total=Decimal("0"),
                weighted_total=Decimal("0"),
                built_at=built_at,
            )
        net = g["net"] or Decimal("0")
        row.deals += g["n"]
        row.net_total += net
        row.weighted_total += forecast._weighted(
            net, forecast._probability(probabilities, g["team_id"], g["stage"])
        )
    DashboardForecastDay.objects.filter(day=day).delete()
    DashboardForecastDay.objects.bulk_create(rows.values(), batch_size=1000)
    return len(rows)


def dashboard_rollups_refresh() -> None:
    """Everything the hourly health sweep keeps up to date for the dashboard."""
    dashboard_history_rollup()
    dashboard_rep_rollup()
    forecast_snapshot_take()


__all__ = [
    "dashboard_history_rollup",
    "dashboard_rep_rollup",
    "dashboard_rollups_refresh",
    "forecast_snapshot_take",
    "rollup_window",
    "snapshot_days",
]


# --- acknowledging flags from the dashboard --------------------------------------------------


@dataclass
class AcknowledgeResult:
    acknowledged: list[Flag] = field(default_factory=list)
    # A flag that could not be acknowledged, with why (a person reads it).
    refused: list[tuple[Flag, str]] = field(default_factory=list)


def flags_acknowledge(*, flags: Iterable[Flag], user: User, note: str) -> AcknowledgeResult:
    """A manager acknowledges one or many flags with one note. Each flag is its own write
    (one refused flag leaves the others acknowledged); afterwards the manager's own numbers
    show it at once: the rep table's rollup of those teams is recomputed and the live
    aggregates start over."""
    from deals.health.store import FlagNotActive, flag_acknowledge

    from .selectors import live_cache_invalidate

    result = AcknowledgeResult()
    for flag in flags:
        try:
            flag_acknowledge(flag=flag, user=user, note=note)
        except ValidationError as exc:
            result.refused.append((flag, " ".join(exc.messages)))
        except FlagNotActive as exc:
            result.refused.append((flag, str(exc)))
        else:
            result.acknowledged.append(flag)
    if result.acknowledged:
        dashboard_rep_rollup(team_ids=sorted({f.deal.team_id for f in result.acknowledged}))
        live_cache_invalidate()
    return result
