"""Seller-side rules: discount over policy, margin below the floor, an untraded price cut."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from deals import pricing
from deals.health.catalog import (
    SELLER_DISCOUNT_OVER_POLICY,
    SELLER_MARGIN_BELOW_FLOOR,
    SELLER_UNTRADED_PRICE_CUT,
)
from deals.health.facts import DealFacts
from deals.health.rules.base import FlagResult, pct_text, quoted
from deals.models import HealthPolicy, Severity


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
        f"The discount is {pct_text(discount)} %, above the {pct_text(policy.discount_max_pct)} % "
        "policy; trade value (support, training, a longer term) instead of cutting price.",
        {
            "discount_pct": pct_text(discount),
            "max_pct": pct_text(policy.discount_max_pct),
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
    shown = "nothing" if margin is None else f"{pct_text(margin)} %"
    return FlagResult(
        SELLER_MARGIN_BELOW_FLOOR,
        severity,
        f"The margin is {shown}, below the {pct_text(floor)} % floor; raise the price, reduce "
        "what it costs to deliver, or ask the buyer for something in return.",
        {
            "margin_pct": None if margin is None else pct_text(margin),
            "floor_pct": pct_text(floor),
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
        reason = f"{quoted([c.description for c in untraded])} was given with nothing in return"
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
