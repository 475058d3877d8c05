"""Shared helpers of the benchmark suite: timing, percentiles, query counting, the table."""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "winwin_crm.settings")
    import django

    django.setup()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p50 of [1, 2, 3, 4] is 2); nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Timing:
    """Server times (ms) and SQL query counts of repeated requests to one URL."""

    times_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)

    @property
    def p50(self) -> float:
        return percentile(self.times_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.times_ms, 95)

    @property
    def max_queries(self) -> int:
        return max(self.queries) if self.queries else 0


def time_requests(
    client, urls: list[str], *, runs: int, warmup: int = 2, cold: bool = False
) -> Timing:
    """GET each URL in turn (cycling) `runs` times in-process with the Django test client,
    after `warmup` unmeasured requests; record wall time and the queries each one ran.
    `cold` empties Django's cache (untimed) before every request."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timing = Timing()
    for n in range(warmup + runs):
        url = urls[n % len(urls)]
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                for _chunk in response.streaming_content:
                    pass
            elapsed = (time.perf_counter() - started) * 1000
        timing.statuses.add(response.status_code)
        if n >= warmup:
            timing.times_ms.append(elapsed)
            timing.queries.append(len(queries.captured_queries))
    return timing


@dataclass
class Row:
    """One line of the results table."""

    measure: str
    result: str
    target: str = ""
    passed: bool | None = None  # None: no target, or not measured
    deals: str = ""

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return "-"
        return "PASS" if self.passed else "FAIL"


def format_table(rows: list[Row]) -> str:
    """A Markdown table (readable in a terminal and in RESULTS.md)."""
    header = ("measure", "deals", "result", "target", "pass")
    lines = [(r.measure, r.deals, r.result, r.target, r.verdict) for r in rows]
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(cells) for cells in lines]
    return "\n".join(out)


def ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.1f} ms"
