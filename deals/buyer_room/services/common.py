"""What both sides of the buyer room share: the visitor, refusal wording, the audit event."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.utils import timezone

from deals.buyer_room.models import BuyerRoomEvent, BuyerShare
from deals.models import Contact, Deal

logger = logging.getLogger(__name__)
Action = BuyerRoomEvent.Action

ROOM_READ_ONLY = "This room is read-only now that the deal is closed."
NOT_YOUR_MILESTONE = "Only the buyer's own milestones can be ticked here."
CONTACT_OF_ANOTHER_PROSPECT = "This contact works for another prospect."
NO_EMAIL = "This contact has no email address to send the link to."
QUESTION_EMPTY = "Write your question."
STATEMENT_EMPTY = "Write the need in your own words."
IMPORTANCE_RANGE = "Choose an importance from 1 to 5."
VALUE_RANGE = "Rate each need from 1 to 5."
MAX_TEXT = 2000  # what a buyer may write in one field; the room is not a document store


@dataclass(frozen=True, slots=True)
class BuyerVisit:
    """Who is acting in the room: the share their link opened, and their request."""

    share: BuyerShare
    ip: str | None = None
    user_agent: str = ""

    @property
    def deal(self) -> Deal:
        return self.share.deal

    @property
    def contact(self) -> Contact:
        return self.share.contact


def room_event(
    share: BuyerShare,
    action: str,
    *,
    user=None,
    visit: BuyerVisit | None = None,
    detail: str = "",
    at: dt.datetime | None = None,
) -> BuyerRoomEvent:
    return BuyerRoomEvent.objects.create(
        share=share,
        deal_id=share.deal_id,
        action=action,
        at=at or timezone.now(),
        user=user if getattr(user, "is_authenticated", False) else None,
        ip=visit.ip if visit else None,
        user_agent=(visit.user_agent if visit else "")[:300],
        detail=detail[:300],
    )
