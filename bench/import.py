"""Import benchmark: generate a deals CSV and import it through the import services.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/winwin_importbench \\
        .venv/bin/python bench/import.py --rows 100000

Prints the dry-run and commit times and rows/second. `run_import_bench(rows)` returns the
same figures as a dict for the bench suite. Each run imports into a new team, so runs do
not match each other's rows and every run measures 100% creates. Health recomputes are
queued (not run) as in production: the commit queues one sweep for the workers.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ["Lead In", "Qualified", "Proposal Made", "Negotiations Started", "Won", "Lost"]
REPS = 20


def _setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "winwin_crm.settings")
    import django

    django.setup()


PIPEDRIVE_STAGES = [
    "Qualified",
    "Contact Made",
    "Demo Scheduled",
    "Proposal Made",
    "Negotiations Started",
]


def generate_deals_csv(
    rows: int, *, reps: list[str], run: str, seed: int = 7, shape: str = "pipedrive"
) -> bytes:
    """A deals export: ~rows/5 organisations, amounts, stages, owners, dates.

    shape "pipedrive": Pipedrive's own headers ("Deal - Title", …) with a status column
    (15 % won, 10 % lost with a reason and a date), so the import recognises the CRM and
    applies its profile, status beside stage and the imported handoffs of won deals;
    "generic": plain headers and stage names, as the benchmark used before profiles.
    """
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    pipedrive = shape == "pipedrive"
    if pipedrive:
        writer.writerow(
            [
                "Deal - ID",
                "Deal - Title",
                "Deal - Organization",
                "Deal - Value",
                "Deal - Currency",
                "Deal - Stage",
                "Deal - Status",
                "Deal - Owner",
                "Deal - Expected close date",
                "Deal - Won time",
                "Deal - Lost time",
                "Deal - Lost reason",
                "Deal - Contact person",
                "Person - Email",
            ]
        )
    else:
        writer.writerow(
            [
                "Deal ID",
                "Deal Name",
                "Organization",
                "Value",
                "Currency",
                "Stage",
                "Deal owner",
                "Expected close date",
                "Contact person",
                "Email",
            ]
        )
    organisations = max(1, rows // 5)
    for i in range(rows):
        org = rng.randrange(organisations)
        close = f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        email = f"buyer{org}@org{run}-{org}.example" if i % 3 == 0 else ""
        common = (
            f"{run}-{i}",
            f"Deal {i} – platform rollout",
            f"Organisation {run} {org}",
            f"{rng.randrange(500, 250_000)}.{rng.randrange(100):02d}",
            "EUR",
        )
        if not pipedrive:
            writer.writerow(
                [*common, rng.choice(STAGES), reps[i % len(reps)], close, f"Buyer {org}", email]
            )
            continue
        roll = rng.random()
        status = "won" if roll < 0.15 else "lost" if roll < 0.25 else "open"
        writer.writerow(
            [
                *common,
                rng.choice(PIPEDRIVE_STAGES),
                status,
                reps[i % len(reps)],
                close,
                f"{close} 10:30:00" if status == "won" else "",
                f"{close} 16:00:00" if status == "lost" else "",
                "Chose a competitor" if status == "lost" else "",
                f"Buyer {org}",
                email,
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _team_and_users(run: str):
    from django.contrib.auth.models import Group

    from winwin_crm.accounts.models import Team, User
    from winwin_crm.accounts.roles import MANAGER, REP

    team = Team.objects.create(name=f"Import bench {run}", kind=Team.Kind.SALES)
    rep_group = Group.objects.get_or_create(name=REP)[0]
    manager_group = Group.objects.get_or_create(name=MANAGER)[0]
    manager = User.objects.create(username=f"bench_mgr_{run}")
    manager.groups.add(manager_group)
    team.manager = manager
    team.save(update_fields=["manager"])
    team.members.add(manager)
    reps = []
    for n in range(REPS):
        rep = User.objects.create(username=f"bench_rep_{run}_{n}", email=f"rep{n}@{run}.example")
        rep.groups.add(rep_group)
        reps.append(rep)
    team.members.add(*reps)
    return team, manager, reps


def run_import_bench(
    rows: int = 100_000, *, verbose: bool = False, shape: str = "pipedrive"
) -> dict:
    """Generate `rows` deals and import them (dry run + commit, CRM detection on: the
    source is "auto" as on the page); return timings."""
    from django.db import connection

    from deals.imports import services
    from deals.models import Deal
    from winwin_crm.celery import app as celery_app

    run = f"{int(time.time())}{random.randrange(1000):03d}"
    team, manager, reps = _team_and_users(run)
    raw = generate_deals_csv(rows, reps=[r.username for r in reps], run=run, shape=shape)

    from handoff.models import Handoff

    def show(done, total):
        if verbose:
            print(f"\r  writing {done:,}/{total:,}", end="", flush=True)

    # Queue follow-up tasks (the health sweep) instead of running them in-process: the
    # benchmark measures the import, and production hands that work to the workers.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        t0 = time.perf_counter()
        job = services.import_job_create(
            user=manager, file_name="bench.csv", raw=raw, kind="deals", team=team
        )
        t1 = time.perf_counter()
        job = services.import_job_commit(job_id=job.id, progress=show)
        t2 = time.perf_counter()
    finally:
        celery_app.conf.task_always_eager = eager
    if verbose:
        print()
    if job.status != "done":
        raise RuntimeError(f"bench import ended {job.status}: {job.error}")
    created = Deal.objects.filter(team=team).count()
    handoffs = Handoff.objects.filter(deal__team=team, status=Handoff.Status.IMPORTED).count()
    total = t2 - t0
    return {
        "rows": rows,
        "bytes": len(raw),
        "database": connection.vendor,
        "dry_run_s": round(t1 - t0, 2),
        "commit_s": round(t2 - t1, 2),
        "total_s": round(total, 2),
        "rows_per_s": round(rows / total),
        "deals_created": created,
        "source_detected": job.source or "generic",
        "imported_handoffs": handoffs,
        "prospects_created": job.report["result"]["prospects_created"],
        "contacts_created": job.report["result"]["contacts_created"],
        "team": team.name,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--shape", choices=["pipedrive", "generic"], default="pipedrive")
    args = parser.parse_args(argv)
    _setup_django()
    result = run_import_bench(args.rows, verbose=True, shape=args.shape)
    for key, value in result.items():
        print(f"{key:>18}: {value}")
    print(
        f"{result['rows']:,} rows in {result['total_s']} s = {result['rows_per_s']:,} rows/s "
        f"on {result['database']} (dry run {result['dry_run_s']} s, "
        f"commit {result['commit_s']} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
