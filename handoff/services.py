"""Writes of the handoff workflow: draft → submitted → claimed → (needs_info ↔ claimed) → accepted.

Every transition locks the handoff row (`select_for_update`), re-checks its state under the
lock, records a HandoffEvent and queues a health recompute of the deal (HANDOFF_OVERDUE,
HANDOFF_LEAK and COMMITMENT_OVERDUE depend on it). Refusals:

- the user may not do this → django.core.exceptions.PermissionDenied (API 403),
- the handoff's state does not allow it → HandoffTransitionError (API 409),
- bad input → django.core.exceptions.ValidationError with field errors (API 400).
"""

from __future__ import annotations

import datetime as dt
import shlex
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from deals.health import health_recompute_on_commit
from deals.models import Commitment, Deal, Need
from deals.services import commitment_set_status
from winwin_crm.accounts.models import Team, User

from . import emails
from .checklist import checklist_condition_problem
from .models import (
    CheckIn,
    CheckInNeedValue,
    CheckInPromise,
    ChecklistTemplateItem,
    Handoff,
    HandoffChecklistItem,
    HandoffEvent,
    HandoffMessage,
)
from .package import PACKAGE_VERSION, package_build
from .permissions import is_assignee, is_deal_rep, is_delivery_member, may_reassign_delivery_team
from .permissions import require as _require

Status = Handoff.Status

CHECK_IN_OFFSETS_DAYS = (30, 90, 180)

# (key, label, required) — used when no ChecklistTemplateItem is configured.
DEFAULT_CHECKLIST = (
    ("kickoff_contact_confirmed", "Kickoff contact confirmed", True),
    ("needs_reviewed_with_buyer", "Needs reviewed with buyer", True),
    ("commitments_listed", "Commitments listed", True),
    ("limitations_disclosed", "Limitations disclosed", True),
    ("success_criteria_agreed", "Success criteria agreed", True),
)


class HandoffTransitionError(Exception):
    """The handoff's current state does not allow this action (answered 409)."""


# --- helpers ---------------------------------------------------------------------------


def _lock(handoff_id: int) -> Handoff:
    # of=("self",): lock only the handoff row; PostgreSQL refuses FOR UPDATE on the
    # nullable side of the outer joins select_related adds for the optional foreign keys.
    return (
        Handoff.objects.select_for_update(of=("self",))
        .select_related("deal", "deal__prospect", "deal__team", "rep", "delivery_team", "assignee")
        .get(pk=handoff_id)
    )


def _require_status(handoff: Handoff, allowed: tuple[str, ...], action: str) -> None:
    if handoff.status not in allowed:
        wanted = " or ".join(Status(s).label.lower() for s in allowed)
        raise HandoffTransitionError(
            f"Cannot {action} this handoff: it is {handoff.get_status_display().lower()}, "
            f"and only a {wanted} handoff can be {_past(action)}."
        )


def _past(action: str) -> str:
    return {
        "submit": "submitted",
        "claim": "claimed",
        "ask about": "asked about",
        "answer": "answered",
        "accept": "accepted",
        "change the checklist of": "changed",
        "edit the notes of": "edited",
        "record a check-in on": "checked in on",
        "update commitments of": "updated",
    }.get(action, action)


def _record(
    handoff: Handoff, *, user: User | None, from_status: str, note: str = ""
) -> HandoffEvent:
    health_recompute_on_commit(deal_id=handoff.deal_id)
    return HandoffEvent.objects.create(
        handoff=handoff,
        from_status=from_status,
        to_status=handoff.status,
        actor=user if getattr(user, "is_authenticated", False) else None,
        note=note,
        at=timezone.now(),
    )


def _sla_hours(deal: Deal) -> int:
    """The deal team's policy's handoff SLA (the global policy, else 48 hours)."""
    from deals.health import policy_for_team

    return policy_for_team(deal.team).handoff_sla_hours


def _required_text(value: str | None, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: [message]})
    return text


