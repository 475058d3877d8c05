"""Writes of the dashboard: its rollups.

- `dashboard_history_rollup()`: past days' health summed per team, rep, balance and
  open-at-day-end (DashboardDayRollup), behind the change since last week and month and
  the 12-week trends. Snapshots are written when a deal's health changes; a day sums each
  deal's latest snapshot on or before it (deals.health.history), one GROUP BY in SQL. An
  hourly run rolls up one to three days, the first run of a day the whole window.
- `live_rollup_rebuild()` (deals.dashboard.live_rollup): today's deals summed per group,
  kept exact between builds by a trigger's deltas: the balance counts, the quadrant grid
  and the forecast.
- `dashboard_rep_rollup()`: the rep table's numbers per team, rep, stage and balance
  (DashboardRepDeals, DashboardRepFlags, DashboardRepHandoffs).

- `outcomes_rollup_rebuild()`: closed deals' outcomes per team, rep, close day and month,
  flag code and won-or-lost (DashboardOutcomeRollup), behind the win-win outcome rates
  and the calibration table; `outcomes_rollup_refresh_deal()` rebuilds one deal's day and
  month when its check-in outcome changes (handoff.outcomes.check_in_outcome_refresh).
- `forecast_snapshot_take()`: today's forecast (open deals per team, rep, month of
  expected close and balance, weighted), kept so past months' forecasts can be compared
  with what closed (DashboardForecastDay).

`dashboard_rollups_refresh()` runs them all; the hourly health sweep calls it. Both are
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
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from deals.dashboard import forecast, outcomes
from deals.dashboard.expressions import MoneyRatio, sla_missed_q
from deals.dashboard.live_rollup import live_rollup_rebuild
from deals.dashboard.rollup_sql import rollup_rows_many
from deals.health.history import first_snapshot_day, open_on_q, snapshots_as_of
from deals.models import (
    DashboardDayRollup,
    DashboardForecastDay,
    DashboardOutcomeCut,
    DashboardOutcomeRollup,
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
_OUTCOME_LOCK_KEY = 0x7E1D_A5B2


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
    built_at = timezone.now()
    folded = forecast.fold_months(
        forecast.deal_months(user=None, this_month=this_month),
        this_month=this_month,
        probabilities=forecast.stage_probabilities(),
    )
    rows: dict[tuple, DashboardForecastDay] = {}
    for g in folded.upcoming:
        key = (g["team_id"], g["owner_id"], g["month"], g["balance"])
        row = rows.get(key)
        if row is None:
            row = rows[key] = DashboardForecastDay(
                day=day,
                team_id=g["team_id"],
                owner_id=g["owner_id"],
                month=g["month"],
                balance=g["balance"],
                deals=0,
                net_total=Decimal("0"),
                weighted_total=Decimal("0"),
                built_at=built_at,
            )
        row.deals += g["n"]
        row.net_total += g["net"]
        row.weighted_total += g["weighted"]
    DashboardForecastDay.objects.filter(day=day).delete()
    DashboardForecastDay.objects.bulk_create(rows.values(), batch_size=1000)
    return len(rows)


# --- outcomes -------------------------------------------------------------------------------


def _outcome_day_rows(closed: Q, built_at: dt.datetime) -> list[DashboardOutcomeRollup]:
    """Day rows for the closed deals matching `closed` (a Q over Deal): the statements the
    outcome pages run live (deals.dashboard.outcomes), grouped by team, rep and close day
    as well. Two queries."""
    rows: dict[tuple, DashboardOutcomeRollup] = {}

    def row(
        team_id: int, owner_id: int, day: str | dt.date, code: str, won: bool
    ) -> DashboardOutcomeRollup:
        key = (team_id, owner_id, _as_date(day), code, won)
        if key not in rows:
            rows[key] = DashboardOutcomeRollup(
                span=DashboardOutcomeRollup.Span.DAY,
                day=key[2],
                team_id=team_id,
                owner_id=owner_id,
                code=code,
                won=won,
                built_at=built_at,
            )
        return rows[key]

    sql, params = outcomes.calibration_sql(
        outcomes._closed(outcomes.CLOSED_STAGES, closed), by_day=True
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for (
            code,
            team_id,
            owner_id,
            day,
            won,
            n,
            checked,
            win_win,
            value,
            with_margin,
            margin,
        ) in cursor.fetchall():
            r = row(team_id, owner_id, day, code or "", bool(won))
            r.deals, r.checked, r.win_win = n, checked, win_win
            r.value_sum, r.with_margin, r.margin_sum = Decimal(value), with_margin, Decimal(margin)
        sql, params = outcomes.win_rate_sql(
            outcomes._closed((Deal.Stage.CLOSED_WON,), closed), by_day=True
        )
        cursor.execute(sql, params)
        for team_id, owner_id, day, *figures in cursor.fetchall():
            *_same, closed_win_win, _value, kept, missed, leaks = figures
            r = row(team_id, owner_id, day, "", True)
            r.closed_win_win, r.handoff_leaks = closed_win_win, leaks
            r.promises_kept, r.promises_missed = int(kept), int(missed)
    return list(rows.values())


_OUTCOME_SUMS = (
    "deals",
    "checked",
    "win_win",
    "value_sum",
    "with_margin",
    "margin_sum",
    "closed_win_win",
    "promises_kept",
    "promises_missed",
    "handoff_leaks",
)


def _outcome_month_rows(
    day_rows: Iterable[DashboardOutcomeRollup], build_day: dt.date, built_at: dt.datetime
) -> list[DashboardOutcomeRollup]:
    """Month rows summing `day_rows`, for the months complete before `build_day`."""
    months: dict[tuple, DashboardOutcomeRollup] = {}
    for d in day_rows:
        month = d.day.replace(day=1)
        if outcomes._next_month(month) > build_day:
            continue
        key = (d.team_id, d.owner_id, month, d.code, d.won)
        m = months.get(key)
        if m is None:
            m = months[key] = DashboardOutcomeRollup(
                span=DashboardOutcomeRollup.Span.MONTH,
                day=month,
                team_id=d.team_id,
                owner_id=d.owner_id,
                code=d.code,
                won=d.won,
                built_at=built_at,
                **dict.fromkeys(_OUTCOME_SUMS, 0),
            )
        for name in _OUTCOME_SUMS:
            setattr(m, name, getattr(m, name) + getattr(d, name))
    return list(months.values())


# A close is stamped before its transaction commits: a run holds only the deals closed
# this long before it started, so one still committing while the run reads is read live,
# never lost between the two.
OUTCOME_CUT_MARGIN = dt.timedelta(minutes=5)


def outcomes_rollup_rebuild(*, full: bool | None = None) -> int:
    """Bring DashboardOutcomeRollup up to date; returns the rows written.

    The first run of a day (or `full=True`) rebuilds it from the live tables: every deal
    closed before the cut (the run's start less OUTCOME_CUT_MARGIN), per close day and
    per complete month, today's closes so far included. Later runs that day rebuild only
    the close days of deals edited since that build (`Deal.updated_at`: re-priced,
    reopened, reassigned, closed — the day it now closed on), that raised a flag since
    (HANDOFF_LEAK) or that closed since the last cut, and their months, then move the cut
    on: the pages read live only what closed in about the last hour. A check-in refreshes
    its deal at once (outcomes_rollup_refresh_deal). What an edit leaves behind on another
    day (a close date or an owner changed, a deal deleted) is rebuilt by the next day's
    full run. The hourly sweep runs it (dashboard_rollups_refresh), and so should a bulk
    load once done (full=True)."""
    built_at = timezone.now()
    build_day = timezone.localdate(built_at)
    cut = built_at - OUTCOME_CUT_MARGIN
    with transaction.atomic():
        _lock(_OUTCOME_LOCK_KEY)
        previous = outcomes.outcome_rollup_cut()
        if full is None:
            full = previous is None or timezone.localdate(previous.built_at) != build_day
        if full or previous is None:
            days = _outcome_day_rows(Q(closed_at__lt=cut), built_at)
            months = _outcome_month_rows(days, build_day, built_at)
            DashboardOutcomeRollup.objects.all().delete()
            DashboardOutcomeRollup.objects.bulk_create([*days, *months], batch_size=2000)
            DashboardOutcomeCut.objects.all().delete()
            DashboardOutcomeCut.objects.create(built_at=built_at, closed_before=cut)
            return len(days) + len(months)
        closed = Q(closed_at__isnull=False, closed_at__lt=cut)
        since = previous.built_at
        changed = (
            _close_days(Deal.objects.filter(closed, updated_at__gte=since), "closed_at")
            # a close written without touching updated_at (a bulk update) is still seen
            | _close_days(
                Deal.objects.filter(closed, closed_at__gte=previous.closed_before), "closed_at"
            )
            | _close_days(
                Flag.objects.filter(
                    Q(deal__closed_at__isnull=False, deal__closed_at__lt=cut),
                    first_seen_at__gte=since,
                ),
                "deal__closed_at",
            )
        )
        written = _outcome_days_rebuild(changed, since, build_day, closed_before=cut)
        DashboardOutcomeCut.objects.filter(pk=previous.pk).update(closed_before=cut)
        return written


def _close_days(rows: QuerySet, closed_at: str) -> set[dt.date]:
    """The local close days of `rows` (deals, or flags through their deal)."""
    days = rows.annotate(day=TruncDate(closed_at)).order_by().values_list("day", flat=True)
    return {_as_date(day) for day in days.distinct()}


def _outcome_days_rebuild(
    days: set[dt.date],
    built_at: dt.datetime,
    build_day: dt.date,
    *,
    closed_before: dt.datetime,
    **group: int,
) -> int:
    """Rewrite the rollup's rows of these close days (the deals closed before
    `closed_before`; for one team and rep when `group` names them) and of their complete
    months, under the build's `built_at`."""
    if not days:
        return 0
    when = Q()
    for day in sorted(days):
        when |= Q(
            closed_at__gte=outcomes._day_start(day),
            closed_at__lt=min(outcomes._day_start(day + dt.timedelta(days=1)), closed_before),
        )
    rows = _outcome_day_rows(when & Q(**group), built_at)
    existing = DashboardOutcomeRollup.objects.filter(**group)
    existing.filter(span=DashboardOutcomeRollup.Span.DAY, day__in=days).delete()
    DashboardOutcomeRollup.objects.bulk_create(rows, batch_size=2000)
    written = len(rows)
    months = {d.replace(day=1) for d in days if outcomes._next_month(d.replace(day=1)) <= build_day}
    for month in sorted(months):
        month_days = existing.filter(
            span=DashboardOutcomeRollup.Span.DAY,
            day__gte=month,
            day__lt=outcomes._next_month(month),
        )
        sums = _outcome_month_rows(list(month_days), build_day, built_at)
        existing.filter(span=DashboardOutcomeRollup.Span.MONTH, day=month).delete()
        DashboardOutcomeRollup.objects.bulk_create(sums, batch_size=2000)
        written += len(sums)
    return written


