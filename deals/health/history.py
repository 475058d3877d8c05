"""Health history: snapshots are written when a deal's health changes, not every day.

The state of a deal on day D is its latest snapshot with day <= D, for as long as the
sweep keeps the deal in view: an open deal, a deal on the day it closed, and a won deal
with a handoff (the sweep goes on scoring its handoff). A deal lost (or won without a
handoff) drops out of the days after it closed, as it did when every swept deal had a
snapshot every day. Everything that reads history by day reads it through here.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet

from deals.models import Deal, HealthSnapshot


def in_view_on_q(day: dt.date, prefix: str = "deal__") -> Q:
    """The deal (`prefix`: the path to it) still had its health kept on `day`."""
    return (
        Q(**{f"{prefix}closed_at__isnull": True})
        | Q(**{f"{prefix}closed_at__date__gte": day})
        | Q(**{f"{prefix}stage": Deal.Stage.CLOSED_WON, f"{prefix}handoff__isnull": False})
    )


def open_on_q(day: dt.date, prefix: str = "deal__") -> Q:
    """The deal was not closed by the end of `day` (the dashboard's "open" history)."""
    return Q(**{f"{prefix}closed_at__isnull": True}) | Q(**{f"{prefix}closed_at__date__gt": day})


def snapshots_as_of(
    day: dt.date, snapshots: QuerySet[HealthSnapshot] | None = None
) -> QuerySet[HealthSnapshot]:
    """Each deal's state on `day`: its latest snapshot on or before `day` (among
    `snapshots`, e.g. a team's), for the deals in view that day. Every row keeps its own
    `day` (when that state began); group by the day asked for, not by it."""
    snapshots = HealthSnapshot.objects.all() if snapshots is None else snapshots
    newer = HealthSnapshot.objects.filter(
        deal_id=OuterRef("deal_id"), day__gt=OuterRef("day"), day__lte=day
    )
    return snapshots.filter(in_view_on_q(day), day__lte=day).exclude(Exists(newer))


def snapshot_as_of(*, deal_id: int, day: dt.date) -> HealthSnapshot | None:
    """One deal's state on `day` (its latest snapshot on or before it), whatever the
    deal's state since (for a closed deal: its health on the day it closed)."""
    return HealthSnapshot.objects.filter(deal_id=deal_id, day__lte=day).order_by("-day").first()


def snapshot_changed_days(first: dt.date, last: dt.date) -> set[dt.date]:
    """Days in [first, last] on which some deal's health changed."""
    return set(
        HealthSnapshot.objects.filter(day__gte=first, day__lte=last)
        .order_by()
        .values_list("day", flat=True)
        .distinct()
    )


def first_snapshot_day() -> dt.date | None:
    """The first day any health was kept (history before it is unknown, not empty)."""
    row = HealthSnapshot.objects.order_by("day").values_list("day", flat=True).first()
    return row
