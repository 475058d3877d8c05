"""Large demos as copies of a generated template, written by PostgreSQL itself.

Drawing one deal in Python, writing it and computing its health, outcome and history costs
about 5 ms on this 2-core machine, so a million drawn deals would take well over an hour
(bench/RESULTS.md). Above REPLICATE_FROM deals the seed therefore draws TEMPLATE_DEALS
deals the usual way — health, simulated outcomes and a year of history included — and
writes every further deal as a copy: deal number n (n >= TEMPLATE_DEALS) is a copy of deal
n mod TEMPLATE_DEALS, with its own id for every row (deal, prospect, contacts, needs, items,
activities, flags, snapshots, handoff, check-ins, …), its own external id
(`demo:SEED:dNNNNNNN`) and the template's owner, team, dates and texts. Its health is the
template's, which is what the engine computes for it (the rules read nothing that differs;
tests/deals/test_demo_replicate.py recomputes copies and compares), so no sweep is needed.

One INSERT … SELECT per table writes all copies of that table (the template rows are read
once); ids are shifted by a fixed offset per table and copy, foreign keys by their target's
offset. Two kinds of JSON hold ids (a flag's evidence, a handoff's package): those rows are
copied in Python, their ids remapped by the key that holds them (`_JSON_ID_KEYS`,
`_JSON_ID_PARENTS`), and a key that looks like an id but is not mapped stops the copy.

The one owner a copy does not keep is the new joiner (deals/demo/world.NEW_JOINER): copies
of her deals belong to her teammate, in every user column and in the package (`_Reassign`),
so she owns her ~100 drawn deals at any size.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
import time
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Model

from deals.health.store import evidence_canonical
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
    StageHistory,
)
from handoff.models import (
    CheckIn,
    CheckInNeedValue,
    CheckInPromise,
    Handoff,
    HandoffChecklistItem,
    HandoffEvent,
    HandoffMessage,
)
from winwin_crm.accounts.models import User

from .bulk import _COPY_ESCAPES, _copy_text
from .vocabulary import DEMO_PREFIX
from .world import NEW_JOINER, NEW_JOINER_TEAMMATE

# Deals drawn for real before copies are made; even, so deal n's prospect (n // 2) of a
# copy is the copy of the template deal's prospect.
TEMPLATE_DEALS = 50_000
# Below this many deals every deal is drawn.
REPLICATE_FROM = 200_000

_HistoricalDeal = Deal.history.model

# Every table a generated deal has rows in (buyer rooms and captured mail exist only for
# the stories). Order does not matter: the load runs with foreign-key triggers off.
COPIED: list[type[Model]] = [
    Prospect,
    Contact,
    Deal,
    _HistoricalDeal,
    StageHistory,
    DiscoveryCall,
    DiscoveryCall.attendees.through,
    Need,
    LineItem,
    LineItem.needs.through,
    BuyerMilestone,
    Activity,
    Concession,
    Commitment,
    Disclosure,
    Flag,
    HealthSnapshot,
    Handoff,
    HandoffChecklistItem,
    HandoffEvent,
    HandoffMessage,
    CheckIn,
    CheckInNeedValue,
    CheckInPromise,
]

# JSON keys whose value is an id (or a list of ids) of a copied model.
_JSON_ID_KEYS: dict[str, type[Model]] = {
    "activity_id": Activity,
    "activity_ids": Activity,
    "close_attempt_activity_ids": Activity,
    "last_buyer_activity_id": Activity,
    "meeting_activity_id": Activity,
    "senior_activity_ids": Activity,
    "contact_id": Contact,
    "confirmed_need_ids": Need,
    "disclosure_ids": Disclosure,
    "handoff_id": Handoff,
}
# JSON keys holding an object (or a list of objects) whose "id" is an id of this model;
# None: an id of a row that is shared, not copied (a user).
_JSON_ID_PARENTS: dict[str, type[Model] | None] = {
    "commitments": Commitment,
    "concessions": Concession,
    "contacts": Contact,
    "deal": Deal,
    "disclosures": Disclosure,
    "line_items": LineItem,
    "needs": Need,
    "open_milestones": BuyerMilestone,
    "owner": None,
    "prospect": Prospect,
    "untraded": Concession,
}
_JSON_COLUMNS: dict[type[Model], str] = {Flag: "evidence", Handoff: "package"}


@dataclass(frozen=True)
class Template:
    """Where the template's rows are: its deals' and prospects' id ranges."""

    seed: int
    deals: int
    deal_lo: int
    prospect_lo: int

    @classmethod
    def find(cls, seed: int, deals: int) -> Template:
        """The first `deals` generated deals of `seed`, checked to be one id run in
        order (copies address a deal's rows by its number)."""
        prefix = f"{DEMO_PREFIX}{seed}:"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT min(id), max(id), count(*) FROM deals_deal"
                " WHERE external_id >= %s AND external_id < %s",
                [f"{prefix}d0000000", f"{prefix}d{deals:07d}"],
            )
            deal_lo, deal_hi, count = cursor.fetchone()
            cursor.execute(
                "SELECT min(id), max(id), count(*) FROM deals_prospect"
                " WHERE external_id >= %s AND external_id < %s",
                [f"{prefix}p0000000", f"{prefix}p{deals // 2:07d}"],
            )
            prospect_lo, prospect_hi, prospects = cursor.fetchone()
        if count != deals or deal_hi - deal_lo + 1 != deals:
            raise ValueError(f"the template's {deals:,} deals are not one id run")
        if prospects != deals // 2 or prospect_hi - prospect_lo + 1 != prospects:
            raise ValueError(f"the template's {deals // 2:,} prospects are not one id run")
        return cls(seed=seed, deals=deals, deal_lo=deal_lo, prospect_lo=prospect_lo)


