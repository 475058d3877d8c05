"""Today's deals summed per group, exact on every read (PostgreSQL).

The dashboard's headline (balance counts and money), the quadrant's density grid and the
forecast (open deals per month of expected close, closed-won money per month) aggregate
every deal in the manager's scope: half a million rows at a million deals, 80–400 ms a
request (bench/RESULTS.md). Instead:

- `live_rollup_rebuild()` (the hourly sweep) sums the deals per group into
  DashboardDealTotals / DashboardDealCells / DashboardDealMonths and deletes the deltas
  those sums now include, in one REPEATABLE READ transaction: the sums and the deletion
  see the same snapshot, so a change committed meanwhile stays a delta and is counted
  exactly once.
- A trigger on deals_deal (installed by each build, the first one in migration 0018, so
  it follows a TIME_ZONE change)
  writes a changed deal's old group as a −1 row and its new group as a +1 row into
  DashboardDealDelta. Insert-only, so concurrent writers never wait on each other.
- A read (deals.dashboard.selectors.live) adds sums and deltas in one statement.

The group of a deal — its quadrant cell and its month — is defined once, as SQL, below;
the trigger and the build both use it. SQLite (the embedded default, a demo's few thousand
deals) has no trigger: there the dashboard aggregates the deals table itself.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, DateField, F, Value, When
from django.db.models.functions import Cast, Least, TruncMonth
from django.utils import timezone

from deals.models import Deal

# Serialises builds; a build that finds one running skips (the running one is as fresh).
_BUILD_LOCK_KEY = 0x5749_4E4C  # "WINL"
# A bulk load may turn the trigger off for its session (`SET winwin.dashboard_deltas =
# 'off'`, see live_rollup_pause) and rebuild at its end.
DELTAS_SETTING = "winwin.dashboard_deltas"
CELL = 5  # quadrant cell width in score points: deals.dashboard.selectors.QUADRANT_CELL
LAST_CELL = 100 // CELL - 1

_OPEN_STAGES_SQL = ", ".join(f"'{stage}'" for stage in Deal.OPEN_STAGES)


def cell_expression(score: str) -> Case:
    """cell_sql as a Django expression, for the branch that reads the deals table (SQLite
    included); tests/dashboard/test_live_rollup.py holds the two spellings to each other."""
    return Case(
        When(**{f"{score}__isnull": False}, then=Least(F(score) / CELL, Value(LAST_CELL))),
        default=None,
    )


def month_expression() -> Cast:
    """month_sql as a Django expression (see cell_expression)."""
    return Cast(
        Case(
            When(stage__in=Deal.OPEN_STAGES, then=TruncMonth("expected_close_date")),
            default=TruncMonth("closed_at", output_field=DateField()),
            output_field=DateField(),
        ),
        DateField(),
    )


def cell_sql(score: str) -> str:
    """A score's quadrant cell (100 falls in the last one), null when not scored (LEAST
    alone would skip the null and answer the last cell)."""
    return f"(CASE WHEN {score} IS NULL THEN NULL ELSE LEAST({score} / {CELL}, {LAST_CELL}) END)"


def month_sql(row: str, time_zone: str) -> str:
    """The deal's month: of expected close while open, of closing once closed (in the
    site's time zone, as Django's TruncMonth("closed_at") reads it)."""
    return (
        f"(CASE WHEN {row}.stage IN ({_OPEN_STAGES_SQL}) "
        f"THEN date_trunc('month', {row}.expected_close_date)::date "
        f"ELSE date_trunc('month', {row}.closed_at AT TIME ZONE '{time_zone}')::date END)"
    )


def _time_zone() -> str:
    zone = str(settings.TIME_ZONE)
    if not all(ch.isalnum() or ch in "/_+-" for ch in zone):  # it is pasted into SQL
        raise ValueError(f"Unexpected TIME_ZONE {zone!r}")
    return zone


_GROUP_COLUMNS = (
    "team_id, owner_id, stage, balance, buyer_cell, seller_cell, month, deals, net_total"
)


def _delta_values(row: str, sign: str, time_zone: str) -> str:
    return (
        f"({row}.team_id, {row}.owner_id, {row}.stage, {row}.balance, "
        f"{cell_sql(row + '.buyer_score')}, {cell_sql(row + '.seller_score')}, "
        f"{month_sql(row, time_zone)}, {sign}1, {sign}{row}.net_total)"
    )


def trigger_sql(time_zone: str) -> str:
    """The trigger function and the triggers on deals_deal (idempotent)."""
    grouped = (
        "team_id, owner_id, stage, balance, buyer_score, seller_score, net_total, "
        "expected_close_date, closed_at"
    )
    old = ", ".join(f"OLD.{c.strip()}" for c in grouped.split(","))
    new = ", ".join(f"NEW.{c.strip()}" for c in grouped.split(","))
    insert = f"INSERT INTO deals_dashboarddealdelta ({_GROUP_COLUMNS}) VALUES"
    return f"""
