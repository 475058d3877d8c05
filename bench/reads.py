"""The read-side table at one size, and the growth table across sizes (issue 20 §4–5).

    .venv/bin/python -m bench --reads --no-seed            # the configured database
    .venv/bin/python -m bench --reads --databases URL_20K,URL_100K,URL_1M
    .venv/bin/python -m bench --reads --no-seed --only "deal page|floor"   # rows naming one

Every row times one page or endpoint in-process with Django's test client (server time:
routing, middleware, queries, rendering; no network), after warm-up requests, with the
cache emptied before each request where the row says "cold". Users: the manager `mona`
(sees half of all deals) and the rep nearest 100 deals, the demo's new joiner `nora`, who
owns the same 100 deals at every size (deals/demo/world.NEW_JOINER).

The floor row serves the deal list API's first page as the bare SQL our view runs (the
same statements, captured once) executed on a raw cursor plus `json.dumps` of the rows, in
the same process: no URL routing, no middleware, no DRF. Our time over it is the ratio.

With --databases, each database is measured in a child process (`--reads --json FILE`)
and one table prints every size side by side with the growth ratio largest/smallest.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

from bench.common import ROOT, load_average, percentile, time_requests

TARGET_P95_MS = 150.0
TARGET_API_P50_MS = 15.0
TARGET_GROWTH = 2.0
TARGET_FLOOR_RATIO = 3.0
TARGET_CALIBRATION_MS = 500.0  # issue 18 §3, at 100,000 deals


@dataclass
class Figure:
    name: str
    p50: float
    p95: float
    queries: int | None = None
    status: int = 200
    note: str = ""


def _time(client, urls, *, runs, cold=False) -> Figure:
    timing = time_requests(client, urls, runs=runs, cold=cold)
    bad = sorted(s for s in timing.statuses if s >= 400)
    return Figure("", timing.p50, timing.p95, timing.max_queries, bad[0] if bad else 200, "")


def _floor(client, url: str, *, runs: int) -> Figure:
    """The same page as bare SQL + JSON: the statements the view ran for the page's data
    (the deals and, on a long list, its count from the deal sums), replayed; the session's
    and the user's own reads are left out."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    statements = [q["sql"] for q in captured.captured_queries if '"deals_' in q["sql"]]
    times = []
    for n in range(runs + 2):
        started = time.perf_counter()
        body = []
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                names = [c.name for c in cursor.description]
                body.append([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])
        json.dumps(body, default=str)
        if n >= 2:
            times.append((time.perf_counter() - started) * 1000)
    return Figure("", percentile(times, 50), percentile(times, 95), len(statements), 200, "")


def _rep_near(deals: int, *, fallback):
    """The rep whose deal count is nearest `deals` (the same shape of user at every size):
    at 100, the demo's new joiner `nora` at every size from 20,000 to 1,000,000 deals; the
    drawn reps (rita and the others) each own a share of all deals that grows with the size.
    `fallback` when no rep owns a deal."""
    from django.db.models import Count

    from deals.models import Deal
    from winwin_crm.accounts.models import User
    from winwin_crm.accounts.roles import REP

    counts = Deal.objects.filter(owner__groups__name=REP).values("owner_id").annotate(n=Count("id"))
    best = min(counts, key=lambda row: abs(row["n"] - deals), default=None)
    return User.objects.get(pk=best["owner_id"]) if best else fallback


def _late_cursor(user, visible: int) -> str:
    """A `next_cursor` naming the deal 60 from the end of the user's default deal list."""
    from deals.models import Deal
    from deals.visibility import deal_scope_q
    from winwin_crm.api.pagination import encode_cursor

    row = (
        Deal.objects.filter(deal_scope_q(user))
        .order_by("-updated_at", "-id")
        .values("updated_at", "id")[max(0, visible - 60)]
    )
    return encode_cursor(row)


def _recompute(deal_ids: list[int], *, runs: int) -> Figure:
    from deals.health.store import health_recompute

    times = []
    for n in range(runs + 2):
        started = time.perf_counter()
        health_recompute(deal_id=deal_ids[n % len(deal_ids)])
        if n >= 2:
            times.append((time.perf_counter() - started) * 1000)
    return Figure("", percentile(times, 50), percentile(times, 95))


