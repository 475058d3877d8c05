"""`python -m bench`: seed the configured database and print one table of figures vs targets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/winwin_bench .venv/bin/python -m bench
    .venv/bin/python -m bench --quick          # small smoke run, a minute or two

Steps: seed to --api-deals (20,000) through deals.demo; time the deal list API in-process
and under a bounded loopback load against gunicorn (2 workers); top up to --deals
(100,000); time the pages, dashboard endpoints and health endpoint; time a full health
sweep; run the import benchmark. The table is printed and appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from bench.common import (
    ROOT,
    CpuMeter,
    Row,
    format_table,
    free_port,
    load_average,
    ms,
    percentile,
    setup_django,
    start_gunicorn,
    time_requests,
    worker_label,
)

# Targets of issue 10 §3 on the 2-core bench machine.
TARGET_API_P50_MS = 15
TARGET_API_RPS = 150
TARGET_API_QUERIES = 8
TARGET_PAGE_P95_MS = 150
TARGET_SWEEP_DEALS_PER_S = 3000
TARGET_IMPORT_ROWS_IN_60S = 100_000

NOT_FOUND = "n/a (not found)"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, default=100_000, help="deals for pages and sweep")
    parser.add_argument("--api-deals", type=int, default=20_000, help="deals for the API part")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=30, help="measured requests per endpoint")
    parser.add_argument("--load-seconds", type=float, default=20.0, help="loopback load length")
    parser.add_argument("--threads", type=int, default=8, help="concurrent load clients")
    parser.add_argument(
        "--gunicorn-threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (1: sync workers; more: the gthread worker)",
    )
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="2,000 deals, short runs")
    parser.add_argument("--no-seed", action="store_true", help="measure the data as it is")
    parser.add_argument("--no-load", action="store_true", help="skip the gunicorn load test")
    parser.add_argument("--no-import", action="store_true", help="skip the import benchmark")
    parser.add_argument("--no-results", action="store_true", help="do not append RESULTS.md")
    parser.add_argument(
        "--api-only",
        action="store_true",
        help="only the deal list API and its throughput (at --api-deals; no top-up)",
    )
    parser.add_argument(
        "--reads",
        action="store_true",
        help="the read-side table only (deal list, floor, pages, dashboard, outcomes)",
    )
    parser.add_argument(
        "--databases",
        help="comma-separated DATABASE_URLs: the read table at each size, side by side",
    )
    parser.add_argument("--json", help="with --reads: write the figures to this file")
    parser.add_argument(
        "--only",
        help='with --reads: only the rows whose name contains this (any case; "a|b": either)',
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.deals, args.api_deals = 2000, 1000
        args.runs, args.load_seconds, args.import_rows = 10, 5.0, 5000
    args.api_deals = min(args.api_deals, args.deals)
    return args


# --- seeding --------------------------------------------------------------------------------


def seed(deals: int, seed: int) -> None:
    from deals import demo

    started = time.monotonic()
    report = demo.demo_seed(deals=deals, seed=seed, progress=True, out=sys.stderr)
    if report.deals_created:
        print(f"seeded {report.deals_created:,} deals in {time.monotonic() - started:.0f}s")
        for note in report.notes:
            print(f"  {note}")


def deal_count() -> str:
    from deals.models import Deal

    return f"{Deal.objects.count():,}"


# --- in-process timings ---------------------------------------------------------------------


def _exists(path: str) -> str | None:
    """None when `path` routes to a real view; else why it cannot be measured."""
    from django.urls import Resolver404, resolve

    try:
        resolve(path.split("?")[0])
    except Resolver404:
        return NOT_FOUND
    return None


def dashboard_api_paths() -> list[str]:
    """Every /api/v1/dashboard/... endpoint without path parameters, as routed today."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found = []

    def walk(patterns, prefix):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and "<" not in route and "(?P" not in route:
                found.append("/" + route.lstrip("^").rstrip("$"))

    walk(get_resolver().url_patterns, "")
    return sorted(p for p in found if p.startswith("/api/v1/dashboard/") and "export" not in p)


