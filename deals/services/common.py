"""What every sales-side write shares: the edit checks, setting allowed fields, saving
with history, queueing the health recompute."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model

from deals import visibility
from deals.health.queue import health_recompute_on_commit
from deals.models import Deal, Need, Prospect
from winwin_crm.accounts.models import User

ZERO = Decimal("0")


# --- permissions ---------------------------------------------------------------------------


# The rules are deals.visibility's; a service only turns a "no" into PermissionDenied.


def ensure_can_edit_deal(user: User, deal: Deal) -> None:
    if not visibility.user_can_edit_deal(user, deal):
        raise PermissionDenied("You can view this deal but not change it.")


def ensure_can_edit_prospect(user: User, prospect: Prospect) -> None:
    if not visibility.user_can_edit_prospect(user, prospect):
        raise PermissionDenied("You can view this prospect but not change it.")


def ensure_can_edit_need(user: User, need: Need) -> None:
    if need.deal is not None:
        ensure_can_edit_deal(user, need.deal)
    else:
        ensure_can_edit_prospect(user, need.prospect)


# --- helpers -------------------------------------------------------------------------------


def set_fields(obj: Model, fields: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    allowed = set(allowed)
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed here."))
    changed = []
    for name, value in fields.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def history_by(obj: Model, user: User | None) -> None:
    """simple-history records who made the change (API token auth bypasses its middleware)."""
    if user is not None and getattr(user, "is_authenticated", False):
        obj._history_user = user  # type: ignore[attr-defined]  # simple-history's hook


def validate_and_save(obj: Model, user: User | None = None) -> None:
    history_by(obj, user)
    obj.full_clean()
    obj.save()


def recompute(deal_id: int) -> None:
    health_recompute_on_commit(deal_id=deal_id)


def capped_ids(ids: Iterable[int], limit: int, field: str) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in ids))
    if len(ids) > limit:
        raise ValidationError({field: [f"At most {limit} in one request."]})
    return ids
