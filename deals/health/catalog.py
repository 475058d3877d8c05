"""What every flag code means to a person: its side, label, short label and advice.

The one home of flag knowledge beside the rules: the deal page, the dashboard, the
handoff package and the API all read labels, advice and the severity order from here,
so a page can never drift from the rules (or show a code where a person needs words).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from deals.models import Side

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
STAGE_STALLED = "STAGE_STALLED"
BUYER_REPORTED_PRESSURE = "BUYER_REPORTED_PRESSURE"

# Worst first: pages and the API list flags in this order.
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class FlagInfo:
    code: str
    side: str
    label: str  # what a person reads instead of the code
    short: str  # a chip in a dense table
    advice: str  # "what to do"


_INFO = (
    FlagInfo(
        PRESSURE_PREMATURE_CLOSE,
        Side.RELATIONSHIP,
        "Close attempt before the buyer's milestones",
        "Premature close",
        "Stop asking for the decision. Help the buyer finish the milestones their own "
        "process requires, then ask.",
    ),
    FlagInfo(
        PRESSURE_CHASING,
        Side.RELATIONSHIP,
        "Chasing a buyer who does not answer",
        "Chasing",
        "Pause the follow-ups. Send one useful message and wait for the buyer to answer "
        "before the next touch.",
    ),
    FlagInfo(
        PRESSURE_ESCALATION,
        Side.RELATIONSHIP,
        "Senior people piled onto the calls",
        "Escalation",
        "Leave seniors off the next calls unless the buyer asked for them.",
    ),
    FlagInfo(
        PRESSURE_LANGUAGE,
        Side.RELATIONSHIP,
        "Deadline language in the rep's notes",
        "Language",
        "Drop deadline language. Give the buyer the time their decision process needs.",
    ),
    FlagInfo(
        PRESSURE_CLOSE_DATE_PULLED,
        Side.RELATIONSHIP,
        "Close date pulled earlier without the buyer moving",
        "Date pulled",
        "Move the expected close back, or agree an earlier date with the buyer and tick off "
        "the milestone that justifies it.",
    ),
    FlagInfo(
        BUYER_OVERSELL,
        Side.BUYER,
        "A proposal item serves no need",
        "Oversell",
        "Link the item to the need it serves, or take it out of the proposal.",
    ),
    FlagInfo(
        BUYER_UNMET_NEED,
        Side.BUYER,
        "An important need nothing serves",
        "Unmet need",
        "Add a proposal item that serves this need, or tell the buyer openly that you can't "
        "(record it as a disclosure).",
    ),
    FlagInfo(
        BUYER_NO_DISCOVERY,
        Side.BUYER,
        "Proposal without discovery",
        "No discovery",
        "Log a discovery call and have the buyer confirm their needs in their own words.",
    ),
    FlagInfo(
        BUYER_UNDISCLOSED,
        Side.BUYER,
        "Nothing disclosed to the buyer",
        "Undisclosed",
        "Record the limitations, risks or cheaper alternatives you discussed with the buyer.",
    ),
    FlagInfo(
        SELLER_DISCOUNT_OVER_POLICY,
        Side.SELLER,
        "Discount above the policy",
        "Discount",
        "Trade value instead of price: replace part of the discount with a value add, or "
        "ask for something in return.",
    ),
    FlagInfo(
        SELLER_MARGIN_BELOW_FLOOR,
        Side.SELLER,
        "Margin below the floor",
        "Margin",
        "Review the prices and costs of the items; a deal without margin is not a win for us.",
    ),
    FlagInfo(
        SELLER_UNTRADED_PRICE_CUT,
        Side.SELLER,
        "A price cut with nothing in return",
        "Untraded cut",
        "Ask what the buyer gives in exchange (a longer term, a case study), or turn the "
        "price cut into a value add.",
    ),
    FlagInfo(
        RELATIONSHIP_STALE,
        Side.RELATIONSHIP,
        "The buyer has gone quiet",
        "Stale",
        "Reach out with something useful to the buyer, not a chase.",
    ),
    FlagInfo(
        HANDOFF_OVERDUE,
        Side.RELATIONSHIP,
        "Handoff waiting past its SLA",
        "Handoff overdue",
        "Ask the delivery team's manager to pick up the handoff.",
    ),
    FlagInfo(
        HANDOFF_LEAK,
        Side.RELATIONSHIP,
        "The customer still comes to the rep for service",
        "Handoff leak",
        "Point the customer to their delivery contact and tell delivery what they asked.",
    ),
    FlagInfo(
        COMMITMENT_OVERDUE,
        Side.BUYER,
        "A promise past its due date",
        "Promise overdue",
        "Keep the promise or tell the buyer the new date now.",
    ),
    FlagInfo(
        STAGE_STALLED,
        Side.RELATIONSHIP,
        "The deal has stalled in its stage",
        "Stalled",
        "Ask the buyer what stands between them and the next step, and agree it in the plan; "
        "if the timing no longer suits them, say so and move the close date.",
    ),
    FlagInfo(
        BUYER_REPORTED_PRESSURE,
        Side.RELATIONSHIP,
        "The buyer said they felt pushed",
        "Buyer felt pushed",
        "Call the buyer to apologise and ask what they need to decide at their own pace; "
        "hold every close attempt until they say they are ready.",
    ),
)

CATALOG: dict[str, FlagInfo] = {info.code: info for info in _INFO}
SIDE_OF: dict[str, str] = {info.code: info.side for info in _INFO}


def flag_info(code: str) -> FlagInfo:
    """The catalog entry; an unknown code (an old row) reads as itself rather than failing."""
    return CATALOG.get(code) or FlagInfo(code, Side.RELATIONSHIP, code, code, "")


def flag_label(code: str) -> str:
    return flag_info(code).label


def flag_advice(code: str) -> str:
    return flag_info(code).advice


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.get(severity, len(SEVERITY_ORDER))


class _Ranked(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def severity(self) -> str: ...


def flag_sort_key(flag: _Ranked) -> tuple[int, str]:
    """Worst first, then by code: for anything with `severity` and `code`."""
    return (severity_rank(flag.severity), flag.code)
