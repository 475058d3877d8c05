"""Check-ins after delivery: the buyer's value per need, kept and missed promises."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from deals.health import health_recompute_on_commit
from deals.models import Commitment, Need
from deals.services import commitment_set_status
from handoff.models import CheckIn, CheckInNeedValue, CheckInPromise, Handoff
from handoff.permissions import is_delivery_member
from handoff.permissions import require as _require
from handoff.services.common import HandoffTransitionError, Status, lock_handoff, require_status
from winwin_crm.accounts.models import User

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
    handoff = lock_handoff(check_in.handoff_id)
    _require(
        is_delivery_member(user, handoff),
        "Only a member of the handoff's delivery team records its check-ins.",
    )
    require_status(handoff, (Status.ACCEPTED,), "record a check-in on")
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
    from handoff.outcomes import check_in_outcome_refresh

    check_in_outcome_refresh(check_in_id=check_in.pk)
    health_recompute_on_commit(deal_id=handoff.deal_id)
    return check_in


@transaction.atomic
def handoff_commitment_set_status(*, commitment: Commitment, user: User, status: str) -> Commitment:
    """Delivery keeps the promises once the handoff is accepted: mark one done (or broken)."""
    handoff = Handoff.objects.filter(deal_id=commitment.deal_id).first()
    if handoff is None:
        raise HandoffTransitionError("This deal has no handoff, so delivery does not own it.")
    handoff = lock_handoff(handoff.pk)
    _require(
        is_delivery_member(user, handoff),
        "Only a member of the handoff's delivery team updates its commitments.",
    )
    require_status(handoff, (Status.ACCEPTED,), "update commitments of")
    if status not in Commitment.Status.values:
        raise ValidationError(
            {"status": [f"Choose one of: {', '.join(Commitment.Status.values)}."]}
        )
    commitment = Commitment.objects.select_for_update().get(pk=commitment.pk)
    commitment = commitment_set_status(commitment=commitment, user=user, status=status)
    health_recompute_on_commit(deal_id=handoff.deal_id)
    return commitment