CREATE OR REPLACE FUNCTION deals_dashboard_delta() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{DELTAS_SETTING}', true) = 'off' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND ({old}) IS NOT DISTINCT FROM ({new}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {insert} {_delta_values("OLD", "-", time_zone)};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {insert} {_delta_values("NEW", "", time_zone)};
    END IF;
    RETURN NULL;
END;
$$;

-- A truncate skips row triggers: the sums no longer hold, until the next build.
CREATE OR REPLACE FUNCTION deals_dashboard_forget() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM deals_dashboarddealsbuilt;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS deals_dashboard_delta ON deals_deal;
CREATE TRIGGER deals_dashboard_delta AFTER INSERT OR UPDATE OR DELETE ON deals_deal
    FOR EACH ROW EXECUTE FUNCTION deals_dashboard_delta();
DROP TRIGGER IF EXISTS deals_dashboard_forget ON deals_deal;
CREATE TRIGGER deals_dashboard_forget AFTER TRUNCATE ON deals_deal
    FOR EACH STATEMENT EXECUTE FUNCTION deals_dashboard_forget();
"""


DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS deals_dashboard_delta ON deals_deal;
DROP TRIGGER IF EXISTS deals_dashboard_forget ON deals_deal;
DROP FUNCTION IF EXISTS deals_dashboard_delta();
DROP FUNCTION IF EXISTS deals_dashboard_forget();
"""


def _build_sql(time_zone: str) -> list[str]:
    cells = f"{cell_sql('d.buyer_score')}, {cell_sql('d.seller_score')}"
    return [
        "DELETE FROM deals_dashboarddealtotals",
        "DELETE FROM deals_dashboarddealcells",
        "DELETE FROM deals_dashboarddealmonths",
        # Deltas the snapshot sees are in the sums below; later ones stay.
        "DELETE FROM deals_dashboarddealdelta",
        """INSERT INTO deals_dashboarddealtotals
               (team_id, owner_id, stage, balance, deals, net_total)
           SELECT d.team_id, d.owner_id, d.stage, d.balance, count(*), sum(d.net_total)
           FROM deals_deal d GROUP BY 1, 2, 3, 4""",
        f"""INSERT INTO deals_dashboarddealcells
               (team_id, owner_id, stage, buyer_cell, seller_cell, deals, net_total)
           SELECT d.team_id, d.owner_id, d.stage, {cells}, count(*), sum(d.net_total)
           FROM deals_deal d
           WHERE d.buyer_score IS NOT NULL AND d.seller_score IS NOT NULL
           GROUP BY 1, 2, 3, 4, 5""",
        f"""INSERT INTO deals_dashboarddealmonths
               (team_id, owner_id, stage, balance, month, deals, net_total)
           SELECT d.team_id, d.owner_id, d.stage, d.balance, {month_sql("d", time_zone)},
                  count(*), sum(d.net_total)
           FROM deals_deal d GROUP BY 1, 2, 3, 4, 5""",
        "DELETE FROM deals_dashboarddealsbuilt",
    ]


def live_rollup_rebuild() -> dt.datetime | None:
    """Sum every deal into the three tables and fold the deltas in. Returns the build time;
    None on SQLite, or when another build holds the lock (its sums are as fresh)."""
    if connection.vendor != "postgresql":
        return None
    zone = _time_zone()
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:
            # One snapshot for the sums and the deletion of the deltas they include.
            # (Nested in a caller's transaction — a test, a migration — it is that one's.)
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_BUILD_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(trigger_sql(zone))
        for statement in _build_sql(zone):
            cursor.execute(statement)
        built_at = timezone.now()
        cursor.execute("INSERT INTO deals_dashboarddealsbuilt (built_at) VALUES (%s)", [built_at])
    return built_at


def live_rollup_pause() -> None:
    """Before a bulk load on this connection: stop writing deltas and forget the sums
    (reads aggregate the deals table) until `live_rollup_rebuild()` at the load's end."""
    from deals.models import DashboardDealsBuilt

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET {DELTAS_SETTING} = 'off'")
    DashboardDealsBuilt.objects.all().delete()


def live_rollup_resume() -> None:
    """After the bulk load: write deltas again on this connection (then rebuild)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"RESET {DELTAS_SETTING}")