# --- creation --------------------------------------------------------------------------


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
                _record(handoff, user=user, from_status="")
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
    handoff = _lock(item.handoff_id)
    _require(is_deal_rep(user, handoff), "Only the deal's rep completes the handoff checklist.")
    _require_status(handoff, (Status.DRAFT,), "change the checklist of")
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
    handoff = _lock(handoff.pk)
    _require(is_deal_rep(user, handoff), "Only the deal's rep writes the notes for delivery.")
    _require_status(handoff, (Status.DRAFT,), "edit the notes of")
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
    handoff = _lock(handoff.pk)
    _require(is_deal_rep(user, handoff), "Only the deal's rep can submit its handoff.")
    _require_status(handoff, (Status.DRAFT,), "submit")
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
    handoff.sla_due_at = now + dt.timedelta(hours=_sla_hours(handoff.deal))
    handoff.rep_id = handoff.deal.owner_id
    handoff.status = Status.SUBMITTED
    handoff.save()
    _record(handoff, user=user, from_status=Status.DRAFT)
    # Who was told, for the page to say so (not a field: read right after the call).
    handoff.notify_result = emails.email_handoff_submitted(handoff, actor=user)
    return handoff


@transaction.atomic
def handoff_answer(*, handoff: Handoff, user: User, answer: str) -> Handoff:
    """The rep answers delivery's question; the handoff goes back to its assignee."""
    handoff = _lock(handoff.pk)
    _require(is_deal_rep(user, handoff), "Only the deal's rep answers delivery's questions.")
    _require_status(handoff, (Status.NEEDS_INFO,), "answer")
    body = _required_text(answer, "answer", "Write the answer for delivery.")
    message = HandoffMessage.objects.create(
        handoff=handoff, kind=HandoffMessage.Kind.ANSWER, author=user, body=body
    )
    handoff.status = Status.CLAIMED
    handoff.save(update_fields=["status", "updated_at"])
    _record(handoff, user=user, from_status=Status.NEEDS_INFO, note=body)
    handoff.notify_result = emails.email_question_answered(handoff, message)
    return handoff


# --- the delivery side -----------------------------------------------------------------


@transaction.atomic
def handoff_claim(*, handoff: Handoff, user: User) -> Handoff:
    """A member of the handoff's delivery team takes it on."""
    handoff = _lock(handoff.pk)
    _require(
        is_delivery_member(user, handoff),
        "Only a member of the handoff's delivery team can claim it.",
    )
    _require_status(handoff, (Status.SUBMITTED,), "claim")
    handoff.status = Status.CLAIMED
    handoff.assignee = user
    handoff.claimed_at = timezone.now()
    handoff.save(update_fields=["status", "assignee", "claimed_at", "updated_at"])
    _record(handoff, user=user, from_status=Status.SUBMITTED)
    return handoff


@transaction.atomic
def handoff_ask(*, handoff: Handoff, user: User, question: str) -> Handoff:
    """The assignee sends a question back to the rep (→ needs_info)."""
    handoff = _lock(handoff.pk)
    _require(is_assignee(user, handoff), "Only the delivery member who claimed it can ask.")
    _require_status(handoff, (Status.CLAIMED,), "ask about")
    body = _required_text(question, "question", "Write the question for the rep.")
    message = HandoffMessage.objects.create(
        handoff=handoff, kind=HandoffMessage.Kind.QUESTION, author=user, body=body
    )
    handoff.status = Status.NEEDS_INFO
    handoff.save(update_fields=["status", "updated_at"])
    _record(handoff, user=user, from_status=Status.CLAIMED, note=body)
    handoff.notify_result = emails.email_question_asked(handoff, message)
    return handoff


@transaction.atomic
def handoff_accept(*, handoff: Handoff, user: User) -> Handoff:
    """The assignee accepts: delivery now owns the customer and the open promises, and
    check-ins are scheduled 30, 90 and 180 days out."""
    handoff = _lock(handoff.pk)
    _require(is_assignee(user, handoff), "Only the delivery member who claimed it can accept.")
    _require_status(handoff, (Status.CLAIMED,), "accept")
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
    _record(handoff, user=user, from_status=Status.CLAIMED)
    return handoff


