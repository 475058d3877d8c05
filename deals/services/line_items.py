"""Proposal items and the needs each one answers; every change refreshes the totals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from deals import limits
from deals.models import Deal, LineItem, Need
from deals.services.common import (
    ZERO,
    capped_ids,
    ensure_can_edit_deal,
    history_by,
    set_fields,
    validate_and_save,
)
from deals.services.pricing import refresh_deal_totals
from winwin_crm.accounts.models import User

LINE_ITEM_FIELDS = ("name", "quantity", "unit_list_price", "unit_price", "unit_cost")


def _needs_for_deal(deal: Deal, need_ids: Iterable[int]) -> list[int]:
    need_ids = capped_ids(need_ids, limits.MAX_NEEDS_PER_LINE_ITEM, "needs")
    if not need_ids:
        return []
    found = dict(Need.objects.filter(pk__in=need_ids).values_list("id", "prospect_id"))
    wrong = [i for i in need_ids if found.get(i) != deal.prospect_id]
    if wrong:
        raise ValidationError(
            {
                "needs": [
                    f"Need {i} is not a need of this deal's prospect." for i in wrong
                ]
            }
        )  # fmt: skip
    return need_ids


@transaction.atomic
def line_item_create(
    *,
    deal: Deal,
    user: User,
    name: str,
    unit_list_price: Decimal,
    unit_price: Decimal,
    quantity: Decimal = Decimal("1"),  # the model's default: the API may leave it out
    unit_cost: Decimal = ZERO,
    need_ids: Sequence[int] = (),
) -> LineItem:
    ensure_can_edit_deal(user, deal)
    if deal.stage in Deal.CLOSED_STAGES:
        raise ValidationError({"deal": "This deal is closed; reopen it to change the proposal."})
    need_ids = _needs_for_deal(deal, need_ids)
    item = LineItem(
        deal=deal,
        name=name,
        quantity=quantity,
        unit_list_price=unit_list_price,
        unit_price=unit_price,
        unit_cost=unit_cost,
    )
    validate_and_save(item, user)
    if need_ids:
        item.needs.set(need_ids)
    refresh_deal_totals(deal)
    return item


@transaction.atomic
def line_item_update(*, line_item: LineItem, user: User, **fields: Any) -> LineItem:
    deal = line_item.deal
    ensure_can_edit_deal(user, deal)
    if deal.stage in Deal.CLOSED_STAGES:
        raise ValidationError({"deal": "This deal is closed; reopen it to change the proposal."})
    need_ids = fields.pop("need_ids", None)
    set_fields(line_item, fields, LINE_ITEM_FIELDS)
    validate_and_save(line_item, user)
    if need_ids is not None:
        line_item.needs.set(_needs_for_deal(deal, need_ids))
    refresh_deal_totals(deal)
    return line_item


@transaction.atomic
def line_item_delete(*, line_item: LineItem, user: User) -> None:
    deal = line_item.deal
    ensure_can_edit_deal(user, deal)
    if deal.stage in Deal.CLOSED_STAGES:
        raise ValidationError({"deal": "This deal is closed; reopen it to change the proposal."})
    history_by(line_item, user)
    line_item.delete()
    refresh_deal_totals(deal)
