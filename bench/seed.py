"""Seeding benchmark (not a test): `seed_demo --deals N` end to end, timed.

    createdb -h 127.0.0.1 -U postgres winwin_bench_100k
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/winwin_bench_100k \
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/winwin_bench_100k \
        .venv/bin/python -m bench.seed --deals 100000

Runs deals.demo.demo_seed (the same deterministic generator as `seed_demo` and the other
benchmarks: COPY for every table, index upkeep lifted during large loads, health, simulated
outcomes, a year of change-only health history, dashboard rollups) on the database at hand,
with a progress bar on stderr, then prints the deals written, the seconds, deals/s, the
rows per table and the load average before and after. Use an empty migrated database (or
--reset) to time a full seed: a run tops up only what is missing.

Target (issue 20): 1,000,000 deals on PostgreSQL in <= 15 minutes on the 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import load_average, setup_django  # noqa: E402

TARGET_1M_SECONDS = 15 * 60


def table_rows() -> dict[str, int]:
    """Rows per table the seed writes (exact counts)."""
    from django.db import connection

    from deals.demo.load import _tables
    from deals.models import DashboardDayRollup, Flag, HealthSnapshot

    tables = [*_tables(), Flag._meta.db_table, HealthSnapshot._meta.db_table]
    tables.append(DashboardDayRollup._meta.db_table)
    counts = {}
    with connection.cursor() as cursor:
        for table in dict.fromkeys(tables):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def run(*, deals: int, seed: int, reset: bool, with_health: bool) -> dict:
    from deals.demo import demo_seed

    load_before = load_average()
    started, cpu_started = time.perf_counter(), time.process_time()
    report = demo_seed(deals=deals, seed=seed, reset=reset, progress=True, with_health=with_health)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    load_after = load_average()
    for note in report.notes:
        print(f"  {note}")
    counts = table_rows()
    written = report.deals_created
    print(f"deals written:   {written:,} ({report.deals_total:,} demo deals in the database)")
    print(f"seconds:         {seconds:,.1f} (this process's CPU: {cpu:,.1f} s)")
    print(f"deals/s:         {written / seconds if seconds else 0:,.0f}")
    print(f"max RSS:         {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    print(f"load average:    {load_before} before, {load_after} after (1 / 5 min)")
    print("rows per table:")
    for table, count in counts.items():
        print(f"  {table:<40} {count:>12,}")
    if deals >= 1_000_000:
        verdict = "within" if seconds <= TARGET_1M_SECONDS else "over"
        print(f"target: {verdict} {TARGET_1M_SECONDS // 60} minutes for 1M deals")
    return {"deals": written, "seconds": seconds, "rows": counts}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, default=100_000, help="generated deals to have")
    # The demo's default seed, so the database serves the other benchmarks too.
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reset", action="store_true", help="delete the demo data first")
    parser.add_argument("--no-health", action="store_true", help="generate only")
    args = parser.parse_args(argv)
    setup_django()
    run(deals=args.deals, seed=args.seed, reset=args.reset, with_health=not args.no_health)


if __name__ == "__main__":
    main()
