"""When a deal's health was last checked, and when a flag was last seen.

The hourly sweep does not stamp every deal and flag it visits (at a million deals that is
millions of row versions an hour); it writes one HealthSweep row. A deal's "checked at" is
the later of its own `health_computed_at` (set when its health changed, or on a recompute)
and the newest sweep's `checked_from`, if that sweep covered the deal: an open deal, or a
won one with a handoff, with an id up to the sweep's `last_deal_id`. An active flag on such
a deal was seen by that sweep too. A deal never computed stays "not computed yet".

`deal_checked_at(...)` and `flag_last_seen_at(...)` are SQL expressions for querysets (no
extra query: the newest sweep is a scalar subquery the database runs once);
`health_checked_at(deal)` answers for one deal already loaded.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce, Greatest

from deals.models import Deal, Flag, HealthSweep


def _newest_sweep() -> QuerySet[HealthSweep]:
    return HealthSweep.objects.order_by("-id")


def _swept_q(deal: str) -> Q:
    """The deal (`deal` is its path: "" or "deal__") is one the hourly sweep visits."""
    from handoff.models import Handoff

    handoff = Exists(Handoff.objects.filter(deal_id=OuterRef(f"{deal}id")))
    newest = _newest_sweep()
    return Q(**{f"{deal}id__lte": Subquery(newest.values("last_deal_id")[:1])}) & (
        Q(**{f"{deal}stage__in": Deal.OPEN_STAGES})
        | Q(Q(**{f"{deal}stage": Deal.Stage.CLOSED_WON}), handoff)
    )


def _later_of_sweep(column: str) -> Expression:
    checked_from = Subquery(_newest_sweep().values("checked_from")[:1])
    # Coalesce: SQLite's MAX(a, NULL) is NULL.
    return Greatest(F(column), Coalesce(checked_from, F(column)), output_field=DateTimeField())


def deal_checked_at(prefix: str = "") -> Expression:
    """A deal's "checked at" (`prefix`: the path to the deal, e.g. "deal__")."""
    column = f"{prefix}health_computed_at"
    return Case(
        When(Q(**{f"{column}__isnull": False}) & _swept_q(prefix), then=_later_of_sweep(column)),
        default=F(column),
        output_field=DateTimeField(),
    )


def flag_last_seen_at() -> Expression:
    """A flag's "last seen": an active flag on a swept deal was seen by the newest sweep."""
    return Case(
        When(
            Q(status__in=Flag.ACTIVE_STATUSES) & _swept_q("deal__"),
            then=_later_of_sweep("last_seen_at"),
        ),
        default=F("last_seen_at"),
        output_field=DateTimeField(),
    )


def health_checked_at(deal: Deal) -> dt.datetime | None:
    """ "Checked at" of one loaded deal: one query, or none when it was never computed."""
    if deal.health_computed_at is None:
        return None
    row = Deal.objects.filter(pk=deal.pk).values_list(deal_checked_at(), flat=True).first()
    return row or deal.health_computed_at


def flags_last_seen(flags: list[Flag]) -> list[Flag]:
    """Give loaded flags their derived `last_seen_at` (one query for all of them)."""
    ids = [flag.pk for flag in flags if flag.pk and flag.status in Flag.ACTIVE_STATUSES]
    if not ids:
        return flags
    seen = dict(Flag.objects.filter(pk__in=ids).values_list("pk", flag_last_seen_at()))
    for flag in flags:
        if flag.pk in seen:
            flag.last_seen_at = seen[flag.pk]
    return flags
