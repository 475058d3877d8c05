"""The demo's vocabulary and rates, as data: company names, needs, notes, products, the
share of deals that carry each problem. Nothing here runs; the generator and the stories
draw from it. (Over 300 lines because it is data: one word list per screen.)"""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

from deals.models import Contact, Deal, Disclosure, Need, Prospect
from handoff.models import Handoff

DEMO_PREFIX = "demo:"
STORY_PREFIX = "demo:story:"
DEFAULT_SEED = 42
# Background deals of the small default demo, on top of the named stories.
SMALL_DEMO_DEALS = 40

# Rows per INSERT: large enough to amortise the round trip to PostgreSQL (one statement
# carries ~2,000 rows), small enough to keep each statement a few MB. Django lowers it
# further on SQLite to stay under that backend's limit on query parameters.
BULK_BATCH_SIZE = 2000
# Deals generated and written together: bounds memory (each deal has ~30 child rows) and
# gives the progress bar a steady tick.
DEALS_PER_CHUNK = 1000
# Deals per snapshot-history batch (a few change rows each).
SNAPSHOT_DEALS_PER_BATCH = 5000
# Days of health history the demo writes (change-only rows: deals/demo/history.py).
HISTORY_DAYS = 365

# Share of eligible deals that carry each problem the health rules look for.
PROBLEM_RATES = {
    "premature_close": 0.06,  # close attempt while a required buyer milestone is open
    "chasing": 0.07,  # rep follow-ups with no reply this week
    "escalation": 0.05,  # a VP on the last rep calls
    "language": 0.05,  # "offer expires", "sign today" in rep notes
    "close_date_pulled": 0.04,  # forecast moved earlier, nothing completed since
    "oversell": 0.08,  # a line item that serves no need
    "unmet_need": 0.07,  # an important need nothing serves
    "no_discovery": 0.04,  # proposal without a discovery call / confirmed need
    "undisclosed": 0.10,  # negotiation without any limitation/risk/alternative disclosed
    "discount": 0.09,  # discount over 15 %
    "low_margin": 0.06,  # margin under 20 %
    "untraded_cut": 0.07,  # a bare price cut
    "stale": 0.10,  # no word from the buyer for weeks
    "commitment_overdue": 0.07,  # a promise past its due date
    "handoff_leak": 0.15,  # of accepted handoffs: the customer still calls the rep
    "handoff_overdue": 0.40,  # of submitted handoffs: waiting past the SLA
}

STAGE_WEIGHTS = [
    (Deal.Stage.DISCOVERY, 15),
    (Deal.Stage.QUALIFICATION, 13),
    (Deal.Stage.PROPOSAL, 20),
    (Deal.Stage.NEGOTIATION, 17),
    (Deal.Stage.CLOSED_WON, 20),
    (Deal.Stage.CLOSED_LOST, 15),
]
HANDOFF_STATE_WEIGHTS = [
    (Handoff.Status.DRAFT, 10),
    (Handoff.Status.SUBMITTED, 12),
    (Handoff.Status.CLAIMED, 10),
    (Handoff.Status.NEEDS_INFO, 6),
    (Handoff.Status.ACCEPTED, 62),
]
CHECK_IN_OFFSETS_DAYS = (30, 90, 180)

# --- vocabulary ----------------------------------------------------------------------------

