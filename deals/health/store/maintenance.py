"""Maintenance of the tables the health engine writes."""

from __future__ import annotations

from django.db import connection

from deals.models import Deal, Flag, HealthSnapshot


def health_tables_vacuum() -> bool:
    """VACUUM (ANALYZE) the tables a sweep rewrites, on PostgreSQL; False where it cannot
    run (another database, or inside a transaction, as in tests).

    Every sweep rewrites each swept deal's health row and flag, which clears the pages'
    all-visible bits; until a vacuum sets them again the dashboard's index-only scans
    fetch every row from the heap (3-5 times slower, measured). Autovacuum gets there
    within minutes where it is on; this makes it certain, and cheap, since a vacuum
    visits only the pages changed since the last one.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table) for model in (Deal, Flag, HealthSnapshot)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {tables}")
    return True


SNAPSHOT_CONTENT = (
    "buyer_score, seller_score, balance, open_flag_count, pressure_flag_count, net_total, "
    "team_id, owner_id"
)


def health_snapshots_compact() -> int:
    """Delete every snapshot equal to the same deal's previous one; returns how many.

    History written by day (before snapshots were written on change, or by a bulk load)
    repeats a deal's state day after day; the state on a day is the latest snapshot on or
    before it, so a repeat says nothing and its removal changes no day's state."""
    table = connection.ops.quote_name(HealthSnapshot._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM {table} WHERE id IN (
                SELECT id FROM (
                    SELECT id, ROW_NUMBER() OVER w AS n, {SNAPSHOT_CONTENT},
                        LAG(buyer_score) OVER w AS p1, LAG(seller_score) OVER w AS p2,
                        LAG(balance) OVER w AS p3, LAG(open_flag_count) OVER w AS p4,
                        LAG(pressure_flag_count) OVER w AS p5, LAG(net_total) OVER w AS p6,
                        LAG(team_id) OVER w AS p7, LAG(owner_id) OVER w AS p8
                    FROM {table}
                    WINDOW w AS (PARTITION BY deal_id ORDER BY day)
                ) s
                WHERE n > 1 AND buyer_score = p1 AND seller_score = p2 AND balance = p3
                  AND open_flag_count = p4 AND pressure_flag_count = p5
                  AND net_total = p6 AND team_id = p7 AND owner_id = p8
            )
            """
        )
        return cursor.rowcount
