"""Demo and benchmark data: one deterministic generator.

`seed_demo` (the small default demo of `make run`) and the benchmarks (`python -m bench`,
100,000 deals) both come through `demo_seed()`. Everything is derived from a seed: deal
number `i` of seed `S` is drawn from `random.Random(f"{S}:{i}")`, so the same seed gives the
same deals whether they are written in one run or topped up in several, and a run that
asks for more deals adds only the missing ones.

Rows are built in memory as unsaved model instances and written with `bulk_create`,
parent tables first, a chunk of deals at a time: no per-row saves, no signals, no history
rows except the deal's own "created" record (written in bulk here too). Pricing totals and
`last_buyer_contact_at` are computed in Python while generating, so no second pass is
needed. Health is computed afterwards by the health engine's sweep, then 12 weeks of
health history is written in bulk so dashboard trends have something to show.

A minority of the generated deals carries each problem the health rules look for, at
rates a sales team would recognise (see PROBLEM_RATES). The named stories of the small
demo (STORIES) are written with the same primitives.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from deals import pricing
from deals.models import (
    Activity,
    BuyerMilestone,
    Commitment,
    Concession,
    Contact,
    Deal,
    Disclosure,
    DiscoveryCall,
    Flag,
    HealthSnapshot,
    LineItem,
    Need,
    Prospect,
)
from handoff.models import CheckIn, Handoff, HandoffChecklistItem, HandoffEvent, HandoffMessage
from winwin_crm.accounts.models import Team, User
from winwin_crm.accounts.roles import DELIVERY, MANAGER, REP, ensure_role_groups

# --- who is in the demo ------------------------------------------------------------------

DEMO_PASSWORD = "winwin-demo"
# The users printed by `seed_demo`; each one's home page has something worth clicking.
DEMO_USERS = [
    ("rita", "rep", "Northwind Sales"),
    ("sam", "rep", "Northwind Sales"),
    ("mona", "manager", "Northwind Sales"),
    ("dana", "delivery", "Customer Success"),
]
NORTHWIND, HARBOR, CUSTOMER_SUCCESS = "Northwind Sales", "Harbor Sales", "Customer Success"
# Everyone else the generated deals need: (username, first name, last name, role, team).
# A fixed roster, so deal i always lands with the same rep whatever the number of deals.
ROSTER = [
    ("rita", "Rita", "Reyes", REP, NORTHWIND),
    ("sam", "Sam", "Okafor", REP, NORTHWIND),
    ("mona", "Mona", "Lindqvist", MANAGER, NORTHWIND),
    ("priya", "Priya", "Natarajan", REP, NORTHWIND),
    ("tom", "Tom", "Becker", REP, NORTHWIND),
    ("lena", "Lena", "Fischer", REP, NORTHWIND),
    ("omar", "Omar", "Haddad", REP, NORTHWIND),
    ("hugo", "Hugo", "Marchetti", MANAGER, HARBOR),
    ("ines", "Ines", "Duarte", REP, HARBOR),
    ("kofi", "Kofi", "Mensah", REP, HARBOR),
    ("mei", "Mei", "Tanaka", REP, HARBOR),
    ("paul", "Paul", "Girard", REP, HARBOR),
    ("zoe", "Zoe", "Walsh", REP, HARBOR),
    ("luis", "Luis", "Romero", REP, HARBOR),
    ("dana", "Dana", "Kowalski", DELIVERY, CUSTOMER_SUCCESS),
    ("ravi", "Ravi", "Shah", DELIVERY, CUSTOMER_SUCCESS),
    ("elin", "Elin", "Berg", DELIVERY, CUSTOMER_SUCCESS),
]

# Every deal and prospect the generator writes carries an external_id with this prefix,
# which is how a re-run finds what is already there and how --reset finds what to delete.
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
# Deals per snapshot-history batch (12 weekly rows each).
SNAPSHOT_DEALS_PER_BATCH = 5000
HISTORY_WEEKS = 12

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


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=1)[0]


# --- writing rows in bulk --------------------------------------------------------------------


@contextmanager
def _explicit_timestamps():
    """Let bulk inserts carry their own created_at/updated_at (demo rows have a past).

    auto_now/auto_now_add would stamp every row with this instant; switching them off for
    the duration of the insert keeps the timeline the generator drew. Restored afterwards.
    """
    switched = []
    for model in _Rows.ORDER:
        for f in model._meta.concrete_fields:
            for attr in ("auto_now", "auto_now_add"):
                if getattr(f, attr, False):
                    setattr(f, attr, False)
                    switched.append((f, attr))
    try:
        yield
    finally:
        for f, attr in switched:
            setattr(f, attr, True)


def fast_insert(model, objs: list) -> None:
    """Insert unsaved instances and set their ids.

    PostgreSQL: COPY, with ids reserved from the table's sequence first: bulk_create spends
    most of its time compiling the INSERT in Python, so 100,000 deals (~3 million rows) would
    take a quarter of an hour; COPY moves the same rows several times faster (figures:
    bench/RESULTS.md, "Measurements behind design choices"). Other databases (the
    embedded SQLite) use bulk_create in batches of BULK_BATCH_SIZE.
    """
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._base_manager.bulk_create(objs, batch_size=BULK_BATCH_SIZE)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.generated]  # the database computes those
    table = meta.db_table
    with connection.cursor() as cursor:
        if meta.pk.attname and getattr(objs[0], meta.pk.attname) is None:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, meta.pk.column, len(objs)],
            )
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
        fks = [f for f in fields if f.is_relation]
        buffer = io.StringIO()
        for obj in objs:
            for f in fks:
                if getattr(obj, f.attname) is None:
                    related = f.get_cached_value(obj, None)
                    if related is not None:
                        setattr(obj, f.attname, related.pk)
            buffer.write("\t".join(_copy_text(f, getattr(obj, f.attname)) for f in fields))
            buffer.write("\n")
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        cursor.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN", buffer
        )


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(f, value) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder).translate(_COPY_ESCAPES)
    return str(value).translate(_COPY_ESCAPES)


class _Rows:
    """Unsaved rows of one chunk, written parent tables first.

    Children hold their (unsaved) parent instances; bulk_create fills the parent's id in
    before the child table is written, so no id bookkeeping is needed here.
    """

    ORDER = [
        Prospect,
        Contact,
        Deal,
        DiscoveryCall,
        Need,
        LineItem,
        BuyerMilestone,
        Activity,
        Concession,
        Commitment,
        Disclosure,
        Handoff,
        HandoffChecklistItem,
        HandoffEvent,
        HandoffMessage,
        CheckIn,
    ]

    def __init__(self):
        self.rows: dict[type, list] = defaultdict(list)
        self.item_needs: list[tuple[LineItem, Need]] = []
        self.attendees: list[tuple[DiscoveryCall, Contact]] = []
        # (deal, when, type, expected_close_date)
        self.deal_history: list[tuple[Deal, dt.datetime, str, dt.date | None]] = []
        self.packages: list[tuple[Handoff, Callable[[], dict]]] = []
        self.count = 0

    def add(self, obj):
        self.rows[type(obj)].append(obj)
        self.count += 1
        return obj

    def write(self) -> int:
        with _explicit_timestamps():
            for model in self.ORDER:
                objs = self.rows.get(model)
                if not objs:
                    continue
                if model is Handoff:
                    # The package names the ids of needs, items, …: written by now.
                    for handoff, build in self.packages:
                        handoff.package = build()
                fast_insert(model, objs)
        item_needs = LineItem.needs.through
        fast_insert(
            item_needs, [item_needs(lineitem_id=i.pk, need_id=n.pk) for i, n in self.item_needs]
        )
        attendees = DiscoveryCall.attendees.through
        fast_insert(
            attendees,
            [attendees(discoverycall_id=c.pk, contact_id=p.pk) for c, p in self.attendees],
        )
        self._write_deal_history()
        return self.count + len(self.item_needs) + len(self.attendees) + len(self.deal_history)

    def _write_deal_history(self):
        historical = Deal.history.model
        names = [
            f.attname
            for f in historical._meta.concrete_fields
            if not f.name.startswith("history_") and hasattr(Deal, f.attname)
        ]
        rows = []
        for deal, when, kind, close_date in self.deal_history:
            values = {name: getattr(deal, name) for name in names}
            values["id"] = deal.pk
            values["expected_close_date"] = close_date
            rows.append(
                historical(
                    **values,
                    history_date=when,
                    history_type=kind,
                    history_user_id=deal.owner_id,
                    history_change_reason="",
                )
            )
        fast_insert(historical, rows)


# --- the world the deals live in ---------------------------------------------------------------


@dataclass
class World:
    """Teams and people, plus "now": the fixed points every deal is drawn around."""

    now: dt.datetime
    teams: dict[str, Team]
    users: dict[str, User]
    reps_by_team: dict[str, list[User]]
    delivery_members: list[User]
    checklist: list[tuple[str, str, bool]]

    @property
    def today(self) -> dt.date:
        return timezone.localdate(self.now)

    def ago(self, days: float, hour: int | None = None) -> dt.datetime:
        when = self.now - dt.timedelta(days=days)
        if hour is not None:
            when = when.replace(hour=hour, minute=0, second=0, microsecond=0)
            when = min(when, self.now)
        return when


def world_ensure() -> World:
    """Teams, users and roles of the demo, created if missing (idempotent)."""
    groups = ensure_role_groups()
    delivery, _ = Team.objects.get_or_create(
        name=CUSTOMER_SUCCESS, defaults={"kind": Team.Kind.DELIVERY}
    )
    teams = {CUSTOMER_SUCCESS: delivery}
    for name in (NORTHWIND, HARBOR):
        team, _ = Team.objects.get_or_create(name=name, defaults={"kind": Team.Kind.SALES})
        if team.default_delivery_team_id is None:
            team.default_delivery_team = delivery
            team.save(update_fields=["default_delivery_team"])
        teams[name] = team
    # One hash for everyone: hashing the demo password per user would take seconds.
    password_hash = None
    users = {}
    for username, first, last, role, team_name in ROSTER:
        user = User.objects.filter(username=username).first()
        if user is None:
            password_hash = password_hash or make_password(DEMO_PASSWORD)
            user = User.objects.create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@winwin.example.com",
                password=password_hash,
            )
        elif not user.first_name:
            user.first_name, user.last_name = first, last
            user.save(update_fields=["first_name", "last_name"])
        user.groups.add(groups[role])
        team = teams[team_name]
        team.members.add(user)
        if role == MANAGER and team.manager_id is None:
            team.manager = user
            team.save(update_fields=["manager"])
        users[username] = user
    reps_by_team = defaultdict(list)
    for username, _f, _l, role, team_name in ROSTER:
        if role == REP:
            reps_by_team[team_name].append(users[username])
    from handoff.models import ChecklistTemplateItem
    from handoff.services import DEFAULT_CHECKLIST

    checklist: tuple[tuple[str, str, bool], ...] = DEFAULT_CHECKLIST
    templates = list(ChecklistTemplateItem.objects.filter(active=True).order_by("position", "id"))
    if templates:
        checklist = tuple((t.key, t.label, t.required) for t in templates)
    return World(
        now=timezone.now().replace(microsecond=0),
        teams=teams,
        users=users,
        reps_by_team=dict(reps_by_team),
        delivery_members=[users[u] for u, *_r, role, _t in ROSTER if role == DELIVERY],
        checklist=list(checklist),
    )


# --- one deal's rows -----------------------------------------------------------------------------


@dataclass
class DealDraft:
    """A deal being drawn: its instance and the children pricing and the package need."""

    deal: Deal
    contacts: list[Contact]
    needs: list[Need] = field(default_factory=list)
    items: list[tuple[LineItem, list[Need]]] = field(default_factory=list)
    concessions: list[Concession] = field(default_factory=list)
    commitments: list[Commitment] = field(default_factory=list)
    disclosures: list[Disclosure] = field(default_factory=list)
    milestones: list[BuyerMilestone] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    handoff: Handoff | None = None


class DealWriter:
    """Primitives that add one deal's rows to a chunk; stories and the generator share them."""

    def __init__(self, rows: _Rows, world: World):
        self.rows = rows
        self.world = world

    # parents
    def prospect(self, *, name, team, industry, size, external_id, created_at) -> Prospect:
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:30]
        return self.rows.add(
            Prospect(
                name=name,
                team=team,
                industry=industry,
                size=size,
                website=f"https://www.{slug}.example.com",
                external_id=external_id,
                created_at=created_at,
                updated_at=created_at,
            )
        )

    def contact(self, *, prospect, name, title, buying_role, created_at) -> Contact:
        first = name.split()[0].lower()
        domain = prospect.website.removeprefix("https://www.")
        return self.rows.add(
            Contact(
                prospect=prospect,
                name=name,
                title=title,
                email=f"{first}@{domain}",
                phone="",
                buying_role=buying_role,
                created_at=created_at,
                updated_at=created_at,
            )
        )

    def deal(
        self,
        *,
        prospect,
        contacts,
        owner,
        title,
        stage,
        created_at,
        expected_close_date,
        external_id,
        closed_at=None,
        lost_reason="",
        notes_for_delivery="",
    ) -> DealDraft:
        deal = self.rows.add(
            Deal(
                prospect=prospect,
                owner=owner,
                team=prospect.team,
                title=title,
                stage=stage,
                currency="USD",
                expected_close_date=expected_close_date,
                closed_at=closed_at,
                lost_reason=lost_reason,
                notes_for_delivery=notes_for_delivery,
                external_id=external_id,
                created_by=owner,
                created_at=created_at,
                updated_at=created_at,
            )
        )
        self.rows.deal_history.append((deal, created_at, "+", expected_close_date))
        return DealDraft(deal=deal, contacts=list(contacts))

    # children
    def discovery_call(self, d: DealDraft, *, held_at, attendees, summary, next_step):
        call = self.rows.add(
            DiscoveryCall(
                deal=d.deal,
                held_at=held_at,
                summary=summary,
                next_step=next_step,
                created_by=d.deal.owner,
                created_at=held_at,
                updated_at=held_at,
            )
        )
        self.rows.attendees.extend((call, c) for c in attendees)
        return call

    def need(self, d: DealDraft, *, kind, statement, importance, confirmed, at, call=None):
        need = self.rows.add(
            Need(
                prospect=d.deal.prospect,
                deal=d.deal,
                discovery_call=call,
                kind=kind,
                statement=statement,
                importance=importance,
                confirmed_by_buyer=confirmed,
                created_at=at,
                updated_at=at,
            )
        )
        d.needs.append(need)
        return need

    def item(self, d: DealDraft, *, name, quantity, list_price, price, cost, needs, at):
        item = self.rows.add(
            LineItem(
                deal=d.deal,
                name=name,
                quantity=Decimal(quantity),
                unit_list_price=pricing.money(list_price),
                unit_price=pricing.money(price),
                unit_cost=pricing.money(cost),
                created_at=at,
                updated_at=at,
            )
        )
        self.rows.item_needs.extend((item, n) for n in needs)
        d.items.append((item, list(needs)))
        return item

    def milestone(self, d, *, title, side="buyer", required=True, due, completed_at=None, at):
        milestone = self.rows.add(
            BuyerMilestone(
                deal=d.deal,
                title=title,
                side=side,
                required_for_decision=required,
                due_date=due,
                completed_at=completed_at,
                created_at=at,
                updated_at=completed_at or at,
            )
        )
        d.milestones.append(milestone)
        return milestone

    def activity(self, d, *, kind, by, at, notes="", close_attempt=False, senior=False):
        activity = self.rows.add(
            Activity(
                deal=d.deal,
                kind=kind,
                initiated_by=by,
                occurred_at=at,
                notes=notes,
                close_attempt=close_attempt,
                senior_present=senior,
                created_by=d.deal.owner,
                created_at=at,
                updated_at=at,
            )
        )
        d.activities.append(activity)
        return activity

    def concession(self, d, *, kind, description, amount, cost=Decimal("0"), exchange="", at):
        concession = self.rows.add(
            Concession(
                deal=d.deal,
                kind=kind,
                description=description,
                amount=pricing.money(amount),
                cost_to_seller=pricing.money(cost),
                in_exchange_for=exchange,
                created_by=d.deal.owner,
                created_at=at,
                updated_at=at,
            )
        )
        d.concessions.append(concession)
        return concession

    def commitment(self, d, *, description, due, status="open", owner=None, at, done_at=None):
        commitment = self.rows.add(
            Commitment(
                deal=d.deal,
                description=description,
                due_date=due,
                status=status,
                owner=owner or d.deal.owner,
                completed_at=done_at,
                created_at=at,
                updated_at=done_at or at,
            )
        )
        d.commitments.append(commitment)
        return commitment

    def disclosure(self, d, *, kind, description, at):
        disclosure = self.rows.add(
            Disclosure(
                deal=d.deal,
                kind=kind,
                description=description,
                disclosed_at=at,
                created_by=d.deal.owner,
                created_at=at,
                updated_at=at,
            )
        )
        d.disclosures.append(disclosure)
        return disclosure

    def close_date_pulled(self, d: DealDraft, *, at, earlier_from: dt.date):
        """History of the forecast: first `earlier_from`, moved to the current date at `at`."""
        deal = d.deal
        self.rows.deal_history[-1] = (deal, deal.created_at, "+", earlier_from)
        self.rows.deal_history.append((deal, at, "~", deal.expected_close_date))

    def handoff(
        self,
        d: DealDraft,
        *,
        status,
        closed_at,
        submitted_at=None,
        claimed_at=None,
        accepted_at=None,
        assignee=None,
        checked=None,
        questions=(),
        sla_hours=48,
    ):
        """A handoff in `status` with the events, checklist, thread and check-ins that
        status implies; `questions` is a list of (question, answer-or-None, asked_at)."""
        world = self.world
        deal = d.deal
        handoff = self.rows.add(
            Handoff(
                deal=deal,
                delivery_team=world.teams[CUSTOMER_SUCCESS],
                status=status,
                rep=deal.owner,
                assignee=assignee,
                notes_for_delivery=deal.notes_for_delivery,
                created_at=closed_at,
                submitted_at=submitted_at,
                sla_due_at=submitted_at + dt.timedelta(hours=sla_hours) if submitted_at else None,
                claimed_at=claimed_at,
                accepted_at=accepted_at,
                snapshot_at=submitted_at,
                package_version=1 if submitted_at else 0,
                updated_at=accepted_at or claimed_at or submitted_at or closed_at,
            )
        )
        d.handoff = handoff
        if submitted_at:
            self.rows.packages.append((handoff, lambda: _package(d, submitted_at)))
        all_checked = status != Handoff.Status.DRAFT
        for position, (key, label, required) in enumerate(world.checklist):
            is_checked = all_checked or (checked is not None and position < checked)
            self.rows.add(
                HandoffChecklistItem(
                    handoff=handoff,
                    key=key,
                    label=label,
                    required=required,
                    position=position,
                    checked_at=(submitted_at or closed_at) if is_checked else None,
                    checked_by=deal.owner if is_checked else None,
                )
            )
        events = [("", Handoff.Status.DRAFT, deal.owner, closed_at, "")]
        if submitted_at:
            events.append(
                (Handoff.Status.DRAFT, Handoff.Status.SUBMITTED, deal.owner, submitted_at, "")
            )
        if claimed_at:
            events.append(
                (Handoff.Status.SUBMITTED, Handoff.Status.CLAIMED, assignee, claimed_at, "")
            )
        for question, answer, asked_at in questions:
            self.rows.add(
                HandoffMessage(
                    handoff=handoff,
                    kind=HandoffMessage.Kind.QUESTION,
                    author=assignee,
                    body=question,
                    created_at=asked_at,
                )
            )
            events.append(
                (Handoff.Status.CLAIMED, Handoff.Status.NEEDS_INFO, assignee, asked_at, question)
            )
            if answer:
                answered_at = asked_at + dt.timedelta(hours=5)
                self.rows.add(
                    HandoffMessage(
                        handoff=handoff,
                        kind=HandoffMessage.Kind.ANSWER,
                        author=deal.owner,
                        body=answer,
                        created_at=answered_at,
                    )
                )
                events.append(
                    (
                        Handoff.Status.NEEDS_INFO,
                        Handoff.Status.CLAIMED,
                        deal.owner,
                        answered_at,
                        answer,
                    )
                )
        if accepted_at:
            events.append(
                (Handoff.Status.CLAIMED, Handoff.Status.ACCEPTED, assignee, accepted_at, "")
            )
        for from_status, to_status, actor, at, note in events:
            self.rows.add(
                HandoffEvent(
                    handoff=handoff,
                    from_status=from_status,
                    to_status=to_status,
                    actor=actor,
                    note=note,
                    at=at,
                )
            )
        return handoff

    def check_in(
        self,
        d: DealDraft,
        *,
        offset,
        due,
        completed_at=None,
        value=None,
        health="",
        notes="",
        recorded_by=None,
    ):
        return self.rows.add(
            CheckIn(
                handoff=d.handoff,
                day_offset=offset,
                due_date=due,
                completed_at=completed_at,
                customer_value=value,
                account_health=health,
                notes=notes,
                recorded_by=recorded_by,
            )
        )

    def finish(self, d: DealDraft) -> Deal:
        """Denormalised pricing (deals.pricing), last buyer contact and updated_at,
        computed from the draft."""
        deal = d.deal
        totals = pricing.deal_totals_of((i for i, _ in d.items), d.concessions)
        deal.list_total = totals.list_total
        deal.net_total = totals.net_total
        deal.cost_total = totals.cost_total
        buyer_times = [a.occurred_at for a in d.activities if a.initiated_by == "buyer"]
        deal.last_buyer_contact_at = max(buyer_times) if buyer_times else None
        times = [deal.created_at] + [a.occurred_at for a in d.activities]
        if deal.closed_at:
            times.append(deal.closed_at)
        deal.updated_at = min(max(times), self.world.now)
        return deal