COMPANY_FIRST = [
    "Acme",
    "Birchwood",
    "Cobalt",
    "Dunmore",
    "Elmstead",
    "Fairhaven",
    "Greyfield",
    "Harrow",
    "Ironbridge",
    "Juniper",
    "Kestrel",
    "Larkspur",
    "Meridian",
    "Northgate",
    "Oakridge",
    "Pinecrest",
    "Quarry",
    "Redwood",
    "Silverline",
    "Thornbury",
    "Upland",
    "Vantage",
    "Westbrook",
    "Yarrow",
    "Zenith",
    "Ashford",
    "Bramble",
    "Copperleaf",
    "Driftwood",
    "Eastwick",
    "Foxglove",
    "Granite",
    "Hollow",
    "Ivory",
    "Jasper",
    "Keystone",
    "Lakeshore",
]
INDUSTRIES = {
    "Logistics": ["Logistics", "Freight", "Shipping"],
    "Healthcare": ["Clinics", "Health", "Dental"],
    "Retail": ["Retail", "Stores", "Outfitters"],
    "Manufacturing": ["Manufacturing", "Works", "Industries"],
    "Hospitality": ["Hotels", "Resorts", "Hospitality"],
    "Education": ["Schools", "Academy", "Learning"],
    "Financial services": ["Capital", "Finance", "Insurance"],
    "Software": ["Software", "Systems", "Labs"],
    "Energy": ["Energy", "Power", "Utilities"],
}
SIZE_WEIGHTS = [
    (Prospect.Size.SMALL, 35),
    (Prospect.Size.MEDIUM, 40),
    (Prospect.Size.LARGE, 18),
    (Prospect.Size.ENTERPRISE, 7),
]
SEATS = {
    Prospect.Size.SMALL: (5, 40),
    Prospect.Size.MEDIUM: (30, 200),
    Prospect.Size.LARGE: (150, 800),
    Prospect.Size.ENTERPRISE: (600, 3000),
}
FIRST_NAMES = [
    "Alex",
    "Bea",
    "Carlos",
    "Divya",
    "Erik",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Karl",
    "Leila",
    "Marco",
    "Nina",
    "Oskar",
    "Pia",
    "Quinn",
    "Rosa",
    "Stefan",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Yusuf",
]
LAST_NAMES = [
    "Anders",
    "Brooks",
    "Costa",
    "Dubois",
    "Evans",
    "Frost",
    "Garcia",
    "Holm",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Moreau",
    "Novak",
    "Olsen",
    "Park",
    "Quist",
    "Rossi",
    "Silva",
    "Torres",
]
CONTACT_ROLES = [
    (Contact.BuyingRole.CHAMPION, "Head of Operations"),
    (Contact.BuyingRole.DECISION_MAKER, "Chief Operating Officer"),
    (Contact.BuyingRole.INFLUENCER, "IT Security Lead"),
    (Contact.BuyingRole.USER, "Team Lead, Customer Service"),
    (Contact.BuyingRole.BLOCKER, "Procurement Manager"),
    (Contact.BuyingRole.INFLUENCER, "Finance Controller"),
]

