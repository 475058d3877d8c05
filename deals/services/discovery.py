"""Discovery calls: attendees, and the needs and milestones a call uncovered, all or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from deals import limits
from deals.models import BuyerMilestone, Contact, Deal, DiscoveryCall, Need
from deals.services.common import (
    capped_ids,
    ensure_can_edit_deal,
    recompute,
    set_fields,
    validate_and_save,
)
from deals.services.milestones import MILESTONE_FIELDS
from deals.services.prospects import contact_create
from winwin_crm.accounts.models import User


def _row_errors(prefix: str, index: int, exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            f"{prefix}[{index}].{'non_field_errors' if f == '__all__' else f}": [
                m for e in errs for m in e.messages
            ]
            for f, errs in exc.error_dict.items()
        }
    return {f"{prefix}[{index}]": exc.messages}


@transaction.atomic
def discovery_call_log(
    *,
    deal: Deal,
    user: User,
    new_attendees: Sequence[Mapping[str, Any]] = (),
    attendee_ids: Sequence[int] = (),
    **call: Any,
) -> DiscoveryCall:
    """The discovery-call page in one transaction: contacts met for the first time are
    added to the prospect and attend with `attendee_ids`; an error anywhere saves nothing."""
    attendee_ids = list(attendee_ids)
    for row in new_attendees:
        attendee_ids.append(contact_create(user=user, prospect=deal.prospect, **row).pk)
    return discovery_call_create(deal=deal, user=user, attendee_ids=attendee_ids, **call)


@transaction.atomic
def discovery_call_create(
    *,
    deal: Deal,
    user: User,
    held_at: dt.datetime,
    summary: str = "",
    next_step: str = "",
    attendee_ids: Sequence[int] = (),
    needs: Sequence[Mapping[str, Any]] = (),
    milestones: Sequence[Mapping[str, Any]] = (),
) -> DiscoveryCall:
    """Log a discovery call with the needs and buyer milestones it uncovered, all or nothing.

    Errors name the row: {"needs[1].importance": [...]}; any error rolls the whole call back.
    """
    ensure_can_edit_deal(user, deal)
    for rows, limit, field in (
        (needs, limits.MAX_NEEDS_PER_CALL, "needs"),
        (milestones, limits.MAX_MILESTONES_PER_CALL, "milestones"),
    ):
        if len(rows) > limit:
            raise ValidationError({field: [f"At most {limit} in one call."]})
    call = DiscoveryCall(
        deal=deal, held_at=held_at, summary=summary, next_step=next_step, created_by=user
    )
    validate_and_save(call, user)
    errors: dict[str, list[str]] = {}
    attendee_ids = capped_ids(attendee_ids, limits.MAX_ATTENDEES_PER_CALL, "attendee_ids")
    if attendee_ids:
        contact_ids = set(
            Contact.objects.filter(pk__in=attendee_ids, prospect_id=deal.prospect_id).values_list(
                "id", flat=True
            )
        )
        foreign = [i for i in attendee_ids if i not in contact_ids]
        if foreign:
            errors["attendee_ids"] = [
                f"Contact {i} is not a contact of this deal's prospect." for i in foreign
            ]
        else:
            call.attendees.set(attendee_ids)
    for index, row in enumerate(needs):
        need = Need(deal=deal, prospect_id=deal.prospect_id, discovery_call=call)
        try:
            set_fields(need, row, ("kind", "statement", "importance", "confirmed_by_buyer"))
            need.full_clean()
        except ValidationError as exc:
            errors.update(_row_errors("needs", index, exc))
            continue
        need.save()
    for index, row in enumerate(milestones):
        milestone = BuyerMilestone(deal=deal, discovery_call=call)
        try:
            set_fields(milestone, row, MILESTONE_FIELDS)
            milestone.full_clean()
        except ValidationError as exc:
            errors.update(_row_errors("milestones", index, exc))
            continue
        milestone.save()
    if errors:
        # Raising inside the atomic block rolls back the call and every row saved above.
        raise ValidationError(errors)
    recompute(deal.id)
    return call


@transaction.atomic
def discovery_call_update(
    *, discovery_call: DiscoveryCall, user: User, **fields: Any
) -> DiscoveryCall:
    ensure_can_edit_deal(user, discovery_call.deal)
    attendee_ids = fields.pop("attendee_ids", None)
    set_fields(discovery_call, fields, ("held_at", "summary", "next_step"))
    validate_and_save(discovery_call, user)
    if attendee_ids is not None:
        attendee_ids = capped_ids(attendee_ids, limits.MAX_ATTENDEES_PER_CALL, "attendee_ids")
        valid = set(
            Contact.objects.filter(
                pk__in=attendee_ids, prospect_id=discovery_call.deal.prospect_id
            ).values_list("id", flat=True)
        )
        if len(valid) != len(attendee_ids):
            raise ValidationError(
                {"attendee_ids": "Every attendee must be a contact of this deal's prospect."}
            )
        discovery_call.attendees.set(attendee_ids)
    recompute(discovery_call.deal_id)
    return discovery_call


@transaction.atomic
def discovery_call_delete(*, discovery_call: DiscoveryCall, user: User) -> None:
    ensure_can_edit_deal(user, discovery_call.deal)
    deal_id = discovery_call.deal_id
    discovery_call.delete()
    recompute(deal_id)
