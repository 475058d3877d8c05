"""Activities, and the deal's denormalised last buyer contact."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery

from deals.models import Activity, Deal
from deals.services.common import ensure_can_edit_deal, recompute, set_fields, validate_and_save
from winwin_crm.accounts.models import User

ACTIVITY_FIELDS = (
    "kind",
    "initiated_by",
    "occurred_at",
    "notes",
    "close_attempt",
    "senior_present",
)


def _refresh_last_buyer_contact(deal_id: int) -> None:
    # Denormalised for the deal list and the stale rule: the latest buyer-initiated touch.
    latest = (
        Activity.objects.filter(
            deal_id=OuterRef("pk"), initiated_by=Activity.InitiatedBy.BUYER, auto_reply=False
        )
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    Deal.objects.filter(pk=deal_id).update(last_buyer_contact_at=Subquery(latest))


@transaction.atomic
def activity_log(
    *,
    deal: Deal,
    user: User,
    kind: str,
    initiated_by: str,
    occurred_at: dt.datetime,
    notes: str = "",
    close_attempt: bool = False,
    senior_present: bool = False,
) -> Activity:
    ensure_can_edit_deal(user, deal)
    activity = Activity(
        deal=deal,
        kind=kind,
        initiated_by=initiated_by,
        occurred_at=occurred_at,
        notes=notes,
        close_attempt=close_attempt,
        senior_present=senior_present,
        created_by=user,
    )
    validate_and_save(activity, user)
    if activity.initiated_by == Activity.InitiatedBy.BUYER:
        _refresh_last_buyer_contact(deal.id)
    recompute(deal.id)
    return activity


@transaction.atomic
def activity_update(*, activity: Activity, user: User, **fields: Any) -> Activity:
    ensure_can_edit_deal(user, activity.deal)
    set_fields(activity, fields, ACTIVITY_FIELDS)
    validate_and_save(activity, user)
    _refresh_last_buyer_contact(activity.deal_id)
    recompute(activity.deal_id)
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity, user: User) -> None:
    ensure_can_edit_deal(user, activity.deal)
    deal_id = activity.deal_id
    activity.delete()
    _refresh_last_buyer_contact(deal_id)
    recompute(deal_id)
