"""Print a fresh buyer-room link for a deal and one of its contacts (demo, support)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from deals.buyer_room import services
from deals.models import Contact, Deal


class Command(BaseCommand):
    help = (
        "Open DEAL_ID's buyer room for CONTACT_ID and print the link (SITE_URL + "
        "/buyer/<token>/). Tokens are stored only as hashes, so each run issues a new "
        "share; no email is sent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("deal_id", type=int)
        parser.add_argument("contact_id", type=int)

    def handle(self, *args: Any, deal_id: int, contact_id: int, **options: Any) -> None:
        deal = Deal.objects.select_related("owner").filter(pk=deal_id).first()
        if deal is None:
            raise CommandError(f"No deal with id {deal_id}.")
        contact = Contact.objects.filter(pk=contact_id).first()
        if contact is None:
            raise CommandError(f"No contact with id {contact_id}.")
        try:
            # As the deal's rep: the command acts on their behalf.
            share, token = services.buyer_share_create(
                deal=deal, contact=contact, user=deal.owner, send_email=False
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stderr.write(
            f"Buyer room of “{deal.title}” for {contact.name}, valid until "
            f"{share.expires_at:%Y-%m-%d}:"
        )
        self.stdout.write(services.share_url(token))
