"""The named stories of the small demo, each described as data (story_data.STORY_SPECS)
and written by one builder, `_write_stories`, with the same primitives as the generator.

A story says who sells what to whom and when (`Story`), which needs discovery found,
what was proposed, the buyer's milestones, the notes, concessions, promises, the handoff
and its check-ins, and which flags the health engine should raise on it (`flags`, checked
by tests/deals/test_demo.py). Times are relative to "now" so the demo is always fresh.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from deals.models import Need

from .bulk import _Rows
from .draft import DealDraft, DealWriter
from .vocabulary import DISCLOSURES, PRODUCTS, STORY_PREFIX
from .world import NORTHWIND, World

# --- how a story is described ---------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    title: str
    role: str  # Contact.BuyingRole


@dataclass(frozen=True)
class Found:
    """A need confirmed on the discovery call."""

    kind: str  # Need.Kind
    statement: str
    importance: int


@dataclass(frozen=True)
class Item:
    """A line item: PRODUCTS[product], serving the story's needs by their position."""

    product: int
    quantity: int = 1
    discount_pct: int = 0
    cost: Decimal | None = None  # unit cost; default: the product's cost share of list
    needs: tuple[int, ...] = ()


@dataclass(frozen=True)
class Milestone:
    title: str
    due_in: int  # days from today (negative: in the past)
    done_days_ago: float | None = None
    required: bool = True
    side: str = "buyer"


@dataclass(frozen=True)
class Act:
    """An activity `days_ago` days back, at 14:00."""

    days_ago: float
    by: str  # "buyer" or "rep"
    notes: str
    kind: str = "email"
    close_attempt: bool = False
    senior: bool = False


@dataclass(frozen=True)
class Give:
    """A concession, `days_ago` days back."""

    kind: str
    description: str
    amount: Decimal
    days_ago: float
    cost: Decimal = Decimal("0")
    exchange: str = ""


@dataclass(frozen=True)
class Promise:
    """A commitment due `due_in` days from today, made `days_ago` days back."""

    description: str
    due_in: int
    days_ago: float


@dataclass(frozen=True)
class Question:
    """A question delivery asked in the handoff thread, `hours_ago` hours back."""

    question: str
    answer: str | None
    hours_ago: float


