"""A manager acknowledges a flag: the one write to a flag made by a person."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from deals import visibility
from deals.models import Flag
from winwin_crm.accounts.models import User

from .writes import ACTIVE


class FlagNotActive(Exception):
    """Only an open or acknowledged flag can be acknowledged."""


class FlagAcknowledgedMeanwhile(FlagNotActive):
    """Someone acknowledged the flag after the caller read it: their note is kept, and the
    caller is told (409) instead of silently overwriting it."""


@transaction.atomic
def flag_acknowledge(*, flag: Flag, user: User, note: str) -> Flag:
    """A manager accepts a flag with a note; it stays acknowledged until its evidence changes."""
    if not visibility.user_can_acknowledge_flags(user, flag.deal):
        raise PermissionDenied("Only a manager of the deal's team can acknowledge its flags.")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["Say why this flag is acceptable for this deal."]})
    seen_acknowledged_at = flag.acknowledged_at
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.status not in ACTIVE:
        raise FlagNotActive("This flag is resolved; there is nothing to acknowledge.")
    if flag.acknowledged_at != seen_acknowledged_at:
        by = flag.acknowledged_by.username if flag.acknowledged_by else "someone"
        raise FlagAcknowledgedMeanwhile(
            f"{by} acknowledged this flag meanwhile: “{flag.acknowledge_note}”. "
            "Reload to see it; acknowledge again to replace their note."
        )
    flag.status = Flag.Status.ACKNOWLEDGED
    flag.acknowledged_at = timezone.now()
    flag.acknowledged_by = user
    flag.acknowledge_note = note
    flag.full_clean()
    flag.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "acknowledge_note"])
    return flag
