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
  except a lost one; STAGE_STALLED to open deals, from the time they entered their stage.

Codes, sides, labels and advice live in catalog.py, the one home pages read them from.

One module per rule family (`pressure`, `buyer`, `seller`, `relationship`); `base` holds
the flag type and codes, `registry` the code → rule table and `evaluate`. Callers import
from here.
"""

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
    SIDE_OF,
    STAGE_STALLED,
)
from deals.health.rules.base import (
    ALL_CODES,
    NEGOTIATION,
    PRESSURE_CODES,
    PROPOSAL,
    TRANSPARENCY_KINDS,
    FlagResult,
    Rule,
    iso_date,
)
from deals.health.rules.buyer import (
    buyer_no_discovery,
    buyer_oversell,
    buyer_undisclosed,
    buyer_unmet_need,
    commitment_overdue,
)
from deals.health.rules.pressure import (
    CAPTURED_SOURCES,
    pressure_chasing,
    pressure_close_date_pulled,
    pressure_escalation,
    pressure_language,
    pressure_phrase_pattern,
    pressure_premature_close,
)
from deals.health.rules.registry import RULES, evaluate
from deals.health.rules.relationship import (
    buyer_reported_pressure,
    handoff_leak,
    handoff_overdue,
    relationship_stale,
    stage_days_limit,
    stage_stalled,
)
from deals.health.rules.seller import (
    discount_pct,
    margin_pct,
    seller_discount_over_policy,
    seller_margin_below_floor,
    seller_untraded_price_cut,
)

__all__ = [
    "ALL_CODES",
    "BUYER_NO_DISCOVERY",
    "BUYER_OVERSELL",
    "BUYER_REPORTED_PRESSURE",
    "BUYER_UNDISCLOSED",
    "BUYER_UNMET_NEED",
    "CAPTURED_SOURCES",
    "COMMITMENT_OVERDUE",
    "FlagResult",
    "HANDOFF_LEAK",
    "HANDOFF_OVERDUE",
    "NEGOTIATION",
    "PRESSURE_CHASING",
    "PRESSURE_CLOSE_DATE_PULLED",
    "PRESSURE_CODES",
    "PRESSURE_ESCALATION",
    "PRESSURE_LANGUAGE",
    "PRESSURE_PREMATURE_CLOSE",
    "PROPOSAL",
    "RELATIONSHIP_STALE",
    "RULES",
    "Rule",
    "SELLER_DISCOUNT_OVER_POLICY",
    "SELLER_MARGIN_BELOW_FLOOR",
    "SELLER_UNTRADED_PRICE_CUT",
    "SIDE_OF",
    "STAGE_STALLED",
    "TRANSPARENCY_KINDS",
    "iso_date",
    "buyer_no_discovery",
    "buyer_oversell",
    "buyer_reported_pressure",
    "buyer_undisclosed",
    "buyer_unmet_need",
    "commitment_overdue",
    "discount_pct",
    "evaluate",
    "handoff_leak",
    "handoff_overdue",
    "margin_pct",
    "pressure_chasing",
    "pressure_close_date_pulled",
    "pressure_escalation",
    "pressure_language",
    "pressure_phrase_pattern",
    "pressure_premature_close",
    "relationship_stale",
    "seller_discount_over_policy",
    "seller_margin_below_floor",
    "seller_untraded_price_cut",
    "stage_days_limit",
    "stage_stalled",
]