@dataclass(frozen=True)
class HandoffSpec:
    status: str  # Handoff.Status
    submitted_hours_ago: float | None = None
    claimed_hours_ago: float | None = None  # claimed by dana
    accepted_days_ago: float | None = None
    checked: int | None = None  # checklist items ticked in a draft
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True)
class CheckInSpec:
    offset: int  # 30, 90 or 180
    due_in: int  # days from today
    done_days_ago: float | None = None  # recorded by dana, at 10:00
    value: int | None = None
    health: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Story:
    key: str
    title: str  # "Prospect — topic": the prospect's name is the part before the dash
    blurb: str  # printed by seed_demo
    owner: str
    stage: str  # Deal.Stage
    created_days_ago: float
    industry: str
    size: str
    contacts: tuple[Person, ...]
    discovery_days_ago: float
    needs: tuple[Found, ...]
    close_in: int = 30
    closed_days_ago: float | None = None
    items: tuple[Item, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    disclosures: tuple[int, ...] = ()  # indexes into DISCLOSURES
    activities: tuple[Act, ...] = ()
    concessions: tuple[Give, ...] = ()
    promises: tuple[Promise, ...] = ()
    handoff: HandoffSpec | None = None
    check_ins: tuple[CheckInSpec, ...] = ()
    # What the health engine raises on the story once written (open flags), and its balance.
    flags: frozenset[str] = frozenset()
    balance: str | None = None


# --- the one builder ----------------------------------------------------------------------


def _story_write(w: DealWriter, story: Story) -> DealDraft:
    world = w.world
    created_at = world.ago(story.created_days_ago, hour=10)
    prospect = w.prospect(
        name=story.title.split(" — ")[0],
        team=world.teams[NORTHWIND],
        industry=story.industry,
        size=story.size,
        external_id=f"{STORY_PREFIX}{story.key}",
        created_at=created_at,
    )
    people = [
        w.contact(
            prospect=prospect, name=p.name, title=p.title, buying_role=p.role, created_at=created_at
        )
        for p in story.contacts
    ]
    closed_at = (
        world.ago(story.closed_days_ago, hour=15) if story.closed_days_ago is not None else None
    )
    d = w.deal(
        prospect=prospect,
        contacts=people,
        owner=world.users[story.owner],
        title=story.title,
        stage=story.stage,
        created_at=created_at,
        expected_close_date=timezone.localdate(closed_at)
        if closed_at
        else world.today + dt.timedelta(days=story.close_in),
        external_id=f"{STORY_PREFIX}{story.key}",
        closed_at=closed_at,
    )
    call = w.discovery_call(
        d,
        held_at=world.ago(story.discovery_days_ago, hour=11),
        attendees=people[:2],
        summary="Mapped how they work today and what must change.",
        next_step="They will share their evaluation criteria.",
    )
    needs: list[Need] = [
        w.need(
            d,
            kind=n.kind,
            statement=n.statement,
            importance=n.importance,
            confirmed=True,
            at=call.held_at,
            call=call,
        )
        for n in story.needs
    ]
    for item in story.items:
        name, list_price, cost_share, _ = PRODUCTS[item.product]
        w.item(
            d,
            name=name,
            quantity=item.quantity,
            list_price=list_price,
            price=list_price * (1 - Decimal(item.discount_pct) / 100),
            cost=list_price * cost_share if item.cost is None else item.cost,
            needs=[needs[k] for k in item.needs],
            at=created_at + dt.timedelta(days=12),
        )
    for m in story.milestones:
        w.milestone(
            d,
            title=m.title,
            side=m.side,
            required=m.required,
            due=world.today + dt.timedelta(days=m.due_in),
            completed_at=world.ago(m.done_days_ago, hour=16) if m.done_days_ago else None,
            at=created_at,
        )
    for index in story.disclosures:
        kind, description = DISCLOSURES[index]
        w.disclosure(d, kind=kind, description=description, at=created_at + dt.timedelta(days=20))
    for a in story.activities:
        w.activity(
            d,
            kind=a.kind,
            by=a.by,
            at=world.ago(a.days_ago, hour=14),
            notes=a.notes,
            close_attempt=a.close_attempt,
            senior=a.senior,
        )
    for c in story.concessions:
        w.concession(
            d,
            kind=c.kind,
            description=c.description,
            amount=c.amount,
            cost=c.cost,
            exchange=c.exchange,
            at=world.ago(c.days_ago),
        )
    for p in story.promises:
        w.commitment(
            d,
            description=p.description,
            due=world.today + dt.timedelta(days=p.due_in),
            at=world.ago(p.days_ago),
        )
    w.finish(d)
    if story.handoff is not None:
        _handoff_write(w, d, story.handoff)
        for ci in story.check_ins:
            w.check_in(
                d,
                offset=ci.offset,
                due=world.today + dt.timedelta(days=ci.due_in),
                completed_at=world.ago(ci.done_days_ago, hour=10) if ci.done_days_ago else None,
                value=ci.value,
                health=ci.health,
                notes=ci.notes,
                recorded_by=world.users["dana"] if ci.done_days_ago else None,
            )
    return d


def _handoff_write(w: DealWriter, d: DealDraft, h: HandoffSpec) -> None:
    world = w.world
    hours_ago = lambda hours: world.now - dt.timedelta(hours=hours) if hours else None  # noqa: E731
    w.handoff(
        d,
        status=h.status,
        closed_at=d.deal.closed_at,
        submitted_at=hours_ago(h.submitted_hours_ago),
        claimed_at=hours_ago(h.claimed_hours_ago),
        accepted_at=world.ago(h.accepted_days_ago, hour=12) if h.accepted_days_ago else None,
        assignee=world.users["dana"] if h.claimed_hours_ago else None,
        checked=h.checked,
        questions=[
            (q.question, q.answer, world.now - dt.timedelta(hours=q.hours_ago)) for q in h.questions
        ],
    )


def _write_stories(world: World) -> list[DealDraft]:
    from .story_data import STORY_SPECS

    rows = _Rows()
    w = DealWriter(rows, world)
    drafts = [_story_write(w, story) for story in STORY_SPECS]
    rows.write()
    return drafts
