"""Creating a deal (with a new prospect and contact from the new-deal page) and editing it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from deals import visibility
from deals.models import Deal, Prospect
from deals.services.common import ensure_can_edit_deal, recompute, set_fields, validate_and_save
from deals.services.prospects import contact_create, prospect_create
from deals.services.stages import (
    STAGE_FIELDS,
    StageMove,
    after_won,
    apply_stage,
    record_move,
    stage_history_record,
)
from deals.services.versioning import deal_save_locked
from winwin_crm.accounts.models import User

DEAL_FIELDS = (
    "title",
    "currency",
    "language",  # the buyer room's language
    "expected_close_date",
    "notes_for_delivery",
    "external_id",
)


@transaction.atomic
def deal_create(*, user: User, prospect: Prospect, title: str, **fields: Any) -> Deal:
    """A new deal owned by `user` (a rep) in the prospect's team."""
    if not visibility.user_can_create_deal(user):
        raise PermissionDenied("Only sales reps own deals.")
    if not visibility.user_can_use_prospect_for_deal(user, prospect):
        raise ValidationError({"prospect": "This prospect belongs to another team."})
    stage = fields.pop("stage", Deal.Stage.DISCOVERY)
    if stage not in Deal.OPEN_STAGES:
        raise ValidationError({"stage": "A new deal starts in an open stage."})
    deal = Deal(
        prospect=prospect, team_id=prospect.team_id, owner=user, title=title, stage=stage,
        created_by=user,
    )  # fmt: skip
    set_fields(deal, fields, DEAL_FIELDS)
    if deal.currency:
        deal.currency = deal.currency.upper()
    deal.stage_changed_at = timezone.now()
    validate_and_save(deal, user)
    stage_history_record(deal=deal, from_stage="", user=user)
    recompute(deal.id)
    return deal


@transaction.atomic
def deal_create_with_prospect(
    *,
    user: User,
    prospect: Prospect | None,
    new_prospect: Mapping[str, Any] | None = None,
    contact: Mapping[str, Any] | None = None,
    title: str,
    **fields: Any,
) -> Deal:
    """The new-deal page in one transaction: a new prospect (when `prospect` is None, from
    `new_prospect`), its first contact (when given) and the deal; an error saves nothing."""
    if prospect is None:
        prospect = prospect_create(user=user, **(new_prospect or {}))
    # The deal first: it is what lets this rep add contacts at the prospect.
    deal = deal_create(user=user, prospect=prospect, title=title, **fields)
    if contact:
        contact_create(user=user, prospect=prospect, **contact)
    return deal


@transaction.atomic
def deal_update(*, deal: Deal, user: User, version: int | None = None, **fields: Any) -> Deal:
    """Change a deal's fields (and stage, under the stage rules) if `version` is current."""
    ensure_can_edit_deal(user, deal)
    stage = fields.pop("stage", None)
    lost_reason = fields.pop("lost_reason", None)
    if "currency" in fields and fields["currency"]:
        fields["currency"] = fields["currency"].upper()
    confirm = bool(fields.pop("confirm", False))
    reason = fields.pop("reason", "") or ""
    changed = set_fields(deal, fields, DEAL_FIELDS)
    move = StageMove(from_stage=deal.stage, moved=False, won=False)
    if stage is not None:
        move = apply_stage(deal, stage, lost_reason or "", confirm=confirm, reason=reason)
        changed += STAGE_FIELDS
    elif lost_reason is not None:
        if deal.stage == Deal.Stage.CLOSED_LOST and not lost_reason.strip():
            raise ValidationError({"lost_reason": "A deal closed as lost keeps its reason."})
        deal.lost_reason = lost_reason
        changed.append("lost_reason")
    deal_save_locked(deal, user, version, changed)
    record_move(deal, move, user)
    if move.won:
        after_won(deal, user)
    return deal
