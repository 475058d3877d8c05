"""The handoff's transitions: created at the win, the rep's side (checklist, notes, submit,
answer), delivery's side (claim, ask, accept) and an admin's reassignment."""

from __future__ import annotations

import datetime as dt
import shlex

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from deals.models import Commitment, Deal
from handoff import emails
from handoff.checklist import checklist_condition_problem
from handoff.models import (
    CheckIn,
    ChecklistTemplateItem,
    Handoff,
    HandoffChecklistItem,
    HandoffMessage,
)
from handoff.package import PACKAGE_VERSION, package_build
from handoff.permissions import (
    is_assignee,
    is_deal_rep,
    is_delivery_member,
    may_reassign_delivery_team,
)
from handoff.permissions import require as _require
from handoff.services.common import (
    CHECK_IN_OFFSETS_DAYS,
    DEFAULT_CHECKLIST,
    HandoffTransitionError,
    Status,
    lock_handoff,
    record_event,
    require_status,
    required_text,
    sla_hours,
)
from winwin_crm.accounts.models import Team, User


def handoff_create_for_deal(*, deal: Deal, user: User | None) -> Handoff:
    """The deal's handoff, created in draft if it has none: exactly one per deal.

    Closing twice, reopening and re-closing, or two concurrent closes all end with the
    same single handoff: the OneToOne on deal is the guard, get_or_create retries the read
    when a concurrent insert wins, and the IntegrityError fallback covers the rest.
    """
    if deal.stage != Deal.Stage.CLOSED_WON:
        raise HandoffTransitionError("Only a closed-won deal is handed off to delivery.")
    existing = Handoff.objects.filter(deal_id=deal.pk).first()
    if existing is not None:
        return existing
    team = Team.objects.filter(pk=deal.team_id).only("default_delivery_team_id").first()
    try:
        with transaction.atomic():
            handoff, created = Handoff.objects.get_or_create(
                deal=deal,
                defaults={
                    "rep_id": deal.owner_id,
                    "delivery_team_id": team.default_delivery_team_id if team else None,
                    "notes_for_delivery": deal.notes_for_delivery,
                },
            )
            if created:
                _checklist_seed(handoff)
                record_event(handoff, user=user, from_status="")
    except IntegrityError:
        return Handoff.objects.get(deal_id=deal.pk)
    return handoff


def _checklist_seed(handoff: Handoff) -> None:
    templates = list(ChecklistTemplateItem.objects.filter(active=True).order_by("position", "id"))
    if templates:
        rows = [(t.key, t.label, t.required, t.position) for t in templates]
    else:
        rows = [(key, label, req, i) for i, (key, label, req) in enumerate(DEFAULT_CHECKLIST)]
    HandoffChecklistItem.objects.bulk_create(
        HandoffChecklistItem(handoff=handoff, key=key, label=label, required=req, position=pos)
        for key, label, req, pos in rows
    )


# --- the rep's side --------------------------------------------------------------------


@transaction.atomic
def checklist_item_set(
    *, item: HandoffChecklistItem, user: User, checked: bool, override_reason: str = ""
) -> HandoffChecklistItem:
    """Tick or untick one checklist item of a draft handoff (the deal's rep only).

    An item with a data condition (handoff.checklist) is ticked only when the deal's data
    agrees, or with an `override_reason` that the package shows to delivery."""
    handoff = lock_handoff(item.handoff_id)
    _require(is_deal_rep(user, handoff), "Only the deal's rep completes the handoff checklist.")
    require_status(handoff, (Status.DRAFT,), "change the checklist of")
    item = HandoffChecklistItem.objects.get(pk=item.pk)
    override_reason = (override_reason or "").strip()
    if checked:
        problem = checklist_condition_problem(key=item.key, deal=handoff.deal)
        if problem and not override_reason:
            raise ValidationError(
                {"override_reason": [f"{problem} Or tick it with a reason delivery will read."]}
            )
        if item.checked_at is None:
            item.checked_at, item.checked_by = timezone.now(), user
        item.override_reason = override_reason if problem else ""
    else:
        item.checked_at, item.checked_by, item.override_reason = None, None, ""
    item.save(update_fields=["checked_at", "checked_by", "override_reason"])
    return item