def _pk(model: type[Model]) -> str:
    return model._meta.pk.column


def _template_filter(model: type[Model], deals: int, tpl: Template) -> str:
    """SQL (alias t) selecting the template rows of the template's first `deals` deals."""
    deal_hi = tpl.deal_lo + deals - 1
    prospect_hi = tpl.prospect_lo + (deals + 1) // 2 - 1
    in_deals = f"BETWEEN {tpl.deal_lo} AND {deal_hi}"
    in_prospects = f"BETWEEN {tpl.prospect_lo} AND {prospect_hi}"
    if model is Prospect:
        return f"t.id {in_prospects}"
    if model is Contact:
        return f"t.prospect_id {in_prospects}"
    if model in (Deal, _HistoricalDeal):
        return f"t.id {in_deals}"
    if model is Need:
        return f"(t.deal_id {in_deals} OR (t.deal_id IS NULL AND t.prospect_id {in_prospects}))"
    columns = {f.column: f for f in model._meta.concrete_fields}
    if "deal_id" in columns:
        return f"t.deal_id {in_deals}"
    # A child of a copied parent: its parent's template rows.
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model in COPIED and f.related_model is not Contact:
            parent: type[Model] = f.related_model  # type: ignore[assignment]
            inner = _template_filter(parent, deals, tpl).replace("t.", "p.")
            return (
                f"t.{f.column} IN (SELECT p.{_pk(parent)} FROM {parent._meta.db_table} p"
                f" WHERE {inner})"
            )
    raise ValueError(f"no way to find the template rows of {model._meta.db_table}")


@dataclass(frozen=True)
class _Shift:
    """Copy r of a template row with id x gets id x + base - lo + (r - 1) * span."""

    lo: int
    span: int
    base: int

    def sql(self, column: str) -> str:
        return f"({column} + {self.base - self.lo} + (r.r - 1) * {self.span}::bigint)"

    def apply(self, value: int | None, r: int) -> int | None:
        return None if value is None else value + self.base - self.lo + (r - 1) * self.span


@dataclass(frozen=True)
class _Reassign:
    """Who a copy names instead of the new joiner: her teammate, in every user column and
    in the package's user objects (`_JSON_ID_PARENTS` None: {"id", "name"}), so a copy of one
    of her deals belongs wholly to him. The same for every copy: one teammate, no draw."""

    user_from: int
    user_to: int
    name_to: str

    @classmethod
    def find(cls) -> _Reassign | None:
        """None when the demo has no new joiner (or no teammate): nothing to reassign."""
        users = {
            u.username: u
            for u in User.objects.filter(username__in=[NEW_JOINER, NEW_JOINER_TEAMMATE])
        }
        if len(users) < 2:
            return None
        teammate = users[NEW_JOINER_TEAMMATE]
        return cls(user_from=users[NEW_JOINER].pk, user_to=teammate.pk, name_to=str(teammate))

    def sql(self, column: str) -> str:
        return f"(CASE WHEN {column} = {self.user_from} THEN {self.user_to} ELSE {column} END)"

    def user(self, value: int | None) -> int | None:
        return self.user_to if value == self.user_from else value

    def json(self, value, key: str = ""):
        if isinstance(value, dict):
            if key and _JSON_ID_PARENTS.get(key, ...) is None and value.get("id") == self.user_from:
                moved = {**value, "id": self.user_to}
                if "name" in value:
                    moved["name"] = self.name_to
                return moved
            return {k: self.json(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v, key) for v in value]
        return value


