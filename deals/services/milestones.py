"""The buyer's milestones (the mutual plan)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from deals.models import BuyerMilestone, Deal
from deals.services.common import ensure_can_edit_deal, recompute, set_fields, validate_and_save
from winwin_crm.accounts.models import User

MILESTONE_FIELDS = ("title", "side", "required_for_decision", "due_date")


@transaction.atomic
def milestone_create(*, deal: Deal, user: User, **fields: Any) -> BuyerMilestone:
    ensure_can_edit_deal(user, deal)
    milestone = BuyerMilestone(deal=deal)
    set_fields(milestone, fields, MILESTONE_FIELDS)
    validate_and_save(milestone, user)
    recompute(deal.id)
    return milestone


@transaction.atomic
def milestone_update(*, milestone: BuyerMilestone, user: User, **fields: Any) -> BuyerMilestone:
    ensure_can_edit_deal(user, milestone.deal)
    completed = fields.pop("completed", None)
    set_fields(milestone, fields, MILESTONE_FIELDS)
    if completed is not None and completed != (milestone.completed_at is not None):
        milestone.completed_at = timezone.now() if completed else None
    validate_and_save(milestone, user)
    recompute(milestone.deal_id)
    return milestone


@transaction.atomic
def milestone_set_completed(
    *, milestone: BuyerMilestone, user: User, completed: bool
) -> BuyerMilestone:
    return milestone_update(milestone=milestone, user=user, completed=completed)


@transaction.atomic
def milestone_delete(*, milestone: BuyerMilestone, user: User) -> None:
    ensure_can_edit_deal(user, milestone.deal)
    deal_id = milestone.deal_id
    milestone.delete()
    recompute(deal_id)
