"""Buyer-side rules: oversell, unmet needs, no discovery, nothing disclosed, overdue commitments."""

from __future__ import annotations

import datetime as dt

from deals.health.catalog import (
    BUYER_NO_DISCOVERY,
    BUYER_OVERSELL,
    BUYER_UNDISCLOSED,
    BUYER_UNMET_NEED,
    COMMITMENT_OVERDUE,
)
from deals.health.facts import DealFacts
from deals.health.rules.base import (
    NEGOTIATION,
    PROPOSAL,
    TRANSPARENCY_KINDS,
    FlagResult,
    iso_date,
    local_date,
    quoted,
)
from deals.models import Deal, HealthPolicy, Severity


def buyer_oversell(facts: DealFacts, policy: HealthPolicy, now: dt.datetime) -> FlagResult | None:
    """A proposal item that serves none of the buyer's recorded needs (an import's
    "Imported value" item is not a proposal: it only carries the old CRM's amount)."""
    unneeded = [item for item in facts.line_items if not item.need_ids and not item.imported]
    if not unneeded:
        return None
    return FlagResult(
        BUYER_OVERSELL,
        Severity.WARNING,
        f"{quoted([i.name for i in unneeded])} serves no need the buyer told you about; link "
        "it to a need or take it out of the proposal.",
        {"line_items": [{"id": i.id, "name": i.name} for i in unneeded]},
    )


def buyer_unmet_need(facts: DealFacts, policy: HealthPolicy, now: dt.datetime) -> FlagResult | None:
    """An important need that nothing in the proposal serves."""
    if facts.deal.stage_index < PROPOSAL:
        return None
    served = {need_id for item in facts.line_items for need_id in item.need_ids}
    unmet = [
        n
        for n in facts.needs
        if n.importance >= policy.unmet_need_min_importance and n.id not in served
    ]
    if not unmet:
        return None
    return FlagResult(
        BUYER_UNMET_NEED,
        Severity.WARNING,
        f"The buyer rated {quoted([n.statement[:60] for n in unmet])} as important and nothing "
        "in the proposal serves it; add an item for it or tell them openly you cannot.",
        {
            "needs": [
                {"id": n.id, "statement": n.statement, "importance": n.importance} for n in unmet
            ],
            "min_importance": policy.unmet_need_min_importance,
        },
    )


def buyer_no_discovery(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """A proposal made without learning what the buyer needs. A deal closed before it
    was imported had its discovery in the old CRM, which kept no record of it here."""
    if facts.deal.stage_index < PROPOSAL:
        return None
    if facts.deal.imported_from and not facts.deal.is_open:
        return None
    calls = len(facts.discovery_call_ids)
    # The buyer's own confirmation (buyer room) counts first; the rep's tick otherwise.
    by_buyer = [n.id for n in facts.needs if n.confirmed_by_buyer_at is not None]
    confirmed = by_buyer or [n.id for n in facts.needs if n.confirmed_by_buyer]
    if calls and confirmed:
        return None
    missing = "a discovery call" if not calls else "a need the buyer confirmed"
    return FlagResult(
        BUYER_NO_DISCOVERY,
        Severity.WARNING,
        f"The deal is at {facts.deal.stage.replace('_', ' ')} without {missing}; hold a "
        "discovery call and record the needs in the buyer's own words.",
        {
            "stage": facts.deal.stage,
            "discovery_call_count": calls,
            "confirmed_need_ids": confirmed,
            "confirmed_by": ("buyer" if by_buyer else "rep") if confirmed else None,
        },
    )


def buyer_undisclosed(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """Negotiating without having told the buyer any limitation, risk or alternative."""
    if facts.deal.stage_index < NEGOTIATION:
        return None
    if any(d.kind in TRANSPARENCY_KINDS for d in facts.disclosures):
        return None
    return FlagResult(
        BUYER_UNDISCLOSED,
        Severity.WARNING,
        "Nothing has been disclosed to the buyer; record the limitations, risks or cheaper "
        "alternatives you told them about before they decide.",
        {"stage": facts.deal.stage, "disclosure_ids": [d.id for d in facts.disclosures]},
    )


def commitment_overdue(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """A promise to the buyer past its due date and still open, or marked missed at a
    check-in and not kept since."""
    if facts.deal.stage == Deal.Stage.CLOSED_LOST:
        return None
    today = local_date(now)
    late = [
        c
        for c in facts.commitments
        if c.status == "open" and (c.missed or (c.due_date and c.due_date < today))
    ]
    if not late:
        return None
    missed = [c for c in late if c.missed]
    message = (
        f"Promise {quoted([c.description for c in missed])} was missed at a check-in; keep it "
        "and mark it done, or tell the buyer now when it will happen."
        if missed
        else f"Promise {quoted([c.description for c in late])} is past its due date; keep it "
        "or tell the buyer now when it will happen."
    )
    return FlagResult(
        COMMITMENT_OVERDUE,
        Severity.WARNING,
        message,
        {
            "commitments": [
                {
                    "id": c.id,
                    "description": c.description,
                    "due_date": iso_date(c.due_date),
                    # Only when true, so the evidence of flags raised before is unchanged.
                    **({"missed_at_check_in": True} if c.missed else {}),
                }
                for c in late
            ]
        },
    )
