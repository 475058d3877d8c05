"""Did the sale turn out a win for both? The outcome of one closed-won deal, read from its
check-ins (DESIGN.md "Outcomes and forecast").

A closed-won deal is a **win-win outcome** when the customer value at its 90-day check-in
is at least 4 and the account is profitable. The value of a check-in is its
`outcome_value` (the mean value per need sold, written by handoff.services.check_in_record)
and the promises are its kept / missed / not-yet-due verdicts.

The deal page and the handoff page both call `deal_outcome`; the dashboard's SQL
(deals.dashboard.outcomes) applies the same definition to many deals at once, with
`WIN_WIN_MIN_VALUE`, `OUTCOME_DAY` and `PROFITABLE` from here.

Buyer answers (DESIGN.md: value per need sold and promises kept, "from delivery or the
buyer"): when the buyer answered a check-in through the buyer room (deals/buyer_room
BuyerCheckInAnswer, BuyerNeedValue, BuyerPromiseAnswer), `_outcome_inputs` joins their
answers to delivery's, and **the buyer's answer wins** where both answered — the design
is silent, and the value is the buyer's to judge, as is whether a promise made to them
was kept:

- value per need sold: the buyer's value (the mean of the buyer contacts who rated it,
  when several answered); delivery's value for a need no buyer rated;
- a promise: kept when every buyer contact who answered it says kept, missed when one
  says not kept (over delivery's kept or "not yet due": the buyer says it is late for
  them); delivery's verdict for a promise no buyer answered;
- the check-in's value: the mean of those per-need values (two decimals), else delivery's
  overall customer value. `check_in_outcome_refresh` stores it as `CheckIn.outcome_value`
  (so the dashboard's SQL reads the same number) and applies the buyer's verdicts to the
  commitments as delivery's are applied: a buyer-reported miss reopens the promise, and
  COMMITMENT_OVERDUE holds it until delivery marks it done (the health facts count a
  buyer's "not kept" as missed at a check-in).

Account health and referrals stay delivery's: a check-in only the buyer answered shows
their value and promises, but the outcome waits for delivery to record the account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from deals.health.queue import health_recompute_on_commit
from deals.models import Commitment, Deal, HealthSnapshot

from .models import CheckIn, CheckInNeedValue, CheckInPromise, Handoff

WIN_WIN_MIN_VALUE = Decimal("4")
OUTCOME_DAY = 90
PROFITABLE = CheckIn.AccountHealth.PROFITABLE

CLOSED_AS = {
    Deal.Balance.WIN_WIN: "Closed win-win",
    Deal.Balance.BUYER_LOSES: "Closed with the buyer losing",
    Deal.Balance.SELLER_LOSES: "Closed with the seller losing",
    Deal.Balance.LOSE_LOSE: "Closed lose-lose",
}


def is_win_win_outcome(*, value: Decimal | None, account_health: str) -> bool:
    return value is not None and value >= WIN_WIN_MIN_VALUE and account_health == PROFITABLE


@dataclass(frozen=True)
class DealOutcome:
    """What the check-ins say about a closed-won deal, beside the verdict it closed with."""

    closed_balance: str  # "" when the deal had no health verdict at its close
    check_in: CheckIn | None  # the check-in read: the 90-day one once recorded, else the latest
    value: Decimal | None
    kept: int = 0
    missed: int = 0
    not_due: int = 0
    account_health: str = ""
    referrals: int = 0  # over every recorded check-in
    outcome_due: dt.date | None = None  # the 90-day check-in's due date while it is open
    need_values: dict[int, Decimal] = field(default_factory=dict)
    buyer_answered: bool = False  # the buyer answered the check-in read, in the buyer room

    @property
    def decided(self) -> bool:
        """Only the 90-day check-in decides the outcome, once delivery recorded it (the
        account health is delivery's to rate)."""
        return (
            self.check_in is not None
            and self.check_in.day_offset == OUTCOME_DAY
            and self.check_in.completed_at is not None
        )

    @property
    def win_win(self) -> bool | None:
        if not self.decided:
            return None
        return is_win_win_outcome(value=self.value, account_health=self.account_health)

    @property
    def promises_due(self) -> int:
        return self.kept + self.missed

    @property
    def summary(self) -> str:
        """ "Closed win-win, 90 days later: value 4.5/5, 3 of 3 promises kept — a win-win
        outcome"."""
        closed = CLOSED_AS.get(self.closed_balance, "Closed won")  # type: ignore[call-overload]
        if self.check_in is None:
            due = (
                f" (the 90-day check-in is due {_day_text(self.outcome_due)})"
                if self.outcome_due
                else ""
            )
            return f"{closed}; no check-in recorded yet{due}."
        parts = [f"value {_value_text(self.value)}/5"]
        if self.promises_due:
            parts.append(f"{self.kept} of {self.promises_due} promises kept")
        elif self.not_due:
            parts.append("no promise due yet")
        head = f"{closed}, {self.check_in.day_offset} days later: {', '.join(parts)}"
        if self.buyer_answered:
            head += " (the buyer's answers)"
        if self.check_in.completed_at is None:
            return f"{head} — the outcome waits for delivery to record the account health"
        if self.win_win:
            return f"{head} — a win-win outcome"
        if self.win_win is False:
            return f"{head} — not a win-win outcome ({self._why_not()})"
        due = f", due {_day_text(self.outcome_due)}" if self.outcome_due else ""
        return f"{head} — the 90-day check-in decides the outcome{due}"

    def _why_not(self) -> str:
        reasons = []
        if self.value is None or self.value < WIN_WIN_MIN_VALUE:
            reasons.append("value below 4")
        if self.account_health != PROFITABLE:
            label = (
                CheckIn.AccountHealth(self.account_health).label.lower()
                if self.account_health
                else "unknown"
            )
            reasons.append(f"account {label}")
        return ", ".join(reasons)


def _value_text(value: Decimal | None) -> str:
    if value is None:
        return "?"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _day_text(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def closed_balance(*, deal: Deal) -> str:
    """The deal's balance on the day it closed: its last health snapshot up to that day
    (the balance today may differ — handoff flags keep scoring a won deal)."""
    if deal.closed_at is None:
        return deal.balance
    from django.utils import timezone

    day = timezone.localdate(deal.closed_at)
    snapshot = (
        HealthSnapshot.objects.filter(deal=deal, day__lte=day)
        .order_by("-day")
        .values("balance")[:1]
    )
    row = next(iter(snapshot), None)
    return row["balance"] if row else deal.balance


@dataclass
class BuyerAnswers:
    """What the buyer contacts answered to one check-in."""

    values: dict[int, list[int]] = field(default_factory=dict)  # need id → their values
    kept: dict[int, bool] = field(default_factory=dict)  # commitment id → all said kept

    def __bool__(self) -> bool:
        return bool(self.values or self.kept)


def buyer_answers(check_in_ids: list[int]) -> dict[int, BuyerAnswers]:
    """The buyer room's answers per check-in: two queries, whatever the number."""
    from deals.buyer_room.models import BuyerNeedValue, BuyerPromiseAnswer

    found: dict[int, BuyerAnswers] = {}
    if not check_in_ids:
        return found
    for check_in_id, need_id, value in BuyerNeedValue.objects.filter(
        answer__check_in_id__in=check_in_ids
    ).values_list("answer__check_in_id", "need_id", "value"):
        found.setdefault(check_in_id, BuyerAnswers()).values.setdefault(need_id, []).append(value)
    for check_in_id, commitment_id, kept in BuyerPromiseAnswer.objects.filter(
        answer__check_in_id__in=check_in_ids
    ).values_list("answer__check_in_id", "commitment_id", "kept"):
        answers = found.setdefault(check_in_id, BuyerAnswers())
        answers.kept[commitment_id] = answers.kept.get(commitment_id, True) and kept
    return found


def _mean(values: Iterable[Decimal | int]) -> Decimal:
    values = list(values)
    return (Decimal(sum(values)) / Decimal(len(values))).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def merge_outcome_inputs(
    need_values: dict[int, int], verdicts: dict[int, str], buyer: BuyerAnswers | None
) -> tuple[dict[int, Decimal], dict[int, str]]:
    """Delivery's per-need values and promise verdicts with the buyer's answers over them
    (the buyer wins; see the module docstring)."""
    merged = {need: Decimal(value) for need, value in need_values.items()}
    verdicts = dict(verdicts)
    if buyer is not None:
        merged.update({need: _mean(values) for need, values in buyer.values.items()})
        for commitment_id, kept in buyer.kept.items():
            verdicts[commitment_id] = (
                CheckInPromise.Status.KEPT if kept else CheckInPromise.Status.MISSED
            )
    return merged, verdicts


def outcome_value_of_inputs(
    need_values: dict[int, Decimal], customer_value: int | None
) -> Decimal | None:
    """The check-in's value: the mean per need sold, else the overall customer value."""
    if need_values:
        return _mean(need_values.values())
    return Decimal(customer_value) if customer_value is not None else None


def _outcome_inputs(
    check_in: CheckIn, buyer: BuyerAnswers | None = None
) -> tuple[dict[int, Decimal], dict[int, str]]:
    """Per-need values and promise verdicts of one check-in (prefetched): delivery's,
    with the buyer room's answers joined over them."""
    need_values = {v.need_id: v.value for v in check_in.need_values.all()}
    verdicts = {p.commitment_id: p.status for p in check_in.promises.all()}
    return merge_outcome_inputs(need_values, verdicts, buyer)


@transaction.atomic
def check_in_outcome_refresh(*, check_in_id: int) -> None:
    """After delivery records a check-in or the buyer answers it: store the value both
    make (`CheckIn.outcome_value`, once delivery recorded the check-in) and apply the
    buyer's promise verdicts to the commitments, as delivery's are applied; then the
    dashboard's outcome rollup counts the deal's new outcome."""
    from deals.dashboard.services import outcomes_rollup_refresh_deal

    _check_in_buyer_outcome_apply(check_in_id=check_in_id)
    deal_id = (
        CheckIn.objects.filter(pk=check_in_id).values_list("handoff__deal_id", flat=True).first()
    )
    if deal_id is not None:
        outcomes_rollup_refresh_deal(deal_id=deal_id)


def _check_in_buyer_outcome_apply(*, check_in_id: int) -> None:
    from .services.check_ins import _apply_promise

    buyer = buyer_answers([check_in_id]).get(check_in_id)
    if not buyer:
        return  # delivery's own record stands as check_in_record wrote it
    check_in = CheckIn.objects.select_related("handoff").get(pk=check_in_id)
    need_values, verdicts = merge_outcome_inputs(
        dict(CheckInNeedValue.objects.filter(check_in=check_in).values_list("need_id", "value")),
        dict(
            CheckInPromise.objects.filter(check_in=check_in).values_list("commitment_id", "status")
        ),
        buyer,
    )
    if check_in.completed_at is not None:
        value = outcome_value_of_inputs(need_values, check_in.customer_value)
        CheckIn.objects.filter(pk=check_in.pk).update(outcome_value=value)
    now = timezone.now()
    for commitment in (
        Commitment.objects.select_for_update()
        .filter(id__in=buyer.kept, deal_id=check_in.handoff.deal_id)
        .order_by("id")
    ):
        _apply_promise(commitment, verdicts[commitment.id], now)
    health_recompute_on_commit(deal_id=check_in.handoff.deal_id)


def deal_outcome(*, deal: Deal, handoff: Handoff | None = None) -> DealOutcome | None:
    """The outcome of a closed-won deal with an accepted handoff; None otherwise.
    Six queries: the check-ins, their need values and promises (prefetched), the buyer's
    need values and promise answers, and the closing snapshot."""
    if deal.stage != Deal.Stage.CLOSED_WON:
        return None
    handoff_id = handoff.pk if handoff is not None else None
    if handoff_id is None:
        handoff_id = Handoff.objects.filter(deal=deal).values_list("pk", flat=True).first()
        if handoff_id is None:
            return None
    check_ins = list(
        CheckIn.objects.filter(handoff_id=handoff_id)
        .prefetch_related("need_values", "promises")
        .order_by("day_offset")
    )
    if not check_ins:
        return None
    buyer = buyer_answers([c.pk for c in check_ins])
    recorded = [c for c in check_ins if c.completed_at is not None]
    # A check-in counts as answered when delivery recorded it or the buyer answered it.
    answered = [c for c in check_ins if c.completed_at is not None or buyer.get(c.pk)]
    day_90 = next((c for c in check_ins if c.day_offset == OUTCOME_DAY), None)
    outcome_due = day_90.due_date if day_90 is not None and day_90.completed_at is None else None
    read = day_90 if day_90 is not None and day_90 in answered else None
    read = read or (answered[-1] if answered else None)
    balance = closed_balance(deal=deal)
    if read is None:
        return DealOutcome(
            closed_balance=balance, check_in=None, value=None, outcome_due=outcome_due
        )
    answers = buyer.get(read.pk)
    need_values, verdicts = _outcome_inputs(read, answers)
    statuses = list(verdicts.values())
    if answers:
        value = outcome_value_of_inputs(need_values, read.customer_value)
    else:
        value = read.outcome_value
        if value is None and read.customer_value is not None:
            value = Decimal(read.customer_value)
    return DealOutcome(
        closed_balance=balance,
        check_in=read,
        value=value,
        kept=statuses.count(CheckInPromise.Status.KEPT),
        missed=statuses.count(CheckInPromise.Status.MISSED),
        not_due=statuses.count(CheckInPromise.Status.NOT_DUE),
        account_health=read.account_health,
        referrals=sum(c.referrals for c in recorded),
        outcome_due=outcome_due,
        need_values=need_values,
        buyer_answered=bool(answers),
    )
