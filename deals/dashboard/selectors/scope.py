"""What a dashboard reads: the filters, the user's scope and the filtered deals and open flags.

Scope: a manager sees the deals of the sales teams they manage, an admin sees everything
(`dashboard_scope_q`). Every selector of the dashboard starts from here, so another team's
deal never reaches a count, a sum, a point or a trend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    QuerySet,
)
from django.utils import timezone

from deals.models import Deal, Flag
from deals.visibility import (
    dashboard_scope_q,
    dashboard_team_ids,
    managed_teams,
)
from winwin_crm.accounts.models import Team, User
from winwin_crm.accounts.roles import REP

BALANCES = tuple(Deal.Balance.values)  # win_win, buyer_loses, seller_loses, lose_lose
ZERO = Decimal("0.00")


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


def pressure_codes() -> tuple[str, ...]:
    from deals.health import PRESSURE_CODES

    return tuple(PRESSURE_CODES)


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


def _open_flags(user, filters: DashboardFilters) -> QuerySet[Flag]:
    """Open flags on the user's filtered dashboard deals."""
    flags = Flag.objects.filter(dashboard_scope_q(user, "deal__"), status=Flag.Status.OPEN)
    return _apply_deal_filters(flags, filters, prefix="deal__")


def _empty_by_balance(value):
    return dict.fromkeys(BALANCES, value)


def _pct(part, whole) -> float | None:
    if not whole:
        return None
    return round(100.0 * part / whole, 1)


def _round(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _pct_of_one_minus(average) -> float | None:
    """(1 - average) as a percent, two decimals: the average of (1 - x) is 1 - average of x."""
    return None if average is None else _round((1 - average) * 100)
