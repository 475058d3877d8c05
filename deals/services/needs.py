"""The buyer's needs on a deal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from deals.models import Deal, Need
from deals.services.common import (
    ensure_can_edit_deal,
    ensure_can_edit_need,
    recompute,
    set_fields,
    validate_and_save,
)
from winwin_crm.accounts.models import User

NEED_FIELDS = ("kind", "statement", "importance", "confirmed_by_buyer", "discovery_call")


def _check_discovery_call(deal: Deal, fields: Mapping[str, Any]) -> None:
    call = fields.get("discovery_call")
    if call is not None and call.deal_id != deal.id:
        raise ValidationError({"discovery_call": "This discovery call is of another deal."})


@transaction.atomic
def need_create(*, user: User, deal: Deal, **fields: Any) -> Need:
    ensure_can_edit_deal(user, deal)
    _check_discovery_call(deal, fields)
    need = Need(deal=deal, prospect_id=deal.prospect_id)
    set_fields(need, fields, NEED_FIELDS)
    validate_and_save(need, user)
    recompute(deal.id)
    return need


@transaction.atomic
def need_update(*, need: Need, user: User, **fields: Any) -> Need:
    ensure_can_edit_need(user, need)
    if need.deal is not None:
        _check_discovery_call(need.deal, fields)
    changed = set_fields(need, fields, NEED_FIELDS)
    if need.confirmed_by_buyer_at and {"statement", "importance"} & set(changed):
        # The buyer confirmed other words or another importance than these.
        need.confirmed_by_buyer_at = None
        need.confirmed_by_contact = None
    validate_and_save(need, user)
    if need.deal_id:
        recompute(need.deal_id)
    return need


@transaction.atomic
def need_delete(*, need: Need, user: User) -> None:
    ensure_can_edit_need(user, need)
    deal_id = need.deal_id
    need.delete()
    if deal_id:
        recompute(deal_id)
