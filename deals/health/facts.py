"""Load everything the health rules read about deals, in a fixed number of queries.

The same loader serves one deal (a recompute after an edit) and a batch of a thousand
(the sweep): one query per kind of child over `deal_id IN (...)`, never a query per deal.
Rows come back as small slotted dataclasses rather than model instances, because building
model instances for a million children is what would make the sweep slow.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL

from deals.models import (
    Activity,
    BuyerMilestone,
    Commitment,
    Concession,
    Deal,
    Disclosure,
    DiscoveryCall,
    Flag,
    HealthPolicy,
    LineItem,
    Need,
)

OPEN_STAGES = frozenset(str(stage) for stage in Deal.OPEN_STAGES)

# Up to this many deals, PostgreSQL loads a batch with facts_sql's single statement.
ONE_STATEMENT_MAX_DEALS = 50

# The deal columns the rules and the store read; `load_deal_rows` selects exactly these.
DEAL_COLUMNS = (
    "id",
    "stage",
    "team_id",
    "owner_id",
    "created_at",
    "expected_close_date",
    "list_total",
    "net_total",
    "cost_total",
    "imported_from",
    "stage_changed_at",
)


@dataclass(slots=True)
class DealRow:
    id: int
    stage: str
    team_id: int
    owner_id: int
    created_at: dt.datetime
    expected_close_date: dt.date | None
    list_total: Decimal
    net_total: Decimal
    cost_total: Decimal
    # The CRM an import brought the deal from ("" for deals made here).
    imported_from: str = ""
    stage_changed_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def stage_index(self) -> int:
        return Deal.STAGE_ORDER[self.stage]


@dataclass(slots=True)
class NeedFact:
    id: int
    statement: str
    importance: int
    confirmed_by_buyer: bool
    # The buyer's own confirmation in the buyer room (None: only the rep's tick, if any).
    confirmed_by_buyer_at: dt.datetime | None = None


@dataclass(slots=True)
class LineItemFact:
    id: int
    name: str
    need_ids: tuple[int, ...]
    # The synthetic "Imported value" item of an import: it serves no need by design.
    imported: bool = False


@dataclass(slots=True)
class MilestoneFact:
    id: int
    title: str
    side: str
    required_for_decision: bool
    completed_at: dt.datetime | None


@dataclass(slots=True)
class ActivityFact:
    id: int
    kind: str
    initiated_by: str
    occurred_at: dt.datetime
    # What the rep wrote; "" on the buyer's activities: no rule reads the buyer's own
    # words (pressure language is the rep's), and half of the sweep's activity reading
    # went into decoding them.
    notes: str
    close_attempt: bool
    senior_present: bool
    # Captured mail: where it came from, its thread's first activity, an auto-reply.
    source: str = "manual"
    thread_id: int | None = None
    auto_reply: bool = False


@dataclass(slots=True)
class ConcessionFact:
    id: int
    kind: str
    description: str
    amount: Decimal
    in_exchange_for: str


@dataclass(slots=True)
class CommitmentFact:
    id: int
    description: str
    due_date: dt.date | None
    status: str
    # A check-in marked it missed: overdue while open, whatever its due date.
    missed: bool = False


@dataclass(slots=True)
class DisclosureFact:
    id: int
    kind: str


@dataclass(slots=True)
class CloseDateChange:
    """One edit of the deal's expected close date, from its simple-history rows."""

    changed_at: dt.datetime
    old_date: dt.date | None
    new_date: dt.date | None


@dataclass(slots=True)
class HandoffFact:
    id: int
    status: str
    submitted_at: dt.datetime | None
    claimed_at: dt.datetime | None
    accepted_at: dt.datetime | None


@dataclass(slots=True)
class PulseFact:
    """A buyer's answers in the buyer room's pulse after a meeting."""

    id: int
    contact_id: int
    meeting_id: int
    got_what_needed: bool
    felt_pushed: bool
    next_step_agreed: bool
    answered_at: dt.datetime