def _package(d: DealDraft, taken_at: dt.datetime) -> dict:
    """The frozen package, in the shape handoff.package.package_build writes."""
    deal = d.deal
    return {
        "version": 1,
        "taken_at": taken_at.isoformat(),
        "deal": {
            "id": deal.pk,
            "title": deal.title,
            "prospect": {"id": deal.prospect_id, "name": deal.prospect.name},
            "owner": {"id": deal.owner_id, "name": str(deal.owner)},
            "stage": deal.stage,
            "closed_at": deal.closed_at.isoformat() if deal.closed_at else None,
        },
        "needs": [
            {
                "id": n.pk,
                "kind": n.kind,
                "importance": n.importance,
                "statement": n.statement,
                "confirmed": n.confirmed_by_buyer,
            }
            for n in sorted(d.needs, key=lambda n: (-n.importance, n.pk))
        ],
        "line_items": [
            {
                "id": i.pk,
                "name": i.name,
                "quantity": str(i.quantity),
                "unit_list_price": str(i.unit_list_price),
                "unit_price": str(i.unit_price),
                "total": str(pricing.line_total(i.quantity, i.unit_price)),
                "needs": [{"id": n.pk, "statement": n.statement} for n in needs],
            }
            for i, needs in d.items
        ],
        "commitments": [
            {
                "id": c.pk,
                "description": c.description,
                "due_date": c.due_date.isoformat() if c.due_date else None,
                "status": c.status,
            }
            for c in d.commitments
            if c.status == Commitment.Status.OPEN
        ],
        "disclosures": [
            {
                "id": x.pk,
                "kind": x.kind,
                "description": x.description,
                "disclosed_at": x.disclosed_at.isoformat() if x.disclosed_at else None,
            }
            for x in d.disclosures
        ],
        "concessions": [
            {
                "id": c.pk,
                "kind": c.kind,
                "description": c.description,
                "amount": str(c.amount),
                "cost_to_seller": str(c.cost_to_seller),
                "in_exchange_for": c.in_exchange_for,
            }
            for c in d.concessions
        ],
        "contacts": [
            {
                "id": c.pk,
                "name": c.name,
                "title": c.title,
                "email": c.email,
                "phone": c.phone,
                "buying_role": c.buying_role,
            }
            for c in sorted(d.contacts, key=lambda c: (c.name, c.pk))
        ],
        "milestones": [
            {
                "id": m.pk,
                "title": m.title,
                "side": m.side,
                "required_for_decision": m.required_for_decision,
                "due_date": m.due_date.isoformat() if m.due_date else None,
                "completed": False,
            }
            for m in d.milestones
            if m.completed_at is None
        ],
        "notes_for_delivery": deal.notes_for_delivery,
        "pricing": {
            "currency": deal.currency,
            "list_total": str(deal.list_total),
            "net_total": str(deal.net_total),
            "cost_total": str(deal.cost_total),
            "discount_pct": str(deal.discount_pct) if deal.discount_pct is not None else None,
            "margin_pct": str(deal.margin_pct) if deal.margin_pct is not None else None,
        },
    }


