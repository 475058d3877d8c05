"""Writes of the buyer room: shares (rep side) and what the buyer does (buyer side).

Every buyer action is one transaction that writes the change, an audit event, a
buyer-initiated activity (kind `buyer_room`) and queues a health recompute, so buyer
engagement and buyer silence count in the rules like any other touch.

One module per side: `shares` (the rep's links), `buyer` (what the buyer does), `common`.
Callers import from here.
"""

from deals.buyer_room.services.buyer import (
    buyer_check_in_answer,
    buyer_milestone_propose_date,
    buyer_milestone_tick,
    buyer_need_add,
    buyer_need_change,
    buyer_need_confirm,
    buyer_pulse_answer,
    buyer_question_ask,
    buyer_room_notify_rep,
    buyer_room_open,
)
from deals.buyer_room.services.common import (
    CONTACT_OF_ANOTHER_PROSPECT,
    IMPORTANCE_RANGE,
    MAX_TEXT,
    NO_EMAIL,
    NOT_YOUR_MILESTONE,
    QUESTION_EMPTY,
    ROOM_READ_ONLY,
    STATEMENT_EMPTY,
    VALUE_RANGE,
    Action,
    BuyerVisit,
)
from deals.buyer_room.services.shares import (
    buyer_share_create,
    buyer_share_resend,
    buyer_share_revoke,
    room_is_read_only,
    share_is_live,
    share_url,
)

__all__ = [
    "Action",
    "BuyerVisit",
    "CONTACT_OF_ANOTHER_PROSPECT",
    "IMPORTANCE_RANGE",
    "MAX_TEXT",
    "NOT_YOUR_MILESTONE",
    "NO_EMAIL",
    "QUESTION_EMPTY",
    "ROOM_READ_ONLY",
    "STATEMENT_EMPTY",
    "VALUE_RANGE",
    "buyer_check_in_answer",
    "buyer_milestone_propose_date",
    "buyer_milestone_tick",
    "buyer_need_add",
    "buyer_need_change",
    "buyer_need_confirm",
    "buyer_pulse_answer",
    "buyer_question_ask",
    "buyer_room_notify_rep",
    "buyer_room_open",
    "buyer_share_create",
    "buyer_share_resend",
    "buyer_share_revoke",
    "room_is_read_only",
    "share_is_live",
    "share_url",
]
