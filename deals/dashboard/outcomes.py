"""What happened after the close, for the manager's dashboard: win-win rates per team and
rep, and the calibration of every health rule against outcomes (DESIGN.md "Outcomes and
forecast"). Both run as SQL over the deals in the user's dashboard scope.

- A deal is **checked** when it closed won and its 90-day check-in is recorded; it is a
  **win-win outcome** when that check-in's value is >= 4 and the account is profitable
  (handoff.outcomes, the one definition; this module spells it in SQL).
- The **period** filter keeps deals closed in the window.
- A rate stands on `n` deals; below `SMALL_SAMPLE` the page says so.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.db.models.functions import TruncDate
from django.utils import timezone

from deals.models import Deal, Flag, HealthSnapshot
from handoff.models import CheckIn, CheckInPromise, Handoff
from handoff.outcomes import OUTCOME_DAY, PROFITABLE, WIN_WIN_MIN_VALUE
from winwin_crm.accounts.models import Team, User

from .selectors import DashboardFilters, _live_cached, dashboard_scope_q

SMALL_SAMPLE = 10  # fewer deals than this behind a rate: "too few to tell"
CALIBRATION_WINDOW_DAYS = 30  # a flag active in the 30 days before the close counts
WILSON_Z = 1.96  # 95 % interval

OUTCOME_PERIOD_CHOICES = [
    ("all", "Closed any time"),
    ("30d", "Closed in the last 30 days"),
    ("90d", "Closed in the last 90 days"),
    ("180d", "Closed in the last 180 days"),
    ("365d", "Closed in the last year"),
    ("730d", "Closed in the last two years"),
]
OUTCOME_PERIOD_DAYS = {"30d": 30, "90d": 90, "180d": 180, "365d": 365, "730d": 730}


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


def _closed_deals(user, filters: OutcomeFilters, stages: tuple[str, ...]):
    """The closed deals in scope and period, as an ORM queryset (compiled into the SQL)."""
    qs = Deal.objects.filter(dashboard_scope_q(user), stage__in=stages, closed_at__isnull=False)
    if filters.team_id:
        qs = qs.filter(team_id=filters.team_id)
    if filters.rep_id:
        qs = qs.filter(owner_id=filters.rep_id)
    days = OUTCOME_PERIOD_DAYS.get(filters.period)
    if days:
        qs = qs.filter(closed_at__gte=timezone.now() - dt.timedelta(days=days))
    return qs.order_by()


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


def win_win_rates(*, user, filters: OutcomeFilters) -> WinWinRates:
    """Win-win outcome rate, the share that closed win-win, promises kept, average value
    at 90 days and handoff leaks, per team and per rep, for the closed-won deals in scope.
    Three queries: the figures (one statement), team names, rep names."""
    base_sql, base_params = (
        _closed_deals(user, filters, (Deal.Stage.CLOSED_WON,))
        .annotate(closed_day=TruncDate("closed_at"))
        .values("id", "team_id", "owner_id", "closed_day", "balance")
        .query.sql_with_params()
    )
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
        SELECT d.team_id, d.owner_id, COUNT(*),
            COUNT(c.id), COUNT(*) FILTER (WHERE c.win_win),
            COUNT(*) FILTER (WHERE ca.balance = %s), COALESCE(SUM(c.outcome_value), 0),
            COALESCE(SUM(p.kept), 0), COALESCE(SUM(p.missed), 0), COUNT(l.deal_id)
        FROM d
        LEFT JOIN checked c ON c.id = d.id
        LEFT JOIN closed_as ca ON ca.id = d.id
        LEFT JOIN promises p ON p.deal_id = d.id
        LEFT JOIN leaks l ON l.deal_id = d.id
        GROUP BY d.team_id, d.owner_id
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
    rows = _rows(sql, params)
    overall = OutcomeRow(id=None, name="All")
    teams: dict[int, OutcomeRow] = {}
    reps: dict[int, OutcomeRow] = {}
    for team_id, owner_id, won, checked, win_win, closed_ww, value, kept, missed, leaks in rows:
        row = OutcomeRow(
            id=None,
            name="",
            won_deals=won,
            checked_deals=checked,
            win_win_outcomes=win_win,
            closed_win_win=closed_ww,
            value_sum=Decimal(value),
            promises_kept=int(kept),
            promises_missed=int(missed),
            handoff_leaks=leaks,
        )
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
    aggregates (a minute per scope and filters). Three queries when not cached."""
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


def calibration(*, user, filters: OutcomeFilters) -> dict:
    """For every flag code: the closed deals that had it active at the close (or at any
    time in the 30 days before) against those that did not — count, win rate, win-win
    outcome rate, average value at 90 days, average margin of the won ones — with the
    differences and a confidence hint from 95 % Wilson intervals. One statement."""
    from deals.health import ALL_CODES

    # The window's start is computed by the ORM, which spells date arithmetic for the
    # database at hand; the rest is plain SQL.
    base_sql, base_params = (
        _closed_deals(user, filters, (Deal.Stage.CLOSED_WON, Deal.Stage.CLOSED_LOST))
        .annotate(window_start=F("closed_at") - dt.timedelta(days=CALIBRATION_WINDOW_DAYS))
        .values("id", "stage", "closed_at", "window_start", "net_total", "cost_total")
        .query.sql_with_params()
    )
    t = _tables()
    sql = f"""
        WITH d AS ({base_sql}),
        {_NINETY_CTE.format(**t)},
        closed AS (
            SELECT d.id, d.closed_at, d.window_start, d.stage = %s AS won,
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
            SELECT p.code, c.won, c.value, c.win_win, c.margin
            FROM pairs p JOIN closed c ON c.id = p.id
            UNION ALL
            SELECT NULL, c.won, c.value, c.win_win, c.margin FROM closed c
        )
        SELECT code, COUNT(*), COUNT(*) FILTER (WHERE won), COUNT(value),
            COUNT(*) FILTER (WHERE win_win), COALESCE(SUM(value), 0),
            COUNT(margin), COALESCE(SUM(margin), 0)
        FROM tagged GROUP BY code
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
    stats: dict[str | None, GroupStats] = {}
    for code, deals, won, checked, win_win, value, with_margin, margin in _rows(sql, params):
        stats[code] = GroupStats(
            deals, won, checked, win_win, float(value), with_margin, float(margin)
        )
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
    }


__all__ = [
    "OUTCOME_PERIOD_CHOICES",
    "SMALL_SAMPLE",
    "OutcomeFilters",
    "OutcomeRow",
    "WinWinRates",
    "calibration",
    "confidence_hint",
    "dashboard_outcome_filters",
    "dashboard_win_win_rates",
    "win_win_rates",
    "wilson_interval",
]
