"""Simulated outcomes of the demo's closed deals (check-ins, promises, the flags they
closed with).

The demo's check-in outcomes and the flags its closed deals carried at their close are
SIMULATED here, so the calibration page has something real to compute: a seeded random
process per deal (its own Random, so the rest of the demo does not move) in which the
way a deal was sold makes a poor outcome more likely, never certain.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Q

from deals import pricing
from deals.models import Commitment, Deal, Flag, Need
from handoff.models import CheckIn

from .cohort import COHORT_PRESSURE_CODE, cohort_number, cohort_traits
from .vocabulary import (
    BULK_BATCH_SIZE,
    CHECK_IN_NOTES,
    DEMO_PREFIX,
    GOOD_VALUE_WEIGHTS,
    POOR_VALUE_WEIGHTS,
    _weighted,
)

# Chance that pressure (one PRESSURE_* code, drawn) was on a deal in its last weeks.
OUTCOME_PRESSURE_RATES: dict[str, float] = {
    Deal.Stage.CLOSED_WON: 0.10,
    Deal.Stage.CLOSED_LOST: 0.24,
}
# Closed-lost deals are not swept, so the flags they closed with are drawn at these rates
# (somewhat above the won deals' own rates: these ways of selling lose more deals).
OUTCOME_LOST_FLAG_RATES = {
    "BUYER_OVERSELL": 0.11,
    "BUYER_UNMET_NEED": 0.10,
    "BUYER_NO_DISCOVERY": 0.06,
    "BUYER_UNDISCLOSED": 0.18,
    "SELLER_DISCOUNT_OVER_POLICY": 0.12,
    "SELLER_MARGIN_BELOW_FLOOR": 0.07,
    "SELLER_UNTRADED_PRICE_CUT": 0.09,
}
# Flags that arise only after the close: left as the health engine raised them.
OUTCOME_AFTER_CLOSE_CODES = frozenset(
    {"HANDOFF_OVERDUE", "HANDOFF_LEAK", "COMMITMENT_OVERDUE", "RELATIONSHIP_STALE"}
)
# Chance of a poor check-in (customer value 3 or less): a base, plus per way of selling.
OUTCOME_POOR_BASE = 0.12
OUTCOME_POOR_RISK = {
    "pressure": 0.30,
    "BUYER_OVERSELL": 0.30,
    "BUYER_UNMET_NEED": 0.25,
    "BUYER_NO_DISCOVERY": 0.15,
    "BUYER_UNDISCLOSED": 0.10,
}
# Chance the account is not profitable for the seller: a base, plus per way of pricing.
OUTCOME_AT_RISK_BASE = 0.07
OUTCOME_AT_RISK_RISK = {
    "SELLER_DISCOUNT_OVER_POLICY": 0.25,
    "SELLER_MARGIN_BELOW_FLOOR": 0.35,
    "SELLER_UNTRADED_PRICE_CUT": 0.15,
}
OUTCOME_DEALS_PER_BATCH = 5000  # bounds memory: a batch holds its flags and check-ins


def _outcome_flag(deal_id: int, code: str, closed_at: dt.datetime, rng: random.Random) -> Flag:
    from deals.health.rules import SIDE_OF

    first = closed_at - dt.timedelta(days=rng.uniform(2, 25))
    return Flag(
        deal_id=deal_id,
        code=code,
        side=SIDE_OF.get(code, "buyer"),
        severity="warning",
        message="Simulated by the demo: active while the deal was sold.",
        evidence={"simulated": True},
        status=Flag.Status.RESOLVED,
        first_seen_at=first,
        last_seen_at=closed_at,
        resolved_at=closed_at,
    )


def _check_in_draw(rng: random.Random, *, poor_p: float, at_risk_p: float, needs: int):
    """One check-in: a value per need sold, the account health and referrals."""
    poor = rng.random() < poor_p
    values = [
        _weighted(rng, POOR_VALUE_WEIGHTS) if poor else _weighted(rng, GOOD_VALUE_WEIGHTS)
        for _ in range(max(needs, 1))
    ]
    mean = Decimal(sum(values)) / len(values)
    if rng.random() < at_risk_p:
        health = "churned" if poor and mean < 2 and rng.random() < 0.4 else "at_risk"
    else:
        health = "profitable"
    referrals = rng.choice((0, 0, 1, 1, 2)) if not poor and health == "profitable" else 0
    return values if needs else [], pricing.money(mean), health, referrals


def outcomes_simulate(deal_ids: list[int], *, seed: int) -> str:
    """Simulate how the generated closed deals turned out (after their health is computed).

    For each closed deal: the flags the engine raised from its data are dated back to
    while it was open, pressure is drawn (OUTCOME_PRESSURE_RATES), and closed-lost deals
    draw the flags they closed with. For each recorded check-in of a won deal: the value
    per need sold, account health, referrals and every promise kept / missed / not yet
    due, where pressure, overselling and unmet needs raise the chance of a poor value and
    discounts and thin margins the chance of an unprofitable account. A missed promise
    reopens its commitment (as handoff.services.check_in_record does), so those deals are
    recomputed and carry COMMITMENT_OVERDUE.
    """
    from deals.health import PRESSURE_CODES
    from handoff.models import CheckInNeedValue, CheckInPromise

    # The generated deals and the past customers (cohort.py); the stories keep their own.
    generated = Q(external_id__startswith=f"{DEMO_PREFIX}{seed}:d") | Q(
        external_id__startswith=f"{DEMO_PREFIX}{seed}:c"
    )
    closed = list(
        Deal.objects.filter(
            generated,
            pk__in=deal_ids,
            stage__in=Deal.CLOSED_STAGES,
            closed_at__isnull=False,
        )
        .order_by("pk")
        .values_list("pk", "external_id", "stage", "closed_at")
    )
    written = {"flags": 0, "check_ins": 0, "missed": 0}
    reopened: set[int] = set()
    for start in range(0, len(closed), OUTCOME_DEALS_PER_BATCH):
        batch = closed[start : start + OUTCOME_DEALS_PER_BATCH]
        ids = [row[0] for row in batch]
        active = defaultdict(list)
        for flag in Flag.objects.filter(deal_id__in=ids, status__in=Flag.ACTIVE_STATUSES).only(
            "id", "deal_id", "code", "first_seen_at"
        ):
            active[flag.deal_id].append(flag)
        check_ins = defaultdict(list)
        for check_in in (
            CheckIn.objects.filter(handoff__deal_id__in=ids, completed_at__isnull=False)
            .select_related("handoff")
            .order_by("day_offset")
        ):
            check_ins[check_in.handoff.deal_id].append(check_in)
        needs = defaultdict(list)
        for deal_id, need_id in (
            Need.objects.filter(deal_id__in=ids, line_items__isnull=False)
            .values_list("deal_id", "id")
            .distinct()
            .order_by("deal_id", "id")
        ):
            needs[deal_id].append(need_id)
        commitments = defaultdict(list)
        for commitment in Commitment.objects.filter(deal_id__in=ids).order_by("id"):
            commitments[commitment.deal_id].append(commitment)

        backdated, new_flags, changed_check_ins = [], [], []
        need_values, verdicts, changed_commitments = [], [], {}
        for deal_id, external_id, stage, closed_at in batch:
            assert closed_at is not None  # the query keeps closed deals with a close time
            rng = random.Random(f"{seed}:o:{external_id}")
            traits = set()
            for flag in active[deal_id]:
                if flag.code in OUTCOME_AFTER_CLOSE_CODES:
                    continue
                flag.first_seen_at = closed_at - dt.timedelta(days=rng.uniform(3, 45))
                backdated.append(flag)
                traits.add(flag.code)
            n = cohort_number(external_id)
            pressed = rng.random() < OUTCOME_PRESSURE_RATES[stage]
            if n is not None:
                pressed = cohort_traits(n).pressure
            if pressed:
                code = rng.choice(PRESSURE_CODES) if n is None else COHORT_PRESSURE_CODE
                new_flags.append(_outcome_flag(deal_id, code, closed_at, rng))
                traits.add("pressure")
            if stage == Deal.Stage.CLOSED_LOST:
                for code, rate in OUTCOME_LOST_FLAG_RATES.items():
                    if rng.random() < rate:
                        new_flags.append(_outcome_flag(deal_id, code, closed_at, rng))
                continue
            poor_p = min(0.9, OUTCOME_POOR_BASE + sum(OUTCOME_POOR_RISK.get(t, 0) for t in traits))
            at_risk_p = min(
                0.9, OUTCOME_AT_RISK_BASE + sum(OUTCOME_AT_RISK_RISK.get(t, 0) for t in traits)
            )
            keep_p = (
                0.92
                - (0.35 if "pressure" in traits else 0)
                - (0.15 if "BUYER_OVERSELL" in traits else 0)
            )
            for check_in in check_ins[deal_id]:
                values, mean, health, referrals = _check_in_draw(
                    rng, poor_p=poor_p, at_risk_p=at_risk_p, needs=len(needs[deal_id])
                )
                check_in.outcome_value = mean if values else Decimal(check_in.customer_value or 3)
                check_in.customer_value = int(
                    check_in.outcome_value.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
                )
                check_in.account_health = health
                check_in.referrals = referrals
                check_in.notes = CHECK_IN_NOTES[check_in.customer_value]
                changed_check_ins.append(check_in)
                for need_id, value in zip(needs[deal_id], values, strict=False):
                    need_values.append(
                        CheckInNeedValue(check_in_id=check_in.pk, need_id=need_id, value=value)
                    )
                for commitment in commitments[deal_id]:
                    if commitment.due_date and commitment.due_date > check_in.due_date:
                        verdict = CheckInPromise.Status.NOT_DUE
                    elif rng.random() < keep_p:
                        verdict = CheckInPromise.Status.KEPT
                        if commitment.status != Commitment.Status.DONE:
                            commitment.status = Commitment.Status.DONE
                            commitment.completed_at = check_in.completed_at
                            changed_commitments[commitment.pk] = commitment
                    else:
                        verdict = CheckInPromise.Status.MISSED
                        commitment.status = Commitment.Status.OPEN
                        commitment.completed_at = None
                        changed_commitments[commitment.pk] = commitment
                        written["missed"] += 1
                    verdicts.append(
                        CheckInPromise(
                            check_in_id=check_in.pk, commitment_id=commitment.pk, status=verdict
                        )
                    )
            reopened.update(c.deal_id for c in changed_commitments.values())
        with transaction.atomic():
            Flag.objects.bulk_update(backdated, ["first_seen_at"], batch_size=BULK_BATCH_SIZE)
            Flag.objects.bulk_create(new_flags, batch_size=BULK_BATCH_SIZE)
            CheckIn.objects.bulk_update(
                changed_check_ins,
                ["customer_value", "outcome_value", "account_health", "referrals", "notes"],
                batch_size=BULK_BATCH_SIZE,
            )
            CheckInNeedValue.objects.bulk_create(
                need_values, batch_size=BULK_BATCH_SIZE, ignore_conflicts=True
            )
            CheckInPromise.objects.bulk_create(
                verdicts, batch_size=BULK_BATCH_SIZE, ignore_conflicts=True
            )
            # Written without history rows, like the rest of the generated data.
            Commitment.objects.bulk_update(
                list(changed_commitments.values()),
                ["status", "completed_at"],
                batch_size=BULK_BATCH_SIZE,
            )
        written["flags"] += len(new_flags) + len(backdated)
        written["check_ins"] += len(changed_check_ins)
    import deals.health as health

    for deal_id in sorted(reopened):
        health.health_recompute(deal_id=deal_id)
    return (
        f"simulated outcomes: {written['check_ins']:,} check-ins, {written['missed']:,} missed "
        f"promises, {written['flags']:,} flags dated to the close; {len(reopened):,} deals "
        "recomputed"
    )
