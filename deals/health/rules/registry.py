"""Every rule by its code, and `evaluate`, which runs them in ALL_CODES order."""

from __future__ import annotations

import datetime as dt

from deals.health.catalog import (
    BUYER_NO_DISCOVERY,
    BUYER_OVERSELL,
    BUYER_REPORTED_PRESSURE,
    BUYER_UNDISCLOSED,
    BUYER_UNMET_NEED,
    COMMITMENT_OVERDUE,
    HANDOFF_LEAK,
    HANDOFF_OVERDUE,
    PRESSURE_CHASING,
    PRESSURE_CLOSE_DATE_PULLED,
    PRESSURE_ESCALATION,
    PRESSURE_LANGUAGE,
    PRESSURE_PREMATURE_CLOSE,
    RELATIONSHIP_STALE,
    SELLER_DISCOUNT_OVER_POLICY,
    SELLER_MARGIN_BELOW_FLOOR,
    SELLER_UNTRADED_PRICE_CUT,
    STAGE_STALLED,
)
from deals.health.facts import DealFacts
from deals.health.rules.base import ALL_CODES, FlagResult, Rule
from deals.health.rules.buyer import (
    buyer_no_discovery,
    buyer_oversell,
    buyer_undisclosed,
    buyer_unmet_need,
    commitment_overdue,
)
from deals.health.rules.pressure import (
    pressure_chasing,
    pressure_close_date_pulled,
    pressure_escalation,
    pressure_language,
    pressure_premature_close,
)
from deals.health.rules.relationship import (
    buyer_reported_pressure,
    handoff_leak,
    handoff_overdue,
    relationship_stale,
    stage_stalled,
)
from deals.health.rules.seller import (
    seller_discount_over_policy,
    seller_margin_below_floor,
    seller_untraded_price_cut,
)
from deals.models import HealthPolicy

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
    STAGE_STALLED: stage_stalled,
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