def page_row(
    name: str, client, urls: list[str], *, runs: int, deals: str, api=False, cold=False
) -> Row:
    if not urls:
        return Row(name, NOT_FOUND, deals=deals)
    missing = _exists(urls[0])
    if missing:
        return Row(name, missing, deals=deals)
    timing = time_requests(client, urls, runs=runs, cold=cold)
    bad = sorted(s for s in timing.statuses if s >= 400)
    if bad:
        result = f"HTTP {bad[0]}" + (" (n/a: not found)" if bad[0] == 404 else "")
        return Row(name, result, deals=deals)
    result = f"p50 {ms(timing.p50)}, p95 {ms(timing.p95)}, {timing.max_queries} queries"
    if api:
        passed = timing.p50 <= TARGET_API_P50_MS and timing.max_queries <= TARGET_API_QUERIES
        target = f"p50 ≤ {TARGET_API_P50_MS} ms, ≤ {TARGET_API_QUERIES} queries"
    else:
        passed = timing.p95 <= TARGET_PAGE_P95_MS
        target = f"p95 ≤ {TARGET_PAGE_P95_MS} ms"
    return Row(name, result, target, passed, deals)


def users():
    from winwin_crm.accounts.models import User

    return {u.username: u for u in User.objects.filter(username__in=["rita", "mona", "dana"])}


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def api_rows(args) -> list[Row]:
    people = users()
    manager = client_for(people["mona"])
    deals = deal_count()
    rows = [
        page_row(
            "deal list API (page of 50, manager)",
            manager,
            ["/api/v1/deals/?page_size=50", "/api/v1/deals/?page_size=50&page=2"],
            runs=args.runs,
            deals=deals,
            api=True,
        ),
    ]
    # The query count must not grow with the page size.
    big = page_row(
        "deal list API (page of 200, manager)",
        manager,
        ["/api/v1/deals/?page_size=200"],
        runs=max(3, args.runs // 3),
        deals=deals,
        api=True,
    )
    if big.passed is not None:  # only the query count has a target at this page size
        queries = int(big.result.rsplit(", ", 1)[-1].split()[0])
        big.target = f"≤ {TARGET_API_QUERIES} queries"
        big.passed = queries <= TARGET_API_QUERIES
    rows.append(big)
    return rows


def dashboard_rollup_row(deals: str) -> Row:
    """The dashboard's rollups, built as the day's first hourly sweep builds them (seeding
    wrote deals and past days' snapshots no sweep has seen yet)."""
    from deals.dashboard.services import (
        dashboard_history_rollup,
        dashboard_rep_rollup,
        outcomes_rollup_rebuild,
    )

    started = time.monotonic()
    days = dashboard_history_rollup(full=True)
    history = time.monotonic() - started
    started = time.monotonic()
    dashboard_rep_rollup()
    reps = time.monotonic() - started
    started = time.monotonic()
    outcome_rows = outcomes_rollup_rebuild(full=True)
    outcomes = time.monotonic() - started
    return Row(
        "dashboard rollups (sweep's share)",
        f"history: {len(days)} past days in {history:.1f}s; rep table in {reps:.2f}s;"
        f" outcomes: {outcome_rows:,} rows in {outcomes:.1f}s",
        deals=deals,
    )


def page_rows(args) -> list[Row]:
    from deals.models import Deal

    people = users()
    rep, manager = client_for(people["rita"]), client_for(people["mona"])
    deals = deal_count()
    rita_deals = list(
        Deal.objects.filter(owner=people["rita"]).order_by("-id").values_list("id", flat=True)[:50]
    )
    rows = [
        page_row(
            "rep's deal list page", rep, ["/deals/", "/deals/?page=2"], runs=args.runs, deals=deals
        ),
    ]
    rows.append(dashboard_rollup_row(deals))
    # The dashboard caches live aggregates for a minute: time both a cold cache (the first
    # look after a change) and a warm one (every further look within the minute).
    endpoints = dashboard_api_paths()
    if not endpoints:
        rows.append(Row("dashboard data endpoints", NOT_FOUND, deals=deals))
    for cold in (True, False):
        label = "cold cache" if cold else "warm cache"
        rows.append(
            page_row(
                f"manager dashboard page, {label}",
                manager,
                ["/dashboard/"],
                runs=args.runs,
                deals=deals,
                cold=cold,
            )
        )
        for path in endpoints:
            rows.append(
                page_row(
                    f"  {path}, {label}", manager, [path], runs=args.runs, deals=deals, cold=cold
                )
            )
    rows.append(
        page_row(
            "deal page (rep)",
            rep,
            [f"/deals/{pk}/" for pk in rita_deals],
            runs=args.runs,
            deals=deals,
        )
    )
    rows.append(
        page_row(
            "health endpoint (rep)",
            rep,
            [f"/api/v1/deals/{pk}/health/" for pk in rita_deals],
            runs=args.runs,
            deals=deals,
        )
    )
    return rows


# --- loopback load against gunicorn ---------------------------------------------------------


def throughput_row(args) -> list[Row]:
    """gunicorn on 127.0.0.1: first one client at a time (latency), then the bounded load:
    `threads` clients for `load_seconds`, then stop."""
    from knox.models import AuthToken

    deals = deal_count()
    name = f"deal list API throughput ({worker_label(args.gunicorn_threads)})"
    path = "/api/v1/deals/?page_size=50"
    if _exists(path):
        return Row(name, NOT_FOUND, deals=deals)
    _, token = AuthToken.objects.create(user=users()["mona"])
    port = free_port()
    (ROOT / "var").mkdir(exist_ok=True)
    log = open(ROOT / "var" / "bench-gunicorn.log", "w")  # noqa: SIM115 - closed below
    server_started = time.time()
    server = start_gunicorn(port, log, threads=args.gunicorn_threads)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline or server.poll() is not None:
                    return Row(
                        name, "gunicorn did not start (see var/bench-gunicorn.log)", deals=deals
                    )
                time.sleep(0.3)
        headers = {"Authorization": f"Token {token}"}
        for _ in range(4):  # warm both workers' connections and caches
            request = urllib.request.Request(base + path, headers=headers)
            urllib.request.urlopen(request, timeout=60).read()
        serial = _one_client_latencies(base + path, headers, count=max(50, args.runs * 4))
        latencies, errors = [], []
        lock = threading.Lock()
        load_before = load_average()
        meter = CpuMeter(server.pid, server_started)
        meter.start()
        stop_at = time.monotonic() + args.load_seconds

        def client():
            # One connection per request, as the sync worker closes it after each answer.
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    req = urllib.request.Request(base + path, headers=headers)
                    with urllib.request.urlopen(req, timeout=10) as response:
                        response.read()
                        ok = response.status == 200
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    (latencies if ok else errors).append(elapsed)

        began = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.monotonic() - began
        meter.stop()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    rps = len(latencies) / seconds
    cpu = meter.per_request_ms(len(latencies) + len(errors))
    result = (
        f"{rps:,.0f} req/s, p50 {ms(percentile(latencies, 50))}, "
        f"p95 {ms(percentile(latencies, 95))}, {len(errors)} errors "
        f"({args.threads} clients, {args.load_seconds:.0f}s); CPU per request: "
        f"server {cpu['server']:.1f} ms, PostgreSQL {cpu['database']:.1f} ms, "
        f"clients {cpu['clients']:.1f} ms; load average {load_before} before, "
        f"{load_average()} after"
    )
    one_client = Row(
        f"deal list API over HTTP ({worker_label(args.gunicorn_threads)}, one client)",
        f"p50 {ms(percentile(serial, 50))}, p95 {ms(percentile(serial, 95))} "
        f"({len(serial)} requests in turn, production settings, token auth)",
        f"p50 ≤ {TARGET_API_P50_MS} ms",
        percentile(serial, 50) <= TARGET_API_P50_MS,
        deals,
    )
    return [
        one_client,
        Row(
            name,
            result,
            f"≥ {TARGET_API_RPS} req/s, 0 errors",
            rps >= TARGET_API_RPS and not errors,
            deals,
        ),
    ]


def _one_client_latencies(url: str, headers: dict, *, count: int) -> list[float]:
    """Milliseconds per request, one request at a time: the server's own time for a page
    plus a loopback connection, without the test client's instrumentation or queueing."""
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            r.read()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


# --- batch work -----------------------------------------------------------------------------


def _sweep_ranges(ranges: list[tuple[int, int]]) -> int:
    from deals.health import health_sweep

    return sum(health_sweep(id_range=r) for r in ranges)


def sweep_row(workers: int = 1) -> Row:
    """The hourly sweep as the Celery fan-out runs it: the plan's id ranges shared by
    `workers` processes (forked here, each with its own database connection)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from django.db import connections

    from deals import health

    deals = deal_count()
    name = f"health sweep ({workers} worker process{'es' if workers > 1 else ''})"
    started = time.perf_counter()
    plan = health.health_sweep_plan()
    if workers == 1:
        swept = _sweep_ranges(plan)
    else:
        connections.close_all()  # children must not share the parent's connection
        chunks = [plan[i::workers] for i in range(workers)]
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            swept = sum(pool.map(_sweep_ranges, chunks))
    seconds = time.perf_counter() - started
    if not swept:
        return Row(name, f"{seconds:.1f}s (nothing to sweep)", deals=deals)
    rate = swept / seconds
    return Row(
        name,
        f"{rate:,.0f} deals/s ({swept:,} deals in {seconds:.1f}s)",
        f"≥ {TARGET_SWEEP_DEALS_PER_S:,} deals/s",
        rate >= TARGET_SWEEP_DEALS_PER_S,
        deals,
    )


def import_row(args) -> Row:
    # "import" is a keyword, so the module is loaded by name.
    figures = importlib.import_module("bench.import").run_import_bench(args.import_rows)
    rate = figures["rows_per_s"]
    needed = TARGET_IMPORT_ROWS_IN_60S / 60
    result = f"{rate:,.0f} rows/s ({figures['rows']:,} rows in {figures['total_s']:.1f}s)"
    return Row(
        "import (CSV deals, dry run + commit)",
        result,
        f"{TARGET_IMPORT_ROWS_IN_60S:,} rows in 60 s (≥ {needed:,.0f} rows/s)",
        rate >= needed,
        f"+{figures['rows']:,}",
    )


# --- main -----------------------------------------------------------------------------------


def other_rows(args) -> list[Row]:
    """Everything after the deal list API: pages, sweep and import at --deals."""
    from django.db import connection

    if not args.no_seed:
        seed(args.deals, args.seed)
    rows = guarded("pages", page_rows, args)
    rows += guarded("health sweep", sweep_row, 1)
    if connection.vendor == "postgresql":  # SQLite serialises writers: no gain from two
        rows += guarded("health sweep", sweep_row, os.cpu_count() or 2)
    if not args.no_import:
        rows += guarded("import", import_row, args)
    return rows


def guarded(name: str, func, *args) -> list[Row]:
    """Run one part; a part that crashes (another area mid-build) becomes a row, not a crash."""
    try:
        result = func(*args)
    except Exception as exc:  # noqa: BLE001 - report and carry on with the other parts
        message = " ".join(str(exc).split())[:90]
        return [Row(name, f"error: {type(exc).__name__}: {message}")]
    return result if isinstance(result, list) else [result]


def reads_main(args) -> int:
    """`--reads`: the read-side table at this database's size, or at every --databases."""
    from bench import reads

    started = dt.datetime.now().astimezone()
    if args.databases:
        results = reads.run_many(args.databases.split(","), runs=args.runs, only=args.only)
    else:
        setup_django()
        if not args.no_seed:
            seed(args.deals, args.seed)
        results = [reads.measure(runs=args.runs, only=args.only)]
        if args.json:
            with open(args.json, "w", encoding="utf-8") as out:
                json.dump(results[0], out)
            return 0
    table = reads.format_growth(results)
    sizes = ", ".join(f"{r['deals']:,}" for r in sorted(results, key=lambda r: r["deals"]))
    title = (
        f"## {started:%Y-%m-%d %H:%M %Z} — read-side table at {sizes} deals, "
        f"{os.cpu_count()} CPUs shared with other work"
    )
    print(f"\n{title}\n\n{table}")
    failed = table.count("| FAIL |")
    print(f"\n{failed} target(s) missed." if failed else "\nAll measured targets met.")
    if not args.no_results:
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as results_md:
            results_md.write(f"\n{title}\n\n{table}\n")
    return 1 if failed else 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.reads or args.databases:
        return reads_main(args)
    setup_django()
    from django.db import connection

    started = dt.datetime.now().astimezone()
    rows: list[Row] = []
    if not args.no_seed:
        seed(args.api_deals, args.seed)
    rows += guarded("deal list API", api_rows, args)
    if not args.no_load:
        rows += guarded("deal list API throughput", throughput_row, args)
    if not args.api_only:
        rows += other_rows(args)
    table = format_table(rows)
    failed = sum(1 for r in rows if r.passed is False)
    title = (
        f"## {started:%Y-%m-%d %H:%M %Z} — {connection.vendor}, "
        f"{'API-only' if args.api_only else 'quick' if args.quick else 'full'} run "
        f"(--deals {args.deals:,}, "
        f"--api-deals {args.api_deals:,}), {os.cpu_count()} CPUs"
    )
    print()
    print(title)
    print()
    print(table)
    print(f"\n{failed} target(s) missed." if failed else "\nAll measured targets met.")
    if not args.no_results:
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as results:
            results.write(f"\n{title}\n\n{table}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
