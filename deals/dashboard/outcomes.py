"""What happened after the close, for the manager's dashboard: win-win rates per team and
rep, and the calibration of every health rule against outcomes (DESIGN.md "Outcomes and
forecast"). Both run as SQL over the deals in the user's dashboard scope.

- A deal is **checked** when it closed won and its 90-day check-in is recorded; it is a
  **win-win outcome** when that check-in's value is >= 4 and the account is profitable
  (handoff.outcomes, the one definition; this module spells it in SQL).
- The **period** filter keeps deals closed in the window.
- A rate stands on `n` deals; below `SMALL_SAMPLE` the page says so.

Flat as deals pile up: the figures of deals closed before the rollup's build day are
summed in DashboardOutcomeRollup (per team, rep, close day or month, flag code and won
or lost; deals.dashboard.services.outcomes_rollup_rebuild, hourly), and only the deals
closed since then, plus the part of the period's first day before its cut-off hour, are
read live. The same statements compute the live figures and the rollup's rows (grouped
by close day), so both paths add up the same numbers. Without a rollup (before the first
sweep, or one older than OUTCOME_ROLLUP_MAX_AGE) everything is read live.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from deals.models import DashboardOutcomeCut, DashboardOutcomeRollup, Deal, Flag, HealthSnapshot
from deals.visibility import Viewer, dashboard_team_scope_q
from handoff.models import CheckIn, CheckInPromise, Handoff
from handoff.outcomes import OUTCOME_DAY, PROFITABLE, WIN_WIN_MIN_VALUE
from winwin_crm.accounts.models import Team, User

from .selectors import DashboardFilters, _live_cached, dashboard_scope_q

SMALL_SAMPLE = 10  # fewer deals than this behind a rate: "too few to tell"
CALIBRATION_WINDOW_DAYS = 30  # a flag active in the 30 days before the close counts
WILSON_Z = 1.96  # 95 % interval
# The sweep rebuilds the rollup hourly; one this old means it stopped, and a deal edited
# after its close (reassigned, reopened) would count where it was: read live instead.
OUTCOME_ROLLUP_MAX_AGE = dt.timedelta(days=2)

OUTCOME_PERIOD_CHOICES = [
    ("all", "Closed any time"),
    ("30d", "Closed in the last 30 days"),
    ("90d", "Closed in the last 90 days"),
    ("180d", "Closed in the last 180 days"),
    ("365d", "Closed in the last year"),
    ("730d", "Closed in the last two years"),
]
OUTCOME_PERIOD_DAYS = {"30d": 30, "90d": 90, "180d": 180, "365d": 365, "730d": 730}
CLOSED_STAGES = (Deal.Stage.CLOSED_WON, Deal.Stage.CLOSED_LOST)


@dataclass(frozen=True)
class OutcomeFilters:
    team_id: int | None = None
    rep_id: int | None = None
    period: str = "all"

    def as_params(self) -> dict[str, str]:
        params = {"period": self.period}
        if self.team_id:
            params["team"] = str(self.team_id)
        if self.rep_id:
            params["rep"] = str(self.rep_id)
        return params


def _closed(stages: tuple[str, ...], closed: Q) -> QuerySet[Deal]:
    """Closed deals in `stages` whose close matches `closed` (a Q over closed_at)."""
    return Deal.objects.filter(closed, stage__in=stages, closed_at__isnull=False).order_by()


def _narrowed(qs: QuerySet, filters: OutcomeFilters, *, scope: Q) -> QuerySet:
    qs = qs.filter(scope)
    if filters.team_id:
        qs = qs.filter(team_id=filters.team_id)
    if filters.rep_id:
        qs = qs.filter(owner_id=filters.rep_id)
    return qs


def _rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _mean(total, count: int) -> float | None:
    return round(float(total) / count, 2) if count else None


def _tables() -> dict[str, str]:
    return {
        "handoff": Handoff._meta.db_table,
        "checkin": CheckIn._meta.db_table,
        "promise": CheckInPromise._meta.db_table,
        "flag": Flag._meta.db_table,
        "snapshot": HealthSnapshot._meta.db_table,
    }


# The recorded 90-day check-ins, by deal: read from the check-ins (a few per won deal)
# and joined to their handoff by primary key, rather than every handoff to every deal.
_NINETY_CTE = (
    "ninety AS (SELECT h.deal_id, ci.outcome_value, ci.account_health "
    "FROM {checkin} ci JOIN {handoff} h ON h.id = ci.handoff_id "
    "WHERE ci.day_offset = %s AND ci.completed_at IS NOT NULL "
    "AND ci.outcome_value IS NOT NULL)"
)
_WIN_WIN_SQL = "(n.outcome_value >= %s AND n.account_health = %s)"


# --- What is read when: the rollup's days and months, and the live remainder -------------


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def outcome_rollup_cut() -> DashboardOutcomeCut | None:
    """Where the rollup ends (its day's build time and the close time it holds up to);
    None without one. One query."""
    return DashboardOutcomeCut.objects.first()


@dataclass(frozen=True)
class _Plan:
    """Which closed deals are read live (`live`, a Q over Deal) and which rollup rows
    stand for the rest (`rollup`, a Q over DashboardOutcomeRollup; None: none)."""

    live: Q
    rollup: Q | None = None
    rolled_up_at: dt.datetime | None = None


def _plan(filters: OutcomeFilters, cut: DashboardOutcomeCut | None) -> _Plan:
    """Split the period into what the rollup holds — the deals closed before the cut, per
    close day (the cut's own day holds those closed before the cut's hour), and as month
    rows where a whole month lies inside — and what is read live: deals closed from the
    cut on (the last hourly run's), and those of the period's first day closed after its
    cut-off (a period is "the last N days" to the second)."""
    now = timezone.now()
    days = OUTCOME_PERIOD_DAYS.get(filters.period)
    cutoff = now - dt.timedelta(days=days) if days else None
    everything = Q(closed_at__gte=cutoff) if cutoff is not None else Q()
    if cut is None or cut.built_at < now - OUTCOME_ROLLUP_MAX_AGE:
        return _Plan(live=everything)
    build_day = timezone.localdate(cut.built_at)
    if cutoff is not None and timezone.localdate(cutoff) >= build_day:
        return _Plan(live=everything)
    # The cut as it stands when the figures' statement runs, beside the one read before
    # it: an hourly run that commits in between has moved it on and put those closes in
    # today's rows, which are then read up to that cut and live from it (each close
    # once). The literal bound is what lets the planner read a range of the index.
    live = Q(closed_at__gte=cut.closed_before) & Q(
        closed_at__gte=Subquery(DashboardOutcomeCut.objects.values("closed_before")[:1])
    )
    first: dt.date | None = None
    if cutoff is not None:
        first = timezone.localdate(cutoff) + dt.timedelta(days=1)
        live |= Q(closed_at__gte=cutoff, closed_at__lt=_day_start(first))
    this_month = build_day.replace(day=1)  # months before it are complete in the rollup
    # Day spans (first, last); the last span is open-ended: day rows up to whatever day
    # the cut has reached when the statement runs (its own day's rows hold the closes
    # before it).
    day_spans: list[tuple[dt.date | None, dt.date | None]] = []
    months: tuple[dt.date | None, dt.date] | None = None
    whole_from = None if first is None else (first if first.day == 1 else _next_month(first))
    if whole_from is not None and whole_from >= this_month:
        day_spans.append((first, None))
    else:
        if first is not None and whole_from is not None and first < whole_from:
            day_spans.append((first, whole_from - dt.timedelta(days=1)))
        months = (whole_from, this_month)
        day_spans.append((this_month, None))
    parts = [
        Q(span=DashboardOutcomeRollup.Span.DAY, **_gte(lo), **_lte(hi))
        for lo, hi in day_spans
        if lo is None or hi is None or lo <= hi
    ]
    if months is not None and (months[0] is None or months[0] < months[1]):
        parts.append(
            Q(span=DashboardOutcomeRollup.Span.MONTH, day__lt=months[1], **_gte(months[0]))
        )
    rollup = None
    for part in parts:
        rollup = part if rollup is None else rollup | part
    return _Plan(live=live, rollup=rollup, rolled_up_at=cut.closed_before)


def _gte(day: dt.date | None) -> dict:
    return {} if day is None else {"day__gte": day}


def _lte(day: dt.date | None) -> dict:
    return {} if day is None else {"day__lte": day}


def _rollup_rows(user: Viewer, filters: OutcomeFilters, plan: _Plan) -> QuerySet:
    assert plan.rollup is not None
    return _narrowed(
        DashboardOutcomeRollup.objects.filter(plan.rollup),
        filters,
        scope=dashboard_team_scope_q(user),
    ).order_by()


def _union_rows(
    live: Callable[[], tuple[str, list]], rollup: Callable[[], tuple[str, list]] | None
) -> list[tuple]:
    """The live statement's rows and the rollup's, in one round trip (none for a scope
    that holds nothing)."""
    try:
        sql, params = live()
        if rollup is not None:
            rolled_sql, rolled_params = rollup()
            sql = f"SELECT * FROM ({sql}) live UNION ALL SELECT * FROM ({rolled_sql}) rolled"
            params = [*params, *rolled_params]
    except EmptyResultSet:  # a user without teams: nothing to read
        return []
    return _rows(sql, params)


# --- Win-win rate ------------------------------------------------------------------------


@dataclass
class OutcomeRow:
    """One team or rep: closed-won deals, those checked at 90 days, and their outcomes."""

    id: int | None
    name: str
    won_deals: int = 0
    checked_deals: int = 0
    win_win_outcomes: int = 0
    closed_win_win: int = 0  # of the checked deals, how many closed with a win-win verdict
    value_sum: Decimal = Decimal("0")
    promises_kept: int = 0
    promises_missed: int = 0
    handoff_leaks: int = 0
    win_win_rate: float | None = None
    closed_win_win_share: float | None = None
    avg_customer_value: float | None = None
    promises_kept_pct: float | None = None
    small_sample: bool = True

    def add(self, other: OutcomeRow) -> None:
        for name in (
            "won_deals",
            "checked_deals",
            "win_win_outcomes",
            "closed_win_win",
            "value_sum",
            "promises_kept",
            "promises_missed",
            "handoff_leaks",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def finish(self) -> OutcomeRow:
        self.win_win_rate = _pct(self.win_win_outcomes, self.checked_deals)
        self.closed_win_win_share = _pct(self.closed_win_win, self.checked_deals)
        self.avg_customer_value = _mean(self.value_sum, self.checked_deals)
        self.promises_kept_pct = _pct(self.promises_kept, self.promises_kept + self.promises_missed)
        self.small_sample = self.checked_deals < SMALL_SAMPLE
        return self


@dataclass
class WinWinRates:
    overall: OutcomeRow
    teams: list[OutcomeRow] = field(default_factory=list)
    reps: list[OutcomeRow] = field(default_factory=list)
    # When the rollup read was built (deals closed since then were read live); None when
    # every deal was read live.
    rolled_up_at: dt.datetime | None = None


def win_rate_sql(deals: QuerySet[Deal], *, by_day: bool = False) -> tuple[str, list]:
    """The win-rate figures of closed-won `deals` per team and rep (and close day, for
    the rollup): team, owner, [day,] won deals, checked, win-win outcomes, checked that
    closed win-win, value sum, promises kept, missed, handoff leaks. One statement."""
    base_sql, base_params = (
        deals.annotate(closed_day=TruncDate("closed_at"))
        .values("id", "team_id", "owner_id", "closed_day", "balance")
        .query.sql_with_params()
    )
    keys = "d.team_id, d.owner_id" + (", d.closed_day" if by_day else "")
    t = _tables()
    sql = f"""
        WITH d AS ({base_sql}),
        {_NINETY_CTE.format(**t)},
        checked AS (
            SELECT d.id, d.closed_day, d.balance, n.outcome_value, {_WIN_WIN_SQL} AS win_win
            FROM d JOIN ninety n ON n.deal_id = d.id
        ),
        closed_as AS (
            SELECT c.id, COALESCE((
                SELECT s.balance FROM {t["snapshot"]} s
                WHERE s.deal_id = c.id AND s.day <= c.closed_day
                ORDER BY s.day DESC LIMIT 1), c.balance) AS balance
            FROM checked c
        ),
        verdicts AS (
            SELECT deal_id, status FROM (
                SELECT h.deal_id, p.status, ROW_NUMBER() OVER (
                    PARTITION BY p.commitment_id ORDER BY ci.day_offset DESC, ci.id DESC
                ) AS latest
                FROM d JOIN {t["handoff"]} h ON h.deal_id = d.id
                JOIN {t["checkin"]} ci ON ci.handoff_id = h.id AND ci.completed_at IS NOT NULL
                JOIN {t["promise"]} p ON p.check_in_id = ci.id
            ) v WHERE latest = 1
        ),
        promises AS (
            SELECT deal_id, COUNT(*) FILTER (WHERE status = %s) AS kept,
                   COUNT(*) FILTER (WHERE status = %s) AS missed
            FROM verdicts GROUP BY deal_id
        ),
        leaks AS (
            SELECT DISTINCT f.deal_id FROM {t["flag"]} f JOIN d ON d.id = f.deal_id
            WHERE f.code = %s
        )
        SELECT {keys}, COUNT(*),
            COUNT(c.id), COUNT(*) FILTER (WHERE c.win_win),
            COUNT(*) FILTER (WHERE ca.balance = %s), COALESCE(SUM(c.outcome_value), 0),
            COALESCE(SUM(p.kept), 0), COALESCE(SUM(p.missed), 0), COUNT(l.deal_id)
        FROM d
        LEFT JOIN checked c ON c.id = d.id
        LEFT JOIN closed_as ca ON ca.id = d.id
        LEFT JOIN promises p ON p.deal_id = d.id
        LEFT JOIN leaks l ON l.deal_id = d.id
        GROUP BY {keys}
    """
    # In the order the placeholders appear in the text.
    params = [
        *base_params,
        OUTCOME_DAY,
        WIN_WIN_MIN_VALUE,
        PROFITABLE,
        CheckInPromise.Status.KEPT,
        CheckInPromise.Status.MISSED,
        "HANDOFF_LEAK",
        Deal.Balance.WIN_WIN,
    ]
    return sql, params


def _win_rate_rollup_sql(user: Viewer, filters: OutcomeFilters, plan: _Plan) -> tuple[str, list]:
    """The rollup's rows in the same columns as win_rate_sql."""
    rows = (
        _rollup_rows(user, filters, plan)
        .filter(code="", won=True)
        .values("team_id", "owner_id")
        .annotate(
            n=Sum("deals"),
            checked_n=Sum("checked"),
            win_win_n=Sum("win_win"),
            closed_win_win_n=Sum("closed_win_win"),
            value=Sum("value_sum"),
            kept=Sum("promises_kept"),
            missed=Sum("promises_missed"),
            leaks=Sum("handoff_leaks"),
        )
    )
    sql, params = rows.query.sql_with_params()
    return sql, list(params)


def win_win_rates(*, user: Viewer, filters: OutcomeFilters) -> WinWinRates:
    """Win-win outcome rate, the share that closed win-win, promises kept, average value
    at 90 days and handoff leaks, per team and per rep, for the closed-won deals in scope.
    Four queries: the rollup's cut, the figures (one statement: the rollup's rows and the
    deals closed since), team names, rep names."""
    plan = _plan(filters, outcome_rollup_cut())
    live = _narrowed(
        _closed((Deal.Stage.CLOSED_WON,), plan.live), filters, scope=dashboard_scope_q(user)
    )
    rows = _union_rows(
        lambda: win_rate_sql(live),
        (lambda: _win_rate_rollup_sql(user, filters, plan)) if plan.rollup is not None else None,
    )
    overall = OutcomeRow(id=None, name="All")
    teams: dict[int, OutcomeRow] = {}
    reps: dict[int, OutcomeRow] = {}
    for team_id, owner_id, *figures in rows:
        row = _outcome_row(figures)
        overall.add(row)
        teams.setdefault(team_id, OutcomeRow(id=team_id, name="")).add(row)
        reps.setdefault(owner_id, OutcomeRow(id=owner_id, name="")).add(row)
    team_names = dict(Team.objects.filter(id__in=teams).values_list("id", "name"))
    for team in teams.values():
        team.name = team_names.get(team.id or 0, "")
    for rep in User.objects.filter(id__in=reps).only("id", "username", "first_name", "last_name"):
        reps[rep.id].name = rep.get_full_name() or rep.username
    return WinWinRates(
        overall=overall.finish(),
        teams=sorted((t.finish() for t in teams.values()), key=lambda r: r.name),
        reps=sorted((r.finish() for r in reps.values()), key=lambda r: r.name),
        rolled_up_at=plan.rolled_up_at,
    )


def _outcome_row(figures: Iterable) -> OutcomeRow:
    won, checked, win_win, closed_ww, value, kept, missed, leaks = figures
    return OutcomeRow(
        id=None,
        name="",
        won_deals=int(won),
        checked_deals=int(checked),
        win_win_outcomes=int(win_win),
        closed_win_win=int(closed_ww),
        value_sum=Decimal(value),
        promises_kept=int(kept),
        promises_missed=int(missed),
        handoff_leaks=int(leaks),
    )


def dashboard_outcome_filters(filters: DashboardFilters) -> OutcomeFilters:
    """The outcome filters the dashboard's own filters stand for: the same team and rep,
    and its period's window (30, 90, 180 or 365 days) read as the close date, since an
    outcome belongs to a closed deal. The stage filter does not apply: outcomes are of
    closed-won deals."""
    period = filters.period if filters.period in OUTCOME_PERIOD_DAYS else "all"
    return OutcomeFilters(team_id=filters.team_id, rep_id=filters.rep_id, period=period)


@_live_cached("win_win_rates")
def dashboard_win_win_rates(*, user: User, filters: DashboardFilters) -> WinWinRates:
    """win_win_rates for the dashboard page's filters, cached like the page's other live
    aggregates (a minute per scope and filters). Four queries when not cached."""
    return win_win_rates(user=user, filters=dashboard_outcome_filters(filters))


# --- Calibration -------------------------------------------------------------------------


def wilson_interval(successes: int, n: int, z: float = WILSON_Z) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion, in percent; None without deals."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (round(100 * max(0.0, centre - half), 1), round(100 * min(1.0, centre + half), 1))


def confidence_hint(with_n: int, with_k: int, without_n: int, without_k: int) -> str:
    """A plain reading of two proportions' 95 % Wilson intervals."""
    if min(with_n, without_n) < SMALL_SAMPLE:
        return "too few deals to tell"
    a = wilson_interval(with_k, with_n)
    b = wilson_interval(without_k, without_n)
    assert a is not None and b is not None
    if a[1] < b[0] or b[1] < a[0]:
        return "a clear difference"
    return "could be chance"


@dataclass
class GroupStats:
    deals: int = 0
    won: int = 0
    checked: int = 0
    win_win: int = 0
    value_sum: float = 0.0
    with_margin: int = 0
    margin_sum: float = 0.0

    def minus(self, other: GroupStats) -> GroupStats:
        return GroupStats(
            *(getattr(self, n) - getattr(other, n) for n in self.__dataclass_fields__)
        )

    def as_dict(self) -> dict:
        return {
            "deals": self.deals,
            "won": self.won,
            "win_rate": _pct(self.won, self.deals),
            "win_rate_interval": wilson_interval(self.won, self.deals),
            "checked": self.checked,
            "win_win_outcomes": self.win_win,
            "win_win_outcome_rate": _pct(self.win_win, self.checked),
            "win_win_outcome_rate_interval": wilson_interval(self.win_win, self.checked),
            "avg_customer_value": _mean(self.value_sum, self.checked),
            "avg_margin_pct": round(100 * self.margin_sum / self.with_margin, 1)
            if self.with_margin
            else None,
        }


def _diff(a, b, digits: int = 1):
    return round(a - b, digits) if a is not None and b is not None else None


def calibration_sql(deals: QuerySet[Deal], *, by_day: bool = False) -> tuple[str, list]:
    """The calibration figures of closed (won and lost) `deals` per flag code (NULL: every
    deal) and won-or-lost (and team, rep and close day, for the rollup): code, [team,
    owner, day,] won, deals, checked, win-win outcomes, value sum, won deals with a net
    total, their margin sum. A flag counts when it was active at the close or at any time
    in the 30 days before. One statement."""
    # The window's start is computed by the ORM, which spells date arithmetic for the
    # database at hand; the rest is plain SQL.
    base_sql, base_params = (
        deals.annotate(
            window_start=F("closed_at") - dt.timedelta(days=CALIBRATION_WINDOW_DAYS),
            closed_day=TruncDate("closed_at"),
        )
        .values(
            "id",
            "stage",
            "closed_at",
            "window_start",
            "net_total",
            "cost_total",
            "team_id",
            "owner_id",
            "closed_day",
        )
        .query.sql_with_params()
    )
    keys = "code, " + ("team_id, owner_id, closed_day, " if by_day else "") + "won"
    t = _tables()
    sql = f"""
        WITH d AS ({base_sql}),
        {_NINETY_CTE.format(**t)},
        closed AS (
            SELECT d.id, d.closed_at, d.window_start, d.team_id, d.owner_id, d.closed_day,
                d.stage = %s AS won,
                n.outcome_value AS value, COALESCE({_WIN_WIN_SQL}, FALSE) AS win_win,
                CASE WHEN d.stage = %s AND d.net_total > 0
                     THEN (d.net_total - d.cost_total) * 1.0 / d.net_total END AS margin
            FROM d LEFT JOIN ninety n ON n.deal_id = d.id
        ),
        pairs AS (
            SELECT DISTINCT f.code, c.id
            FROM closed c JOIN {t["flag"]} f ON f.deal_id = c.id
            WHERE f.first_seen_at <= c.closed_at
              AND (f.resolved_at IS NULL OR f.resolved_at >= c.window_start)
        ),
        tagged AS (
            SELECT p.code, c.team_id, c.owner_id, c.closed_day, c.won, c.value, c.win_win,
                c.margin
            FROM pairs p JOIN closed c ON c.id = p.id
            UNION ALL
            SELECT NULL, c.team_id, c.owner_id, c.closed_day, c.won, c.value, c.win_win,
                c.margin
            FROM closed c
        )
        SELECT {keys}, COUNT(*), COUNT(value),
            COUNT(*) FILTER (WHERE win_win), COALESCE(SUM(value), 0),
            COUNT(margin), COALESCE(SUM(margin), 0)
        FROM tagged GROUP BY {keys}
    """
    # In the order the placeholders appear in the text.
    params = [
        *base_params,
        OUTCOME_DAY,
        Deal.Stage.CLOSED_WON,
        WIN_WIN_MIN_VALUE,
        PROFITABLE,
        Deal.Stage.CLOSED_WON,
    ]
    return sql, params


def _calibration_rollup_sql(user: Viewer, filters: OutcomeFilters, plan: _Plan) -> tuple[str, list]:
    """The rollup's rows in the same columns as calibration_sql."""
    rows = (
        _rollup_rows(user, filters, plan)
        .values("code", "won")
        .annotate(
            n=Sum("deals"),
            checked_n=Sum("checked"),
            win_win_n=Sum("win_win"),
            value=Sum("value_sum"),
            margin_n=Sum("with_margin"),
            margin=Sum("margin_sum"),
        )
    )
    sql, params = rows.query.sql_with_params()
    return sql, list(params)


def calibration(*, user: Viewer, filters: OutcomeFilters) -> dict:
    """For every flag code: the closed deals that had it active at the close (or at any
    time in the 30 days before) against those that did not — count, win rate, win-win
    outcome rate, average value at 90 days, average margin of the won ones — with the
    differences and a confidence hint from 95 % Wilson intervals. Two queries: the
    rollup's cut and the figures (the rollup's rows and the deals closed since)."""
    from deals.health import ALL_CODES

    plan = _plan(filters, outcome_rollup_cut())
    live = _narrowed(_closed(CLOSED_STAGES, plan.live), filters, scope=dashboard_scope_q(user))
    rows = _union_rows(
        lambda: calibration_sql(live),
        (lambda: _calibration_rollup_sql(user, filters, plan)) if plan.rollup is not None else None,
    )
    sums: dict[str | None, list] = {}
    # Margins are sums of ratios with many decimals: added exactly, then read as floats.
    with localcontext(prec=80):
        for code, won, deals, checked, win_win, value, with_margin, margin in rows:
            acc = sums.setdefault(code or None, [0, 0, 0, 0, Decimal("0"), 0, Decimal("0")])
            acc[0] += int(deals)
            acc[1] += int(deals) if won else 0
            acc[2] += int(checked)
            acc[3] += int(win_win)
            acc[4] += Decimal(value)
            acc[5] += int(with_margin)
            acc[6] += Decimal(margin)
    stats = {
        code: GroupStats(d, w, c, ww, float(v), m, float(ms))
        for code, (d, w, c, ww, v, m, ms) in sums.items()
    }
    total = stats.get(None, GroupStats())
    codes = [*ALL_CODES, *sorted(c for c in stats if c is not None and c not in ALL_CODES)]
    results = []
    for code in codes:
        with_ = stats.get(code, GroupStats())
        without = total.minus(with_)
        a, b = with_.as_dict(), without.as_dict()
        results.append(
            {
                "code": code,
                "with_flag": a,
                "without_flag": b,
                "difference": {
                    "win_rate": _diff(a["win_rate"], b["win_rate"]),
                    "win_win_outcome_rate": _diff(
                        a["win_win_outcome_rate"], b["win_win_outcome_rate"]
                    ),
                    "avg_customer_value": _diff(
                        a["avg_customer_value"], b["avg_customer_value"], 2
                    ),
                    "avg_margin_pct": _diff(a["avg_margin_pct"], b["avg_margin_pct"]),
                },
                "win_rate_hint": confidence_hint(
                    with_.deals, with_.won, without.deals, without.won
                ),
                "win_win_outcome_hint": confidence_hint(
                    with_.checked, with_.win_win, without.checked, without.win_win
                ),
            }
        )
    return {
        "closed_deals": total.deals,
        "checked_deals": total.checked,
        "window_days": CALIBRATION_WINDOW_DAYS,
        "small_sample": SMALL_SAMPLE,
        "results": results,
        "rolled_up_at": plan.rolled_up_at,
    }


__all__ = [
    "CLOSED_STAGES",
    "OUTCOME_PERIOD_CHOICES",
    "OUTCOME_ROLLUP_MAX_AGE",
    "SMALL_SAMPLE",
    "OutcomeFilters",
    "OutcomeRow",
    "WinWinRates",
    "calibration",
    "calibration_sql",
    "confidence_hint",
    "dashboard_outcome_filters",
    "dashboard_win_win_rates",
    "outcome_rollup_cut",
    "win_rate_sql",
    "win_win_rates",
    "wilson_interval",
]
