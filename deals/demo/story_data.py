"""The named stories of the small demo, as data (written by stories._write_stories).

Over 500 lines because it is data: fourteen deals, each with its people, needs, items,
milestones, notes, promises and handoff, one screen per story.
"""

from __future__ import annotations

from decimal import Decimal

from deals.models import Contact, Deal, Need, Prospect
from handoff.models import Handoff

from .stories import (
    Act,
    CheckInSpec,
    Found,
    Give,
    HandoffSpec,
    Item,
    Milestone,
    Person,
    Promise,
    Question,
    Story,
)
from .vocabulary import CHASING_NOTES, CHECK_IN_NOTES

CHAMPION, DECIDER = Contact.BuyingRole.CHAMPION, Contact.BuyingRole.DECISION_MAKER
INFLUENCER, BLOCKER = Contact.BuyingRole.INFLUENCER, Contact.BuyingRole.BLOCKER
GOAL, PROBLEM = Need.Kind.GOAL, Need.Kind.PROBLEM
INTEREST, DREAM = Need.Kind.INTEREST, Need.Kind.DREAM
S, H, SIZE = Deal.Stage, Handoff.Status, Prospect.Size

SIGNED = "Signed contract attached."
AGREED = "Final terms agreed."


def _closing(days_ago: float) -> tuple[Act, Act]:
    """The last meeting and the signature of a won story deal."""
    return (
        Act(days_ago + 1, "rep", AGREED, kind="meeting", close_attempt=True),
        Act(days_ago + 0.1, "buyer", SIGNED),
    )


