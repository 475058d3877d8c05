"""What every rule shares: the codes in order, the flag a rule returns, small formatters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from django.utils import timezone

from deals import pricing
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
from deals.health.facts import DealFacts
from deals.models import Deal, HealthPolicy

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
    STAGE_STALLED,
)
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
def local_date(now: dt.datetime) -> dt.date:
    return timezone.localdate(now)


def iso_date(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def pct_text(value: Decimal) -> str:
    return str(pricing.money(value))


def quoted(titles: list[str]) -> str:
    shown = ", ".join(f"'{t}'" for t in titles[:3])
    return shown + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")
