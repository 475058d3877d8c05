"""Checklist items that check: a tick must agree with the deal's data, or say why not.

Each condition reads the deal and answers None (the data agrees) or what is missing. An
item with a failing condition can only be ticked with an override reason, which the
package shows to delivery next to the item.
"""

from __future__ import annotations

from collections.abc import Callable

from deals.models import Commitment, Deal, Disclosure, Need

# Disclosures that tell the buyer something against the seller's interest (the same
# kinds BUYER_UNDISCLOSED counts); a price sheet alone discloses no limitation.
TRANSPARENCY_KINDS = ("limitation", "risk", "alternative")


def _limitations_disclosed(deal: Deal) -> str | None:
    if Disclosure.objects.filter(deal=deal, kind__in=TRANSPARENCY_KINDS).exists():
        return None
    return "Nothing has been disclosed: record at least one limitation, risk or alternative."


def _needs_reviewed(deal: Deal) -> str | None:
    if Need.objects.filter(deal=deal, confirmed_by_buyer=True).exists():
        return None
    return "No need is confirmed by the buyer: review the needs with them and mark them confirmed."


def _commitments_listed(deal: Deal) -> str | None:
    undated = list(
        Commitment.objects.filter(
            deal=deal, status=Commitment.Status.OPEN, due_date__isnull=True
        ).values_list("description", flat=True)[:3]
    )
    if not undated:
        return None
    names = ", ".join(f"“{d}”" for d in undated)
    return f"Open commitments without a due date: {names}. Give each a date."


CONDITIONS: dict[str, Callable[[Deal], str | None]] = {
    "limitations_disclosed": _limitations_disclosed,
    "needs_reviewed_with_buyer": _needs_reviewed,
    "commitments_listed": _commitments_listed,
}


def checklist_condition_problem(*, key: str, deal: Deal) -> str | None:
    """What the deal's data says against ticking item `key` (None: nothing, or no condition)."""
    condition = CONDITIONS.get(key)
    return condition(deal) if condition is not None else None