# --- the generator ---------------------------------------------------------------------------

TOPICS = [
    "Platform rollout",
    "Onboarding revamp",
    "Support desk modernisation",
    "Pipeline visibility project",
    "Customer data consolidation",
    "Second site expansion",
]
COMPANY_MIDDLE = ["", "", "", "Bay", "Valley", "River", "Hill", "Point", "Union", "Group"]


def _deal_external_id(seed: int, i: int) -> str:
    return f"{DEMO_PREFIX}{seed}:d{i:07d}"


def _prospect_external_id(seed: int, j: int) -> str:
    return f"{DEMO_PREFIX}{seed}:p{j:07d}"


def _draw_prospect(w: DealWriter, seed: int, j: int):
    """Prospect j (shared by deals 2j and 2j+1: a first deal and an expansion)."""
    rng = random.Random(f"{seed}:p{j}")
    world = w.world
    industry = rng.choice(list(INDUSTRIES))
    middle = rng.choice(COMPANY_MIDDLE)
    words = [rng.choice(COMPANY_FIRST), middle, rng.choice(INDUSTRIES[industry])]
    name = " ".join(word for word in words if word)
    team = world.teams[NORTHWIND if rng.random() < 0.5 else HARBOR]
    created_at = world.ago(rng.uniform(130, 240), hour=9)
    prospect = w.prospect(
        name=name,
        team=team,
        industry=industry,
        size=_weighted(rng, SIZE_WEIGHTS),
        external_id=_prospect_external_id(seed, j),
        created_at=created_at,
    )
    roles = CONTACT_ROLES[:2] + rng.sample(CONTACT_ROLES[2:], rng.randint(0, 2))
    contacts = [
        w.contact(
            prospect=prospect,
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            title=title,
            buying_role=role,
            created_at=created_at,
        )
        for role, title in roles
    ]
    return prospect, contacts


def _owner_for(world: World, prospect: Prospect, seed: int, j: int) -> User:
    team_name = prospect.team.name
    return random.Random(f"{seed}:o{j}").choice(world.reps_by_team[team_name])


