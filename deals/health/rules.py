"""The health rules of DESIGN.md: one small pure function per flag code.

A rule reads a deal's loaded facts, the policy and `now`, and returns zero or one flag
with a message that names the fix and JSON evidence (ids, dates, phrases, numbers).
Rules never query the database, so the sweep can run them over thousands of deals.

Evidence holds only facts that do not drift with the clock (dates, not "days ago"):
an acknowledged flag stays acknowledged until its evidence changes, and a day count
in the evidence would reopen it every morning. Counts that grow with time go in the
message instead.

Which rules apply when:
- pressure and staleness (PRESSURE_*, RELATIONSHIP_STALE) judge a sale in progress,
  so they apply to open deals only;
- the terms of the deal (BUYER_*, SELLER_*) apply at every stage from the one named;
- HANDOFF_* apply to closed-won deals with a handoff; COMMITMENT_OVERDUE to every deal
  except a lost one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.utils import timezone

from deals import pricing
from deals.models import Deal, HealthPolicy, Severity, Side

from .facts import DealFacts, PulseFact

PRESSURE_PREMATURE_CLOSE = "PRESSURE_PREMATURE_CLOSE"
PRESSURE_CHASING = "PRESSURE_CHASING"
PRESSURE_ESCALATION = "PRESSURE_ESCALATION"
PRESSURE_LANGUAGE = "PRESSURE_LANGUAGE"
PRESSURE_CLOSE_DATE_PULLED = "PRESSURE_CLOSE_DATE_PULLED"
BUYER_OVERSELL = "BUYER_OVERSELL"
BUYER_UNMET_NEED = "BUYER_UNMET_NEED"
BUYER_NO_DISCOVERY = "BUYER_NO_DISCOVERY"
BUYER_UNDISCLOSED = "BUYER_UNDISCLOSED"
SELLER_DISCOUNT_OVER_POLICY = "SELLER_DISCOUNT_OVER_POLICY"
SELLER_MARGIN_BELOW_FLOOR = "SELLER_MARGIN_BELOW_FLOOR"
SELLER_UNTRADED_PRICE_CUT = "SELLER_UNTRADED_PRICE_CUT"
RELATIONSHIP_STALE = "RELATIONSHIP_STALE"
HANDOFF_OVERDUE = "HANDOFF_OVERDUE"
HANDOFF_LEAK = "HANDOFF_LEAK"
COMMITMENT_OVERDUE = "COMMITMENT_OVERDUE"
BUYER_REPORTED_PRESSURE = "BUYER_REPORTED_PRESSURE"

PRESSURE_CODES = (
    PRESSURE_PREMATURE_CLOSE,
    PRESSURE_CHASING,
    PRESSURE_ESCALATION,
    PRESSURE_LANGUAGE,
    PRESSURE_CLOSE_DATE_PULLED,
)
ALL_CODES = (
    *PRESSURE_CODES,
    BUYER_OVERSELL,
    BUYER_UNMET_NEED,
    BUYER_NO_DISCOVERY,
    BUYER_UNDISCLOSED,
    SELLER_DISCOUNT_OVER_POLICY,
    SELLER_MARGIN_BELOW_FLOOR,
    SELLER_UNTRADED_PRICE_CUT,
    RELATIONSHIP_STALE,
    HANDOFF_OVERDUE,
    HANDOFF_LEAK,
    COMMITMENT_OVERDUE,
    BUYER_REPORTED_PRESSURE,
)

SIDE_OF = {
    **dict.fromkeys(PRESSURE_CODES, Side.RELATIONSHIP),
    BUYER_OVERSELL: Side.BUYER,
    BUYER_UNMET_NEED: Side.BUYER,
    BUYER_NO_DISCOVERY: Side.BUYER,
    BUYER_UNDISCLOSED: Side.BUYER,
    SELLER_DISCOUNT_OVER_POLICY: Side.SELLER,
    SELLER_MARGIN_BELOW_FLOOR: Side.SELLER,
    SELLER_UNTRADED_PRICE_CUT: Side.SELLER,
    RELATIONSHIP_STALE: Side.RELATIONSHIP,
    HANDOFF_OVERDUE: Side.RELATIONSHIP,
    HANDOFF_LEAK: Side.RELATIONSHIP,
    COMMITMENT_OVERDUE: Side.BUYER,
    BUYER_REPORTED_PRESSURE: Side.RELATIONSHIP,
}

PROPOSAL = Deal.STAGE_ORDER[Deal.Stage.PROPOSAL]
NEGOTIATION = Deal.STAGE_ORDER[Deal.Stage.NEGOTIATION]
# Disclosures that tell the buyer something against the seller's interest; a price
# sheet alone is not transparency about limits and risks.
TRANSPARENCY_KINDS = ("limitation", "risk", "alternative")


@dataclass(slots=True)
class FlagResult:
    code: str
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)

    @property
    def side(self) -> str:
        return SIDE_OF[self.code]


Rule = Callable[[DealFacts, HealthPolicy, dt.datetime], "FlagResult | None"]


@lru_cache(maxsize=8)
def _local_date(now: dt.datetime) -> dt.date:
    return timezone.localdate(now)


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _pct(value: Decimal) -> str:
    return str(pricing.money(value))


def _quote(titles: list[str]) -> str:
    shown = ", ".join(f"'{t}'" for t in titles[:3])
    return shown + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")


# --- Relationship: pressure --------------------------------------------------------------


def pressure_premature_close(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """A close attempt while a milestone the buyer needs before deciding was (and is) open."""
    if not facts.deal.is_open:
        return None
    open_required = [m for m in facts.milestones if m.required_for_decision and not m.completed_at]
    if not open_required:
        return None
    attempts = [a for a in facts.activities if a.close_attempt and a.occurred_at <= now]
    if not attempts:
        return None
    latest = attempts[0]
    titles = [m.title for m in open_required]
    return FlagResult(
        PRESSURE_PREMATURE_CLOSE,
        Severity.CRITICAL,
        f"Buyer milestone {_quote(titles)} is still open; a close attempt now risks the "
        "relationship — wait for it or ask the buyer what they need to finish it.",
        {
            "close_attempt_activity_ids": [a.id for a in attempts],
            "latest_close_attempt_at": _iso(latest.occurred_at),
            "open_milestones": [{"id": m.id, "title": m.title} for m in open_required],
        },
    )


def pressure_chasing(facts: DealFacts, policy: HealthPolicy, now: dt.datetime) -> FlagResult | None:
    """Many rep follow-ups in the window and not one buyer-initiated touch in it."""
    if not facts.deal.is_open:
        return None
    since = now - dt.timedelta(days=policy.chasing_window_days)
    in_window = [a for a in facts.activities if since <= a.occurred_at <= now]
    if any(a.initiated_by == "buyer" for a in in_window):
        return None
    rep_touches = [a for a in in_window if a.initiated_by == "rep"]
    if len(rep_touches) < policy.chasing_count:
        return None
    return FlagResult(
        PRESSURE_CHASING,
        Severity.WARNING,
        f"{len(rep_touches)} follow-ups in {policy.chasing_window_days} days with no reply "
        "from the buyer; pause the chasing and offer something useful, or ask whether the "
        "timing still suits them.",
        {
            "activity_ids": [a.id for a in rep_touches],
            "first_at": _iso(rep_touches[-1].occurred_at),
            "last_at": _iso(rep_touches[0].occurred_at),
            "count": len(rep_touches),
            "threshold": policy.chasing_count,
            "window_days": policy.chasing_window_days,
        },
    )


def pressure_escalation(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """Senior people piled onto the rep's recent calls and meetings."""
    if not facts.deal.is_open:
        return None
    recent = [
        a
        for a in facts.activities
        if a.initiated_by == "rep" and a.kind in ("call", "meeting") and a.occurred_at <= now
    ][: policy.escalation_window]
    senior = [a for a in recent if a.senior_present]
    if len(senior) < policy.escalation_min_senior:
        return None
    return FlagResult(
        PRESSURE_ESCALATION,
        Severity.WARNING,
        f"A senior person joined {len(senior)} of the last {len(recent)} calls and meetings; "
        "let the rep lead and bring executives only when the buyer asks for them.",
        {
            "activity_ids": [a.id for a in recent],
            "senior_activity_ids": [a.id for a in senior],
            "window": policy.escalation_window,
            "threshold": policy.escalation_min_senior,
        },
    )


