"""On PostgreSQL: lock a batch of deals and read every fact the rules need in ONE query.

`facts.load_facts` runs one query per kind of child (twelve), each compiled by the ORM.
For a single recompute after an edit that is a dozen round trips and a dozen query
compilations for a few dozen rows: most of the time went there, not into PostgreSQL.
Here each kind of child is a correlated `json_agg` subquery in the select list of the
deal query, so one statement locks the deals and returns their children and their
active flags. The SQL text is built once per process from the models' metadata.

Children come back as JSON arrays; numerics are sent as text (JSON numbers would lose
Decimal precision) and timestamps as ISO 8601 text, converted back here. The orderings
match `facts.load_facts` exactly, so evidence (and its digest) is the same whichever
loader read it; a PostgreSQL test compares the two loaders field by field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db import connection, models

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

from .facts import (
    DEAL_COLUMNS,
    ActiveFlag,
    ActivityFact,
    CommitmentFact,
    ConcessionFact,
    DealFacts,
    DealRow,
    DisclosureFact,
    HandoffFact,
    LineItemFact,
    LoadedBatch,
    MilestoneFact,
    NeedFact,
    PulseFact,
    close_date_changes,
)


@dataclass(frozen=True)
class _Child:
    """One kind of child: which columns, in which order, built into which fact."""

    key: str
    model: type[models.Model]
    fields: tuple[str, ...]
    order_by: str  # SQL over the child's alias `c`
    where: str = ""  # extra SQL condition over `c`
    fk: str = "deal"
    computed: tuple[str, ...] = ()  # SQL columns over `c` after `fields` (no conversion)
    # SQL over `c` read in place of a field's column (same type, no conversion needed).
    instead: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> str:
        field = self.model._meta.get_field(name)
        sql = f"c.{connection.ops.quote_name(_column(self.model, name))}"
        for replaced, expression in self.instead:
            if replaced == name:
                return expression
        # Text keeps Decimal exact through JSON; dates and timestamps are ISO text anyway.
        return f"{sql}::text" if isinstance(field, models.DecimalField) else sql

    def converters(self) -> list[Callable | None]:
        out: list[Callable | None] = []
        for name in self.fields:
            field = self.model._meta.get_field(name)
            if isinstance(field, models.DecimalField):
                out.append(Decimal)
            elif isinstance(field, models.DateTimeField):
                out.append(dt.datetime.fromisoformat)
            elif isinstance(field, models.DateField):
                out.append(dt.date.fromisoformat)
            else:
                out.append(None)
        return out + [None] * len(self.computed)

    def subquery(self) -> str:
        table = self.model._meta.db_table
        fk_column = _column(self.model, self.fk)
        columns = ", ".join([*(self.column(name) for name in self.fields), *self.computed])
        where = f" AND {self.where}" if self.where else ""
        return (
            f"(SELECT json_agg(json_build_array({columns}) ORDER BY {self.order_by}) "
            f"FROM {table} c WHERE c.{fk_column} = d.id{where})"
        )


def _column(model: type[models.Model], name: str) -> str:
    """The database column of a concrete field (a relation's reverse side has none)."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, f"{model.__name__}.{name}"
    return field.column


def _children() -> list[_Child]:
    from deals.buyer_room.models import BuyerPromiseAnswer, BuyerPulse
    from handoff.models import CheckInPromise, Handoff

    active = ", ".join(f"'{status}'" for status in Flag.ACTIVE_STATUSES)
    return [
        _Child(
            "needs",
            Need,
            ("id", "statement", "importance", "confirmed_by_buyer", "confirmed_by_buyer_at"),
            "c.importance DESC, c.id",
        ),
        _Child("discovery_call_ids", DiscoveryCall, ("id",), "c.held_at DESC, c.id"),
        _Child(
            "milestones",
            BuyerMilestone,
            ("id", "title", "side", "required_for_decision", "completed_at"),
            "c.id",
        ),
        _Child(
            "activities",
            Activity,
            (
                "id",
                "kind",
                "initiated_by",
                "occurred_at",
                "notes",
                "close_attempt",
                "senior_present",
                "source",
                "thread",
                "auto_reply",
            ),
            "c.occurred_at DESC, c.id DESC",
            # The rep's words only, as facts.load_facts reads them (ActivityFact.notes).
            instead=(
                (
                    "notes",
                    f"CASE WHEN c.initiated_by = '{Activity.InitiatedBy.REP}' "
                    "THEN c.notes ELSE '' END",
                ),
            ),
        ),
        _Child(
            "concessions",
            Concession,
            ("id", "kind", "description", "amount", "in_exchange_for"),
            "c.id",
        ),
        _Child(
            "commitments",
            Commitment,
            ("id", "description", "due_date", "status"),
            "c.id",
            computed=(
                f"EXISTS (SELECT 1 FROM {CheckInPromise._meta.db_table} p "
                f"WHERE p.commitment_id = c.id AND p.status = '{CheckInPromise.Status.MISSED}') "
                # The buyer's "not kept" in the buyer room counts too (handoff/outcomes.py).
                f"OR EXISTS (SELECT 1 FROM {BuyerPromiseAnswer._meta.db_table} b "
                "WHERE b.commitment_id = c.id AND NOT b.kept)",
            ),
        ),
        _Child("disclosures", Disclosure, ("id", "kind"), "c.id"),
        _Child(
            "close_date_history",
            Deal.history.model,
            ("history_date", "expected_close_date"),
            "c.history_date, c.history_id",
            fk="id",
        ),
        _Child(
            "handoff",
            Handoff,
            ("id", "status", "submitted_at", "claimed_at", "accepted_at"),
            "c.id",
        ),
        _Child(
            "buyer_pulses",
            BuyerPulse,
            (
                "id",
                "contact",
                "meeting",
                "got_what_needed",
                "felt_pushed",
                "next_step_agreed",
                "answered_at",
            ),
            "c.answered_at DESC, c.id DESC",
        ),
        _Child(
            "flags",
            Flag,
            ("id", "code", "message", "severity", "side", "evidence_digest"),
            "c.id",
            where=f"c.status IN ({active})",
        ),
    ]


def _line_items_subquery() -> str:
    through = LineItem.needs.through._meta
    item_column = through.get_field("lineitem").column
    need_column = through.get_field("need").column
    return (
        "(SELECT json_agg(json_build_array(c.id, c.name, "
        f"(SELECT json_agg(t.{need_column} ORDER BY t.{need_column}) "
        f"FROM {through.db_table} t WHERE t.{item_column} = c.id), c.imported) ORDER BY c.id) "
        f"FROM {LineItem._meta.db_table} c WHERE c.deal_id = d.id)"
    )


@cache
def _statement() -> tuple[str, list[_Child], list[list[Callable | None]]]:
    children = _children()
    deal_columns = ", ".join(
        f"d.{_column(Deal, name)}" if name != "id" else "d.id" for name in DEAL_COLUMNS
    )
    selects = [deal_columns, _line_items_subquery(), *(child.subquery() for child in children)]
    sql = (
        f"SELECT {', '.join(selects)} FROM {Deal._meta.db_table} d "
        "WHERE d.id = ANY(%s) ORDER BY d.id FOR UPDATE OF d"
    )
    return sql, children, [child.converters() for child in children]


def _rows(raw: list | None, converters: list[Callable | None]) -> list[list]:
    if not raw:
        return []
    out = []
    for values in raw:
        for i, convert in enumerate(converters):
            if convert is not None and values[i] is not None:
                values[i] = convert(values[i])
        out.append(values)
    return out


def load_batch_sql(
    ids: list[int],
    policies: dict[int | None, HealthPolicy],
    *,
    skip_locked: bool,
    lock: bool = True,
) -> LoadedBatch:
    """Lock `ids` (skipping deals locked elsewhere when `skip_locked`) and load their facts
    and active flags in one statement. Call inside a transaction. `lock=False` reads
    without locking (a preview, which stores nothing)."""
    sql, children, converters = _statement()
    if not lock:
        sql = sql.removesuffix(" FOR UPDATE OF d")
    elif skip_locked:
        sql += " SKIP LOCKED"
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(ids)])
        records = cursor.fetchall()

    batch = LoadedBatch()
    width = len(DEAL_COLUMNS)
    for record in records:
        row = DealRow(*record[:width])
        facts = DealFacts(deal=row, policy=policies.get(row.team_id) or policies[None])
        line_items, *loaded = record[width:]
        parsed = {
            child.key: _rows(raw, convert)
            for child, raw, convert in zip(children, loaded, converters, strict=True)
        }
        facts.line_items = [
            LineItemFact(item_id, name, tuple(need_ids or ()), imported)
            for item_id, name, need_ids, imported in line_items or ()
        ]
        facts.needs = [NeedFact(*values) for values in parsed["needs"]]
        facts.discovery_call_ids = [values[0] for values in parsed["discovery_call_ids"]]
        facts.milestones = [MilestoneFact(*values) for values in parsed["milestones"]]
        facts.activities = [ActivityFact(*values) for values in parsed["activities"]]
        facts.concessions = [ConcessionFact(*values) for values in parsed["concessions"]]
        facts.commitments = [CommitmentFact(*values) for values in parsed["commitments"]]
        facts.disclosures = [DisclosureFact(*values) for values in parsed["disclosures"]]
        facts.close_date_changes = close_date_changes(parsed["close_date_history"])
        facts.buyer_pulses = [PulseFact(*values) for values in parsed["buyer_pulses"]]
        if parsed["handoff"]:
            facts.handoff = HandoffFact(*parsed["handoff"][0])
        batch.rows.append(row)
        batch.facts[row.id] = facts
        batch.flags[row.id] = {values[1]: ActiveFlag(*values) for values in parsed["flags"]}
    return batch