def measure(*, runs: int, only: str | None = None) -> dict:
    """Every read row at the configured database's size: {"deals", "load", "figures"}.
    With `only`, just the rows whose name contains it or one of its "|"-separated parts
    (case-insensitive; the floor row comes with the deal list's first page, which its
    ratio needs)."""
    from django.core.cache import cache
    from django.test import Client

    from bench.__main__ import dashboard_api_paths, users
    from deals.models import Deal

    people = users()
    rep_user = _rep_near(100, fallback=people["rita"])  # nora in the demo
    rep, manager = Client(), Client()
    rep.force_login(rep_user)
    manager.force_login(people["mona"])
    total = Deal.objects.count()
    # Exact, not the API's count (an estimate above 10,000 deals).
    from deals.visibility import deal_scope_q

    mona_deals = Deal.objects.filter(deal_scope_q(people["mona"])).count()
    rep_deals = list(
        Deal.objects.filter(owner=rep_user).order_by("-id").values_list("id", flat=True)[:50]
    )
    last_page = max(1, math.ceil(mona_deals / 50))
    figures: list[Figure] = []

    def wanted(name: str) -> bool:
        if not only:
            return True
        if name.startswith("floor:"):
            name = "deal list API, page 1 of 50 (manager)"
        return any(part.lower() in name.lower() for part in only.split("|"))

    def add(name, measure_row, note: str = ""):
        """Time the row (`measure_row()` returns its Figure) unless --only leaves it out."""
        if not wanted(name):
            return
        figure = measure_row()
        figure.name, figure.note = name, note
        figures.append(figure)
        print(f"  {name}: p50 {figure.p50:.1f} ms, p95 {figure.p95:.1f} ms", file=sys.stderr)

    late_cursor = _late_cursor(people["mona"], mona_deals)
    load_before = load_average()
    list_url = "/api/v1/deals/?page_size=50"
    add("deal list API, page 1 of 50 (manager)", lambda: _time(manager, [list_url], runs=runs))
    add(
        "floor: same page as bare SQL + json.dumps",
        lambda: _floor(manager, list_url, runs=runs),
    )
    add(
        "deal list API, page 100 (manager)",
        lambda: _time(manager, [list_url + "&page=100"], runs=runs),
    )
    add(
        "deal list API, last page (manager)",
        lambda: _time(manager, [list_url + f"&page={last_page}"], runs=max(5, runs // 2)),
        f"page {last_page:,}",
    )
    add(
        "deal list API, late cursor (manager)",
        lambda: _time(manager, [f"{list_url}&cursor={late_cursor}"], runs=runs),
        "the page after the deal 60 from the end",
    )
    add("rep's deal list page", lambda: _time(rep, ["/deals/", "/deals/?page=2"], runs=runs))
    add("deal page (rep)", lambda: _time(rep, [f"/deals/{pk}/" for pk in rep_deals], runs=runs))
    add(
        "health endpoint (rep)",
        lambda: _time(rep, [f"/api/v1/deals/{pk}/health/" for pk in rep_deals], runs=runs),
    )
    add("single-deal recompute", lambda: _recompute(rep_deals, runs=runs))
    cache.clear()

    def cold(path: str):
        return lambda: _time(manager, [path], runs=runs, cold=True)

    add("dashboard page, cold", cold("/dashboard/"))
    for path in dashboard_api_paths():
        add(f"  {path}, cold", cold(path))
    add("rep table (htmx), cold", cold("/dashboard/reps/"))
    add("flag review page, cold", cold("/dashboard/flags/"))
    for page in ("outcomes", "calibration", "forecast"):
        add(f"{page} page, cold", cold(f"/dashboard/{page}/"))
    return {
        "deals": total,
        "manager_deals": mona_deals,
        "rep": rep_user.username,
        "rep_deals": Deal.objects.filter(owner=rep_user).count(),
        "runs": runs,
        "load": f"{load_before} before, {load_average()} after",
        "figures": [asdict(f) for f in figures],
    }


def _cell(f: dict) -> str:
    if f["status"] >= 400:
        return f"HTTP {f['status']}"
    queries = f" · {f['queries']} q" if f["queries"] is not None else ""
    return f"{f['p50']:.1f} / {f['p95']:.1f}{queries}"


def _growth(first: dict | None, last: dict | None) -> float:
    """The larger of the p50 and p95 growth from the smallest to the largest size."""
    if not first or not last or not first["p50"] or not first["p95"]:
        return math.nan
    return max(last["p50"] / first["p50"], last["p95"] / first["p95"])


def _growth_cell(first: dict | None, last: dict | None) -> str:
    if not first or not last or first is last or not first["p50"] or not first["p95"]:
        return "-"
    return f"{last['p50'] / first['p50']:.2f}× / {last['p95'] / first['p95']:.2f}×"


def format_growth(results: list[dict]) -> str:
    """One Markdown table: a row per measure, p50 / p95 ms (· queries) per size, the growth
    (largest size over smallest, p50 and p95; a row passes at most 2× on both) and the
    verdict at the largest size."""
    results = sorted(results, key=lambda r: r["deals"])
    sizes = [f"{r['deals']:,} deals" for r in results]
    header = ["measure", *sizes, "growth p50 / p95", "target", "pass"]
    by_name = [{f["name"]: f for f in r["figures"]} for r in results]
    floor_name = "floor: same page as bare SQL + json.dumps"
    lines = []
    for f0 in results[0]["figures"]:
        name = f0["name"]
        cells = [by.get(name) for by in by_name]
        row = [name, *(_cell(c) if c else "-" for c in cells)]
        first, last = cells[0], cells[-1]
        growth = _growth(first, last)
        if name == floor_name:
            ours = [by.get("deal list API, page 1 of 50 (manager)") for by in by_name]
            ratios = [o["p50"] / c["p50"] for o, c in zip(ours, cells, strict=True) if o and c]
            row[1 : 1 + len(cells)] = [
                f"{_cell(c)} · ours {r:.1f}×" for c, r in zip(cells, ratios, strict=True)
            ]
            target = f"ours ≤ {TARGET_FLOOR_RATIO:.0f}× floor (p50)"
            passed = all(r <= TARGET_FLOOR_RATIO for r in ratios)
        elif "calibration/, cold" in name or name == "calibration page, cold":
            at_100k = [c for r, c in zip(results, cells, strict=True) if r["deals"] <= 100_000]
            target = f"p95 ≤ {TARGET_CALIBRATION_MS:.0f} ms at 100k; ≤ {TARGET_GROWTH:.0f}× growth"
            passed = bool(at_100k) and at_100k[-1]["p95"] <= TARGET_CALIBRATION_MS
            passed = passed and (len(cells) < 2 or growth <= TARGET_GROWTH)
        else:
            target = f"p95 ≤ {TARGET_P95_MS:.0f} ms"
            if name.startswith("deal list API, page 1"):
                target = f"p50 ≤ {TARGET_API_P50_MS:.0f} ms, " + target
            if len(cells) > 1:
                target += f", ≤ {TARGET_GROWTH:.0f}× growth"
            passed = bool(last) and last["status"] < 400 and last["p95"] <= TARGET_P95_MS
            if name.startswith("deal list API, page 1"):
                passed = passed and last["p50"] <= TARGET_API_P50_MS
            if len(cells) > 1:
                passed = passed and growth <= TARGET_GROWTH
        row += [_growth_cell(first, last), target]
        row.append("PASS" if passed else "FAIL")
        lines.append(row)
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(cells) for cells in lines]
    notes = [
        f"- {r['deals']:,} deals (manager mona sees {r['manager_deals']:,}, rep "
        f"{r.get('rep', 'rita')} owns {r['rep_deals']:,}; {r.get('runs', '?')} requests per row): "
        f"load average {r['load']}"
        for r in results
    ]
    return (
        "\n".join(out) + "\n\nCells: p50 / p95 ms · SQL queries per request.\n" + "\n".join(notes)
    )


def run_many(urls: list[str], *, runs: int, only: str | None = None) -> list[dict]:
    """Measure each database in a child process (its own Django setup and connection); an
    entry ending in .json is the figures file of an earlier `--reads --json` run."""
    results = []
    for url in urls:
        if url.endswith(".json"):  # figures a previous `--reads --json FILE` run wrote
            with open(url, encoding="utf-8") as f:
                results.append(json.load(f))
            continue
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
            path = out.name
        env = dict(os.environ, DATABASE_URL=url)
        command = [sys.executable, "-m", "bench", "--reads", "--no-seed", "--no-results"]
        command += ["--runs", str(runs), "--json", path]
        if only:
            command += ["--only", only]
        print(f"measuring {url.rsplit('/', 1)[-1]} …", file=sys.stderr)
        subprocess.run(command, cwd=ROOT, env=env, check=True)
        with open(path, encoding="utf-8") as f:
            results.append(json.load(f))
        os.unlink(path)
    return results
