"""Health engine benchmark (not a test): sweep throughput and single-deal recompute latency.

    createdb -h 127.0.0.1 -U postgres winwin_healthbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/winwin_healthbench \
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/winwin_healthbench \
        .venv/bin/python -m bench.health_sweep --deals 100000

Generates (or tops up to) N deals with realistic children through deals.demo (the same
deterministic generator as the demo and the other benchmarks), then times:
- a cold sweep (flags raised for the first time), then a warm sweep (the hourly case:
  flags mostly unchanged), printed as deals/second;
- `health_recompute` of single deals, p50/p95 in milliseconds.

Targets on the 2-core bench machine with PostgreSQL: >= 3,000 deals/s sweep at 100,000
deals, single recompute p95 <= 20 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile, setup_django  # noqa: E402

TARGET_SWEEP_DEALS_PER_S = 3000
TARGET_RECOMPUTE_P95_MS = 20


def deals_ensure(count: int, *, seed: int = 42, progress: bool = True) -> int:
    """Make sure the database holds `count` generated deals; returns how many exist.

    Reuses deals.demo (bulk_create, deterministic per seed, tops up only what is missing);
    health is left to the benchmark itself.
    """
    from deals.demo import demo_seed

    report = demo_seed(deals=count, seed=seed, progress=progress, with_health=False)
    for note in report.notes:
        print(f"  {note}")
    return report.deals_total


def time_sweep(*, batch_size: int | None = None) -> tuple[int, float, float]:
    """(deals processed, wall seconds, CPU seconds of this process)."""
    from deals.health import health_sweep

    kwargs = {"batch_size": batch_size} if batch_size else {}
    started, cpu_started = time.perf_counter(), time.process_time()
    processed = health_sweep(**kwargs)
    return processed, time.perf_counter() - started, time.process_time() - cpu_started


def time_recomputes(samples: int, *, seed: int = 7) -> list[float]:
    """Milliseconds of `health_recompute` for `samples` random open deals."""
    from deals.health import health_recompute
    from deals.models import Deal

    ids = list(Deal.objects.filter(stage__in=Deal.OPEN_STAGES).values_list("id", flat=True))
    picked = random.Random(seed).sample(ids, min(samples, len(ids)))
    for deal_id in picked[:10]:  # warm connections and caches
        health_recompute(deal_id=deal_id)
    times = []
    for deal_id in picked:
        started = time.perf_counter()
        health_recompute(deal_id=deal_id)
        times.append((time.perf_counter() - started) * 1000)
    return times


def run(*, deals: int, samples: int = 500, batch_size: int | None = None, seed: int = 42) -> dict:
    from django.db import connection

    from deals.models import Deal, Flag

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"generating up to {deals:,} deals …")
    deals_ensure(deals, seed=seed)
    total = Deal.objects.count()
    print(f"deals in the database: {total:,}")

    # The CPU figure is this process's own time (Python: loading rows, rules, writes);
    # on a busy machine wall time also counts waiting for a core and for PostgreSQL.
    cold_n, cold_s, cold_cpu = time_sweep(batch_size=batch_size)
    print(
        f"sweep (cold):  {cold_n:,} deals in {cold_s:.1f} s = {cold_n / cold_s:,.0f} deals/s "
        f"(Python CPU {cold_cpu:.1f} s = {cold_n / cold_cpu:,.0f} deals per CPU-second)"
    )
    warm_n, warm_s, warm_cpu = time_sweep(batch_size=batch_size)
    print(
        f"sweep (warm):  {warm_n:,} deals in {warm_s:.1f} s = {warm_n / warm_s:,.0f} deals/s "
        f"(Python CPU {warm_cpu:.1f} s = {warm_n / warm_cpu:,.0f} deals per CPU-second)"
    )
    active = Flag.objects.filter(status__in=Flag.ACTIVE_STATUSES).count()
    print(f"active flags:  {active:,}")

    times = time_recomputes(samples)
    p50, p95 = percentile(times, 50), percentile(times, 95)
    print(f"recompute one deal: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({len(times)} deals)")

    figures = {
        "deals": total,
        "swept": warm_n,
        "sweep_cold_per_s": cold_n / cold_s,
        "sweep_warm_per_s": warm_n / warm_s,
        "sweep_warm_per_cpu_s": warm_n / warm_cpu,
        "recompute_p50_ms": p50,
        "recompute_p95_ms": p95,
    }
    ok_sweep = figures["sweep_warm_per_s"] >= TARGET_SWEEP_DEALS_PER_S
    ok_p95 = p95 <= TARGET_RECOMPUTE_P95_MS
    print(
        f"targets: sweep >= {TARGET_SWEEP_DEALS_PER_S:,}/s {'met' if ok_sweep else 'MISSED'}; "
        f"recompute p95 <= {TARGET_RECOMPUTE_P95_MS} ms {'met' if ok_p95 else 'MISSED'}"
    )
    return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, default=20_000, help="deals to have in the database")
    parser.add_argument("--samples", type=int, default=500, help="single recomputes to time")
    parser.add_argument("--batch-size", type=int, default=None, help="sweep batch size")
    # The demo's default seed, so a database seeded with `seed_demo --deals N` is reused.
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    setup_django()
    run(deals=args.deals, samples=args.samples, batch_size=args.batch_size, seed=args.seed)


if __name__ == "__main__":
    main()
