"""Saving a deal under its version: one of two concurrent writers wins, the other is told."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F

from deals.models import Deal
from deals.services.common import history_by, recompute
from deals.services.pricing import pricing_refresh
from winwin_crm.accounts.models import User


class DealVersionConflict(Exception):
    """The deal changed since the caller read it; nothing was written."""

    def __init__(self, current_version: int):
        self.current_version = current_version
        super().__init__(
            f"This deal was changed by someone else (now at version {current_version}). "
            "Reload it and apply your change again."
        )


# Columns other writers maintain (pricing, the health engine, activities): a deal update
# never writes them from its own, possibly stale, copy.
DEAL_DERIVED_FIELDS = (
    "list_total", "net_total", "cost_total", "buyer_score", "seller_score", "balance",
    "open_flag_count", "health_computed_at", "last_buyer_contact_at",
)  # fmt: skip


def deal_save_locked(
    deal: Deal, user: User, expected_version: int | None, changed: Iterable[str] = ()
) -> Deal:
    """Save the `changed` fields of `deal` only if nobody changed it since
    `expected_version` (None: the version of the caller's copy; the API always sends one).

    The conditional UPDATE claims the next version and locks the row first, so of two
    concurrent writers with the same version exactly one wins and the other gets
    DealVersionConflict. Under that lock the totals are recomputed and every derived
    column is re-read, and only the changed columns are written: a line item added while
    this request ran keeps its effect on the totals. The save() records history.
    """
    expected = deal.version if expected_version is None else expected_version
    deal.full_clean()
    claimed = (
        Deal.objects.filter(pk=deal.pk, version=expected)
        .update(version=F("version") + 1)
    )  # fmt: skip
    if not claimed:
        current = Deal.objects.filter(pk=deal.pk).values_list("version", flat=True).first()
        raise DealVersionConflict(current_version=current or 0)
    pricing_refresh(deal_id=deal.pk)
    deal.refresh_from_db(fields=DEAL_DERIVED_FIELDS)
    deal.version = expected + 1
    history_by(deal, user)
    deal.save(update_fields=sorted({*changed, "version", "updated_at"}))
    recompute(deal.id)
    return deal
