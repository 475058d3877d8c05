"""The buyer's side: opening the room, needs, milestones, questions, the pulse, check-in answers."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from deals.buyer_room.models import (
    BuyerCheckInAnswer,
    BuyerNeedChange,
    BuyerNeedValue,
    BuyerPromiseAnswer,
    BuyerPulse,
    BuyerShare,
    MilestoneDateProposal,
)
from deals.buyer_room.services.common import (
    IMPORTANCE_RANGE,
    MAX_TEXT,
    NOT_YOUR_MILESTONE,
    QUESTION_EMPTY,
    ROOM_READ_ONLY,
    STATEMENT_EMPTY,
    VALUE_RANGE,
    Action,
    BuyerVisit,
    room_event,
)
from deals.buyer_room.services.shares import room_is_read_only
from deals.health.queue import health_recompute_on_commit
from deals.models import Activity, BuyerMilestone, Commitment, Contact, Deal, Need
from winwin_crm.notifications.models import Kind
from winwin_crm.notifications.services import notify


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
    room_event(visit.share, Action.OPENED, visit=visit, at=now)


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
    room_event(visit.share, Action.NEED_CONFIRMED, visit=visit, detail=need.statement, at=now)
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
    room_event(visit.share, Action.NEED_CHANGED, visit=visit, detail=summary, at=now)
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
    room_event(visit.share, Action.NEED_ADDED, visit=visit, detail=summary, at=now)
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
    room_event(visit.share, Action.MILESTONE_TICKED, visit=visit, detail=summary, at=now)
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
    room_event(visit.share, Action.DATE_PROPOSED, visit=visit, detail=summary, at=now)
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
    room_event(visit.share, Action.QUESTION, visit=visit, detail=question, at=now)
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
    room_event(visit.share, Action.PULSE, visit=visit, detail=summary, at=now)
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
    room_event(visit.share, Action.CHECK_IN, visit=visit, detail=summary, at=now)
    _buyer_activity(visit, summary, now)
    # The answers feed the outcome: the value stored on the check-in, and a promise the
    # buyer says was not kept reopens (COMMITMENT_OVERDUE) — handoff/outcomes.py.
    from handoff.outcomes import check_in_outcome_refresh

    check_in_outcome_refresh(check_in_id=check_in.pk)
    return answer
