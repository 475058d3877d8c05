"""The flag review list and the open-flag count."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    QuerySet,
)
from django.utils import timezone

from deals.models import Flag
from deals.visibility import (
    dashboard_scope_q,
)

from .cache import _live_cached
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
