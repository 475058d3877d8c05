"""The bulk generator: deal number i of seed S, drawn from `random.Random(f"{S}:{i}")`.

Over 500 lines for a reason: one deal is one fixed sequence of random draws (stage,
problems, timeline, needs, items, concessions, milestones, activities, promises, handoff);
cutting that sequence across modules would hide the order the determinism depends on.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from deals.models import Deal, Disclosure, Need, Prospect
from handoff.models import Handoff
from winwin_crm.accounts.models import User

from .bulk import _Rows
from .draft import DealDraft, DealWriter
from .vocabulary import (
    BUYER_ACTIVITY_WEIGHTS,
    BUYER_MILESTONES,
    BUYER_NOTES,
    CHASING_NOTES,
    CHECK_IN_NOTES,
    CHECK_IN_OFFSETS_DAYS,
    CHECK_IN_VALUE_WEIGHTS,
    COMMITMENTS,
    COMPANY_FIRST,
    COMPANY_MIDDLE,
    CONTACT_ROLES,
    DEALS_PER_CHUNK,
    DEMO_PREFIX,
    DISCLOSURES,
    FIRST_NAMES,
    HANDOFF_ANSWERS,
    HANDOFF_QUESTIONS,
    HANDOFF_STATE_WEIGHTS,
    IMPORTANCE_WEIGHTS,
    INDUSTRIES,
    LAST_NAMES,
    LOST_REASONS,
    NEED_KIND_WEIGHTS,
    NEEDS,
    OVERSELL_PRODUCTS,
    PRESSURE_NOTES,
    PROBLEM_RATES,
    PRODUCTS,
    REP_ACTIVITY_WEIGHTS,
    REP_NOTES,
    SEATS,
    SELLER_MILESTONES,
    SIZE_WEIGHTS,
    SMALL_DEMO_DEALS,
    STAGE_WEIGHTS,
    SUPPORT_NOTES,
    TOPICS,
    TRADES,
    VALUE_ADDS,
    _weighted,
)
from .world import HARBOR, NEW_JOINER, NEW_JOINER_TEAM, NORTHWIND, World


def _deal_external_id(seed: int, i: int) -> str:
    return f"{DEMO_PREFIX}{seed}:d{i:07d}"


def _prospect_external_id(seed: int, j: int) -> str:
    return f"{DEMO_PREFIX}{seed}:p{j:07d}"


def _draw_prospect(
    w: DealWriter, seed: int, j: int, *, kind: str = "p", team_name: str | None = None
):
    """Prospect j (shared by deals 2j and 2j+1: a first deal and an expansion); `kind` "q"
    draws the past customers' prospects (deals/demo/cohort.py), one per deal."""
    rng = random.Random(f"{seed}:{kind}{j}")
    world = w.world
    industry, name, team_name = _prospect_identity(rng, team_name)
    team = world.teams[team_name]
    created_at = world.ago(rng.uniform(130, 420), hour=9)
    prospect = w.prospect(
        name=name,
        team=team,
        industry=industry,
        size=_weighted(rng, SIZE_WEIGHTS),
        external_id=f"{DEMO_PREFIX}{seed}:{kind}{j:07d}",
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


def _prospect_identity(rng: random.Random, team_name: str | None) -> tuple[str, str, str]:
    """A prospect's first draws: (industry, name, team name); `team_name` pins the team."""
    industry = rng.choice(list(INDUSTRIES))
    middle = rng.choice(COMPANY_MIDDLE)
    words = [rng.choice(COMPANY_FIRST), middle, rng.choice(INDUSTRIES[industry])]
    name = " ".join(word for word in words if word)
    return industry, name, team_name or (NORTHWIND if rng.random() < 0.5 else HARBOR)


# The new joiner's book (world.NEW_JOINER): both deals of the first NEW_JOINER_PROSPECTS
# prospects of her team from prospect NEW_JOINER_FIRST_PROSPECT on: exactly 100 deals once
# the first ~250 deals are drawn (253 for the default seed, under 320 for any seed up to
# 2,000). The default demo's deals (SMALL_DEMO_DEALS) come before them and keep their
# owners; every benchmark size draws them all (a copied demo draws its first
# TEMPLATE_DEALS, deals/demo/replicate.py).
NEW_JOINER_PROSPECTS = 50
NEW_JOINER_FIRST_PROSPECT = SMALL_DEMO_DEALS // 2


@functools.cache
def new_joiner_prospects(seed: int) -> frozenset[int]:
    """The prospect numbers j of `seed` whose deals (2j, 2j + 1) are the new joiner's."""
    picked: list[int] = []
    j = NEW_JOINER_FIRST_PROSPECT
    while len(picked) < NEW_JOINER_PROSPECTS:
        if _prospect_identity(random.Random(f"{seed}:p{j}"), None)[2] == NEW_JOINER_TEAM:
            picked.append(j)
        j += 1
    return frozenset(picked)


def _owner_for(world: World, prospect: Prospect, seed: int, j: int) -> User:
    """The rep of prospect j's deals: drawn from the team's reps, except for the new
    joiner's prospects (j < 0, the past customers of cohort.py, are always drawn)."""
    team_name = prospect.team.name
    if team_name == NEW_JOINER_TEAM and j in new_joiner_prospects(seed):
        return world.users[NEW_JOINER]
    return random.Random(f"{seed}:o{j}").choice(world.reps_by_team[team_name])


@dataclass(frozen=True)
class Force:
    """What a drawn deal must be (the past customers of deals/demo/cohort.py)."""

    closed_ago: tuple[float, float]  # days: the close is drawn in this range
    problems: dict[str, bool]  # PROBLEM_RATES names pinned on (or off)


class _Generated:
    """Draws deal number i of a seed. All randomness comes from `rng`, in a fixed order."""

    def __init__(self, w: DealWriter, rng: random.Random):
        self.w = w
        self.rng = rng
        self.world = w.world
        self.force: Force | None = None

    def at(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        if end <= start:
            return start
        span = (end - start).total_seconds()
        return (start + dt.timedelta(seconds=self.rng.uniform(0, span))).replace(microsecond=0)

    def draw(
        self,
        *,
        i: int,
        seed: int,
        prospect: Prospect,
        contacts,
        owner: User,
        force: Force | None = None,
        external_id: str | None = None,
    ) -> DealDraft:
        """`force` pins what a past customer of the cohort must be (a won, accepted deal
        closed long enough ago for its 90-day check-in); without it nothing is pinned and
        the draws are the generator's own."""
        rng, w, world = self.rng, self.w, self.world
        now, today = world.now, world.today
        self.force = force
        stage = _weighted(rng, STAGE_WEIGHTS)
        if force:
            stage = Deal.Stage.CLOSED_WON
        order = Deal.STAGE_ORDER[stage]
        is_open = stage in Deal.OPEN_STAGES
        won = stage == Deal.Stage.CLOSED_WON
        at_least = lambda s: order >= Deal.STAGE_ORDER[s]  # noqa: E731
        # Draw every problem for every deal (a fixed number of draws keeps deals
        # independent of one another), then keep those that apply at this stage.
        roll = {name: rng.random() < rate for name, rate in PROBLEM_RATES.items()}
        if force:
            roll.update(force.problems)
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
        if force:
            handoff_state = Handoff.Status.ACCEPTED
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
                # Over the year of history: most have had their 30- and 90-day check-ins.
                closed_ago = rng.uniform(*(force.closed_ago if force else (10, 340)))
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
            closed_ago = rng.uniform(1, 340)
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
            world.localdate(closed_at) if closed_at else today + dt.timedelta(rng.randint(7, 90))
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
            external_id=external_id or _deal_external_id(seed, i),
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
            span = (expected_close - world.localdate(created_at)).days
            for n, title in enumerate(titles):
                required = rng.random() < 0.8 or title == "Security review"
                due = world.localdate(created_at) + dt.timedelta(
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
                    due = world.localdate(accepted) + dt.timedelta(rng.randint(5, 60))
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
        # At most the last 120 days of a deal's life carry activities.
        start = max(start, end - dt.timedelta(days=120))
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
                kind = _weighted(rng, BUYER_ACTIVITY_WEIGHTS)
                notes = rng.choice(BUYER_NOTES)
            else:
                kind = _weighted(rng, REP_ACTIVITY_WEIGHTS)
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
            accepted_on = world.localdate(accepted)
            for offset in CHECK_IN_OFFSETS_DAYS:
                due = accepted_on + dt.timedelta(days=offset)
                if due < world.today - dt.timedelta(days=3) and (
                    self.force is not None or rng.random() < 0.85
                ):
                    value = _weighted(rng, CHECK_IN_VALUE_WEIGHTS)
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
