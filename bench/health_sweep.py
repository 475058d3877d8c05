"""Health engine benchmark (not a test): sweep throughput and single-deal recompute latency.

    createdb -h 127.0.0.1 -U postgres winwin_healthbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/winwin_healthbench \
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/winwin_healthbench \
        .venv/bin/python -m bench.health_sweep --deals 100000

Generates (or tops up to) N deals with realistic children through deals.demo (the same
deterministic generator as the demo and the other benchmarks; a database seeded with
`seed_demo --deals N` is reused), prints the history tables' rows and bytes as seeded,
forgets all health (unless --keep-health), then:
- sweeps twice the way the hourly Celery sweep does (a plan of id ranges shared by
  --workers processes, then one HealthSweep record), printing deals/s and the rows each
  sweep wrote (pg_stat_user_tables n_tup_ins + n_tup_upd + n_tup_del of the deal, flag,
  snapshot and sweep tables) and the second's share of the first's;
- times `health_recompute` of single deals, p50/p95 in milliseconds.

Targets on the 2-core bench machine with PostgreSQL: >= 3,000 deals/s sweep with two
workers, a second sweep over unchanged deals writing <= 1 % of the first's rows, single
recompute p95 <= 20 ms.
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
TARGET_ROWS_RATIO = 0.01


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

    started, cpu_started = time.perf_counter(), time.process_time()
    processed = health_sweep(batch_size=batch_size) if batch_size else health_sweep()
    return processed, time.perf_counter() - started, time.process_time() - cpu_started


WRITE_TABLES = ("deals_deal", "deals_flag", "deals_healthsnapshot", "deals_healthsweep")


def rows_written() -> dict[str, int]:
    """n_tup_ins + n_tup_upd + n_tup_del per health table, as PostgreSQL counts them.

    Statistics reach pg_stat_user_tables when a backend flushes them (at most a second
    after a commit, and when it exits): the sweep's workers have exited, and this waits a
    little and reads a fresh snapshot of the counters."""
    from django.db import connection

    time.sleep(1.5)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables "
            "WHERE relname = ANY(%s)",
            [list(WRITE_TABLES)],
        )
        return dict.fromkeys(WRITE_TABLES, 0) | dict(cursor.fetchall())


def backend_cpu_seconds() -> float | None:
    """CPU seconds (user + system) of this connection's PostgreSQL backend, when the
    server runs on this host (its process is in /proc); None otherwise."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sweep_ranges(ranges: list[tuple[int, int]], now_iso: str, cpu_out=None) -> None:
    """One worker process: the plan's ranges it was given, as health_sweep_batch_task.
    Puts (Python CPU s, PostgreSQL backend CPU s or None) on `cpu_out`."""
    import datetime as dt

    from django.db import connections

    connections.close_all()  # the parent's connection is not ours to share
    from deals.health import health_sweep

    now = dt.datetime.fromisoformat(now_iso)
    cpu_started, backend_started = time.process_time(), backend_cpu_seconds()
    for first_id, last_id in ranges:
        health_sweep(id_range=(first_id, last_id), now=now)
    backend = backend_cpu_seconds()
    if cpu_out is not None:
        cpu_out.put(
            (
                time.process_time() - cpu_started,
                None if backend is None or backend_started is None else backend - backend_started,
            )
        )
    connections.close_all()  # exit flushes this backend's statistics


