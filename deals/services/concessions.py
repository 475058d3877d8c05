"""Concessions: a price cut is refused once the price is settled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from deals.models import Concession, Deal
from deals.services.common import (
    ZERO,
    ensure_can_edit_deal,
    history_by,
    set_fields,
    validate_and_save,
)
from deals.services.pricing import refresh_deal_totals
from deals.services.stages import handed_off_status
from winwin_crm.accounts.models import User

CONCESSION_FIELDS = ("kind", "description", "amount", "cost_to_seller", "in_exchange_for")


def _ensure_price_open(deal: Deal) -> None:
    """The price is settled once the deal is closed or delivery has its package, like the
    proposal items: a later price cut would silently disagree with the handoff."""
    if deal.stage in Deal.CLOSED_STAGES:
        raise ValidationError({"kind": "This deal is closed; reopen it to change the price."})
    if handed_off_status(deal):
        raise ValidationError(
            {"kind": "The handoff was submitted to delivery; the price can no longer be cut."}
        )


@transaction.atomic
def concession_add(
    *,
    deal: Deal,
    user: User,
    kind: str,
    description: str,
    amount: Decimal,
    cost_to_seller: Decimal = ZERO,
    in_exchange_for: str = "",
) -> Concession:
    ensure_can_edit_deal(user, deal)
    if kind == Concession.Kind.PRICE:
        _ensure_price_open(deal)
    concession = Concession(
        deal=deal,
        kind=kind,
        description=description,
        amount=amount,
        cost_to_seller=cost_to_seller,
        in_exchange_for=in_exchange_for,
        created_by=user,
    )
    validate_and_save(concession, user)
    refresh_deal_totals(deal)
    return concession


@transaction.atomic
def concession_update(*, concession: Concession, user: User, **fields: Any) -> Concession:
    ensure_can_edit_deal(user, concession.deal)
    if Concession.Kind.PRICE in (concession.kind, fields.get("kind")):
        _ensure_price_open(concession.deal)
    set_fields(concession, fields, CONCESSION_FIELDS)
    validate_and_save(concession, user)
    refresh_deal_totals(concession.deal)
    return concession


@transaction.atomic
def concession_delete(*, concession: Concession, user: User) -> None:
    deal = concession.deal
    ensure_can_edit_deal(user, deal)
    if concession.kind == Concession.Kind.PRICE:
        _ensure_price_open(deal)
    history_by(concession, user)
    concession.delete()
    refresh_deal_totals(deal)
