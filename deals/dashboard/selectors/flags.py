"""The flag review list, its total and the open-flag count."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    QuerySet,
    Sum,
)
from django.utils import timezone

from deals.models import DashboardRepFlags, Flag
from deals.visibility import (
    dashboard_scope_q,
)
from deals.visibility import (
    dashboard_team_scope_q as _team_scope_q,
)

from .cache import _live_cached
from .reps import rep_rollup_as_of
from .scope import DashboardFilters, _open_flags

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


# A live total is counted this far at most, then the page says "10,000+".
FLAG_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class FlagTotal:
    """How many flags the review list holds."""

    count: int
    # Counted live up to FLAG_COUNT_LIMIT, and there are more.
    capped: bool = False
    # Summed from the rep table's rollup built then (open flags per team, rep and code);
    # None when counted just now.
    as_of: dt.datetime | None = None


def flag_review_total(*, user, filters: FlagFilters, limit: int | None = None) -> FlagTotal:
    """The review list's total. Open flags narrowed by team, rep and code are summed from
    the rep table's rollup (DashboardRepFlags, exact as of its build, rebuilt hourly and for
    a team whose flags a manager acknowledges): two queries, whatever the number of flags.
    Otherwise, or without a recent rollup, counted live up to `limit` (FLAG_COUNT_LIMIT):
    one query, which reads at most that many flags."""
    limit = FLAG_COUNT_LIMIT if limit is None else limit
    if (
        filters.status == Flag.Status.OPEN
        and not (filters.side or filters.severity or filters.min_age_days)
        and (as_of := rep_rollup_as_of(user, DashboardFilters(team_id=filters.team_id)))
    ):
        rows = DashboardRepFlags.objects.filter(_team_scope_q(user))
        if filters.team_id:
            rows = rows.filter(team_id=filters.team_id)
        if filters.rep_id:
            rows = rows.filter(owner_id=filters.rep_id)
        if filters.code:
            rows = rows.filter(code=filters.code)
        return FlagTotal(rows.aggregate(n=Sum("flags"))["n"] or 0, as_of=as_of)
    # Over the flags' ids alone: no joins for the columns, no sort.
    counted = (
        flag_review_list(user=user, filters=filters).order_by().values("pk")[: limit + 1].count()
    )
    return FlagTotal(min(counted, limit), capped=counted > limit)


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
