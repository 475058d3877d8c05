"""Reads of the sales side, scoped to what the user may see and joined for their lists.

Every list here filters through deals.visibility, so the API and the pages decide a
permission in one place. A `*_get` raises Http404 for objects the user may not see.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Field, Prefetch, Q, QuerySet
from django.http import Http404

from deals.models import (
    Activity,
    BuyerMilestone,
    Commitment,
    Concession,
    Contact,
    Deal,
    Disclosure,
    DiscoveryCall,
    Flag,
    LineItem,
    Need,
    Prospect,
)
from deals.visibility import (
    Viewer,
    deal_edit_scope_q,
    deal_scope_q,
    prospect_scope_q,
    user_can_edit_deal,
)


def deal_list(*, user: Viewer, filters: Mapping[str, Any] | None = None) -> QuerySet[Deal]:
    """The deals `user` sees, filtered by `filters`: the parameters of the API's deal list
    (deals.api.filters.DealFilter), which the My deals page sends too, so the page and the
    API filter alike. Invalid filters raise ValidationError with the parameter named."""
    # deal_scope_q follows no to-many relation (handoff is one-to-one): rows never repeat.
    deals = Deal.objects.filter(deal_scope_q(user)).select_related("prospect", "owner", "team")
    if not filters:
        return deals
    from deals.api.filters import DealFilter  # it imports the models this module does

    filterset = DealFilter(filters, queryset=deals)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def deal_get(*, user: Viewer, deal_id: int | str, related: tuple[str, ...] = ()) -> Deal:
    """The deal, with `health_checked_at` (deals.health.checked) for the page to show and
    the `related` one-to-one relations read in the same query."""
    from deals.health.checked import deal_checked_at

    deals = deal_list(user=user).annotate(health_checked_at=deal_checked_at())
    if related:
        deals = deals.select_related(*related)
    try:
        return deals.get(pk=int(deal_id))
    except (Deal.DoesNotExist, TypeError, ValueError):
        raise Http404("No such deal.") from None


def deal_editable_list(*, user: Viewer) -> QuerySet[Deal]:
    return Deal.objects.filter(deal_edit_scope_q(user))


def prospect_list(*, user: Viewer) -> QuerySet[Prospect]:
    return Prospect.objects.filter(prospect_scope_q(user)).select_related("team")


def contact_list(*, user: Viewer) -> QuerySet[Contact]:
    return Contact.objects.filter(prospect_scope_q(user, prefix="prospect__")).select_related(
        "prospect"
    )


def need_list(*, user: Viewer) -> QuerySet[Need]:
    # A need tied to a deal is as visible as the deal; a prospect-level need as its prospect.
    scope = Q(deal__isnull=False) & deal_scope_q(user, prefix="deal__")
    scope |= Q(deal__isnull=True) & prospect_scope_q(user, prefix="prospect__")
    return Need.objects.filter(scope).select_related("deal")


def discovery_call_list(*, user: Viewer) -> QuerySet[DiscoveryCall]:
    return (
        DiscoveryCall.objects.filter(deal_scope_q(user, prefix="deal__"))
        .select_related("deal")
        .prefetch_related(
            Prefetch("attendees", queryset=Contact.objects.only("id")),
            "needs",
            "milestones",
        )
    )


def line_item_list(*, user: Viewer) -> QuerySet[LineItem]:
    return (
        LineItem.objects.filter(deal_scope_q(user, prefix="deal__"))
        .select_related("deal")
        .prefetch_related(Prefetch("needs", queryset=Need.objects.only("id")))
    )


def milestone_list(*, user: Viewer) -> QuerySet[BuyerMilestone]:
    return BuyerMilestone.objects.filter(deal_scope_q(user, prefix="deal__")).select_related("deal")


def activity_list(*, user: Viewer) -> QuerySet[Activity]:
    return Activity.objects.filter(deal_scope_q(user, prefix="deal__")).select_related("deal")


def concession_list(*, user: Viewer) -> QuerySet[Concession]:
    return Concession.objects.filter(deal_scope_q(user, prefix="deal__")).select_related("deal")


def commitment_list(*, user: Viewer) -> QuerySet[Commitment]:
    return Commitment.objects.filter(deal_scope_q(user, prefix="deal__")).select_related(
        "deal", "deal__handoff"
    )


def disclosure_list(*, user: Viewer) -> QuerySet[Disclosure]:
    return Disclosure.objects.filter(deal_scope_q(user, prefix="deal__")).select_related("deal")


def deal_history(*, deal: Deal, limit: int | None = None) -> list[dict[str, Any]]:
    """Who changed what on a deal and its line items, concessions and commitments, newest
    first: one entry per historical record with its field changes (old → new). With
    `limit`, only the newest `limit` entries, read in SQL with the record before each.
    One query per history table either way."""
    sources = [
        ("deal", Deal.history.model, "id"),
        ("line_item", LineItem.history.model, "deal_id"),
        ("concession", Concession.history.model, "deal_id"),
        ("commitment", Commitment.history.model, "deal_id"),
    ]
    kinds = {"+": "created", "~": "changed", "-": "deleted"}
    entries = []
    for model_name, history_model, key in sources:
        records = _history_records(history_model, key, deal.id, limit)
        fields = [
            f
            for f in history_model.tracked_fields
            if f.name not in ("id", "updated_at", "created_at")
        ]
        previous_by_object: dict[int, Any] = {}
        for record in records:
            previous = previous_by_object.get(record.id)
            previous_by_object[record.id] = record
            if not getattr(record, "shown", True):  # read only as the previous state
                continue
            changes = []
            for field in fields:
                attname = field.attname
                new = getattr(record, attname)
                old = getattr(previous, attname) if previous is not None else None
                if previous is None and record.history_type != "+":
                    continue
                if record.history_type == "-":
                    continue
                if previous is not None and old == new:
                    continue
                if previous is None and new in (None, ""):
                    continue
                changes.append({"field": field.name, "old": _plain(old), "new": _plain(new)})
            entries.append(
                {
                    "model": model_name,
                    "object_id": record.id,
                    "object_repr": _record_repr(model_name, record),
                    "action": kinds.get(record.history_type, record.history_type),
                    "at": record.history_date,
                    "user_id": record.history_user_id,
                    "username": record.history_username or "",
                    "changes": changes,
                }
            )
    entries.sort(key=lambda e: e["at"], reverse=True)
    return entries if limit is None else entries[:limit]


# The newest `limit` records of one deal in a history table and the record before each (a
# change is the difference to it), `shown` marking the newest, with who made each. Written
# out rather than composed with the ORM: the deal page reads four of these on every view,
# and composing the nested subqueries cost three times what running them does.
_HISTORY_LIMITED_SQL = """
WITH newest AS (
    SELECT history_id FROM {table} WHERE {key} = %s
    ORDER BY history_date DESC, history_id DESC LIMIT %s
)
SELECT h.*, u.{username} AS history_username,
    h.history_id IN (SELECT history_id FROM newest) AS shown