@transaction.atomic
def handoff_notes_update(*, handoff: Handoff, user: User, notes_for_delivery: str) -> Handoff:
    """The rep's free-text notes for delivery, editable while the handoff is a draft."""
    handoff = lock_handoff(handoff.pk)
    _require(is_deal_rep(user, handoff), "Only the deal's rep writes the notes for delivery.")
    require_status(handoff, (Status.DRAFT,), "edit the notes of")
    handoff.notes_for_delivery = (notes_for_delivery or "").strip()
    handoff.save(update_fields=["notes_for_delivery", "updated_at"])
    return handoff


def _no_delivery_team_message(handoff: Handoff) -> str:
    """Why a handoff cannot go anywhere, and, when the fix is obvious (exactly one delivery
    team exists), which command makes it."""
    sales = Team.objects.filter(pk=handoff.deal.team_id).only("name").first()
    delivery = list(Team.objects.filter(kind=Team.Kind.DELIVERY).values_list("name", flat=True)[:2])
    message = (
        f"This handoff has no delivery team: the sales team "
        f"{sales.name if sales else ''!r} has no default delivery team."
    )
    if len(delivery) == 1 and sales is not None:
        return (
            f"{message} “{delivery[0]}” is the only delivery team: link it with "
            f"`manage.py team_link {shlex.quote(sales.name)} {shlex.quote(delivery[0])}` "
            "(or in admin), then submit again."
        )
    if not delivery:
        return (
            f"{message} There is no delivery team yet: create one with `manage.py "
            "create_crm_user NAME --role delivery --team TEAM`, then link it with "
            "`manage.py team_link`."
        )
    return f"{message} Ask an admin to set it, or to assign a delivery team to this handoff."


@transaction.atomic
def handoff_submit(
    *, handoff: Handoff, user: User, notes_for_delivery: str | None = None
) -> Handoff:
    """Freeze the package and send the handoff to the delivery team's queue."""
    handoff = lock_handoff(handoff.pk)
    _require(is_deal_rep(user, handoff), "Only the deal's rep can submit its handoff.")
    require_status(handoff, (Status.DRAFT,), "submit")
    if handoff.deal.stage != Deal.Stage.CLOSED_WON:
        raise HandoffTransitionError(
            "The deal was reopened: a handoff can only be submitted while its deal is closed won."
        )
    if handoff.delivery_team_id is None:
        # Linked since the deal was won (team_link, admin): the handoff goes there now.
        handoff.delivery_team_id = (
            Team.objects.filter(pk=handoff.deal.team_id)
            .values_list("default_delivery_team_id", flat=True)
            .first()
        )
        if handoff.delivery_team_id is not None:
            handoff.save(update_fields=["delivery_team"])
    if handoff.delivery_team_id is None:
        raise ValidationError({"delivery_team": [_no_delivery_team_message(handoff)]})
    unchecked = list(
        handoff.checklist.filter(required=True, checked_at__isnull=True).values_list(
            "label", flat=True
        )
    )
    if unchecked:
        raise ValidationError(
            {"checklist": [f"Check these items before submitting: {', '.join(unchecked)}."]}
        )
    if notes_for_delivery is not None:
        handoff.notes_for_delivery = notes_for_delivery.strip()
    now = timezone.now()
    handoff.package = package_build(
        deal=handoff.deal, notes_for_delivery=handoff.notes_for_delivery
    )
    handoff.package_version = PACKAGE_VERSION
    handoff.snapshot_at = now
    handoff.submitted_at = now
    handoff.sla_due_at = now + dt.timedelta(hours=sla_hours(handoff.deal))
    handoff.rep_id = handoff.deal.owner_id
    handoff.status = Status.SUBMITTED
    handoff.save()
    record_event(handoff, user=user, from_status=Status.DRAFT)
    # Who was told, for the page to say so (not a field: read right after the call).
    handoff.notify_result = emails.email_handoff_submitted(handoff, actor=user)
    return handoff


def _post_message(
    handoff: Handoff, user: User, kind: str, body: str, to_status: str
) -> HandoffMessage:
    """A question or an answer on the (locked) handoff, which moves to `to_status`."""
    from_status = handoff.status
    message = HandoffMessage.objects.create(handoff=handoff, kind=kind, author=user, body=body)
    handoff.status = to_status
    handoff.save(update_fields=["status", "updated_at"])
    record_event(handoff, user=user, from_status=from_status, note=body)
    return message


