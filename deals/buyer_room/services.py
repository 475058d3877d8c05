"""Writes of the buyer room: shares (rep side) and what the buyer does (buyer side).

Every buyer action is one transaction that writes the change, an audit event, a
buyer-initiated activity (kind `buyer_room`) and queues a health recompute, so buyer
engagement and buyer silence count in the rules like any other touch.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from deals.health.policy import policy_for_team
from deals.health.queue import health_recompute_on_commit
from deals.models import Activity, BuyerMilestone, Commitment, Contact, Deal, Need
from deals.visibility import user_can_edit_deal
from handoff.models import CheckIn
from winwin_crm.notifications.models import Kind
from winwin_crm.notifications.services import notify

from .models import (
    BuyerCheckInAnswer,
    BuyerNeedChange,
    BuyerNeedValue,
    BuyerPromiseAnswer,
    BuyerPulse,
    BuyerRoomEvent,
    BuyerShare,
    MilestoneDateProposal,
)
from .tokens import token_new

logger = logging.getLogger(__name__)
Action = BuyerRoomEvent.Action

ROOM_READ_ONLY = "This room is read-only now that the deal is closed."
NOT_YOUR_MILESTONE = "Only the buyer's own milestones can be ticked here."
CONTACT_OF_ANOTHER_PROSPECT = "This contact works for another prospect."
NO_EMAIL = "This contact has no email address to send the link to."
QUESTION_EMPTY = "Write your question."
STATEMENT_EMPTY = "Write the need in your own words."
IMPORTANCE_RANGE = "Choose an importance from 1 to 5."
VALUE_RANGE = "Rate each need from 1 to 5."
MAX_TEXT = 2000  # what a buyer may write in one field; the room is not a document store


@dataclass(frozen=True, slots=True)
class BuyerVisit:
    """Who is acting in the room: the share their link opened, and their request."""

    share: BuyerShare
    ip: str | None = None
    user_agent: str = ""

    @property
    def deal(self) -> Deal:
        return self.share.deal

    @property
    def contact(self) -> Contact:
        return self.share.contact


# --- links -------------------------------------------------------------------------------


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


def _event(
    share: BuyerShare,
    action: str,
    *,
    user=None,
    visit: BuyerVisit | None = None,
    detail: str = "",
    at: dt.datetime | None = None,
) -> BuyerRoomEvent:
    return BuyerRoomEvent.objects.create(
        share=share,
        deal_id=share.deal_id,
        action=action,
        at=at or timezone.now(),
        user=user if getattr(user, "is_authenticated", False) else None,
        ip=visit.ip if visit else None,
        user_agent=(visit.user_agent if visit else "")[:300],
        detail=detail[:300],
    )


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
    _event(share, Action.SHARED, user=user, detail=contact.email, at=now)
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
    _event(share, Action.RESENT, user=user, detail=share.contact.email, at=now)
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
        _event(share, Action.REVOKED, user=user, at=share.revoked_at)
    return share


# --- the buyer's side ----------------------------------------------------------------------


def buyer_room_notify_rep(*, deal: Deal, contact: Contact, subject: str, body: str) -> None:
    """The one place the buyer room tells the rep something needs them (a question, a
    proposed date, a corrected need, a buyer who felt pushed): a notice in the rep's inbox,
    emailed as the rep chose (at once or in the daily digest)."""
    notify(
        recipients=[deal.owner],
        kind=Kind.BUYER_MESSAGE,
        title=f"[{deal.title}] {subject}",
        body=f"{body}\n\n— {contact.name}, {deal.prospect.name}",
        url=reverse("deals:deal_detail", args=[deal.pk]),
    )


@transaction.atomic
def buyer_room_open(*, visit: BuyerVisit) -> None:
    now = timezone.now()
    BuyerShare.objects.filter(pk=visit.share.pk).update(last_opened_at=now, opens=F("opens") + 1)
    _event(visit.share, Action.OPENED, visit=visit, at=now)


def _ensure_writable(visit: BuyerVisit) -> None:
    if room_is_read_only(visit.deal):
        raise PermissionDenied(ROOM_READ_ONLY)


def _buyer_activity(visit: BuyerVisit, notes: str, at: dt.datetime) -> Activity:
    from deals.services import _refresh_last_buyer_contact

    activity = Activity(
        deal=visit.deal,
        kind=Activity.Kind.BUYER_ROOM,
        source=Activity.Source.BUYER_ROOM,
        initiated_by=Activity.InitiatedBy.BUYER,
        occurred_at=at,
        notes=f"Buyer room — {visit.contact.name}: {notes}",
    )
    activity.full_clean()
    activity.save()
    _refresh_last_buyer_contact(visit.deal.pk)
    health_recompute_on_commit(deal_id=visit.deal.pk)
    return activity


def _clean_text(value: str, field: str, empty_message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: [empty_message]})
    if len(value) > MAX_TEXT:
        raise ValidationError({field: [f"Keep it under {MAX_TEXT} characters."]})
    return value


def _clean_importance(value) -> int:
    try:
        importance = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"importance": [IMPORTANCE_RANGE]}) from None
    if not 1 <= importance <= 5:
        raise ValidationError({"importance": [IMPORTANCE_RANGE]})
    return importance


def _deal_need(visit: BuyerVisit, need_id: int) -> Need:
    # Scoped to the share's deal: a need id of another deal is simply not found.
    return Need.objects.select_for_update().get(pk=need_id, deal_id=visit.deal.pk)


def _confirm(need: Need, visit: BuyerVisit, at: dt.datetime) -> None:
    need.confirmed_by_buyer = True
    need.confirmed_by_buyer_at = at
    need.confirmed_by_contact = visit.contact
    need.save(
        update_fields=[
            "confirmed_by_buyer",
            "confirmed_by_buyer_at",
            "confirmed_by_contact",
            "updated_at",
        ]
    )


@transaction.atomic
def buyer_need_confirm(*, visit: BuyerVisit, need_id: int) -> Need:
    _ensure_writable(visit)
    need = _deal_need(visit, need_id)
    now = timezone.now()
    _confirm(need, visit, now)
    _event(visit.share, Action.NEED_CONFIRMED, visit=visit, detail=need.statement, at=now)
    _buyer_activity(visit, f'confirmed the need "{need.statement}".', now)
    return need


@transaction.atomic
def buyer_need_change(
    *, visit: BuyerVisit, need_id: int, statement: str, importance
) -> BuyerNeedChange | None:
    """The buyer corrects a need's wording or importance; saving it is also their
    confirmation of it. Nothing changed writes nothing but the confirmation."""
    _ensure_writable(visit)
    need = _deal_need(visit, need_id)
    statement = _clean_text(statement, "statement", STATEMENT_EMPTY)
    importance = _clean_importance(importance)
    now = timezone.now()
    if statement == need.statement and importance == need.importance:
        if need.confirmed_by_buyer_at is None:
            buyer_need_confirm(visit=visit, need_id=need_id)
        return None
    change = BuyerNeedChange.objects.create(
        need=need,
        contact=visit.contact,
        at=now,
        statement_before=need.statement,
        statement_after=statement,
        importance_before=need.importance,
        importance_after=importance,
    )
    need.statement, need.importance = statement, importance
    need.full_clean()
    need.save(update_fields=["statement", "importance", "updated_at"])
    _confirm(need, visit, now)
    parts = []
    if change.statement_before != statement:
        parts.append(f'wording from "{change.statement_before}" to "{statement}"')
    if change.importance_before != importance:
        parts.append(f"importance from {change.importance_before}/5 to {importance}/5")
    summary = f"changed a need: {' and '.join(parts)}."
    _event(visit.share, Action.NEED_CHANGED, visit=visit, detail=summary, at=now)
    _buyer_activity(visit, summary, now)
    buyer_room_notify_rep(
        deal=visit.deal, contact=visit.contact, subject="The buyer corrected a need", body=summary
    )
    return change


@transaction.atomic
def buyer_need_add(*, visit: BuyerVisit, statement: str, importance, kind: str = "") -> Need:
    _ensure_writable(visit)
    statement = _clean_text(statement, "statement", STATEMENT_EMPTY)
    importance = _clean_importance(importance)
    kind = kind if kind in Need.Kind.values else Need.Kind.GOAL
    now = timezone.now()
    need = Need(
        deal=visit.deal,
        prospect_id=visit.deal.prospect_id,
        kind=kind,
        statement=statement,
        importance=importance,
        confirmed_by_buyer=True,
        confirmed_by_buyer_at=now,
        confirmed_by_contact=visit.contact,
    )
    need.full_clean()
    need.save()
    BuyerNeedChange.objects.create(
        need=need,
        contact=visit.contact,
        at=now,
        statement_after=statement,
        importance_after=importance,
        added=True,
    )
    summary = f'added a need: "{statement}" ({importance}/5).'
    _event(visit.share, Action.NEED_ADDED, visit=visit, detail=summary, at=now)
    _buyer_activity(visit, summary, now)
    buyer_room_notify_rep(
        deal=visit.deal, contact=visit.contact, subject="The buyer added a need", body=summary
    )
    return need


def _deal_milestone(visit: BuyerVisit, milestone_id: int) -> BuyerMilestone:
    return BuyerMilestone.objects.select_for_update().get(pk=milestone_id, deal_id=visit.deal.pk)


@transaction.atomic
def buyer_milestone_tick(*, visit: BuyerVisit, milestone_id: int, done: bool) -> BuyerMilestone:
    _ensure_writable(visit)
    milestone = _deal_milestone(visit, milestone_id)
    if milestone.side != BuyerMilestone.Side.BUYER:
        raise PermissionDenied(NOT_YOUR_MILESTONE)
    if done == (milestone.completed_at is not None):
        return milestone  # ticking twice is harmless
    now = timezone.now()
    milestone.completed_at = now if done else None
    milestone.save(update_fields=["completed_at", "updated_at"])
    what = "completed" if done else "reopened"
    summary = f'{what} the milestone "{milestone.title}".'
    _event(visit.share, Action.MILESTONE_TICKED, visit=visit, detail=summary, at=now)
    _buyer_activity(visit, summary, now)
    return milestone


@transaction.atomic
def buyer_milestone_propose_date(
    *, visit: BuyerVisit, milestone_id: int, proposed_date: dt.date | None
) -> MilestoneDateProposal:
    _ensure_writable(visit)
    milestone = _deal_milestone(visit, milestone_id)
    if proposed_date is None:
        raise ValidationError({"proposed_date": ["Choose a date."]})
    if proposed_date < timezone.localdate():
        raise ValidationError({"proposed_date": ["Choose a date from today on."]})
    now = timezone.now()
    proposal = MilestoneDateProposal.objects.create(
        milestone=milestone,
        contact=visit.contact,
        proposed_date=proposed_date,
        previous_date=milestone.due_date,
        at=now,
    )
    summary = (
        f'proposed {proposed_date.isoformat()} for "{milestone.title}"'
        f" (was {milestone.due_date.isoformat() if milestone.due_date else 'no date'})."
    )
    _event(visit.share, Action.DATE_PROPOSED, visit=visit, detail=summary, at=now)
    _buyer_activity(visit, summary, now)
    buyer_room_notify_rep(
        deal=visit.deal, contact=visit.contact, subject="The buyer proposed a date", body=summary
    )
    return proposal


@transaction.atomic
def buyer_question_ask(*, visit: BuyerVisit, question: str) -> Activity:
    """A question lands on the deal as a buyer-initiated activity and a notice to the rep;
    allowed on a closed deal too (the customer may still ask)."""
    question = _clean_text(question, "question", QUESTION_EMPTY)
    now = timezone.now()
    _event(visit.share, Action.QUESTION, visit=visit, detail=question, at=now)
    activity = _buyer_activity(visit, f"asked: {question}", now)
    buyer_room_notify_rep(
        deal=visit.deal, contact=visit.contact, subject="A question from the buyer", body=question
    )
    return activity


@transaction.atomic
def buyer_pulse_answer(
    *,
    visit: BuyerVisit,
    meeting_id: int,
    got_what_needed: bool,
    felt_pushed: bool,
    next_step_agreed: bool,
) -> BuyerPulse:
    """The three questions after a meeting. Answering again for the same meeting corrects
    the earlier answer (one pulse per meeting and contact)."""
    _ensure_writable(visit)
    meeting = Activity.objects.get(pk=meeting_id, deal_id=visit.deal.pk, kind=Activity.Kind.MEETING)
    now = timezone.now()
    pulse, _created = BuyerPulse.objects.update_or_create(
        meeting=meeting,
        contact=visit.contact,
        defaults={
            "deal": visit.deal,
            "got_what_needed": got_what_needed,
            "felt_pushed": felt_pushed,
            "next_step_agreed": next_step_agreed,
            "answered_at": now,
        },
    )

    def yes(value: bool) -> str:
        return "yes" if value else "no"

    summary = (
        f"answered the pulse after the meeting of {meeting.occurred_at:%Y-%m-%d}: got what "
        f"they needed {yes(got_what_needed)}; felt pushed {yes(felt_pushed)}; next step "
        f"theirs and agreed {yes(next_step_agreed)}."
    )
    _event(visit.share, Action.PULSE, visit=visit, detail=summary, at=now)
    _buyer_activity(visit, summary, now)
    if felt_pushed:
        buyer_room_notify_rep(
            deal=visit.deal,
            contact=visit.contact,
            subject="The buyer felt pushed",
            body=summary,
        )
    return pulse


@transaction.atomic
def buyer_check_in_answer(
    *,
    visit: BuyerVisit,
    need_values: dict[int, int],
    promises_kept: dict[int, bool],
    comment: str = "",
) -> BuyerCheckInAnswer:
    """The customer's answers to the check-in their link was sent for: value received
    per need sold (1–5) and, per promise, kept or not. Answering again corrects them."""
    check_in = visit.share.check_in
    if check_in is None:
        raise PermissionDenied("This link was not sent for a check-in.")
    sold = set(
        Need.objects.filter(deal_id=visit.deal.pk, line_items__isnull=False).values_list(
            "id", flat=True
        )
    )
    promises = set(Commitment.objects.filter(deal_id=visit.deal.pk).values_list("id", flat=True))
    if set(need_values) - sold or set(promises_kept) - promises:
        raise ValidationError({"detail": ["Answer only the needs and promises shown."]})
    if any(not isinstance(v, int) or not 1 <= v <= 5 for v in need_values.values()):
        raise ValidationError({"need_values": [VALUE_RANGE]})
    comment = (comment or "").strip()[:MAX_TEXT]
    now = timezone.now()
    answer, _created = BuyerCheckInAnswer.objects.update_or_create(
        check_in=check_in,
        contact=visit.contact,
        defaults={"answered_at": now, "comment": comment},
    )
    answer.need_values.all().delete()
    answer.promises.all().delete()
    BuyerNeedValue.objects.bulk_create(
        BuyerNeedValue(answer=answer, need_id=need_id, value=value)
        for need_id, value in sorted(need_values.items())
    )
    BuyerPromiseAnswer.objects.bulk_create(
        BuyerPromiseAnswer(answer=answer, commitment_id=cid, kept=kept)
        for cid, kept in sorted(promises_kept.items())
    )
    values = ", ".join(f"{v}/5" for _, v in sorted(need_values.items())) or "none"
    kept = sum(promises_kept.values())
    summary = (
        f"answered the day-{check_in.day_offset} check-in: value per need {values}; "
        f"{kept} of {len(promises_kept)} promises kept."
    )
    _event(visit.share, Action.CHECK_IN, visit=visit, detail=summary, at=now)
    _buyer_activity(visit, summary, now)
    # The answers feed the outcome: the value stored on the check-in, and a promise the
    # buyer says was not kept reopens (COMMITMENT_OVERDUE) — handoff/outcomes.py.
    from handoff.outcomes import check_in_outcome_refresh

    check_in_outcome_refresh(check_in_id=check_in.pk)
    return answer