@dataclass(slots=True)
class ActiveFlag:
    """An open or acknowledged flag as the store compares it (evidence by digest only)."""

    id: int
    code: str
    message: str
    severity: str
    side: str
    evidence_digest: str


@dataclass(slots=True)
class DealFacts:
    deal: DealRow
    policy: HealthPolicy
    needs: list[NeedFact] = field(default_factory=list)
    line_items: list[LineItemFact] = field(default_factory=list)
    discovery_call_ids: list[int] = field(default_factory=list)
    milestones: list[MilestoneFact] = field(default_factory=list)
    # Newest first, like the Activity model's ordering.
    activities: list[ActivityFact] = field(default_factory=list)
    concessions: list[ConcessionFact] = field(default_factory=list)
    commitments: list[CommitmentFact] = field(default_factory=list)
    disclosures: list[DisclosureFact] = field(default_factory=list)
    # Oldest first.
    close_date_changes: list[CloseDateChange] = field(default_factory=list)
    handoff: HandoffFact | None = None
    # Newest first.
    buyer_pulses: list[PulseFact] = field(default_factory=list)


@dataclass
class LoadedBatch:
    """Locked deals (by id), their facts and their active flags keyed by code."""

    rows: list[DealRow] = field(default_factory=list)
    facts: dict[int, DealFacts] = field(default_factory=dict)
    flags: dict[int, dict[str, ActiveFlag]] = field(default_factory=dict)


def fetch_rows(queryset: QuerySet[Any]) -> list[tuple]:
    """Rows of a values_list queryset.

    On PostgreSQL the compiled SQL runs on a plain cursor: psycopg2 already returns
    Decimal and aware datetimes, and skipping the ORM's per-row iterator machinery halves
    the sweep's CPU time. Elsewhere (SQLite) the ORM's converters are needed.
    """
    if connection.vendor != "postgresql":
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def ids_param(ids: list[int]) -> list[int] | RawSQL:
    """The right-hand side of `deal_id__in=` for a batch of ids.

    On PostgreSQL one array parameter (`IN (SELECT unnest(%s))`): Django prepares each
    element of a plain list separately, which for a thousand ids per query costs more
    CPU than the query itself.
    """
    if connection.vendor != "postgresql" or len(ids) < 50:
        return ids
    return RawSQL("SELECT unnest(%s::bigint[])", (list(ids),))


def load_deal_rows(queryset: QuerySet[Deal]) -> list[DealRow]:
    """DealRows for a Deal queryset (which may carry select_for_update)."""
    return [DealRow(*row) for row in fetch_rows(queryset.values_list(*DEAL_COLUMNS))]


def _missed_at_check_in() -> ExpressionWrapper:
    # Missed as delivery recorded it, or "not kept" as the buyer answered a check-in in
    # the buyer room (handoff/outcomes.py: the buyer's answer wins).
    from django.db.models import ExpressionWrapper

    from deals.buyer_room.models import BuyerPromiseAnswer
    from handoff.models import CheckInPromise

    delivery = Exists(
        CheckInPromise.objects.filter(
            commitment_id=OuterRef("pk"), status=CheckInPromise.Status.MISSED
        )
    )
    buyer = Exists(BuyerPromiseAnswer.objects.filter(commitment_id=OuterRef("pk"), kept=False))
    return ExpressionWrapper(delivery | buyer, output_field=BooleanField())