def outcomes_rollup_refresh_deal(*, deal_id: int) -> bool:
    """After one deal's outcome changed (a check-in recorded or answered): rebuild the
    rollup's rows of its team, rep and close day, and of that month. Nothing to do
    without a rollup or for a deal closed since the cut (read live). True when rows
    were rebuilt. One query when there is nothing to do, about ten otherwise."""
    if outcomes.outcome_rollup_cut() is None:
        return False
    with transaction.atomic():
        _lock(_OUTCOME_LOCK_KEY)  # after a rebuild running now, and reading what it wrote
        cut = outcomes.outcome_rollup_cut()
        deal = Deal.objects.filter(pk=deal_id).values("team_id", "owner_id", "closed_at").first()
        if cut is None or deal is None or deal["closed_at"] is None:
            return False
        if deal["closed_at"] >= cut.closed_before:
            return False
        _outcome_days_rebuild(
            {timezone.localdate(deal["closed_at"])},
            cut.built_at,
            timezone.localdate(cut.built_at),
            closed_before=cut.closed_before,
            team_id=deal["team_id"],
            owner_id=deal["owner_id"],
        )
    return True


def dashboard_rollups_refresh() -> None:
    """Everything the hourly health sweep keeps up to date for the dashboard."""
    live_rollup_rebuild()
    dashboard_history_rollup()
    dashboard_rep_rollup()
    forecast_snapshot_take()
    outcomes_rollup_rebuild()


__all__ = [
    "dashboard_history_rollup",
    "dashboard_rep_rollup",
    "dashboard_rollups_refresh",
    "forecast_snapshot_take",
    "live_rollup_rebuild",
    "outcomes_rollup_rebuild",
    "outcomes_rollup_refresh_deal",
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
