"""Benchmark the manager's dashboard at 100,000 deals.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/winwin_dashbench \\
        .venv/bin/python bench/dashboard.py --deals 100000

1. Seeds with the demo generator (deals.demo.demo_seed: deals with needs, line items,
   activities, concessions, handoffs and check-ins, health computed by the real engine,
   12 weeks of weekly history). Idempotent: a re-run tops up only what is missing.
2. Adds daily history (--daily-days, default 90) the way the daily sweep leaves it: one
   HealthSnapshot per open deal per day. On PostgreSQL one INSERT … SELECT per day; other
   databases keep the demo's weekly history.
3. With --create-indexes, adds the covering indexes listed in RECOMMENDED_INDEXES (the
   migrations carry the ones the dashboard uses; kept to compare plans).
4. Builds the dashboard's rollups the way the hourly sweep does (deals.dashboard.services:
   the history's whole window, as the day's first sweep does, and the rep table) and
   prints their times.
5. Times the dashboard page and every endpoint through Django's test client (server time:
   URL routing, middleware, queries, rendering; no network) for a manager (one team) and
   an admin (all teams) and prints p50/p95/max and the query count of each, with the
   cache emptied before every request (cold: the first look after the live cache's
   minute) and with it kept (warm).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 150.0


def _setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "winwin_crm.settings")
    import django

    django.setup()


def seed(deals: int) -> None:
    from deals.demo import demo_seed

    started = time.monotonic()
    report = demo_seed(deals=deals, progress=True, out=sys.stderr)
    for note in report.notes:
        print(f"  seed: {note}")
    print(
        f"  seed: {report.deals_total:,} generated deals in the database "
        f"({time.monotonic() - started:.1f}s)"
    )


def add_daily_history(days: int) -> None:
    """One snapshot per open deal per day for the last `days` days (PostgreSQL only)."""
    from django.db import connection
    from django.utils import timezone

    from deals.models import HealthSnapshot

    if connection.vendor != "postgresql" or days <= 0:
        print("  history: daily history is written on PostgreSQL only; weekly kept")
        return
    table = HealthSnapshot._meta.db_table
    today = timezone.localdate()
    started = time.monotonic()
    written = 0
    with connection.cursor() as cursor:
        for back in range(1, days + 1):
            day = today - dt.timedelta(days=back)
            # Scores wander a little from today's, deterministically per (deal, day), so
            # trends have a shape; a deal shows up only on days it existed and was open.
            cursor.execute(
                f"""
                INSERT INTO {table} (deal_id, day, buyer_score, seller_score, balance,
                    open_flag_count, pressure_flag_count, net_total, team_id, owner_id)
                SELECT d.id, %(day)s, b.buyer, b.seller,
                    CASE WHEN b.buyer >= 70 AND b.seller >= 70 THEN 'win_win'
                         WHEN b.seller >= 70 THEN 'buyer_loses'
                         WHEN b.buyer >= 70 THEN 'seller_loses'
                         ELSE 'lose_lose' END,
                    d.open_flag_count, LEAST(d.open_flag_count, (d.id + %(back)s) %% 3),
                    d.net_total, d.team_id, d.owner_id
                FROM deals_deal d
                CROSS JOIN LATERAL (SELECT
                    GREATEST(0, LEAST(100, d.buyer_score - ((d.id * 7 + %(back)s) %% 23) + 8))
                        AS buyer,
                    GREATEST(0, LEAST(100, d.seller_score - ((d.id * 11 + %(back)s) %% 19) + 6))
                        AS seller) b
                WHERE d.buyer_score IS NOT NULL
                  AND d.created_at::date <= %(day)s
                  AND (d.closed_at IS NULL OR d.closed_at::date >= %(day)s)
                ON CONFLICT (deal_id, day) DO NOTHING
                """,
                {"day": day, "back": back},
            )
            written += cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
        cursor.execute("ANALYZE deals_deal")
        cursor.execute("ANALYZE deals_flag")
    print(
        f"  history: {written:,} daily snapshots over {days} days "
        f"({time.monotonic() - started:.1f}s)"
    )


# The indexes the dashboard needs (DASHBOARD's report asks for them in the models); created
# here only with --create-indexes, so a bench database can be measured with and without.
RECOMMENDED_INDEXES = [
    "CREATE INDEX IF NOT EXISTS dash_deal_team_stage_cover ON deals_deal (team_id, stage) "
    "INCLUDE (id, owner_id, balance, net_total, list_total, cost_total, buyer_score, "
    "seller_score, closed_at, created_at)",
    "CREATE INDEX IF NOT EXISTS dash_flag_open_deal ON deals_flag (deal_id) INCLUDE (code) "
    "WHERE status = 'open'",
    "CREATE INDEX IF NOT EXISTS dash_snapshot_team_day_cover ON deals_healthsnapshot "
    "(team_id, day) INCLUDE (balance, pressure_flag_count, net_total, deal_id, owner_id)",
    "CREATE INDEX IF NOT EXISTS dash_snapshot_day_cover ON deals_healthsnapshot (day) "
    "INCLUDE (balance, pressure_flag_count, net_total, deal_id, team_id, owner_id)",
    "CREATE INDEX IF NOT EXISTS dash_handoff_deal_cover ON handoff_handoff (deal_id) "
    "INCLUDE (id, sla_due_at, claimed_at)",
    "CREATE INDEX IF NOT EXISTS dash_checkin_handoff_value ON handoff_checkin (handoff_id) "
    "INCLUDE (customer_value) WHERE customer_value IS NOT NULL",
]


def create_indexes() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        print("  indexes: PostgreSQL only; skipped")
        return
    started = time.monotonic()
    with connection.cursor() as cursor:
        for statement in RECOMMENDED_INDEXES:
            cursor.execute(statement)
        for table in (
            "deals_deal",
            "deals_flag",
            "deals_healthsnapshot",
            "handoff_handoff",
            "handoff_checkin",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"  indexes: {len(RECOMMENDED_INDEXES)} ensured ({time.monotonic() - started:.1f}s)")


def bench_users():
    from django.db.models import Count

    from winwin_crm.accounts.models import Team, User
    from winwin_crm.accounts.roles import MANAGER, ensure_role_groups

    groups = ensure_role_groups()
    team = (
        Team.objects.filter(kind=Team.Kind.SALES).annotate(n=Count("deals")).order_by("-n").first()
    )
    manager, _ = User.objects.get_or_create(username="bench_manager")
    manager.groups.add(groups[MANAGER])
    team.members.add(manager)
    admin, _ = User.objects.get_or_create(
        username="bench_admin", defaults={"is_superuser": True, "is_staff": True}
    )
    return [("manager", manager, team.name, team.n), ("admin", admin, "all teams", None)]


TARGETS = [
    ("page /dashboard/", "/dashboard/"),
    ("GET balance/", "/api/v1/dashboard/balance/"),
    ("GET quadrant/", "/api/v1/dashboard/quadrant/"),
    ("GET trends/", "/api/v1/dashboard/trends/"),
    ("GET reps/", "/api/v1/dashboard/reps/"),
    ("htmx /dashboard/reps/", "/dashboard/reps/"),
    ("page /dashboard/flags/", "/dashboard/flags/"),
]


def rollup() -> None:
    from deals.dashboard.services import (
        dashboard_history_rollup,
        dashboard_rep_rollup,
        outcomes_rollup_rebuild,
    )

    started = time.monotonic()
    days = dashboard_history_rollup(full=True)
    print(f"  rollup: {len(days)} past days rolled up ({time.monotonic() - started:.1f}s)")
    started = time.monotonic()
    dashboard_rep_rollup()
    print(f"  rollup: rep table rolled up ({time.monotonic() - started:.2f}s)")
    started = time.monotonic()
    rows = outcomes_rollup_rebuild(full=True)
    print(f"  rollup: {rows:,} outcome rows ({time.monotonic() - started:.1f}s)")


def measure(client, url: str, runs: int, cold: bool = False) -> tuple[list[float], int, int]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    status = 0
    for i in range(runs + 3):
        connection.queries_log.clear()  # DEBUG keeps a bounded log; count from empty
        if cold:
            cache.clear()  # untimed: every request computes its aggregates
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = (
                client.get(url, HTTP_HX_REQUEST="true") if "reps/" in url else client.get(url)
            )
            if response.streaming:
                for _chunk in response.streaming_content:
                    pass
            elapsed = (time.perf_counter() - start) * 1000
        status = response.status_code
        if i >= 3:  # the first requests warm caches and connections
            times.append(elapsed)
            queries = len(ctx.captured_queries)
    return times, queries, status


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def run(runs: int, export: bool, caches: tuple[bool, ...]) -> bool:
    from django.db import connection
    from django.test import Client

    from deals.models import Deal, Flag, HealthSnapshot

    print(f"\nLoad average (1/5/15 min): {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"Database: {connection.vendor} · deals {Deal.objects.count():,} · flags "
        f"{Flag.objects.count():,} · snapshots {HealthSnapshot.objects.count():,}"
    )
    all_ok = True
    for role, user, scope, n in bench_users():
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        label = f"{scope} ({n:,} deals)" if n else scope
        for cold in caches:
            print(
                f"\n{role} · {label} · {'cold' if cold else 'warm'} cache · "
                f"{runs} requests each after 3 warm-ups"
            )
            print(f"  {'target':<26}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'queries':>9}  status")
            for name, url in TARGETS:
                times, queries, status = measure(client, url, runs, cold=cold)
                p95 = percentile(times, 95)
                ok = p95 <= TARGET_P95_MS and status == 200
                all_ok &= ok
                print(
                    f"  {name:<26}{statistics.median(times):>9.1f}{p95:>9.1f}{max(times):>9.1f}"
                    f"{queries:>9}  {status}{'' if ok else '  <-- over target'}"
                )
        if export:
            times, queries, status = measure(client, "/api/v1/dashboard/export.csv", 2)
            print(
                f"  {'GET export.csv (stream)':<26}{statistics.median(times):>9.1f}"
                f"{percentile(times, 95):>9.1f}{max(times):>9.1f}{queries:>9}  {status}"
                "  (whole file; not held to the target)"
            )
    print(f"\nTarget p95 ≤ {TARGET_P95_MS:.0f} ms: {'met' if all_ok else 'NOT met'}")
    return all_ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--daily-days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--skip-seed", action="store_true", help="measure what is there")
    parser.add_argument("--no-export", action="store_true", help="skip the CSV export timing")
    parser.add_argument(
        "--create-indexes",
        action="store_true",
        help="create the extra indexes in RECOMMENDED_INDEXES first (to compare plans)",
    )
    parser.add_argument(
        "--no-rollup",
        action="store_true",
        help="leave the history rollup as it is (the sweep builds it hourly)",
    )
    parser.add_argument(
        "--cache",
        choices=["cold", "warm", "both"],
        default="both",
        help="time with the cache emptied before every request, kept, or both",
    )
    args = parser.parse_args(argv)
    _setup_django()
    if not args.skip_seed:
        seed(args.deals)
        add_daily_history(args.daily_days)
    if args.create_indexes:
        create_indexes()
    if not args.no_rollup:
        rollup()
    caches = {"cold": (True,), "warm": (False,), "both": (True, False)}[args.cache]
    return 0 if run(args.runs, export=not args.no_export, caches=caches) else 1


if __name__ == "__main__":
    sys.exit(main())
