"""Relationship rules after contact and after the close: stale, handoff overdue or leaking,
the buyer's reported pressure, and a stage stalled past the policy's days."""

from __future__ import annotations

import datetime as dt

from deals.health.catalog import (
    BUYER_REPORTED_PRESSURE,
    HANDOFF_LEAK,
    HANDOFF_OVERDUE,
    RELATIONSHIP_STALE,
    STAGE_STALLED,
)
from deals.health.facts import DealFacts, PulseFact
from deals.health.rules.base import FlagResult, iso_date
from deals.models import DEFAULT_STAGE_STALLED_DAYS, Deal, HealthPolicy, Severity


def relationship_stale(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """The buyer has not reached out for a long time on a deal that is still open."""
    if not facts.deal.is_open:
        return None
    last = next(
        (
            a
            for a in facts.activities
            if a.initiated_by == "buyer" and not a.auto_reply and a.occurred_at <= now
        ),
        None,
    )
    since = last.occurred_at if last else facts.deal.created_at
    if now - since < dt.timedelta(days=policy.stale_days):
        return None
    days = (now - since).days
    heard = "since the deal was opened" if last is None else "for"
    return FlagResult(
        RELATIONSHIP_STALE,
        Severity.WARNING,
        f"No buyer-initiated contact {heard} {days} days; ask whether this is still a priority "
        "for them rather than pushing harder.",
        {
            "last_buyer_activity_id": last.id if last else None,
            "last_buyer_contact_at": iso_date(since),
            "stale_days": policy.stale_days,
        },
    )


def handoff_overdue(facts: DealFacts, policy: HealthPolicy, now: dt.datetime) -> FlagResult | None:
    """Delivery has not picked up a submitted handoff within the SLA."""
    handoff = facts.handoff
    if facts.deal.stage != Deal.Stage.CLOSED_WON or handoff is None:
        return None
    if handoff.status != "submitted" or handoff.claimed_at or not handoff.submitted_at:
        return None
    sla = dt.timedelta(hours=policy.handoff_sla_hours)
    waited = now - handoff.submitted_at
    if waited <= sla:
        return None
    severity = Severity.CRITICAL if waited > 2 * sla else Severity.WARNING
    return FlagResult(
        HANDOFF_OVERDUE,
        severity,
        f"The handoff has waited {int(waited.total_seconds() // 3600)} hours for delivery to "
        f"claim it (SLA {policy.handoff_sla_hours} h); ask the delivery team to pick it up so "
        "the customer is not left waiting.",
        {
            "handoff_id": handoff.id,
            "submitted_at": iso_date(handoff.submitted_at),
            "sla_hours": policy.handoff_sla_hours,
        },
    )


def handoff_leak(facts: DealFacts, policy: HealthPolicy, now: dt.datetime) -> FlagResult | None:
    """The customer still brings support requests to the rep after delivery took over."""
    handoff = facts.handoff
    if facts.deal.stage != Deal.Stage.CLOSED_WON or handoff is None or not handoff.accepted_at:
        return None
    leaks = [
        a
        for a in facts.activities
        if a.kind == "support" and a.initiated_by == "buyer" and a.occurred_at > handoff.accepted_at
    ]
    if not leaks:
        return None
    return FlagResult(
        HANDOFF_LEAK,
        Severity.WARNING,
        f"The customer came back to the rep with {len(leaks)} support request(s) after the "
        "handoff was accepted; introduce them to their delivery contact and pass it on.",
        {
            "handoff_id": handoff.id,
            "accepted_at": iso_date(handoff.accepted_at),
            "activity_ids": [a.id for a in leaks],
        },
    )


def buyer_reported_pressure(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """The buyer said, in the buyer room's pulse after a meeting, that they felt pushed.

    Each contact's latest answer stands: a later pulse in which they did not feel pushed
    clears theirs. It stands after a won close too (the buyer's word about how the sale
    was made does not expire with it), not on a lost deal.
    """
    if facts.deal.stage == Deal.Stage.CLOSED_LOST:
        return None
    latest: dict[int, PulseFact] = {}
    for pulse in facts.buyer_pulses:  # newest first
        if pulse.answered_at <= now:
            latest.setdefault(pulse.contact_id, pulse)
    pushed = [p for p in latest.values() if p.felt_pushed]
    if not pushed:
        return None
    return FlagResult(
        BUYER_REPORTED_PRESSURE,
        Severity.CRITICAL,
        f"The buyer said they felt pushed after the meeting (answered "
        f"{pushed[0].answered_at:%d %b %Y}); stop pressing, ask what they need to decide "
        "at their own pace, and agree the next step with them.",
        {
            "answers": [
                {
                    "pulse_id": p.id,
                    "contact_id": p.contact_id,
                    "meeting_activity_id": p.meeting_id,
                    "answered_at": iso_date(p.answered_at),
                    "felt_pushed": True,
                    "got_what_needed": p.got_what_needed,
                    "next_step_agreed": p.next_step_agreed,
                }
                for p in pushed
            ]
        },
    )


def stage_stalled(facts: DealFacts, policy: HealthPolicy, now: dt.datetime) -> FlagResult | None:
    """The deal has sat in its open stage longer than the policy allows for that stage."""
    deal = facts.deal
    if not deal.is_open or deal.stage_changed_at is None:
        return None
    limit = stage_days_limit(policy, deal.stage)
    if limit is None:
        return None
    days = (now - deal.stage_changed_at).days
    if days <= limit:
        return None
    stage = Deal.Stage(deal.stage).label.lower()
    return FlagResult(
        STAGE_STALLED,
        Severity.WARNING,
        f"The deal has been in {stage} for {days} days (the policy allows {limit}); ask the "
        "buyer what stands between them and the next step, or move the close date.",
        # The day count grows daily: it lives in the message, the entry date in the evidence.
        {"stage": deal.stage, "since": iso_date(deal.stage_changed_at), "limit_days": limit},
    )


def stage_days_limit(policy: HealthPolicy, stage: str) -> int | None:
    """The policy's days for `stage` (its default when the policy does not name it)."""
    value = (policy.stage_stalled_days or {}).get(stage, DEFAULT_STAGE_STALLED_DAYS.get(stage))
    return int(value) if value is not None else None