FROM {table} h LEFT OUTER JOIN {users} u ON u.id = h.history_user_id
WHERE h.{key} = %s AND (
    h.history_id IN (SELECT history_id FROM newest)
    OR h.history_id IN (
        SELECT (
            SELECT p.history_id FROM {table} p
            WHERE p.id = n.id AND p.history_id < n.history_id
            ORDER BY p.history_id DESC LIMIT 1
        )
        FROM {table} n WHERE n.history_id IN (SELECT history_id FROM newest)
    )
)
ORDER BY h.id, h.history_id
"""


def _history_records(history_model: Any, key: str, deal_id: int, limit: int | None) -> list[Any]:
    """Historical records of one deal in (object, record) order, each with
    `history_username`: all of them, or the newest `limit` and the record before each,
    marked `shown`. One query."""
    user_model = get_user_model()
    username = user_model.USERNAME_FIELD
    if limit is None:
        return list(
            history_model._default_manager.filter(**{key: deal_id})
            .annotate(history_username=F(f"history_user__{username}"))
            .order_by("id", "history_id")
        )
    quote = connection.ops.quote_name
    sql = _HISTORY_LIMITED_SQL.format(
        table=quote(history_model._meta.db_table),
        key=quote(key),
        users=quote(user_model._meta.db_table),
        username=quote(cast(Field, user_model._meta.get_field(username)).column),
    )
    return list(history_model._default_manager.raw(sql, [deal_id, limit, deal_id]))


# --- the deal page -------------------------------------------------------------------------

# The page's history panel shows the newest changes; the full list is in the API and admin.
DEAL_PAGE_HISTORY = 20
# The activity panel lists the latest; older ones are in the API.
DEAL_PAGE_ACTIVITIES = 50


class DealPage:
    """What the deal page shows for one user, each part read at most once per request and
    only when the part is rendered (an htmx section reads just its own)."""

    def __init__(self, deal: Deal, *, can_edit: bool) -> None:
        self.deal = deal
        self.can_edit = can_edit

    @cached_property
    def flags(self) -> list[Flag]:
        return list(
            Flag.objects.filter(deal=self.deal, status__in=Flag.ACTIVE_STATUSES).order_by("code")
        )

    @cached_property
    def needs(self) -> list[Need]:
        # buyer_changes and confirmed_by_contact: the buyer room's corrections and
        # confirmations, shown as "changed by the buyer" / "confirmed by the buyer".
        return list(
            self.deal.needs.select_related("confirmed_by_contact").prefetch_related(
                "line_items", "buyer_changes"
            )
        )

    @cached_property
    def items(self) -> list[LineItem]:
        return list(self.deal.line_items.prefetch_related("needs"))

    @cached_property
    def milestones(self) -> list[BuyerMilestone]:
        return list(self.deal.milestones.all())

    @cached_property
    def activities(self) -> list[Activity]:
        # select_related: the "from mail" line of a captured activity, without a query each.
        return list(self.deal.activities.select_related("captured_mail")[:DEAL_PAGE_ACTIVITIES])

    @cached_property
    def calls(self) -> list[DiscoveryCall]:
        return list(self.deal.discovery_calls.prefetch_related("attendees"))

    @cached_property
    def concessions(self) -> list[Concession]:
        return list(self.deal.concessions.all())

    @cached_property
    def commitments(self) -> list[Commitment]:
        return list(self.deal.commitments.all())

    @cached_property
    def disclosures(self) -> list[Disclosure]:
        return list(self.deal.disclosures.all())

    @cached_property
    def history(self) -> list[dict[str, Any]]:
        return deal_history(deal=self.deal, limit=DEAL_PAGE_HISTORY)


def deal_page(*, user: Viewer, deal_id: int | str) -> DealPage:
    """The deal page of a deal `user` may see (else 404), with whether they may change it."""
    # The header shows the handoff of a closed deal (and the outcome reads it): joined.
    deal = deal_get(user=user, deal_id=deal_id, related=("handoff",))
    return DealPage(deal, can_edit=user_can_edit_deal(user, deal))


def _record_repr(model_name: str, record: Any) -> str:
    for attr in ("title", "name", "description"):
        value = getattr(record, attr, None)
        if value:
            return str(value)[:120]
    return f"{model_name} {record.id}"


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)