@lru_cache(maxsize=64)
def pressure_phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern | None:
    """One regex matching any phrase as whole words, case-insensitively, any spacing."""
    parts = []
    cleaned = {str(p).strip().lower() for p in phrases if p is not None and str(p).strip()}
    for phrase in sorted(cleaned, key=len, reverse=True):  # longest first
        words = [re.escape(w) for w in phrase.split()]
        parts.append(r"\s+".join(words))
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def pressure_language(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """Deadline language in what the rep wrote (never in what the buyer wrote)."""
    if not facts.deal.is_open:
        return None
    pattern = pressure_phrase_pattern(tuple(policy.pressure_phrases or ()))
    if pattern is None:
        return None
    written = [a for a in facts.activities if a.initiated_by == "rep" and a.notes]
    # One search over everything the rep wrote settles the common case (no match).
    if not written or pattern.search("\n".join(a.notes for a in written)) is None:
        return None
    matches: list[dict[str, Any]] = []
    for a in written:
        if a.occurred_at > now:
            continue
        found = {" ".join(m.group(0).lower().split()) for m in pattern.finditer(a.notes)}
        matches.extend(
            {"activity_id": a.id, "phrase": phrase, "occurred_at": _iso(a.occurred_at)}
            for phrase in sorted(found)
        )
    if not matches:
        return None
    matches.reverse()  # oldest first reads like a story
    phrases = sorted({m["phrase"] for m in matches})
    return FlagResult(
        PRESSURE_LANGUAGE,
        Severity.WARNING,
        f"Your notes use deadline language ({', '.join(repr(p) for p in phrases)}); give the "
        "buyer time to decide on value rather than urgency.",
        {"matches": matches, "phrases": phrases},
    )


def pressure_close_date_pulled(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """The forecast close date moved earlier though the buyer has not progressed since."""
    if not facts.deal.is_open:
        return None
    current = facts.deal.expected_close_date
    if current is None:
        return None
    for change in reversed(facts.close_date_changes):
        if change.old_date is None or change.new_date is None:
            continue
        if change.new_date >= change.old_date or change.changed_at > now:
            continue
        if current >= change.old_date:
            return None  # moved back out since; the pull no longer stands
        progressed = any(
            m.completed_at and m.completed_at >= change.changed_at for m in facts.milestones
        )
        if progressed:
            return None
        return FlagResult(
            PRESSURE_CLOSE_DATE_PULLED,
            Severity.WARNING,
            f"The expected close date was moved earlier, from {change.old_date:%d %b %Y} to "
            f"{change.new_date:%d %b %Y}, though no buyer milestone was completed since; "
            "forecast from the buyer's plan, not from your target.",
            {
                "changed_at": _iso(change.changed_at),
                "from_date": _iso(change.old_date),
                "to_date": _iso(change.new_date),
                "current_date": _iso(current),
            },
        )
    return None


# --- Buyer ------------------------------------------------------------------------------


def buyer_oversell(facts: DealFacts, policy: HealthPolicy, now: dt.datetime) -> FlagResult | None:
    """A proposal item that serves none of the buyer's recorded needs (an import's
    "Imported value" item is not a proposal: it only carries the old CRM's amount)."""
    unneeded = [item for item in facts.line_items if not item.need_ids and not item.imported]
    if not unneeded:
        return None
    return FlagResult(
        BUYER_OVERSELL,
        Severity.WARNING,
        f"{_quote([i.name for i in unneeded])} serves no need the buyer told you about; link "
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
        f"The buyer rated {_quote([n.statement[:60] for n in unmet])} as important and nothing "
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
    """A promise to the buyer past its due date and still open."""
    if facts.deal.stage == Deal.Stage.CLOSED_LOST:
        return None
    today = _local_date(now)
    late = [
        c for c in facts.commitments if c.status == "open" and c.due_date and c.due_date < today
    ]
    if not late:
        return None
    return FlagResult(
        COMMITMENT_OVERDUE,
        Severity.WARNING,
        f"Promise {_quote([c.description for c in late])} is past its due date; keep it or tell "
        "the buyer now when it will happen.",
        {
            "commitments": [
                {"id": c.id, "description": c.description, "due_date": _iso(c.due_date)}
                for c in late
            ]
        },
    )


# --- Seller -----------------------------------------------------------------------------


def discount_pct(facts: DealFacts) -> Decimal | None:
    """Exact (unrounded), so 15.004 % is above a 15 % limit."""
    return pricing.discount_pct(facts.deal.list_total, facts.deal.net_total)


def margin_pct(facts: DealFacts) -> Decimal | None:
    return pricing.margin_pct(facts.deal.net_total, facts.deal.cost_total)


def seller_discount_over_policy(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    discount = discount_pct(facts)
    if discount is None or discount <= policy.discount_max_pct:
        return None
    # Twice the allowed discount gives away the seller's side of the deal.
    severity = Severity.CRITICAL if discount > 2 * policy.discount_max_pct else Severity.WARNING
    return FlagResult(
        SELLER_DISCOUNT_OVER_POLICY,
        severity,
        f"The discount is {_pct(discount)} %, above the {_pct(policy.discount_max_pct)} % "
        "policy; trade value (support, training, a longer term) instead of cutting price.",
        {
            "discount_pct": _pct(discount),
            "max_pct": _pct(policy.discount_max_pct),
            "list_total": str(facts.deal.list_total),
            "net_total": str(facts.deal.net_total),
        },
    )


def seller_margin_below_floor(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    deal = facts.deal
    margin = margin_pct(facts)
    if margin is None:
        # Nothing left to earn on a priced deal is the worst margin there is.
        if not (deal.list_total and deal.net_total <= 0):
            return None
    elif margin >= policy.margin_floor_pct:
        return None
    floor = policy.margin_floor_pct
    severity = Severity.CRITICAL if margin is None or margin < floor / 2 else Severity.WARNING
    shown = "nothing" if margin is None else f"{_pct(margin)} %"
    return FlagResult(
        SELLER_MARGIN_BELOW_FLOOR,
        severity,
        f"The margin is {shown}, below the {_pct(floor)} % floor; raise the price, reduce "
        "what it costs to deliver, or ask the buyer for something in return.",
        {
            "margin_pct": None if margin is None else _pct(margin),
            "floor_pct": _pct(floor),
            "net_total": str(deal.net_total),
            "cost_total": str(deal.cost_total),
        },
    )


def seller_untraded_price_cut(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    price_cuts = [c for c in facts.concessions if c.kind == "price"]
    if not price_cuts:
        return None
    value_adds = len(facts.concessions) - len(price_cuts)
    untraded = [c for c in price_cuts if not c.in_exchange_for.strip()]
    outnumbered = len(price_cuts) > value_adds
    if not untraded and not outnumbered:
        return None
    if untraded:
        reason = f"{_quote([c.description for c in untraded])} was given with nothing in return"
    else:
        reason = f"{len(price_cuts)} price cuts outnumber {value_adds} value-add concessions"
    return FlagResult(
        SELLER_UNTRADED_PRICE_CUT,
        Severity.WARNING,
        f"{reason}; ask for something back (a longer term, a case study, faster payment) or "
        "offer added value instead of price.",
        {
            "untraded": [
                {"id": c.id, "description": c.description, "amount": str(c.amount)}
                for c in untraded
            ],
            "price_cut_count": len(price_cuts),
            "value_add_count": value_adds,
        },
    )


# --- Relationship: after contact and after the close ------------------------------------


def relationship_stale(
    facts: DealFacts, policy: HealthPolicy, now: dt.datetime
) -> FlagResult | None:
    """The buyer has not reached out for a long time on a deal that is still open."""
    if not facts.deal.is_open:
        return None
    last = next(
        (a for a in facts.activities if a.initiated_by == "buyer" and a.occurred_at <= now),
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
            "last_buyer_contact_at": _iso(since),
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
            "submitted_at": _iso(handoff.submitted_at),
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
            "accepted_at": _iso(handoff.accepted_at),
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
                    "answered_at": _iso(p.answered_at),
                    "felt_pushed": True,
                    "got_what_needed": p.got_what_needed,
                    "next_step_agreed": p.next_step_agreed,
                }
                for p in pushed
            ]
        },
    )


RULES: dict[str, Rule] = {
    PRESSURE_PREMATURE_CLOSE: pressure_premature_close,
    PRESSURE_CHASING: pressure_chasing,
    PRESSURE_ESCALATION: pressure_escalation,
    PRESSURE_LANGUAGE: pressure_language,
    PRESSURE_CLOSE_DATE_PULLED: pressure_close_date_pulled,
    BUYER_OVERSELL: buyer_oversell,
    BUYER_UNMET_NEED: buyer_unmet_need,
    BUYER_NO_DISCOVERY: buyer_no_discovery,
    BUYER_UNDISCLOSED: buyer_undisclosed,
    SELLER_DISCOUNT_OVER_POLICY: seller_discount_over_policy,
    SELLER_MARGIN_BELOW_FLOOR: seller_margin_below_floor,
    SELLER_UNTRADED_PRICE_CUT: seller_untraded_price_cut,
    RELATIONSHIP_STALE: relationship_stale,
    HANDOFF_OVERDUE: handoff_overdue,
    HANDOFF_LEAK: handoff_leak,
    COMMITMENT_OVERDUE: commitment_overdue,
    BUYER_REPORTED_PRESSURE: buyer_reported_pressure,
}
assert tuple(RULES) == ALL_CODES


def evaluate(
    facts: DealFacts, now: dt.datetime, policy: HealthPolicy | None = None
) -> list[FlagResult]:
    """Every flag the deal raises right now, in ALL_CODES order."""
    policy = policy or facts.policy
    results = []
    for rule in RULES.values():
        flag = rule(facts, policy, now)
        if flag is not None:
            results.append(flag)
    return results