@transaction.atomic
def handoff_answer(*, handoff: Handoff, user: User, answer: str) -> Handoff:
    """The rep answers delivery's question; the handoff goes back to its assignee."""
    handoff = lock_handoff(handoff.pk)
    _require(is_deal_rep(user, handoff), "Only the deal's rep answers delivery's questions.")
    require_status(handoff, (Status.NEEDS_INFO,), "answer")
    body = required_text(answer, "answer", "Write the answer for delivery.")
    message = _post_message(handoff, user, HandoffMessage.Kind.ANSWER, body, Status.CLAIMED)
    handoff.notify_result = emails.email_question_answered(handoff, message)
    return handoff


# --- the delivery side -----------------------------------------------------------------


@transaction.atomic
def handoff_claim(*, handoff: Handoff, user: User) -> Handoff:
    """A member of the handoff's delivery team takes it on."""
    handoff = lock_handoff(handoff.pk)
    _require(
        is_delivery_member(user, handoff),
        "Only a member of the handoff's delivery team can claim it.",
    )
    require_status(handoff, (Status.SUBMITTED,), "claim")
    handoff.status = Status.CLAIMED
    handoff.assignee = user
    handoff.claimed_at = timezone.now()
    handoff.save(update_fields=["status", "assignee", "claimed_at", "updated_at"])
    record_event(handoff, user=user, from_status=Status.SUBMITTED)
    return handoff


@transaction.atomic
def handoff_ask(*, handoff: Handoff, user: User, question: str) -> Handoff:
    """The assignee sends a question back to the rep (→ needs_info)."""
    handoff = lock_handoff(handoff.pk)
    _require(is_assignee(user, handoff), "Only the delivery member who claimed it can ask.")
    require_status(handoff, (Status.CLAIMED,), "ask about")
    body = required_text(question, "question", "Write the question for the rep.")
    message = _post_message(handoff, user, HandoffMessage.Kind.QUESTION, body, Status.NEEDS_INFO)
    handoff.notify_result = emails.email_question_asked(handoff, message)
    return handoff


@transaction.atomic
def handoff_accept(*, handoff: Handoff, user: User) -> Handoff:
    """The assignee accepts: delivery now owns the customer and the open promises, and
    check-ins are scheduled 30, 90 and 180 days out."""
    handoff = lock_handoff(handoff.pk)
    _require(is_assignee(user, handoff), "Only the delivery member who claimed it can accept.")
    require_status(handoff, (Status.CLAIMED,), "accept")
    now = timezone.now()
    handoff.status = Status.ACCEPTED
    handoff.accepted_at = now
    handoff.save(update_fields=["status", "accepted_at", "updated_at"])
    # Saved one by one (a handful per deal) so the commitments' history records the new owner.
    for commitment in Commitment.objects.filter(deal_id=handoff.deal_id, status="open"):
        commitment.owner = user
        commitment.save(update_fields=["owner", "updated_at"])
    accepted_on = timezone.localdate(now)
    for offset in CHECK_IN_OFFSETS_DAYS:
        CheckIn.objects.get_or_create(
            handoff=handoff,
            day_offset=offset,
            defaults={"due_date": accepted_on + dt.timedelta(days=offset)},
        )
    record_event(handoff, user=user, from_status=Status.CLAIMED)
    return handoff


@transaction.atomic
def handoff_reassign_delivery_team(
    *, handoff: Handoff, user: User, delivery_team: Team | None
) -> Handoff:
    """An admin moves the handoff to another delivery team. If its assignee is not in the
    new team, it goes back to the new team's queue (submitted) to be claimed there."""
    _require(may_reassign_delivery_team(user), "Only an admin reassigns a handoff's delivery team.")
    if delivery_team is not None and delivery_team.kind != Team.Kind.DELIVERY:
        raise ValidationError({"delivery_team": ["Choose a delivery team."]})
    handoff = lock_handoff(handoff.pk)
    if handoff.delivery_team_id == (delivery_team.pk if delivery_team else None):
        return handoff
    from_status = handoff.status
    before = handoff.delivery_team
    handoff.delivery_team = delivery_team
    if (
        handoff.status in (Status.CLAIMED, Status.NEEDS_INFO)
        and handoff.assignee_id
        and not (
            delivery_team is not None
            and delivery_team.members.filter(pk=handoff.assignee_id).exists()
        )
    ):
        handoff.status = Status.SUBMITTED
        handoff.assignee = None
        handoff.claimed_at = None
    handoff.save()
    record_event(
        handoff,
        user=user,
        from_status=from_status,
        note=f"Delivery team changed from {before or 'none'} to {delivery_team or 'none'}.",
    )
    return handoff