def time_sweep_workers(*, workers: int = 2) -> tuple[int, float, dict[str, int], tuple]:
    """The hourly sweep as the Celery tasks run it: plan, `workers` processes sharing the
    ranges, then the one HealthSweep record. (deals planned, wall s, rows written,
    (Python CPU s, PostgreSQL CPU s or None) summed over the workers)."""
    import multiprocessing

    from django.db import connections
    from django.utils import timezone

    from deals.health import health_sweep_plan, health_sweep_record
    from deals.health.store import sweep_queryset

    before = rows_written()
    started = time.perf_counter()
    now = timezone.now()
    plan = health_sweep_plan()
    deals = sweep_queryset().filter(id__lte=plan[-1][1]).count() if plan else 0
    connections.close_all()
    context = multiprocessing.get_context("fork")
    cpu_out = context.Queue()
    procs = [
        context.Process(target=_sweep_ranges, args=(plan[k::workers], now.isoformat(), cpu_out))
        for k in range(workers)
    ]
    for proc in procs:
        proc.start()
    cpus = [cpu_out.get() for _ in procs]
    for proc in procs:
        proc.join()
        if proc.exitcode:
            raise SystemExit(f"a sweep worker failed (exit {proc.exitcode})")
    python_cpu = sum(c[0] for c in cpus)
    backend_cpu = None if any(c[1] is None for c in cpus) else sum(c[1] for c in cpus)
    if plan:
        health_sweep_record(checked_from=now, last_deal_id=plan[-1][1], deals=deals)
    wall = time.perf_counter() - started
    connections.close_all()
    after = rows_written()
    written = {t: after[t] - before[t] for t in WRITE_TABLES}
    return deals, wall, written, (python_cpu, backend_cpu)


def cpu_text(deals: int, cpu: tuple) -> str:
    """CPU per deal of a sweep's workers: Python, and their PostgreSQL backends."""
    python_cpu, backend_cpu = cpu
    per = 1000 / max(deals, 1)
    if backend_cpu is None:
        return f"CPU per deal {python_cpu * per:.3f} ms Python (backend not on this host)"
    return (
        f"CPU per deal {(python_cpu + backend_cpu) * per:.3f} ms "
        f"(Python {python_cpu * per:.3f} + PostgreSQL {backend_cpu * per:.3f})"
    )


def health_reset() -> None:
    """Forget all health, so the first sweep computes every deal from scratch."""
    from django.db import connection

    from deals.models import Deal

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE deals_flag, deals_healthsnapshot, deals_healthsweep")
    Deal.objects.update(health_computed_at=None, open_flag_count=0)


def table_sizes() -> list[tuple[str, int, int]]:
    """(table, rows, bytes with indexes and TOAST) of the tables history lives in."""
    from django.db import connection

    tables = [
        "deals_deal",
        "deals_flag",
        "deals_healthsnapshot",
        "deals_dashboarddayrollup",
        "deals_dashboardforecastday",
        "deals_healthsweep",
    ]
    out = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*), pg_total_relation_size('{table}') FROM {table}")
            rows, size = cursor.fetchone()
            out.append((table, rows, size))
    return out


