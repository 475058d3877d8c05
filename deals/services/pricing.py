"""The single-deal pricing refresh the writes call (deals.pricing holds the formulas)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from deals.models import Deal
from deals.pricing import DealTotals, pricing_refresh_bulk
from deals.services.common import recompute


@transaction.atomic  # it locks the deal row; callers outside a transaction get one here
def pricing_refresh(*, deal_id: int) -> DealTotals:
    """Store the deal's totals from its items and concessions (deals.pricing) and queue a
    health recompute. Refuses (rolling back the caller's change) a net total below 0."""
    # Lock the deal row first: two writers refreshing the same deal's totals take turns,
    # and each aggregates after the other committed (READ COMMITTED: a fresh snapshot per
    # statement), so the last one to write has seen every item.
    list(Deal.objects.select_for_update().filter(pk=deal_id).values_list("pk", flat=True))
    totals = pricing_refresh_bulk(deal_ids=[deal_id])[deal_id]
    if totals.net_total < 0:
        raise ValidationError(
            {
                "amount": [
                    f"This would make the deal's net total negative ({totals.net_total:,}): "
                    "price cuts cannot exceed the price of what is sold."
                ]
            }
        )
    recompute(deal_id)
    return totals


def refresh_deal_totals(deal: Deal) -> None:
    for name, value in pricing_refresh(deal_id=deal.id).as_dict().items():
        setattr(deal, name, value)
