"""Disclosures to the buyer."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from deals.models import Deal, Disclosure
from deals.services.common import ensure_can_edit_deal, recompute, set_fields, validate_and_save
from winwin_crm.accounts.models import User


@transaction.atomic
def disclosure_add(*, deal: Deal, user: User, kind: str, description: str) -> Disclosure:
    ensure_can_edit_deal(user, deal)
    disclosure = Disclosure(
        deal=deal,
        kind=kind,
        description=description,
        disclosed_at=timezone.now(),
        created_by=user,
    )
    validate_and_save(disclosure, user)
    recompute(deal.id)
    return disclosure


@transaction.atomic
def disclosure_update(*, disclosure: Disclosure, user: User, **fields: Any) -> Disclosure:
    ensure_can_edit_deal(user, disclosure.deal)
    set_fields(disclosure, fields, ("kind", "description"))
    validate_and_save(disclosure, user)
    recompute(disclosure.deal_id)
    return disclosure


@transaction.atomic
def disclosure_delete(*, disclosure: Disclosure, user: User) -> None:
    ensure_can_edit_deal(user, disclosure.deal)
    deal_id = disclosure.deal_id
    disclosure.delete()
    recompute(deal_id)