def load_facts(
    deal_rows: Iterable[DealRow], policies: dict[int | None, HealthPolicy]
) -> dict[int, DealFacts]:
    """Facts for many deals in twelve queries, whatever the number of deals.

    `policies` maps team id to that team's policy; the key None holds the global policy.
    """
    facts = {
        row.id: DealFacts(deal=row, policy=policies.get(row.team_id) or policies[None])
        for row in deal_rows
    }
    if not facts:
        return facts
    ids = ids_param(list(facts))

    for deal_id, *values in fetch_rows(
        Need.objects.filter(deal_id__in=ids).values_list(
            "deal_id",
            "id",
            "statement",
            "importance",
            "confirmed_by_buyer",
            "confirmed_by_buyer_at",
        )
    ):
        facts[deal_id].needs.append(NeedFact(*values))

    needs_of_item: dict[int, list[int]] = defaultdict(list)
    for item_id, need_id in fetch_rows(
        LineItem.needs.through.objects.filter(lineitem__deal_id__in=ids)
        .order_by("lineitem_id", "need_id")
        .values_list("lineitem_id", "need_id")
    ):
        needs_of_item[item_id].append(need_id)
    for deal_id, item_id, name, imported in fetch_rows(
        LineItem.objects.filter(deal_id__in=ids)
        .order_by("id")
        .values_list("deal_id", "id", "name", "imported")
    ):
        facts[deal_id].line_items.append(
            LineItemFact(item_id, name, tuple(needs_of_item.get(item_id, ())), imported)
        )

    for deal_id, call_id in fetch_rows(
        DiscoveryCall.objects.filter(deal_id__in=ids)
        .order_by("-held_at", "id")
        .values_list("deal_id", "id")
    ):
        facts[deal_id].discovery_call_ids.append(call_id)

    for deal_id, *values in fetch_rows(
        BuyerMilestone.objects.filter(deal_id__in=ids)
        .order_by("id")
        .values_list("deal_id", "id", "title", "side", "required_for_decision", "completed_at")
    ):
        facts[deal_id].milestones.append(MilestoneFact(*values))

    for deal_id, *values in fetch_rows(
        Activity.objects.filter(deal_id__in=ids)
        .order_by("-occurred_at", "-id")
        .annotate(
            rep_notes=Case(
                When(initiated_by=Activity.InitiatedBy.REP, then=F("notes")),
                default=Value(""),
                output_field=TextField(),
            )
        )
        .values_list(
            "deal_id",
            "id",
            "kind",
            "initiated_by",
            "occurred_at",
            "rep_notes",
            "close_attempt",
            "senior_present",
            "source",
            "thread_id",
            "auto_reply",
        )
    ):
        facts[deal_id].activities.append(ActivityFact(*values))

    for deal_id, *values in fetch_rows(
        Concession.objects.filter(deal_id__in=ids)
        .order_by("id")
        .values_list("deal_id", "id", "kind", "description", "amount", "in_exchange_for")
    ):
        facts[deal_id].concessions.append(ConcessionFact(*values))

    for deal_id, *values in fetch_rows(
        Commitment.objects.filter(deal_id__in=ids)
        .order_by("id")
        .annotate(missed=_missed_at_check_in())
        .values_list("deal_id", "id", "description", "due_date", "status", "missed")
    ):
        facts[deal_id].commitments.append(CommitmentFact(*values))

    for deal_id, *values in (
        Disclosure.objects.filter(deal_id__in=ids)
        .order_by("id")
        .values_list("deal_id", "id", "kind")
    ):
        facts[deal_id].disclosures.append(DisclosureFact(*values))

    _load_close_date_changes(facts, ids)
    _load_handoffs(facts, ids)
    _load_buyer_pulses(facts, ids)
    return facts


def _load_buyer_pulses(facts: dict[int, DealFacts], ids: list[int] | RawSQL) -> None:
    from deals.buyer_room.models import BuyerPulse

    for deal_id, *values in fetch_rows(
        BuyerPulse.objects.filter(deal_id__in=ids)
        .order_by("-answered_at", "-id")
        .values_list(*PULSE_COLUMNS)
    ):
        facts[deal_id].buyer_pulses.append(PulseFact(*values))


PULSE_COLUMNS = (
    "deal_id",
    "id",
    "contact_id",
    "meeting_id",
    "got_what_needed",
    "felt_pushed",
    "next_step_agreed",
    "answered_at",
)


