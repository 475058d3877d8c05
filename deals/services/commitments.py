"""Commitments the seller made (they travel into the handoff)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from deals import visibility
from deals.models import Commitment, Deal
from deals.services.common import ensure_can_edit_deal, recompute, set_fields, validate_and_save
from winwin_crm.accounts.models import User


def _ensure_can_set_commitment_status(user: User, commitment: Commitment) -> None:
    if not visibility.user_can_set_commitment_status(user, commitment):
        raise PermissionDenied("You can view this commitment but not change it.")


@transaction.atomic
def commitment_add(
    *, deal: Deal, user: User, description: str, due_date: dt.date | None = None
) -> Commitment:
    ensure_can_edit_deal(user, deal)
    commitment = Commitment(deal=deal, description=description, due_date=due_date, owner=user)
    validate_and_save(commitment, user)
    recompute(deal.id)
    return commitment


@transaction.atomic
def commitment_update(*, commitment: Commitment, user: User, **fields: Any) -> Commitment:
    status = fields.pop("status", None)
    if fields:
        ensure_can_edit_deal(user, commitment.deal)
        set_fields(commitment, fields, ("description", "due_date"))
    if status is not None:
        return commitment_set_status(commitment=commitment, user=user, status=status)
    validate_and_save(commitment, user)
    recompute(commitment.deal_id)
    return commitment


@transaction.atomic
def commitment_set_status(*, commitment: Commitment, user: User, status: str) -> Commitment:
    _ensure_can_set_commitment_status(user, commitment)
    if status not in Commitment.Status.values:
        raise ValidationError({"status": f"“{status}” is not a commitment status."})
    commitment.status = status
    commitment.completed_at = timezone.now() if status == Commitment.Status.DONE else None
    validate_and_save(commitment, user)
    recompute(commitment.deal_id)
    return commitment
