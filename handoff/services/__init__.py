"""Writes of the handoff workflow: draft → submitted → claimed → (needs_info ↔ claimed) → accepted.

Every transition locks the handoff row (`select_for_update`), re-checks its state under the
lock, records a HandoffEvent and queues a health recompute of the deal (HANDOFF_OVERDUE,
HANDOFF_LEAK and COMMITMENT_OVERDUE depend on it). Refusals:

- the user may not do this → django.core.exceptions.PermissionDenied (API 403),
- the handoff's state does not allow it → HandoffTransitionError (API 409),
- bad input → django.core.exceptions.ValidationError with field errors (API 400).

One module per job: `workflow` (the transitions), `check_ins`, `common` (lock, status
check, event record). Callers import from here; a test that watches the recompute a
transition queues patches `handoff.services.common.health_recompute_on_commit`.
"""

from handoff.permissions import is_delivery_member
from handoff.services.check_ins import (
    CHECK_IN_NEEDS_LIMIT,
    PromiseStatus,
    check_in_record,
    handoff_commitment_set_status,
    outcome_value_of,
)
from handoff.services.common import (
    CHECK_IN_OFFSETS_DAYS,
    DEFAULT_CHECKLIST,
    HandoffTransitionError,
    Status,
)
from handoff.services.workflow import (
    checklist_item_set,
    handoff_accept,
    handoff_answer,
    handoff_ask,
    handoff_claim,
    handoff_create_for_deal,
    handoff_notes_update,
    handoff_reassign_delivery_team,
    handoff_submit,
)

__all__ = [
    "CHECK_IN_NEEDS_LIMIT",
    "CHECK_IN_OFFSETS_DAYS",
    "DEFAULT_CHECKLIST",
    "HandoffTransitionError",
    "PromiseStatus",
    "Status",
    "check_in_record",
    "checklist_item_set",
    "handoff_accept",
    "handoff_answer",
    "handoff_ask",
    "handoff_claim",
    "handoff_commitment_set_status",
    "handoff_create_for_deal",
    "handoff_notes_update",
    "handoff_reassign_delivery_team",
    "handoff_submit",
    "is_delivery_member",
    "outcome_value_of",
]
