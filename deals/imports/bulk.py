"""Fast multi-row INSERTs for imports.

Django's bulk_create prepares every value of every row through the field API, which is
most of the time an import of 100,000 deals spends. On PostgreSQL we COPY plain Python
values (str, int, Decimal, date, aware datetime, None) straight into the table; elsewhere
(SQLite in development) bulk_create does the work.
The values come from the import's own validation, so nothing unchecked reaches the table.
"""

from __future__ import annotations

import io

from django.db import connection
from django.db.models import AutoField, BigAutoField, Model, SmallAutoField
from django.utils import timezone

AUTO_FIELDS = (AutoField, BigAutoField, SmallAutoField)


def _columns(model: type[Model]):
    return [
        f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, AUTO_FIELDS))
    ]


def insert_dicts(model: type[Model], rows: list[dict], *, batch_size: int = 2000) -> list[int]:
    """INSERT one row per dict ({attname: value}; missing fields take their defaults) and
    return the new primary keys in order."""
    if not rows:
        return []
    fields = _columns(model)
    now = timezone.now()
    defaults = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        else:
            defaults[f.attname] = f.get_default()
    if connection.vendor != "postgresql":
        objs = model._default_manager.bulk_create(
            [
                model(**{f.attname: row.get(f.attname, defaults[f.attname]) for f in fields})
                for row in rows
            ],
            batch_size=batch_size,
        )
        return [obj.pk for obj in objs]

    return _copy_rows(model, fields, defaults, rows)


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _copy_rows(model, fields, defaults: dict, rows: list[dict]) -> list[int]:
    """PostgreSQL: reserve the ids from the table's sequence, then COPY the rows in.

    COPY skips parsing a multi-row INSERT and psycopg2's per-row quoting; with the ids
    reserved first, we still know every new row's primary key."""
    quote = connection.ops.quote_name
    table = model._meta.db_table
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk.column, len(rows)],
        )
        ids = [r[0] for r in cursor.fetchall()]
        pairs = [(f.attname, defaults[f.attname]) for f in fields]
        # Ids, timestamps, dates and codes repeat down a batch: each distinct non-text
        # value is formatted once (a 100,000-row import writes ~2 million cells).
        formatted: dict[tuple[type, object], str] = {}

        def cell(value) -> str:
            if type(value) is str:
                if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
                    return _copy_value(value)
                return value
            key = (type(value), value)
            try:
                return formatted[key]
            except KeyError:
                text = formatted[key] = _copy_value(value)
                return text
            except TypeError:  # unhashable (a JSON value)
                return _copy_value(value)

        lines = [
            f"{pk_value}\t" + "\t".join([cell(row.get(name, default)) for name, default in pairs])
            for pk_value, row in zip(ids, rows, strict=True)
        ]
        buffer = io.StringIO("\n".join(lines) + "\n")
        columns = ", ".join(quote(c) for c in [pk.column, *(f.column for f in fields)])
        cursor.cursor.copy_expert(f"COPY {quote(table)} ({columns}) FROM STDIN", buffer)
    return ids


def insert_history(model: type[Model], rows: list[dict], *, user_id: int | None, reason: str):
    """The simple_history "created" record of each inserted row (rows carry their "id")."""
    history_model = model.history.model  # type: ignore[attr-defined]  # simple-history
    now = timezone.now()
    # The history copies auto_now fields as plain columns: give them the insert time.
    stamped = [
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    insert_dicts(
        history_model,
        [
            {
                **dict.fromkeys(stamped, now),
                **row,
                "history_date": now,
                "history_change_reason": reason,
                "history_type": "+",
                "history_user_id": user_id,
            }
            for row in rows
        ],
    )