def snapshot_changes() -> tuple[int, int]:
    """(snapshots, snapshots that differ from the same deal's previous one): what a history
    written on change keeps of a history written by day."""
    from django.db import connection

    cols = (
        "buyer_score, seller_score, balance, open_flag_count, pressure_flag_count, net_total,"
        " team_id, owner_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT COUNT(*), COUNT(*) FILTER (WHERE prev IS DISTINCT FROM cur) FROM (
                SELECT ROW({cols}) AS cur,
                       LAG(ROW({cols})) OVER (PARTITION BY deal_id ORDER BY day) AS prev
                FROM deals_healthsnapshot) s
            """
        )
        total, changed = cursor.fetchone()
    return total, changed


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


def run(
    *,
    deals: int,
    samples: int = 500,
    batch_size: int | None = None,
    seed: int = 42,
    reset: bool = True,
    workers: int = 2,
) -> dict:
    from django.db import connection

    from deals.models import Deal, Flag

    def load() -> str:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"load average: {load()} on {os.cpu_count()} CPUs")
    print(f"generating up to {deals:,} deals …")
    deals_ensure(deals, seed=seed)
    total = Deal.objects.count()
    print(f"deals in the database: {total:,}")

    print("history tables as seeded:")
    for table, rows, size in table_sizes():
        print(f"  {table:28} {rows:>12,} rows {size / 2**20:>10,.1f} MiB")
    snaps, changed = snapshot_changes()
    print(f"  snapshots that are a change from the deal's previous one: {changed:,} of {snaps:,}")

    from deals.dashboard.services import dashboard_history_rollup

    started = time.perf_counter()
    days = dashboard_history_rollup(full=True)
    print(
        f"day rollup, whole window from the seeded snapshots: {len(days)} days in "
        f"{time.perf_counter() - started:.1f} s (load {load()})"
    )
    if reset:
        health_reset()
    # The hourly sweep as it runs in production: plan, `workers` processes, one record.
    first_n, first_s, first_rows, first_cpu = time_sweep_workers(workers=workers)
    print(
        f"sweep 1 ({'cold' if reset else 'as seeded'}, {workers} workers): {first_n:,} deals "
        f"in {first_s:.1f} s = {first_n / first_s:,.0f} deals/s; {cpu_text(first_n, first_cpu)}; "
        f"rows written {sum(first_rows.values()):,} {first_rows} (load {load()})"
    )
    second_n, second_s, second_rows, second_cpu = time_sweep_workers(workers=workers)
    print(
        f"sweep 2 (nothing changed, {workers} workers): {second_n:,} deals in {second_s:.1f} s "
        f"= {second_n / second_s:,.0f} deals/s; {cpu_text(second_n, second_cpu)}; "
        f"rows written {sum(second_rows.values()):,} {second_rows} (load {load()})"
    )
    ratio = sum(second_rows.values()) / max(sum(first_rows.values()), 1)
    active = Flag.objects.filter(status__in=Flag.ACTIVE_STATUSES).count()
    print(
        f"second / first rows written: {ratio:.4%} (before this change every sweep rewrote "
        f"each swept deal and active flag: {second_n + active:,} rows)"
    )
    print(f"active flags:  {active:,}")

    print("history tables after the sweeps:")
    for table, rows, size in table_sizes():
        print(f"  {table:28} {rows:>12,} rows {size / 2**20:>10,.1f} MiB")

    times = time_recomputes(samples)
    p50, p95 = percentile(times, 50), percentile(times, 95)
    print(f"recompute one deal: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({len(times)} deals)")

    figures = {
        "deals": total,
        "swept": second_n,
        "sweep_first_per_s": first_n / first_s,
        "sweep_second_per_s": second_n / second_s,
        "rows_first": sum(first_rows.values()),
        "rows_second": sum(second_rows.values()),
        "rows_ratio": ratio,
        "cpu_per_deal_ms": sum(c or 0 for c in second_cpu) * 1000 / max(second_n, 1),
        "recompute_p50_ms": p50,
        "recompute_p95_ms": p95,
    }
    ok_sweep = figures["sweep_second_per_s"] >= TARGET_SWEEP_DEALS_PER_S
    ok_rows = ratio <= TARGET_ROWS_RATIO
    ok_p95 = p95 <= TARGET_RECOMPUTE_P95_MS
    print(
        f"targets: sweep >= {TARGET_SWEEP_DEALS_PER_S:,}/s {'met' if ok_sweep else 'MISSED'}; "
        f"second sweep rows <= {TARGET_ROWS_RATIO:.0%} of the first's "
        f"{'met' if ok_rows else 'MISSED'}; "
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
    parser.add_argument("--workers", type=int, default=2, help="sweep worker processes")
    parser.add_argument(
        "--keep-health",
        action="store_true",
        help="start from the seeded health instead of forgetting it (first sweep not cold)",
    )
    args = parser.parse_args(argv)
    setup_django()
    run(
        deals=args.deals,
        samples=args.samples,
        batch_size=args.batch_size,
        seed=args.seed,
        reset=not args.keep_health,
        workers=args.workers,
    )


if __name__ == "__main__":
    main()
