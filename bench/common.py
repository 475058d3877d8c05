"""Shared helpers of the benchmark suite: timing, percentiles, query counting, the table."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import threading
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


# --- gunicorn on the loopback, and the CPU it costs ---------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    port: int, log, *, threads: int = 1, throttle: str = "10000000/min", access_log=False
) -> subprocess.Popen:
    """gunicorn with 2 workers on 127.0.0.1:`port`, DEBUG off, writing to the open file `log`.

    `threads` > 1 runs each worker as gunicorn's gthread worker with that many threads
    (keep-alive, and a thread's database wait overlaps another's Python); 1 is the sync
    worker. The per-user API throttle is raised to `throttle` for the run: a handful of
    clients sharing one token would otherwise hit the default 6,000/min.
    """
    env = dict(os.environ)
    env.update(
        DEBUG="false",
        SECRET_KEY=env.get("SECRET_KEY") or "bench-only-" + "x" * 50,
        SECURE_SSL_REDIRECT="false",
        API_THROTTLE_USER=throttle,
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    command = [
        sys.executable, "-m", "gunicorn", "winwin_crm.wsgi:application",
        "--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "60",
    ]  # fmt: skip
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    if access_log:
        command += ["--access-logfile", "-"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)


def worker_label(threads: int) -> str:
    return f"gunicorn -w 2 --threads {threads} (gthread)" if threads > 1 else "gunicorn -w 2 (sync)"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process from /proc (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found += [int(c) for c in children.read().split()]
    except OSError:
        pass
    return found


class CpuMeter:
    """CPU seconds spent between `start()` and `stop()` by the gunicorn master and its
    workers, by the PostgreSQL backends that connected since `server_started` (the
    workers' connections, on the same machine), and by this process (the clients).

    Wall-clock throughput on a shared 2-core machine moves with whatever else runs; the
    CPU each request costs much less so, and the bench reports both. A thread samples
    /proc twice a second, so a process or connection that ends during the run (a
    connection past CONN_MAX_AGE) still counts up to its last sample. Linux only.
    """

    def __init__(self, server_pid: int, server_started: float):
        self.server_pid = server_pid
        self.server_started = server_started
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.database: set[int] = set()
        self._stop = threading.Event()

    def _database_pids(self) -> set[int]:
        import datetime as dt

        from django.db import connection

        if connection.vendor != "postgresql":
            return set()
        since = dt.datetime.fromtimestamp(self.server_started, dt.UTC)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_start >= %s AND pid <> pg_backend_pid()",
                [since],
            )
            return {row[0] for row in cursor.fetchall()}

    def _sample(self, *, initial=False) -> None:
        self.database |= self._database_pids()
        for pid in [self.server_pid, *_children(self.server_pid), *self.database]:
            seconds = _cpu_seconds(pid)
            if seconds:
                # A process first seen after the start did all its work during the run.
                self.first.setdefault(pid, seconds if initial else 0.0)
                self.last[pid] = seconds

    def _poll(self) -> None:
        from django.db import connection

        try:  # every query from this thread's own connection, which the query leaves out
            self._sample(initial=True)
            self._ready.set()
            while not self._stop.wait(0.5):
                self._sample()
            self._sample()
        finally:
            self._ready.set()
            connection.close()

    def start(self) -> None:
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        self._ready.wait()
        self.clients_before = time.process_time()

    def stop(self) -> None:
        self.clients_after = time.process_time()
        self._stop.set()
        self._thread.join()

    def per_request_ms(self, requests: int) -> dict[str, float]:
        """{"server", "database", "clients"}: CPU milliseconds per request."""
        spent = {"server": 0.0, "database": 0.0}
        for pid, last in self.last.items():
            spent["database" if pid in self.database else "server"] += last - self.first[pid]
        spent["clients"] = self.clients_after - self.clients_before
        return {name: seconds * 1000 / max(requests, 1) for name, seconds in spent.items()}


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"