def _is_user(f) -> bool:
    return f.is_relation and f.related_model is User


def _shifts(tpl: Template, cursor) -> dict[type[Model], _Shift]:
    shifts = {}
    for model in COPIED:
        table, pk = model._meta.db_table, _pk(model)
        cursor.execute(
            f"SELECT min(t.{pk}), max(t.{pk}) FROM {table} t"
            f" WHERE {_template_filter(model, tpl.deals, tpl)}"
        )
        lo, hi = cursor.fetchone()
        cursor.execute(f"SELECT coalesce(max({pk}), 0) FROM {table}")
        (top,) = cursor.fetchone()
        if lo is None:
            lo = hi = 0
        shifts[model] = _Shift(lo=lo, span=hi - lo + 1, base=top + 1)
    return shifts


def _shift_for(model: type[Model], f, shifts: dict) -> _Shift | None:
    """How a copy moves column `f` of `model`: its own id, a copied row's id (historical
    rows carry their deal's id in `id`), or not at all (None)."""
    if f.primary_key:
        return shifts[model]
    if model is _HistoricalDeal and f.column == "id":
        return shifts[Deal]
    if f.is_relation and f.related_model in shifts:
        return shifts[f.related_model]
    return None


def _column_sql(
    model: type[Model], f, shifts: dict, tpl: Template, reassign: _Reassign | None
) -> str:
    column = f"t.{f.column}"
    shift = _shift_for(model, f, shifts)
    if shift is not None:
        return shift.sql(column)
    if reassign is not None and _is_user(f):
        return reassign.sql(column)
    if f.column == "external_id" and model in (Deal, _HistoricalDeal, Prospect):
        kind, step = ("p", tpl.deals // 2) if model is Prospect else ("d", tpl.deals)
        prefix = f"{DEMO_PREFIX}{tpl.seed}:{kind}"
        return (
            f"CASE WHEN {column} LIKE '{prefix}%' THEN '{prefix}' || lpad((substr({column},"
            f" {len(prefix) + 1})::bigint + r.r * {step}::bigint)::text, 7, '0')"
            f" ELSE {column} END"
        )
    return column


def _copy_in_sql(
    model, shifts, tpl: Template, copies: range, deals: int, cursor, reassign: _Reassign | None
) -> int:
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = ", ".join(_column_sql(model, f, shifts, tpl, reassign) for f in fields)
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({columns}) SELECT {values}"
        f" FROM {model._meta.db_table} t"
        f" CROSS JOIN generate_series({copies.start}, {copies.stop - 1}) AS r(r)"
        f" WHERE {_template_filter(model, deals, tpl)}"
    )
    return cursor.rowcount


_MARK = "\x00"
_MARKED = re.compile(r'"\\u0000(\d+)\\u0000"')


def _mark_json(value, shifts: dict, ids: list, key: str = ""):
    """`value` with every id it holds replaced by a marker string; (shift, id) pairs are
    appended to `ids`, the marker names the pair's index."""

    def marked(shift: _Shift | None, v):
        if shift is None or v is None:
            return v
        ids.append((shift, v))
        return f"{_MARK}{len(ids) - 1}{_MARK}"

    if isinstance(value, dict):
        out = {}
        parent = _JSON_ID_PARENTS.get(key, ...) if key else ...
        for k, v in value.items():
            if k == "id":
                if parent is ...:
                    raise ValueError(f"an unmapped id in JSON under {key!r}")
                out[k] = marked(None if parent is None else shifts[parent], v)
            elif k in _JSON_ID_KEYS:
                shift = shifts[_JSON_ID_KEYS[k]]
                out[k] = [marked(shift, x) for x in v] if isinstance(v, list) else marked(shift, v)
            elif k.endswith(("_id", "_ids")) and v not in (None, []):
                raise ValueError(f"an unmapped id key in JSON: {k!r}")
            else:
                out[k] = _mark_json(v, shifts, ids, k)
        return out
    if isinstance(value, list):
        return [_mark_json(v, shifts, ids, key) for v in value]
    return value