# (name, unit list price, cost as a share of list, priced per seat)
PRODUCTS = [
    ("Platform licence (per seat, yearly)", Decimal("480"), Decimal("0.22"), True),
    ("Implementation package", Decimal("12000"), Decimal("0.55"), False),
    ("Data migration", Decimal("6000"), Decimal("0.50"), False),
    ("ERP integration connector", Decimal("3500"), Decimal("0.30"), False),
    ("Training workshop", Decimal("2500"), Decimal("0.45"), False),
    ("Premium support (yearly)", Decimal("8000"), Decimal("0.35"), False),
    ("Analytics add-on (per seat, yearly)", Decimal("120"), Decimal("0.20"), True),
]
# Products sold without a need behind them in oversold proposals.
OVERSELL_PRODUCTS = [6, 5, 4]
# (statement, indexes of the products that serve it)
NEEDS = {
    Need.Kind.GOAL: [
        ("Cut customer onboarding from three weeks to three days", [0, 1]),
        ("Give managers one view of the whole pipeline", [0, 6]),
        ("Grow renewals by 10 % this year", [0, 6]),
    ],
    Need.Kind.PROBLEM: [
        ("Customer data lives in four spreadsheets", [2, 0]),
        ("The ERP and the CRM disagree on orders", [3]),
        ("New hires need a month to become productive", [4]),
        ("Support tickets wait two days for a first answer", [5, 0]),
    ],
    Need.Kind.INTEREST: [
        ("Curious about automating renewal reminders", [0]),
        ("Wants usage reports for the board", [6]),
    ],
    Need.Kind.DREAM: [
        ("Every customer talks to one person who knows their history", [0, 3]),
        ("A forecast the CFO actually trusts", [6]),
    ],
}
NEED_KIND_WEIGHTS = [
    (Need.Kind.GOAL, 30),
    (Need.Kind.PROBLEM, 40),
    (Need.Kind.INTEREST, 18),
    (Need.Kind.DREAM, 12),
]
IMPORTANCE_WEIGHTS = [(1, 5), (2, 15), (3, 30), (4, 30), (5, 20)]
BUYER_ACTIVITY_WEIGHTS = [("email", 60), ("call", 25), ("meeting", 15)]
REP_ACTIVITY_WEIGHTS = [("email", 45), ("call", 30), ("meeting", 15), ("note", 10)]
CHECK_IN_VALUE_WEIGHTS = [(5, 30), (4, 35), (3, 20), (2, 10), (1, 5)]
POOR_VALUE_WEIGHTS = [(1, 15), (2, 35), (3, 40), (4, 10)]
GOOD_VALUE_WEIGHTS = [(3, 8), (4, 47), (5, 45)]
BUYER_MILESTONES = [
    "Security review",
    "Legal review of the contract",
    "Budget approval",
    "Technical evaluation",
    "Reference call with a customer",
    "Procurement sign-off",
]
SELLER_MILESTONES = ["Send the proposal", "Run a two-week pilot"]
REP_NOTES = [
    "Walked through the rollout plan with {contact}.",
    "Sent the proposal and the implementation timeline.",
    "Answered their questions on data migration.",
    "Shared two customer references in their industry.",
    "Recap of the call and agreed next steps.",
    "Checked in on the security questionnaire.",
    "Demo of the reporting module for the operations team.",
    "Mapped their approval process with {contact}.",
]
BUYER_NOTES = [
    "{contact} asked whether single sign-on is included.",
    "{contact} sent back the filled-in security questionnaire.",
    "Asked for a quote for twenty more seats.",
    "Replied with questions from their finance team.",
    # A buyer talking about their own budget cycle is not pressure.
    "Their budget closes at the end of quarter, so they want to plan the rollout now.",
    "Invited us to present to their leadership team.",
    "Shared their current process documentation.",
]
PRESSURE_NOTES = [
    "Told them this price is only valid until the end of quarter.",
    "Reminded {contact} the offer expires on Friday.",
    "Final offer: sign today and onboarding is included.",
    "Last chance to lock in this year's pricing.",
]
CHASING_NOTES = [
    "Following up on my last email.",
    "Checking in again: any update on the proposal?",
    "Left a voicemail, following up by email.",
    "Bumping this to the top of the inbox.",
    "Following up once more on the contract.",
]
SUPPORT_NOTES = [
    "Called the rep: the weekly report is not loading.",
    "Asked the rep how to add new users.",
    "Emailed the rep about an invoice question.",
    "Asked the rep to reset an admin password.",
]
VALUE_ADDS = [
    ("3 extra months of support", Decimal("0.06")),
    ("Onboarding workshop for the whole team", Decimal("0.04")),
    ("Training for 10 extra users", Decimal("0.03")),
    ("Dedicated success manager for the first quarter", Decimal("0.05")),
]
TRADES = [
    "Two-year term",
    "Annual prepayment",
    "Published case study",
    "Reference calls with two prospects",
    "Signature before the agreed date in their own plan",
]
COMMITMENTS = [
    "Migrate their historical data before go-live",
    "Weekly check-in call during onboarding",
    "Deliver the ERP connector configuration",
    "Provide a sandbox for their IT team",
    "Send the security documentation pack",
]
DISCLOSURES = [
    (Disclosure.Kind.LIMITATION, "No on-premise deployment; cloud only (EU or US region)."),
    (Disclosure.Kind.LIMITATION, "The ERP connector syncs every 15 minutes, not in real time."),
    (Disclosure.Kind.RISK, "Data migration from their spreadsheets may need manual clean-up."),
    (Disclosure.Kind.ALTERNATIVE, "The Starter plan covers their first year at half the price."),
    (Disclosure.Kind.PRICING, "Seat prices rise with inflation at renewal, capped at 5 %."),
]
LOST_REASONS = [
    "Chose to stay with their spreadsheets for another year.",
    "Went with a competitor already used by their parent company.",
    "Budget frozen after a reorganisation.",
    "Our product does not support on-premise deployment.",
]
HANDOFF_QUESTIONS = [
    "Who on their side owns the data migration?",
    "Was the 15-minute ERP sync explained to their finance team?",
    "Which go-live date did you promise them?",
]
HANDOFF_ANSWERS = [
    "Their Head of Operations owns it; she has the spreadsheets ready.",
    "Yes, it is in the disclosures and they were fine with it.",
    "We promised the first team live within six weeks of kick-off.",
]
CHECK_IN_NOTES = {
    5: "Onboarding time is down to four days; they are expanding to a second site.",
    4: "Using it daily; asked for two more training sessions.",
    3: "Adoption is slow in one team; we scheduled a workshop.",
    2: "They are not getting the reports they bought it for.",
    1: "Barely used; the champion left the company.",
}


# Keyed by the id of a module-level list of pairs (pass constants, not literals).
_CUMULATIVE: dict[int, tuple[object, list, list[float]]] = {}


def _weighted(rng: random.Random, pairs):
    """One value of (value, weight) pairs; the same draw as rng.choices(values, weights),
    with the cumulative weights computed once per list (millions of draws at scale)."""
    plan = _CUMULATIVE.get(id(pairs))
    if plan is None or plan[0] is not pairs:
        values = [v for v, _ in pairs]
        plan = (pairs, values, list(itertools.accumulate(w for _, w in pairs)))
        _CUMULATIVE[id(pairs)] = plan  # holds `pairs`, so its id stays its own
    _, values, cumulative = plan
    return rng.choices(values, cum_weights=cumulative, k=1)[0]


TOPICS = [
    "Platform rollout",
    "Onboarding revamp",
    "Support desk modernisation",
    "Pipeline visibility project",
    "Customer data consolidation",
    "Second site expansion",
]
COMPANY_MIDDLE = ["", "", "", "Bay", "Valley", "River", "Hill", "Point", "Union", "Group"]
