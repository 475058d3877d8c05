"""A large load on PostgreSQL: the one place that lifts index and constraint upkeep.

Inside the load's transaction, `bulk_load()`:
- drops the plain secondary indexes of the tables the generator writes (not primary
  keys, not unique indexes, not those a constraint uses) and builds them again at the
  end: one sorted build per index is faster than millions of index insertions;
- sets `session_replication_role = replica` for the transaction, so COPY does not fire
  the foreign-key triggers row by row (the generator writes parents before children,
  with ids it reserved itself, so every reference holds by construction);
- turns `synchronous_commit` off for the transaction (a demo load can be redone).

All three are transactional in PostgreSQL: if the load fails (an exception, a killed
process, a lost connection) the transaction rolls back and the indexes and settings are
exactly as before. Elsewhere (SQLite) and for small loads it does nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from deals.models import Deal, DiscoveryCall, LineItem

from .bulk import _Rows

# Below this many deals the upkeep is cheap and rebuilding indexes would cost more.
BULK_LOAD_MIN_DEALS = 50_000


def _tables() -> list[str]:
    """The tables the generator writes by COPY."""
    models = [
        *_Rows.ORDER,
        LineItem.needs.through,
        DiscoveryCall.attendees.through,
        Deal.history.model,
    ]
    return [m._meta.db_table for m in models]


def _droppable_indexes(cursor, tables: list[str]) -> list[tuple[str, str]]:
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s)
          AND NOT i.indisprimary AND NOT i.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        [tables],
    )
    return list(cursor.fetchall())


@contextmanager
def bulk_load(*, deals: int, out=None, tables: list[str] | None = None) -> Iterator[None]:
    """Lift index and constraint upkeep for a load of `deals` deals into `tables` (by
    default the generator's); call inside the load's transaction."""
    if connection.vendor != "postgresql" or deals < BULK_LOAD_MIN_DEALS:
        yield
        return
    assert connection.in_atomic_block, "bulk_load() must run inside the load's transaction"
    out = out or sys.stderr
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        indexes = _droppable_indexes(cursor, tables or _tables())
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    started = time.monotonic()
    out.write(f"building {len(indexes)} indexes after the load…\n")
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("SET LOCAL session_replication_role = origin")
    out.write(f"built {len(indexes)} indexes in {time.monotonic() - started:.1f}s\n")