def _format_of(text: str) -> str:
    """JSON text with markers as a str.format() template: {n} for id n."""
    return _MARKED.sub(r"{\1}", text.replace("{", "{{").replace("}", "}}"))


@dataclass(frozen=True)
class _RowCopy:
    """One template row as a COPY line template: its ids (columns and JSON) are {n}
    placeholders, a flag's evidence digest the last; and, for a flag, the template of the
    canonical evidence text the digest is taken over."""

    ids: list[tuple[_Shift, int]]
    line: str
    canonical: str | None

    def write(self, r: int) -> str:
        values = [shift.apply(v, r) for shift, v in self.ids]
        if self.canonical is None:
            return self.line.format(*values)
        digest = hashlib.sha256(self.canonical.format(*values).encode()).hexdigest()
        return self.line.format(*values, digest)


def _row_copy(model, fields, row, shifts: dict, reassign: _Reassign | None) -> _RowCopy:
    ids: list[tuple[_Shift, int]] = []
    cells = []
    json_column = _JSON_COLUMNS[model]
    canonical = None
    for f, value in zip(fields, row, strict=True):
        shift = _shift_for(model, f, shifts)
        if reassign is not None and _is_user(f):
            value = reassign.user(value)
        if f.column == json_column:
            data = json.loads(value) if isinstance(value, str) else value
            if reassign is not None:
                data = reassign.json(data)
            marked = _mark_json(data, shifts, ids)
            text = _format_of(json.dumps(marked, cls=DjangoJSONEncoder))
            cells.append(text.translate(_COPY_ESCAPES))
            if model is Flag:
                canonical = _format_of(evidence_canonical(marked))
        elif f.column == "evidence_digest":
            cells.append("{DIGEST}")
        elif shift is not None and value is not None:
            ids.append((shift, value))
            cells.append(f"{{{len(ids) - 1}}}")
        else:
            cells.append(_copy_text(None, value).replace("{", "{{").replace("}", "}}"))
    line = "\t".join(cells) + "\n"
    line = line.replace("{DIGEST}", f"{{{len(ids)}}}")
    return _RowCopy(ids=ids, line=line, canonical=canonical)


def _copy_in_python(
    model, shifts, tpl: Template, copies: range, deals: int, cursor, reassign: _Reassign | None
) -> int:
    """Copies of rows with ids inside JSON: each template row is read once and turned into
    a line template; each copy's line fills in its shifted ids (and a flag's digest of its
    evidence, as the health store computes it)."""
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    names = [f.column for f in fields]
    cursor.execute(
        f"SELECT {', '.join('t.' + n for n in names)} FROM {model._meta.db_table} t"
        f" WHERE {_template_filter(model, deals, tpl)}"
    )
    template = [_row_copy(model, fields, row, shifts, reassign) for row in cursor.fetchall()]
    quoted = ", ".join(connection.ops.quote_name(n) for n in names)
    for r in copies:
        buffer = io.StringIO("".join([row.write(r) for row in template]))
        cursor.cursor.copy_expert(f"COPY {model._meta.db_table} ({quoted}) FROM STDIN", buffer)
    return len(template) * len(copies)


def copies_write(*, seed: int, template_deals: int, deals: int, out=None) -> dict[str, int]:
    """Write generated deals template_deals..deals-1 of `seed` as copies of the first
    `template_deals`; call inside the load's transaction (deals.demo.load.bulk_load).
    Returns the rows written per table."""
    out = out or sys.stderr
    tpl = Template.find(seed, template_deals)
    reassign = _Reassign.find()
    full, rest = divmod(deals, template_deals)
    written: dict[str, int] = {}
    with connection.cursor() as cursor:
        shifts = _shifts(tpl, cursor)
        for model in COPIED:
            started = time.monotonic()
            copy = _copy_in_python if model in _JSON_COLUMNS else _copy_in_sql
            n = 0
            if full > 1:
                n += copy(model, shifts, tpl, range(1, full), template_deals, cursor, reassign)
            if rest:
                n += copy(model, shifts, tpl, range(full, full + 1), rest, cursor, reassign)
            written[model._meta.db_table] = n
            out.write(
                f"  copied {n:>12,} rows of {model._meta.db_table}"
                f" in {time.monotonic() - started:.1f}s\n"
            )
        for model in COPIED:
            table, pk = model._meta.db_table, _pk(model)
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), (SELECT max({pk}) FROM {table}))",
                [table, pk],
            )
    return written
