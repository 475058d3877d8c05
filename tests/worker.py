"""Start a real Celery worker process against Redis for round-trip tests."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from celery import Celery
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def redis_url_for_tests() -> str:
    """REDIS_URL when set, else a local Redis on the default port; skip when unreachable."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1):
            pass
    except OSError:
        pytest.skip(f"no Redis reachable at {parsed.hostname}:{parsed.port or 6379}")
    return url


def database_url_of_test_db() -> str | None:
    """A DATABASE_URL the worker process can use to reach the test database (PostgreSQL)."""
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        return None
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}{password}@{host}/{s['NAME']}"


@contextlib.contextmanager
def running_worker(
    *,
    needs_database: bool = False,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
    queue: str | None = None,
):
    """Yield (client_app, queue) with a worker consuming `queue`; stop it afterwards.

    The queue is unique per call so no other worker on the machine can take our tasks;
    pass `queue` to start a second worker on the queue of one that died. `extra_env` and
    `extra_args` (e.g. `("-I", "some.module")`) reach the worker process.
    """
    redis_url = redis_url_for_tests()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **(extra_env or {}),
    }
    if needs_database:
        db_url = database_url_of_test_db()
        if db_url is None:
            pytest.skip("a worker shares the test database only on PostgreSQL")
        env["DATABASE_URL"] = db_url
    queue = queue or f"test-{uuid.uuid4().hex[:12]}"
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "winwin_crm",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-Q",
        queue,
        "--loglevel=WARNING",
        "-n",
        f"{queue}@%h",
        *extra_args,
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    # Not the current app: tasks queued later in the test run must stay on the eager app.
    client = Celery("test-client", broker=redis_url, backend=redis_url, set_as_current=False)
    client.conf.task_serializer = "json"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{proc.stdout.read()}")
            replies = client.control.ping(
                destination=[f"{queue}@{socket.gethostname()}"], timeout=0.5
            )
            if replies:
                break
        else:
            raise RuntimeError("worker did not answer a ping within 30 s")
        yield client, queue, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        client.close()
