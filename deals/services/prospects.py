"""Prospects and their contacts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from deals import visibility
from deals.models import Contact, Prospect
from deals.services.common import (
    ensure_can_edit_prospect,
    history_by,
    recompute,
    set_fields,
    validate_and_save,
)
from winwin_crm.accounts.models import Team, User

PROSPECT_FIELDS = ("name", "industry", "size", "website", "notes", "external_id")
CONTACT_FIELDS = ("name", "title", "email", "phone", "buying_role", "notes")


@transaction.atomic
def prospect_create(*, user: User, team: Team | None = None, **fields: Any) -> Prospect:
    if team is None:
        team_ids = visibility.prospect_team_ids(user)
        if not team_ids:
            raise ValidationError({"team": "You are in no sales team; choose the team."})
        team = Team.objects.get(pk=team_ids[0])
    prospect = Prospect(team=team, created_by=user)
    set_fields(prospect, fields, PROSPECT_FIELDS)
    if team.kind != Team.Kind.SALES:
        raise ValidationError({"team": "A prospect belongs to a sales team."})
    if not visibility.user_can_create_prospect(user, team):
        raise PermissionDenied("Only the team's reps (and admins) add prospects.")
    validate_and_save(prospect, user)
    return prospect


@transaction.atomic
def prospect_update(*, prospect: Prospect, user: User, **fields: Any) -> Prospect:
    ensure_can_edit_prospect(user, prospect)
    set_fields(prospect, fields, PROSPECT_FIELDS)
    validate_and_save(prospect, user)
    for deal_id in prospect.deals.values_list("id", flat=True):
        recompute(deal_id)
    return prospect


@transaction.atomic
def contact_create(*, user: User, prospect: Prospect, **fields: Any) -> Contact:
    ensure_can_edit_prospect(user, prospect)
    contact = Contact(prospect=prospect)
    set_fields(contact, fields, CONTACT_FIELDS)
    validate_and_save(contact, user)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, user: User, **fields: Any) -> Contact:
    ensure_can_edit_prospect(user, contact.prospect)
    set_fields(contact, fields, CONTACT_FIELDS)
    validate_and_save(contact, user)
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, user: User) -> None:
    ensure_can_edit_prospect(user, contact.prospect)
    refs = visibility.contact_references(contact)
    if refs:
        raise ValidationError(
            {
                "contact": [
                    f"{contact.name} is referred to by {' and '.join(refs)}; a contact "
                    "the record depends on is kept (change their details instead)."
                ]
            }
        )
    history_by(contact, user)
    contact.delete()