CHECK_IN_NEEDS_LIMIT = 200  # a deal has a handful; the cap keeps one request bounded
PromiseStatus = CheckInPromise.Status


def outcome_value_of(*, need_values: list[int], customer_value: int | None) -> Decimal | None:
    """The check-in's value as the outcome reads it: the mean value per need sold, two
    decimals; the overall customer value when no need was rated."""
    if need_values:
        mean = Decimal(sum(need_values)) / Decimal(len(need_values))
        return mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Decimal(customer_value) if customer_value is not None else None


def _check_in_errors(
    *,
    deal_id: int,
    customer_value: int | str | None,
    account_health: str,
    referrals: int | None,
    need_values: dict[int, int],
    promises: dict[int, str],
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if customer_value is None and not need_values:
        errors["customer_value"] = ["Rate the value the customer gets, from 1 to 5."]
    elif customer_value is not None and (
        not isinstance(customer_value, int) or not 1 <= customer_value <= 5
    ):
        errors["customer_value"] = ["Choose a value from 1 to 5."]
    if account_health not in CheckIn.AccountHealth.values:
        errors["account_health"] = [f"Choose one of: {', '.join(CheckIn.AccountHealth.values)}."]
    if referrals is None or not isinstance(referrals, int) or referrals < 0:
        errors["referrals"] = ["Enter the number of referrals (0 or more)."]
    if len(need_values) > CHECK_IN_NEEDS_LIMIT or len(promises) > CHECK_IN_NEEDS_LIMIT:
        errors["need_values"] = [f"At most {CHECK_IN_NEEDS_LIMIT} needs and promises."]
        return errors
    if any(not isinstance(v, int) or not 1 <= v <= 5 for v in need_values.values()):
        errors["need_values"] = ["Rate each need from 1 to 5."]
    elif set(need_values) - set(Need.objects.filter(deal_id=deal_id).values_list("id", flat=True)):
        errors["need_values"] = ["Rate only needs of this deal."]
    if any(v not in PromiseStatus.values for v in promises.values()):
        errors["promises"] = [f"Mark each promise one of: {', '.join(PromiseStatus.values)}."]
    elif set(promises) - set(
        Commitment.objects.filter(deal_id=deal_id).values_list("id", flat=True)
    ):
        errors["promises"] = ["Mark only promises (commitments) of this deal."]
    return errors


def _apply_promise(commitment: Commitment, verdict: str, now: dt.datetime) -> None:
    """A kept promise is done; a missed one is open again, so COMMITMENT_OVERDUE holds it
    until delivery marks it done (or broken). Saved one by one for the history."""
    if verdict == PromiseStatus.KEPT and commitment.status != Commitment.Status.DONE:
        commitment.status = Commitment.Status.DONE
        commitment.completed_at = now
    elif verdict == PromiseStatus.MISSED and commitment.status != Commitment.Status.OPEN:
        commitment.status = Commitment.Status.OPEN
        commitment.completed_at = None
    else:
        return
    commitment.save(update_fields=["status", "completed_at", "updated_at"])


@transaction.atomic
def check_in_record(
    *,
    check_in: CheckIn,
    user: User,
    customer_value: int | str | None,  # a form's empty string is refused with a message
    account_health: str,
    referrals: int = 0,
    notes: str = "",
    need_values: dict[int, int] | None = None,
    promises: dict[int, str] | None = None,
) -> CheckIn:
    """Delivery records a post-close check-in (recording again corrects it): the value
    per need sold (1–5; the overall value defaults to their mean), each promise kept /
    missed / not yet due, the account health and referrals. A missed promise reopens
    its commitment; a kept one closes it."""
    handoff = _lock(check_in.handoff_id)
    _require(
        is_delivery_member(user, handoff),
        "Only a member of the handoff's delivery team records its check-ins.",
    )
    _require_status(handoff, (Status.ACCEPTED,), "record a check-in on")
    need_values = dict(need_values or {})
    promises = dict(promises or {})
    errors = _check_in_errors(
        deal_id=handoff.deal_id,
        customer_value=customer_value,
        account_health=account_health,
        referrals=referrals,
        need_values=need_values,
        promises=promises,
    )
    if errors:
        raise ValidationError(errors)
    customer_value = customer_value if isinstance(customer_value, int) else None  # checked above
    outcome = outcome_value_of(
        need_values=list(need_values.values()), customer_value=customer_value
    )
    check_in = CheckIn.objects.get(pk=check_in.pk)
    check_in.customer_value = (
        customer_value
        if customer_value is not None
        else int(outcome.quantize(Decimal("1"), rounding=ROUND_HALF_UP))  # type: ignore[union-attr]
    )
    check_in.outcome_value = outcome
    check_in.account_health = account_health
    check_in.referrals = referrals
    check_in.notes = (notes or "").strip()
    check_in.recorded_by = user
    now = timezone.now()
    check_in.completed_at = check_in.completed_at or now
    check_in.full_clean()
    check_in.save()
    if need_values:
        CheckInNeedValue.objects.filter(check_in=check_in).exclude(need_id__in=need_values).delete()
        for need_id, value in need_values.items():
            CheckInNeedValue.objects.update_or_create(
                check_in=check_in, need_id=need_id, defaults={"value": value}
            )
    for commitment in Commitment.objects.select_for_update().filter(id__in=promises).order_by("id"):
        verdict = promises[commitment.id]
        CheckInPromise.objects.update_or_create(
            check_in=check_in, commitment=commitment, defaults={"status": verdict}
        )
        _apply_promise(commitment, verdict, now)
    # The buyer's own answers (buyer room), if any, win over delivery's (handoff/outcomes.py).
    from .outcomes import check_in_outcome_refresh

    check_in_outcome_refresh(check_in_id=check_in.pk)
    health_recompute_on_commit(deal_id=handoff.deal_id)
    return check_in


@transaction.atomic
def handoff_commitment_set_status(*, commitment: Commitment, user: User, status: str) -> Commitment:
    """Delivery keeps the promises once the handoff is accepted: mark one done (or broken)."""
    handoff = Handoff.objects.filter(deal_id=commitment.deal_id).first()
    if handoff is None:
        raise HandoffTransitionError("This deal has no handoff, so delivery does not own it.")
    handoff = _lock(handoff.pk)
    _require(
        is_delivery_member(user, handoff),
        "Only a member of the handoff's delivery team updates its commitments.",
    )
    _require_status(handoff, (Status.ACCEPTED,), "update commitments of")
    if status not in Commitment.Status.values:
        raise ValidationError(
            {"status": [f"Choose one of: {', '.join(Commitment.Status.values)}."]}
        )
    commitment = Commitment.objects.select_for_update().get(pk=commitment.pk)
    commitment = commitment_set_status(commitment=commitment, user=user, status=status)
    health_recompute_on_commit(deal_id=handoff.deal_id)
    return commitment


# --- admin -----------------------------------------------------------------------------


@transaction.atomic
def handoff_reassign_delivery_team(
    *, handoff: Handoff, user: User, delivery_team: Team | None
) -> Handoff:
    """An admin moves the handoff to another delivery team. If its assignee is not in the
    new team, it goes back to the new team's queue (submitted) to be claimed there."""
    _require(may_reassign_delivery_team(user), "Only an admin reassigns a handoff's delivery team.")
    if delivery_team is not None and delivery_team.kind != Team.Kind.DELIVERY:
        raise ValidationError({"delivery_team": ["Choose a delivery team."]})
    handoff = _lock(handoff.pk)
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
    _record(
        handoff,
        user=user,
        from_status=from_status,
        note=f"Delivery team changed from {before or 'none'} to {delivery_team or 'none'}.",
    )
    return handoff
