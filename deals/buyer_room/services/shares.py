"""The rep's side: links to the room, sent, resent and revoked."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from deals.buyer_room.models import BuyerShare
from deals.buyer_room.services.common import (
    CONTACT_OF_ANOTHER_PROSPECT,
    NO_EMAIL,
    Action,
    room_event,
)
from deals.buyer_room.tokens import token_new
from deals.health.policy import policy_for_team
from deals.models import Contact, Deal
from deals.visibility import user_can_edit_deal
from handoff.models import CheckIn


def share_url(token: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{reverse('buyer_room:room', args=[token])}"


def share_is_live(share: BuyerShare, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return share.revoked_at is None and share.expires_at > now


def room_is_read_only(deal: Deal) -> bool:
    return not deal.is_open


def _link_expiry(deal: Deal, now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(days=policy_for_team(deal.team_id).buyer_room_link_days)


def _ensure_can_share(user, deal: Deal, check_in: CheckIn | None) -> None:
    if user_can_edit_deal(user, deal):
        return
    if check_in is not None:
        from handoff.services import is_delivery_member

        if is_delivery_member(user, check_in.handoff):
            return
    raise PermissionDenied("Only the deal's rep shares its buyer room.")


def _send_link(share: BuyerShare, token: str) -> None:
    contact, deal = share.contact, share.deal
    with translation.override(deal.language):
        if share.check_in_id:
            subject = _("%(team)s would like to hear how it is going") % {"team": deal.team.name}
        else:
            subject = _("Your page for %(deal)s with %(team)s") % {
                "deal": deal.title,
                "team": deal.team.name,
            }
        body = _(
            "Hello %(name)s,\n\n%(team)s has shared a private page with you: what we have "
            "written down about your needs, our plan together, the proposal and every "
            "promise made. You can correct anything that is not right.\n\n%(url)s\n\n"
            "The link is personal and valid until %(expires)s."
        ) % {
            "name": contact.name,
            "team": deal.team.name,
            "url": share_url(token),
            "expires": share.expires_at.date().isoformat(),
        }

    def send() -> None:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [contact.email])

    transaction.on_commit(send, robust=True)


@transaction.atomic
def buyer_share_create(
    *,
    deal: Deal,
    contact: Contact,
    user,
    check_in: CheckIn | None = None,
    send_email: bool = True,
) -> tuple[BuyerShare, str]:
    """Open the deal's room for one of its prospect's contacts; email them the link.
    Returns the share and the token (the only time it exists outside the email)."""
    _ensure_can_share(user, deal, check_in)
    if contact.prospect_id != deal.prospect_id:
        raise ValidationError({"contact": [CONTACT_OF_ANOTHER_PROSPECT]})
    if check_in is not None and check_in.handoff.deal_id != deal.id:
        raise ValidationError({"check_in": ["This check-in is of another deal."]})
    if send_email and not contact.email:
        raise ValidationError({"contact": [NO_EMAIL]})
    now = timezone.now()
    token, digest = token_new()
    share = BuyerShare.objects.create(
        deal=deal,
        contact=contact,
        check_in=check_in,
        token_hash=digest,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        sent_at=now,
        expires_at=_link_expiry(deal, now),
    )
    room_event(share, Action.SHARED, user=user, detail=contact.email, at=now)
    if send_email:
        _send_link(share, token)
    return share, token


@transaction.atomic
def buyer_share_resend(*, share: BuyerShare, user) -> str:
    """A new link for the same share (only hashes are stored, so the old link cannot be
    sent again): the previous link stops working and the expiry starts afresh."""
    share = (
        BuyerShare.objects.select_for_update().select_related("deal", "contact").get(pk=share.pk)
    )
    _ensure_can_share(user, share.deal, share.check_in)
    if share.revoked_at is not None:
        raise ValidationError({"detail": ["This share was revoked; share the room again."]})
    if not share.contact.email:
        raise ValidationError({"contact": [NO_EMAIL]})
    now = timezone.now()
    token, share.token_hash = token_new()
    share.sent_at = now
    share.expires_at = _link_expiry(share.deal, now)
    share.save(update_fields=["token_hash", "sent_at", "expires_at"])
    room_event(share, Action.RESENT, user=user, detail=share.contact.email, at=now)
    _send_link(share, token)
    return token


@transaction.atomic
def buyer_share_revoke(*, share: BuyerShare, user) -> BuyerShare:
    share = BuyerShare.objects.select_for_update().select_related("deal").get(pk=share.pk)
    _ensure_can_share(user, share.deal, share.check_in)
    if share.revoked_at is None:  # revoking twice is harmless
        share.revoked_at = timezone.now()
        share.revoked_by = user
        share.save(update_fields=["revoked_at", "revoked_by"])
        room_event(share, Action.REVOKED, user=user, at=share.revoked_at)
    return share
