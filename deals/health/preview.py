"""What a stage change would raise, before it is made: the same rules on the same facts
with the stage swapped, and nothing stored.

`health_preview` answers the health API's `?preview=STAGE` and the deal page's
"before you move" panel; `close_concerns` is what closing as won asks the rep to confirm
(DESIGN.md "Deal health": open required buyer milestones, an important need nothing
serves, nothing disclosed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from deals.models import Deal, Flag, HealthPolicy

from .catalog import (
    BUYER_UNDISCLOSED,
    BUYER_UNMET_NEED,
    PRESSURE_PREMATURE_CLOSE,
    flag_label,
    flag_sort_key,
)
from .facts import DealFacts, load_facts_for_deal
from .policy import policies_for_deal
from .rules import FlagResult, evaluate
from .scoring import Scores, score


@dataclass(slots=True)
class Preview:
    deal_id: int
    stage: str
    scores: Scores
    flags: list[Flag]  # unsaved rows, so pages and serializers read them like stored ones
    new_codes: list[str]  # raised by the move (not active on the deal now)
    concerns: list[Concern]


@dataclass(slots=True, frozen=True)
class Concern:
    """One reason closing as won asks for a confirmation."""

    code: str
    label: str
    message: str


def _swapped(facts: DealFacts, stage: str, now: dt.datetime) -> DealFacts:
    # A moved deal enters its new stage now: STAGE_STALLED must not fire on the move.
    changed_at = facts.deal.stage_changed_at if stage == facts.deal.stage else now
    row = dataclasses.replace(facts.deal, stage=stage, stage_changed_at=changed_at)
    return dataclasses.replace(facts, deal=row)


def _as_flag(result: FlagResult, deal_id: int) -> Flag:
    return Flag(
        deal_id=deal_id,
        code=result.code,
        side=result.side,
        severity=result.severity,
        message=result.message,
        evidence=result.evidence,
        status=Flag.Status.OPEN,
    )


def concerns_for(facts: DealFacts, results: Iterable[FlagResult]) -> list[Concern]:
    """What closing as won (with these rules' results for the closed deal) must confirm."""
    concerns = []
    open_required = [m for m in facts.milestones if m.required_for_decision and not m.completed_at]
    if open_required:
        titles = ", ".join(f"“{m.title}”" for m in open_required)
        concerns.append(
            Concern(
                PRESSURE_PREMATURE_CLOSE,
                flag_label(PRESSURE_PREMATURE_CLOSE),
                f"The buyer's required milestone {titles} is still open.",
            )
        )
    for result in results:
        if result.code == BUYER_UNMET_NEED:
            needs = ", ".join(
                f"“{n['statement']}” ({n['importance']}/5)" for n in result.evidence["needs"]
            )
            concerns.append(
                Concern(
                    result.code, flag_label(result.code), f"Nothing in the proposal serves {needs}."
                )
            )
        elif result.code == BUYER_UNDISCLOSED:
            concerns.append(
                Concern(
                    result.code,
                    flag_label(result.code),
                    "No limitation, risk or cheaper alternative has been disclosed to the buyer.",
                )
            )
    return concerns


def preview_facts(
    facts: DealFacts,
    stage: str,
    *,
    active_codes: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> Preview:
    now = now or timezone.now()
    swapped = _swapped(facts, stage, now)
    results = evaluate(swapped, now)
    active = set(active_codes)
    flags = sorted((_as_flag(r, facts.deal.id) for r in results), key=flag_sort_key)
    return Preview(
        deal_id=facts.deal.id,
        stage=stage,
        scores=score(results, swapped.policy),
        flags=flags,
        new_codes=[f.code for f in flags if f.code not in active],
        concerns=concerns_for(swapped, results) if stage == Deal.Stage.CLOSED_WON else [],
    )


def health_preview(
    *,
    deal_id: int,
    stages: Iterable[str],
    policy: HealthPolicy | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Preview]:
    """Previews of moving the deal to each of `stages`, from one load of its facts (one
    statement on PostgreSQL, without locking the deal: nothing is written)."""
    if connection.vendor == "postgresql":
        from .facts_sql import load_batch_sql

        policies: dict[int | None, HealthPolicy] = (
            {None: policy} if policy is not None else policies_for_deal(deal_id)
        )
        batch = load_batch_sql([deal_id], policies, skip_locked=False, lock=False)
        facts = batch.facts.get(deal_id)
        active = set(batch.flags.get(deal_id, {}))
    else:
        facts = load_facts_for_deal(deal_id, policy)
        active = set(
            Flag.objects.filter(deal_id=deal_id, status__in=Flag.ACTIVE_STATUSES).values_list(
                "code", flat=True
            )
        )
    if facts is None:
        return {}
    return {stage: preview_facts(facts, stage, active_codes=active, now=now) for stage in stages}


def close_concerns(*, deal_id: int) -> list[Concern]:
    """What closing this deal as won asks the rep to confirm (empty: nothing to confirm)."""
    previews = health_preview(deal_id=deal_id, stages=[Deal.Stage.CLOSED_WON])
    preview = previews.get(Deal.Stage.CLOSED_WON)
    return preview.concerns if preview else []