STORY_SPECS: tuple[Story, ...] = (
    Story(
        key="security-review",
        title="Acme Logistics — Fleet platform rollout",
        blurb="rita pushes to close during the security review; a VP on every call",
        owner="rita",
        stage=S.NEGOTIATION,
        created_days_ago=70,
        industry="Logistics",
        size=SIZE.LARGE,
        close_in=21,
        contacts=(
            Person("Joan Park", "Head of Operations", CHAMPION),
            Person("Victor Hale", "Chief Operating Officer", DECIDER),
            Person("Sana Iqbal", "IT Security Lead", INFLUENCER),
        ),
        discovery_days_ago=64,
        needs=(
            Found(PROBLEM, "Dispatchers re-type every order into three systems", 5),
            Found(GOAL, "Cut delivery planning time in half", 4),
        ),
        items=(
            Item(0, quantity=120, discount_pct=5, needs=(0, 1)),
            Item(1, discount_pct=5, needs=(0,)),
        ),
        milestones=(
            Milestone("Technical evaluation", due_in=-25, done_days_ago=24),
            Milestone("Security review", due_in=12),
            Milestone("Legal review of the contract", due_in=18),
        ),
        disclosures=(1, 2),
        activities=(
            Act(30, "buyer", "Sana sent their 140-question security questionnaire."),
            Act(
                12,
                "rep",
                "Our VP of Sales joined; asked whether they can sign this month.",
                kind="call",
                close_attempt=True,
                senior=True,
            ),
            Act(
                7,
                "rep",
                "VP of Sales on the call again; pushed for a signature before the review.",
                kind="meeting",
                close_attempt=True,
                senior=True,
            ),
            Act(4, "buyer", "Sana: the security review needs two more weeks, please hold."),
            Act(
                2,
                "rep",
                "VP of Sales and I asked Victor to sign now and finish the review later.",
                kind="call",
                close_attempt=True,
                senior=True,
            ),
        ),
        # BUYER_REPORTED_PRESSURE comes from the buyer room's pulse (deals/buyer_room/demo.py).
        flags=frozenset(
            {"PRESSURE_PREMATURE_CLOSE", "PRESSURE_ESCALATION", "BUYER_REPORTED_PRESSURE"}
        ),
        balance=Deal.Balance.LOSE_LOSE,
    ),
    Story(
        key="support-months",
        title="Birchwood Dental — Patient onboarding revamp",
        blurb="sam trades 6 extra months of support instead of a price cut: win-win",
        owner="sam",
        stage=S.NEGOTIATION,
        created_days_ago=55,
        industry="Healthcare",
        size=SIZE.MEDIUM,
        close_in=14,
        contacts=(
            Person("Ruth Adeyemi", "Practice Manager", CHAMPION),
            Person("Dr. Colin Marsh", "Managing Partner", DECIDER),
        ),
        discovery_days_ago=50,
        needs=(
            Found(PROBLEM, "New patients fill in the same forms three times", 5),
            Found(GOAL, "Onboard a new clinic location in a week", 4),
            Found(INTEREST, "Wants reminders by text message", 2),
        ),
        items=(Item(0, quantity=60, needs=(0, 2)), Item(1, needs=(1,)), Item(5, needs=(1,))),
        milestones=(
            Milestone("Budget approval", due_in=-10, done_days_ago=9),
            Milestone("Reference call with a customer", due_in=-5, done_days_ago=6),
        ),
        disclosures=(0, 3, 4),
        activities=(
            Act(20, "buyer", "Colin asked for 20 % off to fit their budget."),
            Act(
                18,
                "rep",
                "Offered 6 extra months of support instead of a discount, in exchange for a "
                "two-year term.",
                kind="call",
            ),
            Act(15, "buyer", "They accepted the two-year term with the extra support."),
            Act(3, "buyer", "Ruth sent the signed order form for review by their lawyer."),
        ),
        concessions=(
            Give(
                "value_add",
                "6 extra months of support",
                amount=Decimal("4000"),
                cost=Decimal("900"),
                exchange="Two-year term",
                days_ago=18,
            ),
        ),
        balance=Deal.Balance.WIN_WIN,
    ),
    Story(
        key="sold-at-a-loss",
        title="Cobalt Retail — Store rollout at 40 % off",
        blurb="sam sells at a 40 % discount, below cost",
        owner="sam",
        stage=S.CLOSED_WON,
        created_days_ago=80,
        closed_days_ago=1,
        industry="Retail",
        size=SIZE.LARGE,
        contacts=(
            Person("Marta Kowal", "Head of Store Operations", CHAMPION),
            Person("Derek Nash", "Procurement Manager", BLOCKER),
            Person("Irene Volk", "Chief Financial Officer", DECIDER),
        ),
        discovery_days_ago=75,
        needs=(
            Found(PROBLEM, "Store staff cannot see stock in other stores", 5),
            Found(GOAL, "Launch click-and-collect in all 40 stores", 4),
        ),
        items=(
            Item(0, quantity=400, discount_pct=30, cost=Decimal("300"), needs=(0, 1)),
            Item(1, discount_pct=30, cost=Decimal("9000"), needs=(1,)),
        ),
        milestones=(Milestone("Procurement sign-off", due_in=-3, done_days_ago=2),),
        disclosures=(1, 4),
        activities=(
            Act(10, "buyer", "Derek: a competitor offered 30 % off; match it or we walk."),
            Act(
                6,
                "rep",
                "Matched 30 % and added another 10 % to close before the quarter ends.",
                kind="call",
            ),
            Act(2, "rep", "Sent the final contract.", close_attempt=True),
            Act(1.2, "buyer", SIGNED),
        ),
        concessions=(
            Give("price", "Extra 10 % off to close this quarter", Decimal("20400"), days_ago=6),
        ),
        handoff=HandoffSpec(H.SUBMITTED, submitted_hours_ago=10),
        flags=frozenset(
            {
                "SELLER_DISCOUNT_OVER_POLICY",
                "SELLER_MARGIN_BELOW_FLOOR",
                "SELLER_UNTRADED_PRICE_CUT",
            }
        ),
        balance=Deal.Balance.SELLER_LOSES,
    ),
    Story(
        key="oversold",
        title="Dunmore Clinics — Scheduling upgrade",
        blurb="rita adds items no need asked for, misses a key need, discloses nothing",
        owner="rita",
        stage=S.NEGOTIATION,
        created_days_ago=35,
        industry="Healthcare",
        size=SIZE.MEDIUM,
        close_in=40,
        contacts=(
            Person("Helen Cho", "Operations Director", CHAMPION),
            Person("Omar Aziz", "Chief Executive", DECIDER),
        ),
        discovery_days_ago=30,
        needs=(
            Found(PROBLEM, "Patients wait on hold to book appointments", 5),
            Found(PROBLEM, "Patient data must stay in the EU", 4),
            Found(GOAL, "Fewer no-shows", 3),
        ),
        items=(Item(0, quantity=45, needs=(0, 2)), Item(6, quantity=45), Item(5), Item(3)),
        milestones=(Milestone("Budget approval", due_in=20),),
        activities=(
            Act(
                12,
                "rep",
                "Sent the proposal with analytics, premium support and the ERP connector.",
            ),
            Act(5, "buyer", "Helen asked why the ERP connector is in there; they have no ERP."),
        ),
        flags=frozenset({"BUYER_OVERSELL", "BUYER_UNMET_NEED", "BUYER_UNDISCLOSED"}),
        balance=Deal.Balance.BUYER_LOSES,
    ),
    Story(
        key="handoff-past-sla",
        title="Elmstead Foods — Warehouse onboarding",
        blurb="a handoff waiting in dana's queue past its 48-hour SLA",
        owner="sam",
        stage=S.CLOSED_WON,
        created_days_ago=60,
        closed_days_ago=5,
        industry="Manufacturing",
        size=SIZE.MEDIUM,
        contacts=(
            Person("Paula Grant", "Warehouse Manager", CHAMPION),
            Person("Ken Ito", "Operations Director", DECIDER),
        ),
        discovery_days_ago=55,
        needs=(Found(PROBLEM, "Pickers work from printed lists", 5),),
        items=(Item(0, quantity=80, discount_pct=5, needs=(0,)), Item(1, needs=(0,))),
        milestones=(Milestone("Technical evaluation", due_in=-15, done_days_ago=15),),
        disclosures=(1,),
        activities=_closing(5),
        promises=(Promise("Go live in the main warehouse within six weeks", 38, days_ago=7),),
        handoff=HandoffSpec(H.SUBMITTED, submitted_hours_ago=70),
        flags=frozenset({"HANDOFF_OVERDUE"}),
    ),
    Story(
        key="customer-calls-rep",
        title="Fairhaven Hotels — Guest services platform",
        blurb="accepted by dana, but the customer keeps calling rita",
        owner="rita",
        stage=S.CLOSED_WON,
        created_days_ago=110,
        closed_days_ago=60,
        industry="Hospitality",
        size=SIZE.LARGE,
        contacts=(
            Person("Greta Holm", "Guest Services Director", CHAMPION),
            Person("Luca Bianchi", "General Manager", DECIDER),
        ),
        discovery_days_ago=105,
        needs=(Found(GOAL, "Answer every guest request within ten minutes", 5),),
        items=(Item(0, quantity=150, needs=(0,)), Item(4, needs=(0,))),
        milestones=(Milestone("Security review", due_in=-70, done_days_ago=70),),
        disclosures=(0,),
        activities=(
            *_closing(60),
            Act(20, "buyer", "Greta called Rita: the night shift cannot log in.", kind="support"),
            Act(9, "buyer", "Greta called Rita again about adding two new hotels.", kind="support"),
            Act(2, "buyer", "Luca emailed Rita about an invoice.", kind="support"),
        ),
        handoff=HandoffSpec(
            H.ACCEPTED,
            submitted_hours_ago=58 * 24,
            claimed_hours_ago=57 * 24,
            accepted_days_ago=55,
        ),
        check_ins=(
            CheckInSpec(
                30,
                due_in=-25,
                done_days_ago=24,
                value=3,
                health="at_risk",
                notes="They still call Rita for everything; we booked an intro with Greta.",
            ),
            CheckInSpec(90, due_in=35),
            CheckInSpec(180, due_in=125),
        ),
        flags=frozenset({"HANDOFF_LEAK"}),
    ),
    Story(
        key="chasing",
        title="Ironbridge Legal — Case intake automation",
        blurb="rita follows up five times in a week with no reply",
        owner="rita",
        stage=S.PROPOSAL,
        created_days_ago=40,
        industry="Financial services",
        size=SIZE.SMALL,
        close_in=25,
        contacts=(
            Person("Nora Quist", "Managing Partner", DECIDER),
            Person("Tim Evans", "Office Manager", CHAMPION),
        ),
        discovery_days_ago=36,
        needs=(Found(PROBLEM, "New cases are typed in twice", 4),),
        items=(Item(0, quantity=12, needs=(0,)),),
        milestones=(Milestone("Budget approval", due_in=15),),
        activities=(
            Act(11, "buyer", "Tim: we will discuss the proposal at the partners' meeting."),
            *(
                Act(0.3 + 1.3 * k, "rep", note, kind="call" if k % 2 else "email")
                for k, note in enumerate(CHASING_NOTES)
            ),
        ),
        flags=frozenset({"PRESSURE_CHASING"}),
    ),
    Story(
        key="pressure-language",
        title="Juniper Schools — Enrolment portal",
        blurb="sam writes 'the offer expires Friday'",
        owner="sam",
        stage=S.NEGOTIATION,
        created_days_ago=45,
        industry="Education",
        size=SIZE.MEDIUM,
        close_in=10,
        contacts=(
            Person("Amy Lund", "Head of Admissions", CHAMPION),
            Person("Raj Mehta", "Principal", DECIDER),
        ),
        discovery_days_ago=40,
        needs=(Found(PROBLEM, "Enrolment runs on paper forms", 5),),
        items=(Item(0, quantity=40, needs=(0,)),),
        milestones=(Milestone("Budget approval", due_in=-2, done_days_ago=3),),
        disclosures=(3,),
        activities=(
            Act(
                8,
                "buyer",
                "Their budget closes at the end of quarter, so they plan the rollout now.",
            ),
            Act(3, "rep", "The offer expires Friday — sign today and onboarding is included."),
        ),
        flags=frozenset({"PRESSURE_LANGUAGE"}),
    ),
    Story(
        key="handoff-draft",
        title="Kestrel Analytics — Forecasting rollout",
        blurb="rita's handoff checklist is half done",
        owner="rita",
        stage=S.CLOSED_WON,
        created_days_ago=50,
        closed_days_ago=1,
        industry="Software",
        size=SIZE.SMALL,
        contacts=(
            Person("Bea Frost", "Head of Finance", CHAMPION),
            Person("Carl Jensen", "Chief Executive", DECIDER),
        ),
        discovery_days_ago=45,
        needs=(
            Found(DREAM, "A forecast the board actually trusts", 4),
            Found(PROBLEM, "Month-end takes five days", 3),
        ),
        items=(Item(0, quantity=15, needs=(0, 1)), Item(6, quantity=15, needs=(0,))),
        milestones=(Milestone("Reference call with a customer", due_in=-5, done_days_ago=5),),
        disclosures=(0,),
        activities=_closing(1),
        promises=(Promise("Connect their accounting system in week one", 10, days_ago=3),),
        handoff=HandoffSpec(H.DRAFT, checked=2),
    ),
    Story(
        key="handoff-needs-info",
        title="Harrow Energy — Field service onboarding",
        blurb="dana asked sam a question that waits for an answer",
        owner="sam",
        stage=S.CLOSED_WON,
        created_days_ago=65,
        closed_days_ago=6,
        industry="Energy",
        size=SIZE.LARGE,
        contacts=(
            Person("Frank Olsen", "Field Service Manager", CHAMPION),
            Person("Lina Park", "VP Operations", DECIDER),
        ),
        discovery_days_ago=60,
        needs=(Found(GOAL, "Technicians see the job history on site", 5),),
        items=(Item(0, quantity=200, discount_pct=8, needs=(0,)), Item(2, needs=(0,))),
        milestones=(Milestone("Security review", due_in=-10, done_days_ago=10),),
        disclosures=(2,),
        activities=_closing(6),
        promises=(Promise("Migrate five years of job history", 30, days_ago=8),),
        handoff=HandoffSpec(
            H.NEEDS_INFO,
            submitted_hours_ago=130,
            claimed_hours_ago=120,
            questions=(Question("Which go-live date did you promise them?", None, 20),),
        ),
    ),
    Story(
        key="handoff-claimed",
        title="Greyfield Apparel — Returns desk rollout",
        blurb="dana claimed it and is reviewing the package",
        owner="rita",
        stage=S.CLOSED_WON,
        created_days_ago=48,
        closed_days_ago=3,
        industry="Retail",
        size=SIZE.MEDIUM,
        contacts=(
            Person("Ivy Moreau", "Customer Care Lead", CHAMPION),
            Person("Sven Holm", "COO", DECIDER),
        ),
        discovery_days_ago=44,
        needs=(Found(PROBLEM, "Returns take three weeks to refund", 5),),
        items=(Item(0, quantity=35, needs=(0,)), Item(4, needs=(0,))),
        milestones=(Milestone("Legal review of the contract", due_in=-4, done_days_ago=4),),
        disclosures=(0, 2),
        activities=_closing(3),
        promises=(Promise("Training for both customer care shifts", 20, days_ago=4),),
        handoff=HandoffSpec(H.CLAIMED, submitted_hours_ago=50, claimed_hours_ago=30),
    ),
    Story(
        key="check-in-due",
        title="Larkspur Hotels — Front desk onboarding",
        blurb="dana's 90-day check-in is due this week",
        owner="sam",
        stage=S.CLOSED_WON,
        created_days_ago=150,
        closed_days_ago=90,
        industry="Hospitality",
        size=SIZE.MEDIUM,
        contacts=(
            Person("Olga Brandt", "Front Office Manager", CHAMPION),
            Person("Peter Lane", "Owner", DECIDER),
        ),
        discovery_days_ago=140,
        needs=(Found(GOAL, "Check guests in within two minutes", 5),),
        items=(Item(0, quantity=30, needs=(0,)), Item(4, needs=(0,))),
        milestones=(Milestone("Budget approval", due_in=-95, done_days_ago=95),),
        disclosures=(0,),
        activities=_closing(90),
        handoff=HandoffSpec(
            H.ACCEPTED,
            submitted_hours_ago=89 * 24,
            claimed_hours_ago=88 * 24,
            accepted_days_ago=85,
        ),
        check_ins=(
            CheckInSpec(
                30,
                due_in=-55,
                done_days_ago=54,
                value=5,
                health="profitable",
                notes=CHECK_IN_NOTES[5],
            ),
            CheckInSpec(90, due_in=5),
            CheckInSpec(180, due_in=95),
        ),
    ),
    Story(
        key="gone-quiet",
        title="Meridian Finance — Claims desk pilot",
        blurb="no word from the buyer for a month",
        owner="sam",
        stage=S.QUALIFICATION,
        created_days_ago=60,
        industry="Financial services",
        size=SIZE.LARGE,
        close_in=45,
        contacts=(Person("Hugh Torres", "Claims Director", CHAMPION),),
        discovery_days_ago=55,
        needs=(Found(PROBLEM, "Claims wait a week for a first answer", 4),),
        milestones=(Milestone("Technical evaluation", due_in=-10),),
        activities=(
            Act(32, "buyer", "Hugh: let us pick this up after our reorganisation."),
            Act(18, "rep", "Sent a short case study from another insurer."),
            Act(5, "rep", "Asked whether the reorganisation is done."),
        ),
        flags=frozenset({"RELATIONSHIP_STALE"}),
    ),
    Story(
        key="win-win",
        title="Northgate Software — Support desk modernisation",
        blurb="a proposal that serves every need, with everything disclosed",
        owner="rita",
        stage=S.PROPOSAL,
        created_days_ago=30,
        industry="Software",
        size=SIZE.MEDIUM,
        close_in=35,
        contacts=(
            Person("Wen Li", "Head of Support", CHAMPION),
            Person("Jonas Berg", "CTO", DECIDER),
        ),
        discovery_days_ago=26,
        needs=(
            Found(PROBLEM, "Support tickets wait two days for a first answer", 5),
            Found(GOAL, "One view of every customer conversation", 4),
        ),
        items=(Item(0, quantity=50, discount_pct=5, needs=(0, 1)), Item(5, needs=(0,))),
        milestones=(
            Milestone("Technical evaluation", due_in=-2, done_days_ago=3),
            Milestone("Budget approval", due_in=14),
        ),
        disclosures=(1, 3),
        activities=(
            Act(10, "rep", "Sent the proposal; walked Wen through the rollout plan.", kind="call"),
            Act(4, "buyer", "Jonas asked for a sandbox for his team; we set it up."),
        ),
        balance=Deal.Balance.WIN_WIN,
    ),
)

# (key, deal title) and (key, one line): printed by seed_demo and found by tests.
STORIES = {s.key: s.title for s in STORY_SPECS}
STORY_BLURBS = {s.key: s.blurb for s in STORY_SPECS}
