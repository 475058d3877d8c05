"""Bounded loopback load test: gunicorn (2 workers) on PostgreSQL, 20 users for 60 s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/winwin_load \\
        .venv/bin/python bench/load.py [--users 20] [--seconds 60] [--deals 2000] \\
        [--gunicorn-threads 1] [--schema-from-models]

1. Seeds the database through deals.demo up to --deals deals (idempotent: a second run
   reuses them), and gives the demo rep `rita` and manager `mona` API tokens.
2. Starts gunicorn with 2 workers on a free port of 127.0.0.1 (sync workers, or gthread
   workers with --gunicorn-threads N > 1; DEBUG=false, the per-user API throttle raised
   to API_THROTTLE_USER=1000000/min for the run: 20 users sharing two tokens would
   otherwise be throttled at the default 6,000/min per user).
3. Runs --users client threads (half as rita, half as mona), each with its own keep-alive
   HTTP session, alternating GET /api/v1/deals/?page_size=50&page=N and
   GET /api/v1/deals/{id}/health/ over deals that user may see, for --seconds.
4. Stops gunicorn and prints throughput, p50/p95/p99 and the error count per endpoint,
   the CPU each request cost gunicorn, PostgreSQL and the clients, and the load average;
   exits 1 if any request failed (non-200 or no answer).

Loopback only, bounded in time; the clients share the 2 CPUs with the server, so the
figures are a floor for this machine, not a capacity claim. The CPU per request is the
figure to compare between runs on a machine other sessions share.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    CpuMeter,
    free_port,
    load_average,
    percentile,
    setup_django,
    start_gunicorn,
    worker_label,
)

LIST_PATH = "/api/v1/deals/?page_size=50&page={page}"
HEALTH_PATH = "/api/v1/deals/{id}/health/"


def schema_from_models() -> None:
    """Create every table from the current models (as pytest --nomigrations does), for an
    empty database while the committed migrations trail the models."""
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if connection.introspection.table_names():
        sys.exit("--schema-from-models needs an empty database")
    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    call_command("migrate", run_syncdb=True, verbosity=0)


def seed(deals: int) -> dict:
    """Demo data up to `deals`, tokens for rita and mona, and the deal ids each may see."""
    from django.conf import settings
    from knox.models import AuthToken

    from deals import demo
    from deals.selectors import deal_list
    from winwin_crm.accounts.models import User

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        sys.exit(f"bench/load.py measures PostgreSQL; DATABASE_URL points at {engine}")
    report = demo.demo_seed(deals=deals, progress=True, out=sys.stderr)
    users = {}
    for username in ("rita", "mona"):
        user = User.objects.get(username=username)
        _, token = AuthToken.objects.create(user=user)
        visible = list(deal_list(user=user).values_list("id", flat=True))
        users[username] = {"token": token, "deal_ids": visible}
    return {"deals_total": report.deals_total, "users": users}


def wait_ready(base: str, server: subprocess.Popen, timeout: float = 30) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited; see its log")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f} s")


def run_load(base: str, users: dict, *, n_users: int, seconds: float, meter=None) -> dict:
    import requests

    results: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    names = sorted(users)

    def user_loop(index: int) -> None:
        person = users[names[index % len(names)]]
        rng = random.Random(index)
        pages = max(1, len(person["deal_ids"]) // 50)
        session = requests.Session()
        session.headers["Authorization"] = f"Token {person['token']}"
        turn = index
        while time.monotonic() < stop_at:
            if turn % 2 == 0:
                endpoint, path = "deal list", LIST_PATH.format(page=rng.randint(1, pages))
            else:
                endpoint = "deal health"
                path = HEALTH_PATH.format(id=rng.choice(person["deal_ids"]))
            turn += 1
            started = time.perf_counter()
            try:
                response = session.get(base + path, timeout=30)
                response.content  # noqa: B018 - read the whole body, as a client would
                problem = None if response.status_code == 200 else f"{response.status_code}"
            except requests.RequestException as exc:
                problem = type(exc).__name__
            elapsed_ms = (time.perf_counter() - started) * 1000
            with lock:
                if problem is None:
                    results[endpoint].append(elapsed_ms)
                else:
                    errors[endpoint].append(f"{problem} {path}")

    threads = [threading.Thread(target=user_loop, args=(i,)) for i in range(n_users)]
    load_before = load_average()
    if meter is not None:
        meter.start()
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    if meter is not None:
        meter.stop()
    return {
        "seconds": elapsed,
        "results": results,
        "errors": errors,
        "meter": meter,
        "load_before": load_before,
        "load_after": load_average(),
    }


def report(run: dict, *, n_users: int, deals_total: int, threads: int) -> str:
    seconds = run["seconds"]
    lines = [
        f"{n_users} users, {seconds:.1f} s, {deals_total:,} demo deals, {worker_label(threads)}, "
        "PostgreSQL, loopback",
        "",
        "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    endpoints = sorted(set(run["results"]) | set(run["errors"]))
    every = [t for e in endpoints for t in run["results"][e]]
    for name, times in [(e, run["results"][e]) for e in endpoints] + [("all", every)]:
        errors = (
            sum(len(v) for v in run["errors"].values())
            if name == "all"
            else len(run["errors"][name])
        )
        lines.append(
            f"| {name} | {len(times):,} | {len(times) / seconds:,.1f} | "
            f"{percentile(times, 50):.0f} | {percentile(times, 95):.0f} | "
            f"{percentile(times, 99):.0f} | {max(times, default=float('nan')):.0f} | {errors} |"
        )
    requests = len(every) + sum(len(v) for v in run["errors"].values())
    cpu = run["meter"].per_request_ms(requests)
    lines += [
        "",
        f"CPU per request: gunicorn {cpu['server']:.1f} ms, PostgreSQL {cpu['database']:.1f} ms, "
        f"clients {cpu['clients']:.1f} ms; load average (1/5 min) {run['load_before']} before, "
        f"{run['load_after']} after",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--deals", type=int, default=2000)
    parser.add_argument(
        "--gunicorn-threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (1: sync workers; more: the gthread worker)",
    )
    parser.add_argument(
        "--schema-from-models",
        action="store_true",
        help="create the tables from the models first (empty database only)",
    )
    args = parser.parse_args(argv)

    setup_django()
    if args.schema_from_models:
        schema_from_models()
    world = seed(args.deals)
    from django.db import connections

    connections.close_all()  # the server has the database to itself during the run

    port = free_port()
    (ROOT / "var").mkdir(exist_ok=True)
    log_path = ROOT / "var" / "load-gunicorn.log"
    server_started = time.time()
    with open(log_path, "w") as log:
        server = start_gunicorn(
            port, log, threads=args.gunicorn_threads, throttle="1000000/min", access_log=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        run_load(base, world["users"], n_users=2, seconds=3)  # warm both workers
        run = run_load(
            base,
            world["users"],
            n_users=args.users,
            seconds=args.seconds,
            meter=CpuMeter(server.pid, server_started),
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"# load test {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(
        report(
            run,
            n_users=args.users,
            deals_total=world["deals_total"],
            threads=args.gunicorn_threads,
        )
    )
    failed = sum(len(v) for v in run["errors"].values())
    for endpoint, problems in run["errors"].items():
        for problem in problems[:5]:
            print(f"error: {endpoint}: {problem}")
    print(f"gunicorn log: {log_path.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
