"""The sales side: prospects, contacts, needs, discovery calls, deals and their facts.

One module per part of a sale (`prospects`, `deals`, `discovery`, `proposal`,
`activities`, `commitments`; `common` holds the shared base); import from `deals.models`.
"""

from deals.models.sales.activities import Activity
from deals.models.sales.commitments import Commitment, Disclosure
from deals.models.sales.common import MONEY, NON_NEGATIVE, ZERO, TimeStamped
from deals.models.sales.deals import Deal, StageHistory
from deals.models.sales.discovery import BuyerMilestone, DiscoveryCall, Need
from deals.models.sales.proposal import Concession, LineItem
from deals.models.sales.prospects import Contact, Prospect

__all__ = [
    "Activity",
    "BuyerMilestone",
    "Commitment",
    "Concession",
    "Contact",
    "Deal",
    "Disclosure",
    "DiscoveryCall",
    "LineItem",
    "MONEY",
    "NON_NEGATIVE",
    "Need",
    "Prospect",
    "StageHistory",
    "TimeStamped",
    "ZERO",
]
