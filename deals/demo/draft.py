"""One deal's rows: `DealWriter`'s primitives add a deal and its children to a chunk;
the generator and the stories share them. `DealDraft` holds what pricing and the handoff
package need."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

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
    LineItem,
    Need,
    Prospect,
    StageHistory,
)
from handoff.models import CheckIn, Handoff, HandoffChecklistItem, HandoffEvent, HandoffMessage

from .bulk import _Rows, make
from .package import _package
from .world import CUSTOMER_SUCCESS, World


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


def _stage_entered(stage: str, created_at, closed_at, now) -> dt.datetime:
    """When a demo deal entered its stage: a closed deal at its close; an open one after
    the earlier stages took their share of its age (a deal in negotiation spent three
    quarters of its life getting there), so only the oldest deals sit past the policy."""
    if closed_at is not None:
        return closed_at
    index = Deal.STAGE_ORDER[stage]
    return created_at + (now - created_at) * index / (index + 1)


class DealWriter:
    """Primitives that add one deal's rows to a chunk; stories and the generator share them."""

    def __init__(self, rows: _Rows, world: World):
        self.rows = rows
        self.world = world

    # parents
    def prospect(self, *, name, team, industry, size, external_id, created_at) -> Prospect:
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:30]
        return self.rows.add(
            make(
                Prospect,
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
            make(
                Contact,
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
        entered = _stage_entered(stage, created_at, closed_at, self.world.now)
        deal = self.rows.add(
            make(
                Deal,
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
                stage_changed_at=entered,
            )
        )
        order = list(Deal.Stage.values)
        previous = "" if stage == Deal.Stage.DISCOVERY else order[max(order.index(stage) - 1, 0)]
        if stage == Deal.Stage.CLOSED_LOST:
            previous = Deal.Stage.NEGOTIATION
        self.rows.add(
            make(
                StageHistory,
                deal=deal, from_stage=previous, to_stage=stage, changed_at=entered,
                changed_by=owner, reason="", concerns=[],
            )
        )  # fmt: skip
        self.rows.deal_history.append((deal, created_at, "+", expected_close_date))
        return DealDraft(deal=deal, contacts=list(contacts))

    # children
    def discovery_call(self, d: DealDraft, *, held_at, attendees, summary, next_step):
        call = self.rows.add(
            make(
                DiscoveryCall,
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
            make(
                Need,
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
            make(
                LineItem,
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
            make(
                BuyerMilestone,
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
            make(
                Activity,
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
            make(
                Concession,
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
            make(
                Commitment,
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
            make(
                Disclosure,
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
            make(
                Handoff,
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
                make(
                    HandoffChecklistItem,
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
                make(
                    HandoffMessage,
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
                    make(
                        HandoffMessage,
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
                make(
                    HandoffEvent,
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
            make(
                CheckIn,
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
