"""Did the sale turn out a win for both? The outcome of one closed-won deal, read from its
check-ins (DESIGN.md "Outcomes and forecast").

A closed-won deal is a **win-win outcome** when the customer value at its 90-day check-in
is at least 4 and the account is profitable. The value of a check-in is its
`outcome_value` (the mean value per need sold, written by handoff.services.check_in_record)
and the promises are its kept / missed / not-yet-due verdicts.

The deal page and the handoff page both call `deal_outcome`; the dashboard's SQL
(deals.dashboard.outcomes) applies the same definition to many deals at once, with
`WIN_WIN_MIN_VALUE`, `OUTCOME_DAY` and `PROFITABLE` from here.

Buyer answers: when the buyer room records the buyer's own check-in answers (models that
reference CheckIn), `_outcome_inputs` is the one place they join the delivery's: add the
buyer's per-need values to `need_values` and their promise verdicts to `verdicts` there,
and every page that shows an outcome follows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from deals.models import Deal, HealthSnapshot

from .models import CheckIn, CheckInPromise, Handoff

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
    need_values: dict[int, int] = field(default_factory=dict)

    @property
    def decided(self) -> bool:
        """Only the 90-day check-in decides the outcome."""
        return self.check_in is not None and self.check_in.day_offset == OUTCOME_DAY

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


def _outcome_inputs(check_in: CheckIn) -> tuple[dict[int, int], dict[int, str]]:
    """Per-need values and promise verdicts of one check-in (prefetched). The buyer room's
    answers join here (see the module docstring)."""
    need_values = {v.need_id: v.value for v in check_in.need_values.all()}
    verdicts = {p.commitment_id: p.status for p in check_in.promises.all()}
    return need_values, verdicts


def deal_outcome(*, deal: Deal, handoff: Handoff | None = None) -> DealOutcome | None:
    """The outcome of a closed-won deal with an accepted handoff; None otherwise.
    Three queries: the check-ins, their need values and promises (prefetched), and the
    closing snapshot."""
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
    recorded = [c for c in check_ins if c.completed_at is not None]
    day_90 = next((c for c in check_ins if c.day_offset == OUTCOME_DAY), None)
    outcome_due = day_90.due_date if day_90 is not None and day_90.completed_at is None else None
    read = (
        day_90
        if day_90 is not None and day_90.completed_at
        else (recorded[-1] if recorded else None)
    )
    balance = closed_balance(deal=deal)
    if read is None:
        return DealOutcome(
            closed_balance=balance, check_in=None, value=None, outcome_due=outcome_due
        )
    need_values, verdicts = _outcome_inputs(read)
    statuses = list(verdicts.values())
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
    )
