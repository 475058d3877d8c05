"""Models of the sales side and of deal health; import from `deals.models`."""

from .dashboard import (
    DashboardDayRollup,
    DashboardForecastDay,
    DashboardOutcomeRollup,
    DashboardRepDeals,
    DashboardRepFlags,
    DashboardRepHandoffs,
)
from .health import (
    DEFAULT_PRESSURE_PHRASES,
    DEFAULT_STAGE_STALLED_DAYS,
    Flag,
    HealthPolicy,
    HealthSnapshot,
    HealthSweep,
    Severity,
    Side,
)
from .imports import ImportJob
from .mail import CapturedMail
from .sales import (
    Activity,
    BuyerMilestone,
    Commitment,
    Concession,
    Contact,
    Deal,
    Disclosure,
    DiscoveryCall,
    LineItem,
    Need,
    Prospect,
    StageHistory,
)

__all__ = [
    "DEFAULT_PRESSURE_PHRASES",
    "DEFAULT_STAGE_STALLED_DAYS",
    "Activity",
    "BuyerMilestone",
    "CapturedMail",
    "Commitment",
    "Concession",
    "Contact",
    "DashboardDayRollup",
    "DashboardForecastDay",
    "DashboardOutcomeRollup",
    "DashboardRepDeals",
    "DashboardRepFlags",
    "DashboardRepHandoffs",
    "Deal",
    "Disclosure",
    "DiscoveryCall",
    "Flag",
    "HealthPolicy",
    "HealthSnapshot",
    "HealthSweep",
    "ImportJob",
    "LineItem",
    "Need",
    "Prospect",
    "Severity",
    "Side",
    "StageHistory",
]