def _load_close_date_changes(facts: dict[int, DealFacts], ids: list[int] | RawSQL) -> None:
    history: dict[int, list[tuple]] = defaultdict(list)
    for deal_id, changed_at, close_date in fetch_rows(
        Deal.history.filter(id__in=ids)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "history_date", "expected_close_date")
    ):
        history[deal_id].append((changed_at, close_date))
    for deal_id, rows in history.items():
        facts[deal_id].close_date_changes = close_date_changes(rows)


def close_date_changes(history: Iterable) -> list[CloseDateChange]:
    """The edits of one deal's close date from its history rows (changed_at, close date),
    oldest first: every row whose date differs from the row before it."""
    changes = []
    previous = None
    for i, (changed_at, close_date) in enumerate(history):
        if i and close_date != previous:
            changes.append(CloseDateChange(changed_at, previous, close_date))
        previous = close_date
    return changes


def _load_handoffs(facts: dict[int, DealFacts], ids: list[int] | RawSQL) -> None:
    from handoff.models import Handoff

    for deal_id, *values in fetch_rows(
        Handoff.objects.filter(deal_id__in=ids).values_list(
            "deal_id", "id", "status", "submitted_at", "claimed_at", "accepted_at"
        )
    ):
        facts[deal_id].handoff = HandoffFact(*values)


def load_active_flags(ids: list[int]) -> dict[int, dict[str, ActiveFlag]]:
    found: dict[int, dict[str, ActiveFlag]] = defaultdict(dict)
    # Evidence is compared by digest, so the JSON itself is never read back.
    rows = fetch_rows(
        Flag.objects.filter(deal_id__in=ids_param(list(ids)), status__in=Flag.ACTIVE_STATUSES)
        .order_by("id")
        .values_list("deal_id", "id", "code", "message", "severity", "side", "evidence_digest")
    )
    for deal_id, *values in rows:
        found[deal_id][values[1]] = ActiveFlag(*values)
    return found


def load_batch(
    ids: list[int],
    policies: dict[int | None, HealthPolicy],
    *,
    skip_locked: bool = False,
    lock: bool = True,
) -> LoadedBatch:
    """Lock the deals `ids` and load their facts and active flags; call in a transaction.

    With `skip_locked`, deals another transaction holds are left out (the sweep); without
    it the call waits for them (a recompute). `lock=False` reads without locking (the
    sweep's first look, which writes nothing). A few deals on PostgreSQL are read in one
    statement (facts_sql: round trips dominate there); a sweep batch, or any batch
    elsewhere, with one query per kind of child (set-based joins are cheaper for
    PostgreSQL than a thousand correlated subqueries; bench/RESULTS.md).
    """
    if connection.vendor == "postgresql" and len(ids) <= ONE_STATEMENT_MAX_DEALS:
        from .facts_sql import load_batch_sql

        return load_batch_sql(ids, policies, skip_locked=skip_locked, lock=lock)
    deals = Deal.objects.filter(id__in=ids_param(ids)).order_by("id")
    if lock:
        deals = deals.select_for_update(skip_locked=skip_locked)
    rows = load_deal_rows(deals)
    if not rows:
        return LoadedBatch()
    active = load_active_flags([row.id for row in rows])
    return LoadedBatch(
        rows=rows,
        facts=load_facts(rows, policies),
        flags={row.id: active.get(row.id, {}) for row in rows},
    )


def load_facts_for_deal(deal_id: int, policy: HealthPolicy | None = None) -> DealFacts | None:
    """Facts for one deal (tests and the shell); None when the deal does not exist."""
    from .policy import policy_for_team

    rows = load_deal_rows(Deal.objects.filter(pk=deal_id))
    if not rows:
        return None
    policy = policy or policy_for_team(rows[0].team_id)
    return load_facts(rows, {rows[0].team_id: policy, None: policy})[deal_id]
