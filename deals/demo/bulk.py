"""Writing rows in bulk: COPY on PostgreSQL (`fast_insert`) and one chunk's unsaved rows
written parent tables first (`_Rows`)."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models.base import ModelState

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

from .vocabulary import BULK_BATCH_SIZE


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
        fks = [(f.attname, f) for f in fields if f.is_relation]
        writers = [(f.attname, _copy_writer(f)) for f in fields]
        lines = []
        for obj in objs:
            values = obj.__dict__
            for attname, f in fks:
                if values.get(attname) is None:
                    related = f.get_cached_value(obj, None)
                    if related is not None:
                        # Into __dict__: setattr would drop the cached parent, and the
                        # handoff package reads it (one query per deal otherwise).
                        values[attname] = related.pk
            lines.append("\t".join([write(values[attname]) for attname, write in writers]))
        lines.append("")
        buffer = io.StringIO("\n".join(lines))
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        cursor.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN", buffer
        )


def _text(value) -> str:
    return "\\N" if value is None else str(value).translate(_COPY_ESCAPES)


def _plain(value) -> str:
    return "\\N" if value is None else str(value)


def _iso(value) -> str:
    return "\\N" if value is None else value.isoformat()


def _bool(value) -> str:
    return "\\N" if value is None else ("t" if value else "f")


_PLAIN_TYPES = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "DecimalField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
}
_TEXT_TYPES = {"CharField", "TextField", "EmailField", "URLField", "SlugField"}


def _copy_writer(f) -> Callable[[object], str]:
    """The COPY text writer for one field's values, chosen once per field (a generic
    writer per value costs a third of the generator's time at a million deals)."""
    kind = f.get_internal_type()
    if kind in _PLAIN_TYPES:
        return _plain
    if kind in _TEXT_TYPES:
        return _text
    if kind in ("DateTimeField", "DateField"):
        return _iso
    if kind == "BooleanField":
        return _bool
    return lambda value: _copy_text(f, value)


def make(model, **values):
    """An unsaved instance without Model.__init__ (signals, descriptors, per-field
    checks): the same attributes, defaults filled in, a parent given as an instance cached
    as Django caches it. Building ~30 rows per deal through __init__ took a quarter of the
    generator's time."""
    plan = _PLANS.get(model)
    if plan is None:
        plan = _PLANS[model] = [
            (f.name, f.attname, f)
            for f in model._meta.concrete_fields
            if f.column is not None and not f.generated
        ]
    obj = model.__new__(model)
    state = obj._state = ModelState()
    d = obj.__dict__
    for name, attname, f in plan:
        if name in values:
            value = values.pop(name)
            if f.is_relation and attname != name:
                d[attname] = None if value is None else value.pk
                if value is not None:
                    state.fields_cache[name] = value
                continue
            d[attname] = value
        elif attname in values:
            d[attname] = values.pop(attname)
        else:
            d[attname] = f.get_default()
    if values:
        raise TypeError(f"{model.__name__} has no field(s) {', '.join(values)}")
    return obj


_PLANS: dict[type, list] = {}


def copy_tuples(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert plain tuples of `columns` (attnames) without building model instances: COPY on
    PostgreSQL, bulk_create elsewhere. For tables whose ids nobody needs back."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._base_manager.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows],
            batch_size=BULK_BATCH_SIZE,
        )
        return
    meta = model._meta
    by_attname = {f.attname: f.column for f in meta.concrete_fields}
    buffer = io.StringIO()
    buffer.writelines("\t".join(_copy_text(None, v) for v in row) + "\n" for row in rows)
    buffer.seek(0)
    names = ", ".join(connection.ops.quote_name(by_attname[c]) for c in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(meta.db_table)} ({names}) FROM STDIN", buffer
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
        StageHistory,
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
        copy_tuples(
            LineItem.needs.through,
            ("lineitem_id", "need_id"),
            [(i.pk, n.pk) for i, n in self.item_needs],
        )
        copy_tuples(
            DiscoveryCall.attendees.through,
            ("discoverycall_id", "contact_id"),
            [(c.pk, p.pk) for c, p in self.attendees],
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
                make(
                    historical,
                    **values,
                    history_date=when,
                    history_type=kind,
                    history_user_id=deal.owner_id,
                    history_change_reason="",
                )
            )
        fast_insert(historical, rows)