class _Generated:
    """Draws deal number i of a seed. All randomness comes from `rng`, in a fixed order."""

    def __init__(self, w: DealWriter, rng: random.Random):
        self.w = w
        self.rng = rng
        self.world = w.world

    def at(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        if end <= start:
            return start
        span = (end - start).total_seconds()
        return (start + dt.timedelta(seconds=self.rng.uniform(0, span))).replace(microsecond=0)

    def draw(self, *, i: int, seed: int, prospect: Prospect, contacts, owner: User) -> DealDraft:
        rng, w, world = self.rng, self.w, self.world
        now, today = world.now, world.today
        stage = _weighted(rng, STAGE_WEIGHTS)
        order = Deal.STAGE_ORDER[stage]
        is_open = stage in Deal.OPEN_STAGES
        won = stage == Deal.Stage.CLOSED_WON
        at_least = lambda s: order >= Deal.STAGE_ORDER[s]  # noqa: E731
        # Draw every problem for every deal (a fixed number of draws keeps deals
        # independent of one another), then keep those that apply at this stage.
        roll = {name: rng.random() < rate for name, rate in PROBLEM_RATES.items()}
        late = is_open and at_least(Deal.Stage.PROPOSAL)
        p = {
            "premature_close": roll["premature_close"] and late,
            "chasing": roll["chasing"] and is_open,
            "escalation": roll["escalation"] and is_open and at_least(Deal.Stage.QUALIFICATION),
            "language": roll["language"] and is_open,
            "close_date_pulled": roll["close_date_pulled"] and is_open,
            "oversell": roll["oversell"] and at_least(Deal.Stage.PROPOSAL),
            "unmet_need": roll["unmet_need"] and at_least(Deal.Stage.PROPOSAL),
            "no_discovery": roll["no_discovery"] and at_least(Deal.Stage.PROPOSAL),
            "undisclosed": roll["undisclosed"] and at_least(Deal.Stage.NEGOTIATION),
            "discount": roll["discount"] and at_least(Deal.Stage.PROPOSAL),
            "low_margin": roll["low_margin"] and at_least(Deal.Stage.PROPOSAL),
            "untraded_cut": roll["untraded_cut"] and at_least(Deal.Stage.PROPOSAL),
            "stale": roll["stale"] and is_open and not roll["chasing"],
            "commitment_overdue": roll["commitment_overdue"] and at_least(Deal.Stage.PROPOSAL),
        }
        # --- timeline
        handoff_state = _weighted(rng, HANDOFF_STATE_WEIGHTS)
        overdue_handoff = rng.random() < PROBLEM_RATES["handoff_overdue"]
        leak = rng.random() < PROBLEM_RATES["handoff_leak"]
        closed_at = None
        times = {}
        if won:
            S = Handoff.Status
            if handoff_state == S.DRAFT:
                closed_ago = rng.uniform(0.3, 5)
            elif handoff_state == S.SUBMITTED:
                closed_ago = rng.uniform(4, 9) if overdue_handoff else rng.uniform(1.5, 3)
                times["submitted"] = now - dt.timedelta(
                    hours=rng.uniform(60, 150) if overdue_handoff else rng.uniform(2, 30)
                )
            elif handoff_state in (S.CLAIMED, S.NEEDS_INFO):
                closed_ago = rng.uniform(3, 14)
            else:
                closed_ago = rng.uniform(10, 115)
            closed_at = world.ago(closed_ago)
            if handoff_state in (S.CLAIMED, S.NEEDS_INFO, S.ACCEPTED):
                times["submitted"] = closed_at + dt.timedelta(hours=rng.uniform(3, 30))
                times["claimed"] = times["submitted"] + dt.timedelta(hours=rng.uniform(1, 30))
            if handoff_state == S.ACCEPTED:
                times["accepted"] = times["claimed"] + dt.timedelta(days=rng.uniform(1, 5))
            if handoff_state == S.NEEDS_INFO:
                times["asked"] = times["claimed"] + dt.timedelta(hours=rng.uniform(1, 20))
            created_ago = closed_ago + rng.uniform(30, 90)
        elif stage == Deal.Stage.CLOSED_LOST:
            closed_ago = rng.uniform(1, 100)
            closed_at = world.ago(closed_ago)
            created_ago = closed_ago + rng.uniform(20, 80)
        else:
            low, high = {
                Deal.Stage.DISCOVERY: (3, 40),
                Deal.Stage.QUALIFICATION: (15, 60),
                Deal.Stage.PROPOSAL: (25, 100),
                Deal.Stage.NEGOTIATION: (35, 120),
            }[stage]
            created_ago = rng.uniform(low, high)
        created_at = world.ago(created_ago)
        end = closed_at or now
        expected_close = (
            timezone.localdate(closed_at) if closed_at else today + dt.timedelta(rng.randint(7, 90))
        )
        topic = rng.choice(TOPICS) if i % 2 == 0 else "Expansion: " + rng.choice(TOPICS).lower()
        d = w.deal(
            prospect=prospect,
            contacts=contacts,
            owner=owner,
            title=f"{prospect.name} — {topic}",
            stage=stage,
            created_at=created_at,
            expected_close_date=expected_close,
            external_id=_deal_external_id(seed, i),
            closed_at=closed_at,
            lost_reason=rng.choice(LOST_REASONS) if stage == Deal.Stage.CLOSED_LOST else "",
        )
        champion = contacts[0]
        # --- discovery and needs
        call = None
        has_call = not p["no_discovery"] and (stage != Deal.Stage.DISCOVERY or rng.random() < 0.7)
        if has_call:
            call = w.discovery_call(
                d,
                held_at=min(created_at + dt.timedelta(days=rng.uniform(1, 6)), end),
                attendees=contacts[:2],
                summary=f"Walked through how {prospect.name} works today and what must change.",
                next_step=rng.choice(
                    [
                        "They will share the security questionnaire.",
                        "They will book a session with their finance team.",
                        "They will list the teams that would use it first.",
                    ]
                ),
            )
        needs = []
        if call or at_least(Deal.Stage.QUALIFICATION):
            seen = set()
            for _ in range(rng.randint(2, 5) if at_least(Deal.Stage.QUALIFICATION) else 2):
                kind = _weighted(rng, NEED_KIND_WEIGHTS)
                statement, serves = rng.choice(NEEDS[kind])
                if statement in seen:
                    continue
                seen.add(statement)
                need = w.need(
                    d,
                    kind=kind,
                    statement=statement,
                    importance=_weighted(rng, IMPORTANCE_WEIGHTS),
                    confirmed=call is not None and rng.random() < 0.88,
                    at=call.held_at if call else created_at,
                    call=call,
                )
                needs.append((need, serves))
        # --- proposal
        items_from = at_least(Deal.Stage.PROPOSAL) or (
            stage == Deal.Stage.QUALIFICATION and rng.random() < 0.4
        )
        if items_from and needs:
            unmet = None
            if p["unmet_need"]:
                unmet = max(needs, key=lambda pair: pair[0].importance)[0]
                unmet.importance = max(unmet.importance, 4)
            by_product: dict[int, list[Need]] = defaultdict(list)
            for need, serves in needs:
                if need is unmet:
                    continue
                if need.importance >= 3 or rng.random() < 0.4:
                    by_product[serves[0] if rng.random() < 0.7 else rng.choice(serves)].append(need)
            if not by_product:
                served = [n for n, _ in needs if n is not unmet]
                by_product[0] = served[:1]
            if p["oversell"]:
                extra = next((x for x in OVERSELL_PRODUCTS if x not in by_product), None)
                if extra is not None:
                    by_product[extra] = []
            discount = (
                Decimal(rng.randint(18, 35)) / 100
                if p["discount"]
                else Decimal(rng.choice([0, 0, 2, 5, 5, 8, 10])) / 100
            )
            seats = rng.randint(*SEATS[Prospect.Size(prospect.size or Prospect.Size.MEDIUM)])
            item_at = min(created_at + dt.timedelta(days=rng.uniform(7, 20)), end)
            for index in sorted(by_product):
                name, list_price, cost_share, per_seat = PRODUCTS[index]
                price = list_price * (1 - discount)
                cost = list_price * cost_share
                if p["low_margin"]:
                    cost = price * Decimal(str(round(rng.uniform(0.82, 0.97), 2)))
                w.item(
                    d,
                    name=name,
                    quantity=seats if per_seat else 1,
                    list_price=list_price,
                    price=price,
                    cost=cost,
                    needs=by_product[index],
                    at=item_at,
                )
        list_total = sum((it.quantity * it.unit_list_price for it, _ in d.items), Decimal(0))
        # --- concessions: mostly value adds, price cuts traded for something
        if d.items and at_least(Deal.Stage.PROPOSAL) and rng.random() < 0.5:
            conceded_at = self.at(created_at + dt.timedelta(days=10), end)
            for description, share in rng.sample(VALUE_ADDS, rng.randint(1, 2)):
                amount = list_total * share
                w.concession(
                    d,
                    kind="value_add",
                    description=description,
                    amount=amount,
                    cost=amount * Decimal("0.3"),
                    exchange=rng.choice(TRADES),
                    at=conceded_at,
                )
            if rng.random() < 0.3:
                w.concession(
                    d,
                    kind="price",
                    description="Multi-year price reduction",
                    amount=list_total * Decimal(rng.randint(1, 3)) / 100,
                    exchange=rng.choice(TRADES[:2]),
                    at=conceded_at,
                )
        if d.items and p["untraded_cut"]:
            w.concession(
                d,
                kind="price",
                description=rng.choice(["Extra discount to get it signed", "Price match"]),
                amount=list_total * Decimal(rng.randint(2, 4)) / 100,
                at=self.at(created_at + dt.timedelta(days=10), end),
            )
        # --- buyer milestones: the buyer's own decision process
        pulled_at = now - dt.timedelta(days=rng.uniform(2, 10)) if p["close_date_pulled"] else None
        if at_least(Deal.Stage.QUALIFICATION):
            titles = rng.sample(BUYER_MILESTONES, rng.randint(2, 4))
            if p["premature_close"] and "Security review" not in titles:
                titles[0] = "Security review"
            progress = {
                Deal.Stage.QUALIFICATION: 0.2,
                Deal.Stage.PROPOSAL: 0.4,
                Deal.Stage.NEGOTIATION: 0.75,
                Deal.Stage.CLOSED_WON: 1.0,
                Deal.Stage.CLOSED_LOST: 0.3,
            }[stage]
            done = round(len(titles) * progress)
            last_done = pulled_at - dt.timedelta(days=1) if pulled_at else end
            span = (expected_close - timezone.localdate(created_at)).days
            for n, title in enumerate(titles):
                required = rng.random() < 0.8 or title == "Security review"
                due = timezone.localdate(created_at) + dt.timedelta(
                    days=max(1, span * (n + 1) // (len(titles) + 1))
                )
                complete = n < done
                if p["premature_close"] and title == "Security review":
                    complete, required = False, True
                if stage == Deal.Stage.NEGOTIATION and required and not p["premature_close"]:
                    complete = True  # negotiating means the buyer's own steps are done
                w.milestone(
                    d,
                    title=title,
                    required=required,
                    due=due,
                    completed_at=self.at(created_at, last_done) if complete else None,
                    at=created_at,
                )
            if rng.random() < 0.5:
                w.milestone(
                    d,
                    title=rng.choice(SELLER_MILESTONES),
                    side="seller",
                    required=False,
                    due=expected_close,
                    at=created_at,
                    completed_at=self.at(created_at, last_done)
                    if at_least(Deal.Stage.PROPOSAL)
                    else None,
                )
        self._activities(d, p=p, start=created_at, end=end, won=won, times=times, leak=leak)
        # --- promises and openness
        if at_least(Deal.Stage.PROPOSAL) and stage != Deal.Stage.CLOSED_LOST:
            accepted = times.get("accepted")
            for description in rng.sample(COMMITMENTS, rng.randint(0, 2)):
                if accepted:
                    due = timezone.localdate(accepted) + dt.timedelta(rng.randint(5, 60))
                    if due < today:
                        w.commitment(
                            d,
                            description=description,
                            due=due,
                            status="done",
                            owner=None,
                            at=created_at,
                            done_at=world.ago((today - due).days + 1),
                        )
                        continue
                else:
                    due = max(expected_close, today) + dt.timedelta(rng.randint(10, 60))
                w.commitment(d, description=description, due=due, at=created_at)
            if p["commitment_overdue"]:
                w.commitment(
                    d,
                    description="Send the signed data-processing agreement",
                    due=today - dt.timedelta(rng.randint(3, 20)),
                    at=created_at,
                )
        disclose = at_least(Deal.Stage.NEGOTIATION) or (
            stage == Deal.Stage.PROPOSAL and rng.random() < 0.5
        )
        if disclose:
            picks = rng.sample(DISCLOSURES, rng.randint(1, 3))
            if p["undisclosed"]:
                picks = [x for x in picks if x[0] == Disclosure.Kind.PRICING]
            for kind, description in picks:
                w.disclosure(d, kind=kind, description=description, at=self.at(created_at, end))
        if pulled_at:
            w.close_date_pulled(
                d, at=pulled_at, earlier_from=expected_close + dt.timedelta(rng.randint(20, 45))
            )
        if won:
            top = max((n for n, _ in needs), key=lambda n: n.importance, default=None)
            d.deal.notes_for_delivery = f"Champion is {champion.name}." + (
                f" What matters most to them: {top.statement.lower()}." if top else ""
            )
            w.finish(d)
            self._handoff(d, state=handoff_state, times=times, closed_at=closed_at)
            return d
        w.finish(d)
        return d

    def _activities(self, d: DealDraft, *, p, start, end, won, times, leak):
        rng, w, world = self.rng, self.w, self.world
        now = world.now
        start = max(start, world.ago(120))
        span_days = max(1.0, (end - start).total_seconds() / 86400)
        count = max(3, int(span_days / rng.uniform(4, 8)))
        names = [c.name.split()[0] for c in d.contacts]
        is_open = d.deal.stage in Deal.OPEN_STAGES
        # The last stretch is drawn separately for the problems that live there.
        quiet_from = None
        if is_open and p["stale"]:
            quiet_from = now - dt.timedelta(days=rng.uniform(25, 50))
        elif is_open and p["chasing"]:
            quiet_from = now - dt.timedelta(days=rng.uniform(8, 12))
        body_end = quiet_from or end
        for _ in range(count):
            at = self.at(start, body_end)
            buyer = rng.random() < 0.45
            if buyer:
                kind = _weighted(rng, [("email", 60), ("call", 25), ("meeting", 15)])
                notes = rng.choice(BUYER_NOTES)
            else:
                kind = _weighted(rng, [("email", 45), ("call", 30), ("meeting", 15), ("note", 10)])
                notes = rng.choice(REP_NOTES)
            w.activity(
                d,
                kind=kind,
                by="buyer" if buyer else "rep",
                at=at,
                notes=notes.format(contact=rng.choice(names)),
                senior=not buyer and kind in ("call", "meeting") and rng.random() < 0.04,
            )
        if is_open and not p["stale"]:
            # A live deal hears from its buyer: a reply in the last two weeks (or, when the
            # rep is chasing, just before the chasing began).
            last = quiet_from or now
            w.activity(
                d,
                kind="email",
                by="buyer",
                at=last - dt.timedelta(days=rng.uniform(0.5, 12)),
                notes=rng.choice(BUYER_NOTES).format(contact=rng.choice(names)),
            )
        if p["stale"]:
            for k in range(rng.randint(1, 2)):
                w.activity(
                    d,
                    kind="email",
                    by="rep",
                    at=now - dt.timedelta(days=3 + 9 * k),
                    notes="Sent an update on the rollout plan.",
                )
        if p["chasing"]:
            for k in range(rng.randint(4, 5)):
                w.activity(
                    d,
                    kind=rng.choice(["email", "call"]),
                    by="rep",
                    at=now - dt.timedelta(days=0.3 + 1.2 * k, hours=rng.uniform(0, 3)),
                    notes=CHASING_NOTES[k],
                )
        if p["language"]:
            w.activity(
                d,
                kind="email",
                by="rep",
                at=now - dt.timedelta(days=rng.uniform(1, 20)),
                notes=rng.choice(PRESSURE_NOTES).format(contact=names[0]),
            )
        if p["escalation"]:
            for k in range(3):
                w.activity(
                    d,
                    kind="meeting" if k else "call",
                    by="rep",
                    at=now - dt.timedelta(days=0.5 + 2 * k, hours=rng.uniform(0, 4)),
                    notes="Our VP of Sales joined to discuss the terms.",
                    senior=k != 1 or rng.random() < 0.5,
                )
        if p["premature_close"]:
            w.activity(
                d,
                kind="call",
                by="rep",
                at=now - dt.timedelta(days=rng.uniform(1, 9)),
                notes="Asked them to sign this week.",
                close_attempt=True,
            )
        elif d.deal.stage == Deal.Stage.NEGOTIATION and rng.random() < 0.4:
            w.activity(
                d,
                kind="meeting",
                by="rep",
                at=now - dt.timedelta(days=rng.uniform(1, 9)),
                notes="All their steps are done; asked whether they are ready to sign.",
                close_attempt=True,
            )
        if won:
            w.activity(
                d,
                kind="meeting",
                by="rep",
                at=end - dt.timedelta(hours=20),
                notes="Walked through the final terms; asked for the signature.",
                close_attempt=True,
            )
            w.activity(
                d,
                kind="email",
                by="buyer",
                at=end - dt.timedelta(hours=2),
                notes="Signed contract attached.",
            )
            if times.get("accepted") and leak:
                accepted = times["accepted"]
                for k in range(rng.randint(2, 3)):
                    w.activity(
                        d,
                        kind="support",
                        by="buyer",
                        at=self.at(accepted + dt.timedelta(hours=1), now),
                        notes=SUPPORT_NOTES[k],
                    )

    def _handoff(self, d: DealDraft, *, state, times, closed_at):
        rng, w, world = self.rng, self.w, self.world
        S = Handoff.Status
        assignee = rng.choice(world.delivery_members) if "claimed" in times else None
        questions: list[tuple[str, str | None, dt.datetime]] = []
        if state == S.NEEDS_INFO:
            k = rng.randrange(len(HANDOFF_QUESTIONS))
            questions.append((HANDOFF_QUESTIONS[k], None, times["asked"]))
        elif "claimed" in times and rng.random() < 0.25:
            k = rng.randrange(len(HANDOFF_QUESTIONS))
            asked = times["claimed"] + dt.timedelta(hours=2)
            questions.append((HANDOFF_QUESTIONS[k], HANDOFF_ANSWERS[k], asked))
        w.handoff(
            d,
            status=state,
            closed_at=closed_at,
            submitted_at=times.get("submitted"),
            claimed_at=times.get("claimed"),
            accepted_at=times.get("accepted"),
            assignee=assignee,
            checked=rng.randint(0, len(world.checklist) - 1),
            questions=questions,
        )
        accepted = times.get("accepted")
        if accepted:
            for commitment in d.commitments:
                commitment.owner = assignee
            accepted_on = timezone.localdate(accepted)
            for offset in CHECK_IN_OFFSETS_DAYS:
                due = accepted_on + dt.timedelta(days=offset)
                if due < world.today - dt.timedelta(days=3) and rng.random() < 0.85:
                    value = _weighted(rng, [(5, 30), (4, 35), (3, 20), (2, 10), (1, 5)])
                    w.check_in(
                        d,
                        offset=offset,
                        due=due,
                        completed_at=world.ago((world.today - due).days - 1),
                        value=value,
                        health="profitable" if value >= 3 else "at_risk",
                        notes=CHECK_IN_NOTES[value],
                        recorded_by=assignee,
                    )
                else:
                    w.check_in(d, offset=offset, due=due)


def _generate_range(world: World, *, seed: int, start: int, stop: int, progress=None) -> list[int]:
    """Write generated deals start..stop-1 of `seed`; return their ids."""
    deal_ids: list[int] = []
    for chunk_start in range(start, stop, DEALS_PER_CHUNK):
        chunk_stop = min(stop, chunk_start + DEALS_PER_CHUNK)
        rows = _Rows()
        w = DealWriter(rows, world)
        prospects = {}
        first_j = chunk_start // 2
        if chunk_start % 2:
            # The first deal's prospect was written by an earlier run or chunk.
            existing = (
                Prospect.objects.select_related("team")
                .filter(external_id=_prospect_external_id(seed, first_j))
                .first()
            )
            if existing is not None:
                contacts = sorted(existing.contacts.all(), key=lambda c: c.pk)
                prospects[first_j] = (existing, contacts)
        drafts = []
        for i in range(chunk_start, chunk_stop):
            j = i // 2
            if j not in prospects:
                prospects[j] = _draw_prospect(w, seed, j)
            prospect, contacts = prospects[j]
            owner = _owner_for(world, prospect, seed, j)
            drafts.append(
                _Generated(w, random.Random(f"{seed}:{i}")).draw(
                    i=i, seed=seed, prospect=prospect, contacts=contacts, owner=owner
                )
            )
        rows.write()
        deal_ids.extend(d.deal.pk for d in drafts)
        if progress:
            progress(chunk_stop - start)
    return deal_ids


# --- the stories of the small demo ---------------------------------------------------------------

# (key, deal title): printed by seed_demo and found by tests.
STORIES = {
    "security-review": "Acme Logistics — Fleet platform rollout",
    "support-months": "Birchwood Dental — Patient onboarding revamp",
    "sold-at-a-loss": "Cobalt Retail — Store rollout at 40 % off",
    "oversold": "Dunmore Clinics — Scheduling upgrade",
    "handoff-past-sla": "Elmstead Foods — Warehouse onboarding",
    "customer-calls-rep": "Fairhaven Hotels — Guest services platform",
    "chasing": "Ironbridge Legal — Case intake automation",
    "pressure-language": "Juniper Schools — Enrolment portal",
    "handoff-draft": "Kestrel Analytics — Forecasting rollout",
    "handoff-needs-info": "Harrow Energy — Field service onboarding",
    "handoff-claimed": "Greyfield Apparel — Returns desk rollout",
    "check-in-due": "Larkspur Hotels — Front desk onboarding",
    "gone-quiet": "Meridian Finance — Claims desk pilot",
    "win-win": "Northgate Software — Support desk modernisation",
}
STORY_BLURBS = {
    "security-review": "rita pushes to close during the security review; a VP on every call",
    "support-months": "sam trades 6 extra months of support instead of a price cut: win-win",
    "sold-at-a-loss": "sam sells at a 40 % discount, below cost",
    "oversold": "rita adds items no need asked for, misses a key need, discloses nothing",
    "handoff-past-sla": "a handoff waiting in dana's queue past its 48-hour SLA",
    "customer-calls-rep": "accepted by dana, but the customer keeps calling rita",
    "chasing": "rita follows up five times in a week with no reply",
    "pressure-language": "sam writes 'the offer expires Friday'",
    "handoff-draft": "rita's handoff checklist is half done",
    "handoff-needs-info": "dana asked sam a question that waits for an answer",
    "handoff-claimed": "dana claimed it and is reviewing the package",
    "check-in-due": "dana's 90-day check-in is due this week",
    "gone-quiet": "no word from the buyer for a month",
    "win-win": "a proposal that serves every need, with everything disclosed",
}


class _Story:
    """Shorthand for writing one story deal with the shared primitives."""

    def __init__(self, w: DealWriter, key: str):
        self.w = w
        self.world = w.world
        self.key = key

    def start(
        self,
        *,
        owner,
        stage,
        created_days_ago,
        contacts,
        industry,
        size,
        close_in=30,
        closed_days_ago=None,
    ):
        world = self.world
        title = STORIES[self.key]
        name = title.split(" — ")[0]
        created_at = world.ago(created_days_ago, hour=10)
        prospect = self.w.prospect(
            name=name,
            team=world.teams[NORTHWIND],
            industry=industry,
            size=size,
            external_id=f"{STORY_PREFIX}{self.key}",
            created_at=created_at,
        )
        people = [
            self.w.contact(prospect=prospect, name=n, title=t, buying_role=r, created_at=created_at)
            for n, t, r in contacts
        ]
        closed_at = world.ago(closed_days_ago, hour=15) if closed_days_ago is not None else None
        self.d = self.w.deal(
            prospect=prospect,
            contacts=people,
            owner=world.users[owner],
            title=title,
            stage=stage,
            created_at=created_at,
            expected_close_date=timezone.localdate(closed_at)
            if closed_at
            else world.today + dt.timedelta(days=close_in),
            external_id=f"{STORY_PREFIX}{self.key}",
            closed_at=closed_at,
        )
        self.people = people
        return self.d

    def discovery(self, days_ago, needs):
        """needs: (kind, statement, importance)."""
        call = self.w.discovery_call(
            self.d,
            held_at=self.world.ago(days_ago, hour=11),
            attendees=self.people[:2],
            summary="Mapped how they work today and what must change.",
            next_step="They will share their evaluation criteria.",
        )
        return [
            self.w.need(
                self.d,
                kind=k,
                statement=s,
                importance=imp,
                confirmed=True,
                at=call.held_at,
                call=call,
            )
            for k, s, imp in needs
        ]

    def item(self, product: int, *, quantity=1, discount=Decimal("0"), cost=None, needs=()):
        name, list_price, cost_share, _ = PRODUCTS[product]
        price = list_price * (1 - discount)
        return self.w.item(
            self.d,
            name=name,
            quantity=quantity,
            list_price=list_price,
            price=price,
            cost=list_price * cost_share if cost is None else cost,
            needs=needs,
            at=self.d.deal.created_at + dt.timedelta(days=12),
        )

    def milestone(self, title, *, due_in, done_days_ago=None, required=True, side="buyer"):
        return self.w.milestone(
            self.d,
            title=title,
            side=side,
            required=required,
            due=self.world.today + dt.timedelta(days=due_in),
            completed_at=self.world.ago(done_days_ago, hour=16) if done_days_ago else None,
            at=self.d.deal.created_at,
        )

    def act(self, days_ago, by, notes, kind="email", **kwargs):
        return self.w.activity(
            self.d, kind=kind, by=by, at=self.world.ago(days_ago, hour=14), notes=notes, **kwargs
        )

    def disclose(self, *picks):
        for index in picks:
            kind, description = DISCLOSURES[index]
            self.w.disclosure(
                self.d,
                kind=kind,
                description=description,
                at=self.d.deal.created_at + dt.timedelta(days=20),
            )

    def won_handoff(
        self,
        *,
        status,
        submitted_hours_ago=None,
        claimed_hours_ago=None,
        accepted_days_ago=None,
        checked=None,
        questions=(),
    ):
        world = self.world
        self.w.finish(self.d)
        return self.w.handoff(
            self.d,
            status=status,
            closed_at=self.d.deal.closed_at,
            submitted_at=world.now - dt.timedelta(hours=submitted_hours_ago)
            if submitted_hours_ago
            else None,
            claimed_at=world.now - dt.timedelta(hours=claimed_hours_ago)
            if claimed_hours_ago
            else None,
            accepted_at=world.ago(accepted_days_ago, hour=12) if accepted_days_ago else None,
            assignee=world.users["dana"] if claimed_hours_ago else None,
            checked=checked,
            questions=questions,
        )


CHAMPION, DECIDER = Contact.BuyingRole.CHAMPION, Contact.BuyingRole.DECISION_MAKER
INFLUENCER, BLOCKER = Contact.BuyingRole.INFLUENCER, Contact.BuyingRole.BLOCKER
GOAL, PROBLEM = Need.Kind.GOAL, Need.Kind.PROBLEM
INTEREST, DREAM = Need.Kind.INTEREST, Need.Kind.DREAM
PCT = lambda n: Decimal(n) / 100  # noqa: E731


def _write_stories(world: World) -> list[DealDraft]:
    rows = _Rows()
    w = DealWriter(rows, world)
    S = Deal.Stage
    H = Handoff.Status
    drafts = []

    # The rep pushes for a close while the buyer's security review is open; a VP on every call.
    s = _Story(w, "security-review")
    s.start(
        owner="rita",
        stage=S.NEGOTIATION,
        created_days_ago=70,
        industry="Logistics",
        size=Prospect.Size.LARGE,
        close_in=21,
        contacts=[
            ("Joan Park", "Head of Operations", CHAMPION),
            ("Victor Hale", "Chief Operating Officer", DECIDER),
            ("Sana Iqbal", "IT Security Lead", INFLUENCER),
        ],
    )
    n1, n2 = s.discovery(
        64,
        [
            (PROBLEM, "Dispatchers re-type every order into three systems", 5),
            (GOAL, "Cut delivery planning time in half", 4),
        ],
    )
    s.item(0, quantity=120, discount=PCT(5), needs=[n1, n2])
    s.item(1, discount=PCT(5), needs=[n1])
    s.milestone("Technical evaluation", due_in=-25, done_days_ago=24)
    s.milestone("Security review", due_in=12)
    s.milestone("Legal review of the contract", due_in=18)
    s.disclose(1, 2)
    s.act(30, "buyer", "Sana sent their 140-question security questionnaire.")
    s.act(
        12,
        "rep",
        "Our VP of Sales joined; asked whether they can sign this month.",
        kind="call",
        close_attempt=True,
        senior=True,
    )
    s.act(
        7,
        "rep",
        "VP of Sales on the call again; pushed for a signature before the review.",
        kind="meeting",
        close_attempt=True,
        senior=True,
    )
    s.act(4, "buyer", "Sana: the security review needs two more weeks, please hold.")
    s.act(
        2,
        "rep",
        "VP of Sales and I asked Victor to sign now and finish the review later.",
        kind="call",
        close_attempt=True,
        senior=True,
    )
    drafts.append(s.d)

    # Saved by trading six extra months of support instead of a price cut.
    s = _Story(w, "support-months")
    s.start(
        owner="sam",
        stage=S.NEGOTIATION,
        created_days_ago=55,
        industry="Healthcare",
        size=Prospect.Size.MEDIUM,
        close_in=14,
        contacts=[
            ("Ruth Adeyemi", "Practice Manager", CHAMPION),
            ("Dr. Colin Marsh", "Managing Partner", DECIDER),
        ],
    )
    n1, n2, n3 = s.discovery(
        50,
        [
            (PROBLEM, "New patients fill in the same forms three times", 5),
            (GOAL, "Onboard a new clinic location in a week", 4),
            (INTEREST, "Wants reminders by text message", 2),
        ],
    )
    s.item(0, quantity=60, needs=[n1, n3])
    s.item(1, needs=[n2])
    s.item(5, needs=[n2])
    s.milestone("Budget approval", due_in=-10, done_days_ago=9)
    s.milestone("Reference call with a customer", due_in=-5, done_days_ago=6)
    s.disclose(0, 3, 4)
    s.act(20, "buyer", "Colin asked for 20 % off to fit their budget.")
    s.act(
        18,
        "rep",
        "Offered 6 extra months of support instead of a discount, in exchange for a two-year term.",
        kind="call",
    )
    s.act(15, "buyer", "They accepted the two-year term with the extra support.")
    s.act(3, "buyer", "Ruth sent the signed order form for review by their lawyer.")
    w.concession(
        s.d,
        kind="value_add",
        description="6 extra months of support",
        amount=Decimal("4000"),
        cost=Decimal("900"),
        exchange="Two-year term",
        at=world.ago(18),
    )
    drafts.append(s.d)

    # Sold at a loss after a 40 % discount.
    s = _Story(w, "sold-at-a-loss")
    s.start(
        owner="sam",
        stage=S.CLOSED_WON,
        created_days_ago=80,
        closed_days_ago=1,
        industry="Retail",
        size=Prospect.Size.LARGE,
        contacts=[
            ("Marta Kowal", "Head of Store Operations", CHAMPION),
            ("Derek Nash", "Procurement Manager", BLOCKER),
            ("Irene Volk", "Chief Financial Officer", DECIDER),
        ],
    )
    n1, n2 = s.discovery(
        75,
        [
            (PROBLEM, "Store staff cannot see stock in other stores", 5),
            (GOAL, "Launch click-and-collect in all 40 stores", 4),
        ],
    )
    s.item(0, quantity=400, discount=PCT(30), cost=Decimal("300"), needs=[n1, n2])
    s.item(1, discount=PCT(30), cost=Decimal("9000"), needs=[n2])
    s.milestone("Procurement sign-off", due_in=-3, done_days_ago=2)
    s.disclose(1, 4)
    s.act(10, "buyer", "Derek: a competitor offered 30 % off; match it or we walk.")
    s.act(
        6,
        "rep",
        "Matched 30 % and added another 10 % to close before the quarter ends.",
        kind="call",
    )
    s.act(2, "rep", "Sent the final contract.", close_attempt=True)
    s.act(1.2, "buyer", "Signed contract attached.")
    w.concession(
        s.d,
        kind="price",
        description="Extra 10 % off to close this quarter",
        amount=Decimal("20400"),
        at=world.ago(6),
    )
    s.won_handoff(status=H.SUBMITTED, submitted_hours_ago=10)
    drafts.append(s.d)

    # An oversold proposal.
    s = _Story(w, "oversold")
    s.start(
        owner="rita",
        stage=S.NEGOTIATION,
        created_days_ago=35,
        industry="Healthcare",
        size=Prospect.Size.MEDIUM,
        close_in=40,
        contacts=[
            ("Helen Cho", "Operations Director", CHAMPION),
            ("Omar Aziz", "Chief Executive", DECIDER),
        ],
    )
    n1, n2, n3 = s.discovery(
        30,
        [
            (PROBLEM, "Patients wait on hold to book appointments", 5),
            (PROBLEM, "Patient data must stay in the EU", 4),
            (GOAL, "Fewer no-shows", 3),
        ],
    )
    s.item(0, quantity=45, needs=[n1, n3])
    s.item(6, quantity=45)
    s.item(5)
    s.item(3)
    s.milestone("Budget approval", due_in=20)
    s.act(12, "rep", "Sent the proposal with analytics, premium support and the ERP connector.")
    s.act(5, "buyer", "Helen asked why the ERP connector is in there; they have no ERP.")
    drafts.append(s.d)

    # A handoff waiting in the delivery queue past its SLA.
    s = _Story(w, "handoff-past-sla")
    s.start(
        owner="sam",
        stage=S.CLOSED_WON,
        created_days_ago=60,
        closed_days_ago=5,
        industry="Manufacturing",
        size=Prospect.Size.MEDIUM,
        contacts=[
            ("Paula Grant", "Warehouse Manager", CHAMPION),
            ("Ken Ito", "Operations Director", DECIDER),
        ],
    )
    (n1,) = s.discovery(55, [(PROBLEM, "Pickers work from printed lists", 5)])
    s.item(0, quantity=80, discount=PCT(5), needs=[n1])
    s.item(1, needs=[n1])
    s.milestone("Technical evaluation", due_in=-15, done_days_ago=15)
    s.disclose(1)
    s.act(6, "rep", "Final terms agreed.", kind="meeting", close_attempt=True)
    s.act(5.1, "buyer", "Signed contract attached.")
    w.commitment(
        s.d,
        description="Go live in the main warehouse within six weeks",
        due=world.today + dt.timedelta(days=38),
        at=world.ago(7),
    )
    s.won_handoff(status=H.SUBMITTED, submitted_hours_ago=70)
    drafts.append(s.d)

    # An accepted handoff whose customer keeps calling the rep.
    s = _Story(w, "customer-calls-rep")
    s.start(
        owner="rita",
        stage=S.CLOSED_WON,
        created_days_ago=110,
        closed_days_ago=60,
        industry="Hospitality",
        size=Prospect.Size.LARGE,
        contacts=[
            ("Greta Holm", "Guest Services Director", CHAMPION),
            ("Luca Bianchi", "General Manager", DECIDER),
        ],
    )
    (n1,) = s.discovery(105, [(GOAL, "Answer every guest request within ten minutes", 5)])
    s.item(0, quantity=150, needs=[n1])
    s.item(4, needs=[n1])
    s.milestone("Security review", due_in=-70, done_days_ago=70)
    s.disclose(0)
    s.act(61, "rep", "Final terms agreed.", kind="meeting", close_attempt=True)
    s.act(60.1, "buyer", "Signed contract attached.")
    s.act(20, "buyer", "Greta called Rita: the night shift cannot log in.", kind="support")
    s.act(9, "buyer", "Greta called Rita again about adding two new hotels.", kind="support")
    s.act(2, "buyer", "Luca emailed Rita about an invoice.", kind="support")
    s.won_handoff(
        status=H.ACCEPTED,
        submitted_hours_ago=58 * 24,
        claimed_hours_ago=57 * 24,
        accepted_days_ago=55,
    )
    w.check_in(
        s.d,
        offset=30,
        due=world.today - dt.timedelta(days=25),
        completed_at=world.ago(24, hour=10),
        value=3,
        health="at_risk",
        notes="They still call Rita for everything; we booked an intro with Greta.",
        recorded_by=world.users["dana"],
    )
    w.check_in(s.d, offset=90, due=world.today + dt.timedelta(days=35))
    w.check_in(s.d, offset=180, due=world.today + dt.timedelta(days=125))
    drafts.append(s.d)

    # Five follow-ups in a week, no reply.
    s = _Story(w, "chasing")
    s.start(
        owner="rita",
        stage=S.PROPOSAL,
        created_days_ago=40,
        industry="Financial services",
        size=Prospect.Size.SMALL,
        close_in=25,
        contacts=[
            ("Nora Quist", "Managing Partner", DECIDER),
            ("Tim Evans", "Office Manager", CHAMPION),
        ],
    )
    (n1,) = s.discovery(36, [(PROBLEM, "New cases are typed in twice", 4)])
    s.item(0, quantity=12, needs=[n1])
    s.milestone("Budget approval", due_in=15)
    s.act(11, "buyer", "Tim: we will discuss the proposal at the partners' meeting.")
    for k, note in enumerate(CHASING_NOTES):
        s.act(0.3 + 1.3 * k, "rep", note, kind="call" if k % 2 else "email")
    drafts.append(s.d)

    # Pressure language in the rep's own notes.
    s = _Story(w, "pressure-language")
    s.start(
        owner="sam",
        stage=S.NEGOTIATION,
        created_days_ago=45,
        industry="Education",
        size=Prospect.Size.MEDIUM,
        close_in=10,
        contacts=[
            ("Amy Lund", "Head of Admissions", CHAMPION),
            ("Raj Mehta", "Principal", DECIDER),
        ],
    )
    (n1,) = s.discovery(40, [(PROBLEM, "Enrolment runs on paper forms", 5)])
    s.item(0, quantity=40, needs=[n1])
    s.milestone("Budget approval", due_in=-2, done_days_ago=3)
    s.disclose(3)
    s.act(8, "buyer", "Their budget closes at the end of quarter, so they plan the rollout now.")
    s.act(3, "rep", "The offer expires Friday — sign today and onboarding is included.")
    drafts.append(s.d)

    # rita's handoff, checklist half done.
    s = _Story(w, "handoff-draft")
    s.start(
        owner="rita",
        stage=S.CLOSED_WON,
        created_days_ago=50,
        closed_days_ago=1,
        industry="Software",
        size=Prospect.Size.SMALL,
        contacts=[
            ("Bea Frost", "Head of Finance", CHAMPION),
            ("Carl Jensen", "Chief Executive", DECIDER),
        ],
    )
    n1, n2 = s.discovery(
        45,
        [
            (DREAM, "A forecast the board actually trusts", 4),
            (PROBLEM, "Month-end takes five days", 3),
        ],
    )
    s.item(0, quantity=15, needs=[n1, n2])
    s.item(6, quantity=15, needs=[n1])
    s.milestone("Reference call with a customer", due_in=-5, done_days_ago=5)
    s.disclose(0)
    s.act(2, "rep", "Final terms agreed.", kind="meeting", close_attempt=True)
    s.act(1.1, "buyer", "Signed contract attached.")
    w.commitment(
        s.d,
        description="Connect their accounting system in week one",
        due=world.today + dt.timedelta(days=10),
        at=world.ago(3),
    )
    s.won_handoff(status=H.DRAFT, checked=2)
    drafts.append(s.d)

    # dana asked sam a question.
    s = _Story(w, "handoff-needs-info")
    s.start(
        owner="sam",
        stage=S.CLOSED_WON,
        created_days_ago=65,
        closed_days_ago=6,
        industry="Energy",
        size=Prospect.Size.LARGE,
        contacts=[
            ("Frank Olsen", "Field Service Manager", CHAMPION),
            ("Lina Park", "VP Operations", DECIDER),
        ],
    )
    (n1,) = s.discovery(60, [(GOAL, "Technicians see the job history on site", 5)])
    s.item(0, quantity=200, discount=PCT(8), needs=[n1])
    s.item(2, needs=[n1])
    s.milestone("Security review", due_in=-10, done_days_ago=10)
    s.disclose(2)
    s.act(7, "rep", "Final terms agreed.", kind="meeting", close_attempt=True)
    s.act(6.1, "buyer", "Signed contract attached.")
    w.commitment(
        s.d,
        description="Migrate five years of job history",
        due=world.today + dt.timedelta(days=30),
        at=world.ago(8),
    )
    s.won_handoff(
        status=H.NEEDS_INFO,
        submitted_hours_ago=130,
        claimed_hours_ago=120,
        questions=[
            ("Which go-live date did you promise them?", None, world.now - dt.timedelta(hours=20))
        ],
    )
    drafts.append(s.d)

    # dana's claimed handoff.
    s = _Story(w, "handoff-claimed")
    s.start(
        owner="rita",
        stage=S.CLOSED_WON,
        created_days_ago=48,
        closed_days_ago=3,
        industry="Retail",
        size=Prospect.Size.MEDIUM,
        contacts=[("Ivy Moreau", "Customer Care Lead", CHAMPION), ("Sven Holm", "COO", DECIDER)],
    )
    (n1,) = s.discovery(44, [(PROBLEM, "Returns take three weeks to refund", 5)])
    s.item(0, quantity=35, needs=[n1])
    s.item(4, needs=[n1])
    s.milestone("Legal review of the contract", due_in=-4, done_days_ago=4)
    s.disclose(0, 2)
    s.act(4, "rep", "Final terms agreed.", kind="meeting", close_attempt=True)
    s.act(3.1, "buyer", "Signed contract attached.")
    w.commitment(
        s.d,
        description="Training for both customer care shifts",
        due=world.today + dt.timedelta(days=20),
        at=world.ago(4),
    )
    s.won_handoff(status=H.CLAIMED, submitted_hours_ago=50, claimed_hours_ago=30)
    drafts.append(s.d)

    # A healthy account with a check-in due.
    s = _Story(w, "check-in-due")
    s.start(
        owner="sam",
        stage=S.CLOSED_WON,
        created_days_ago=150,
        closed_days_ago=90,
        industry="Hospitality",
        size=Prospect.Size.MEDIUM,
        contacts=[
            ("Olga Brandt", "Front Office Manager", CHAMPION),
            ("Peter Lane", "Owner", DECIDER),
        ],
    )
    (n1,) = s.discovery(140, [(GOAL, "Check guests in within two minutes", 5)])
    s.item(0, quantity=30, needs=[n1])
    s.item(4, needs=[n1])
    s.milestone("Budget approval", due_in=-95, done_days_ago=95)
    s.disclose(0)
    s.act(91, "rep", "Final terms agreed.", kind="meeting", close_attempt=True)
    s.act(90.1, "buyer", "Signed contract attached.")
    s.won_handoff(
        status=H.ACCEPTED,
        submitted_hours_ago=89 * 24,
        claimed_hours_ago=88 * 24,
        accepted_days_ago=85,
    )
    w.check_in(
        s.d,
        offset=30,
        due=world.today - dt.timedelta(days=55),
        completed_at=world.ago(54, hour=10),
        value=5,
        health="profitable",
        notes=CHECK_IN_NOTES[5],
        recorded_by=world.users["dana"],
    )
    w.check_in(s.d, offset=90, due=world.today + dt.timedelta(days=5))
    w.check_in(s.d, offset=180, due=world.today + dt.timedelta(days=95))
    drafts.append(s.d)

    # The buyer has gone quiet.
    s = _Story(w, "gone-quiet")
    s.start(
        owner="sam",
        stage=S.QUALIFICATION,
        created_days_ago=60,
        industry="Financial services",
        size=Prospect.Size.LARGE,
        close_in=45,
        contacts=[("Hugh Torres", "Claims Director", CHAMPION)],
    )
    (n1,) = s.discovery(55, [(PROBLEM, "Claims wait a week for a first answer", 4)])
    s.milestone("Technical evaluation", due_in=-10)
    s.act(32, "buyer", "Hugh: let us pick this up after our reorganisation.")
    s.act(18, "rep", "Sent a short case study from another insurer.")
    s.act(5, "rep", "Asked whether the reorganisation is done.")
    drafts.append(s.d)

    # A healthy proposal.
    s = _Story(w, "win-win")
    s.start(
        owner="rita",
        stage=S.PROPOSAL,
        created_days_ago=30,
        industry="Software",
        size=Prospect.Size.MEDIUM,
        close_in=35,
        contacts=[("Wen Li", "Head of Support", CHAMPION), ("Jonas Berg", "CTO", DECIDER)],
    )
    n1, n2 = s.discovery(
        26,
        [
            (PROBLEM, "Support tickets wait two days for a first answer", 5),
            (GOAL, "One view of every customer conversation", 4),
        ],
    )
    s.item(0, quantity=50, discount=PCT(5), needs=[n1, n2])
    s.item(5, needs=[n1])
    s.milestone("Technical evaluation", due_in=-2, done_days_ago=3)
    s.milestone("Budget approval", due_in=14)
    s.disclose(1, 3)
    s.act(10, "rep", "Sent the proposal; walked Wen through the rollout plan.", kind="call")
    s.act(4, "buyer", "Jonas asked for a sandbox for his team; we set it up.")
    drafts.append(s.d)

    for d in drafts:
        if d.handoff is None:
            w.finish(d)
    rows.write()
    return drafts


# --- health and its history ------------------------------------------------------------------


def health_compute(deal_ids: list[int], *, out=None) -> str:
    """Compute health for freshly written deals: one by one for a small demo, else the sweep.

    The sweep covers every deal the engine sweeps (open ones at least); closed-won deals
    with a handoff are recomputed one by one afterwards when there are few of them, so the
    handoff flags show in the small demo too.
    """
    import deals.health as health

    started = time.monotonic()
    if len(deal_ids) <= 500:
        for deal_id in deal_ids:
            health.health_recompute(deal_id=deal_id)
        return f"health computed for {len(deal_ids):,} deals in {time.monotonic() - started:.1f}s"
    swept = health.health_sweep()
    elapsed = time.monotonic() - started
    rate = f" ({swept / elapsed:,.0f} deals/s)" if isinstance(swept, int) and elapsed else ""
    return f"health sweep: {swept} deals in {elapsed:.1f}s{rate}"


def snapshots_write(deal_ids: list[int], *, seed: int, weeks: int = HISTORY_WEEKS) -> int:
    """Weekly HealthSnapshot rows over the last `weeks` weeks for deals that have health.

    Drawn backwards from today's scores: going back in time a win-win deal more often had
    one more flag (the team has been improving), so the trend chart has a shape. Existing
    rows for a (deal, day) are kept. Deterministic for the seed and the deals' current state.
    """
    from deals.health import PRESSURE_CODES as pressure_codes

    today = timezone.localdate()
    written = 0
    for start in range(0, len(deal_ids), SNAPSHOT_DEALS_PER_BATCH):
        batch = deal_ids[start : start + SNAPSHOT_DEALS_PER_BATCH]
        pressure: defaultdict[int, int] = defaultdict(int)
        if pressure_codes:
            flagged = Flag.objects.filter(
                deal_id__in=batch, status__in=Flag.ACTIVE_STATUSES, code__in=pressure_codes
            ).values_list("deal_id", flat=True)
            for deal_id in flagged:
                pressure[deal_id] += 1
        deals = Deal.objects.filter(pk__in=batch, buyer_score__isnull=False).values_list(
            "pk",
            "external_id",
            "created_at",
            "buyer_score",
            "seller_score",
            "open_flag_count",
            "net_total",
            "team_id",
            "owner_id",
        )
        rows = []
        for pk, external_id, created_at, buyer, seller, flags, net, team_id, owner_id in deals:
            assert buyer is not None and seller is not None  # filtered on buyer_score above
            rng = random.Random(f"{seed}:h:{external_id}")
            pressure_count = pressure[pk]
            for week in range(1, weeks + 1):
                day = today - dt.timedelta(weeks=week)
                if day < timezone.localdate(created_at):
                    break
                if rng.random() < 0.04 and buyer >= 70 and seller >= 70:
                    flags += 1
                    if rng.random() < 0.5:
                        buyer = max(0, buyer - 30)
                    else:
                        seller = max(0, seller - 30)
                    if rng.random() < 0.5:
                        pressure_count += 1
                rows.append(
                    HealthSnapshot(
                        deal_id=pk,
                        day=day,
                        buyer_score=buyer,
                        seller_score=seller,
                        balance=_balance(buyer, seller),
                        open_flag_count=flags,
                        pressure_flag_count=pressure_count,
                        net_total=net,
                        team_id=team_id,
                        owner_id=owner_id,
                    )
                )
        # Only days before today, for deals written in this run: nothing to conflict with.
        fast_insert(HealthSnapshot, rows)
        written += len(rows)
    return written


def _balance(buyer: int, seller: int, threshold: int = 70) -> str:
    if buyer >= threshold and seller >= threshold:
        return Deal.Balance.WIN_WIN
    if buyer >= threshold:
        return Deal.Balance.SELLER_LOSES
    if seller >= threshold:
        return Deal.Balance.BUYER_LOSES
    return Deal.Balance.LOSE_LOSE


# --- progress, reset, and the one entry point ---------------------------------------------------


class Progress:
    """A one-line terminal progress bar: `[#####.....] 45,000/100,000 deals  1,234/s  ETA 40s`."""

    def __init__(self, total: int, stream=None, label: str = "deals"):
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.label = label
        self.started = time.monotonic()

    def __call__(self, done: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate else 0
        filled = int(30 * done / self.total)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{self.total:,} {self.label}"
            f"  {rate:,.0f}/s  ETA {eta:,.0f}s "
        )
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def _raw_delete(model, queryset, seen=None) -> None:
    """Delete `queryset` and everything that hangs off it, table by table, without loading
    rows (a cascade through the ORM would load 100,000 deals and write a history row per
    deleted object). Runs inside the caller's transaction; foreign keys are deferred."""
    pks = queryset.values("pk")
    for rel in model._meta.related_objects:
        child = rel.related_model
        if rel.many_to_many:
            through = rel.through
            fk = next(f for f in through._meta.fields if f.related_model is model)
            through.objects.filter(**{f"{fk.name}__in": pks})._raw_delete(through.objects.db)
            continue
        child_qs = child._base_manager.filter(**{f"{rel.field.name}__in": pks})
        on_delete = rel.on_delete.__name__
        if on_delete in ("CASCADE", "PROTECT"):
            _raw_delete(child, child_qs)
        elif on_delete == "SET_NULL":
            child_qs.update(**{rel.field.name: None})
    for m2m in model._meta.many_to_many:
        through = m2m.remote_field.through
        fk = next(f for f in through._meta.fields if f.related_model is model)
        through.objects.filter(**{f"{fk.name}__in": pks})._raw_delete(through.objects.db)
    history = getattr(model, "history", None)
    if history is not None and hasattr(history, "model"):
        historical = history.model
        _raw_delete(historical, historical._base_manager.filter(id__in=pks))
    queryset._raw_delete(queryset.db)


@transaction.atomic
def demo_reset() -> None:
    """Delete every deal and prospect the generator wrote (users and teams stay)."""
    _raw_delete(Deal, Deal._base_manager.filter(external_id__startswith=DEMO_PREFIX))
    _raw_delete(Prospect, Prospect._base_manager.filter(external_id__startswith=DEMO_PREFIX))


def _analyze() -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load.

    Autovacuum gets to millions of fresh rows only minutes later; until then the planner
    believes the tables are nearly empty and picks plans that make the deal list API and the
    health sweep several times slower. VACUUM also sets the visibility map, so counts become
    index-only scans (figures: bench/RESULTS.md, "Measurements behind design choices").
    VACUUM cannot run in a transaction, so inside one only ANALYZE runs.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")


def generated_count(seed: int) -> int:
    return Deal.objects.filter(external_id__startswith=f"{DEMO_PREFIX}{seed}:d").count()


@dataclass
class SeedReport:
    stories_created: bool
    deals_created: int
    deals_total: int
    seconds: float
    notes: list[str]


def demo_seed(
    *,
    deals: int = SMALL_DEMO_DEALS,
    seed: int = DEFAULT_SEED,
    reset: bool = False,
    progress: bool = False,
    with_health: bool = True,
    out=None,
) -> SeedReport:
    """Make sure the demo has its stories and `deals` generated deals for `seed`.

    Idempotent: what is there is kept and only missing deals are added, so a re-run adds
    nothing and a larger `deals` tops up. `reset` deletes the demo data first.
    """
    started = time.monotonic()
    notes = []
    if reset:
        demo_reset()
        notes.append("removed the previous demo data")
    world = world_ensure()
    new_ids: list[int] = []
    stories_created = False
    if not Deal.objects.filter(external_id__startswith=STORY_PREFIX).exists():
        with transaction.atomic():
            new_ids += [d.deal.pk for d in _write_stories(world)]
        stories_created = True
    existing = generated_count(seed)
    if existing < deals:
        bar = Progress(deals - existing, stream=out) if progress else None
        with transaction.atomic():
            new_ids += _generate_range(world, seed=seed, start=existing, stop=deals, progress=bar)
        notes.append(
            f"wrote {deals - existing:,} generated deals in {time.monotonic() - started:.1f}s"
        )
    if len(new_ids) > 1000:
        _analyze()
    # Buyer rooms of two stories (deals/buyer_room/demo.py); their health is computed below.
    from deals.buyer_room.demo import demo_buyer_rooms_ensure

    new_ids += [i for i in demo_buyer_rooms_ensure() if i not in new_ids]
    if new_ids and with_health:
        notes.append(health_compute(new_ids))
        written = snapshots_write(new_ids, seed=seed)
        notes.append(f"wrote {written:,} weekly health snapshots")
        if len(new_ids) > 1000:
            _analyze()
    return SeedReport(
        stories_created=stories_created,
        deals_created=len(new_ids),
        deals_total=Deal.objects.filter(external_id__startswith=DEMO_PREFIX).count(),
        seconds=time.monotonic() - started,
        notes=notes,
    )
