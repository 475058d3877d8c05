"""Production smoke test: run docker-compose.yml's own web, worker and beat commands
without Docker, with DEBUG=false and a real SECRET_KEY, against a fresh PostgreSQL
database and a Redis database of their own, then use the app over HTTP like a person and
an API client would.

    .venv/bin/python .ci/smoke_production.py \
        --postgres postgres://postgres@127.0.0.1:5432/postgres --database winwin_smoke \
        --redis redis://127.0.0.1:6379/14 --port 8299

The command lines and the environment come from the compose file (parsed with PyYAML), so
the file and this test cannot drift apart. Only what cannot be the same outside Docker is
rewritten: the service host names `postgres`/`redis` (the URLs given here), the
`0.0.0.0:8000` bind (127.0.0.1:PORT), and `/tmp/` paths (a private temporary directory, so
parallel runs on one machine never share a beat schedule). Other compose services (e.g.
`mail`) are not started. Every process is stopped at the end, on success or failure, and
every wait is bounded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = ("web", "worker", "beat")
USERNAME, PASSWORD = "smoke-rep", "smoke-" + secrets.token_urlsafe(12)


class SmokeFailure(Exception):
    pass


def log(message: str) -> None:
    print(f"[smoke] {message}", flush=True)


# --- the compose file -----------------------------------------------------------------

_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} against `env`."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        current = env.get(name)
        if op in (":-", "-"):
            return current if current else (arg or "")
        if op in (":?", "?"):
            if not current:
                raise SmokeFailure(f"compose needs {name}: {arg}")
            return current
        return current or ""

    return _INTERPOLATION.sub(replace, value)


def compose_services() -> dict[str, dict]:
    spec = yaml.safe_load(COMPOSE.read_text())
    return {name: spec["services"][name] for name in SERVICES}


def command_argv(service: dict, port: int, tmp: Path) -> list[str]:
    command = service["command"]
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    out = []
    for arg in argv:
        arg = arg.replace("0.0.0.0:8000", f"127.0.0.1:{port}")
        arg = re.sub(r"(?<![\w/])/tmp/", f"{tmp}/", arg)
        out.append(arg)
    return out


def service_env(service: dict, overrides: dict[str, str]) -> dict[str, str]:
    base = {**os.environ, **overrides}
    compose_env = {k: interpolate(str(v), base) for k, v in service["environment"].items()}
    # Outside Docker the service host names do not resolve: use the real addresses.
    compose_env.update(overrides)
    env = {**os.environ, **compose_env}
    # The compose image has python, gunicorn and celery on PATH: here they are the venv's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --- processes ------------------------------------------------------------------------


@contextmanager
def processes(tmp: Path) -> Iterator[dict[str, subprocess.Popen]]:
    running: dict[str, subprocess.Popen] = {}
    try:
        yield running
    finally:
        for name, proc in running.items():
            if proc.poll() is None:
                log(f"stopping {name} (pid {proc.pid})")
                with _suppress():
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, proc in running.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{name} ignored SIGTERM: killing it")
                with _suppress():
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def _suppress() -> suppress:
    return suppress(ProcessLookupError)


def start(
    running: dict[str, subprocess.Popen], name: str, argv: list[str], env: dict, tmp: Path
) -> None:
    log(f"{name}: {shlex.join(argv)}")
    logfile = (tmp / f"{name}.log").open("wb")
    running[name] = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
    )


def tail(tmp: Path, name: str, lines: int = 60) -> str:
    path = tmp / f"{name}.log"
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- HTTP, as a browser behind the TLS proxy would send it ------------------------------


class Browser:
    """http.client with a cookie dict: DEBUG=false makes the cookies Secure, which a
    cookie jar never sends over plain http, and this app is meant to sit behind a TLS
    proxy. So each request says what that proxy would (X-Forwarded-Proto/For)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.origin = f"https://127.0.0.1:{port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 15,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.7",
            **(headers or {}),
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                self.cookies[key.strip()] = val.strip()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def api(self, method: str, path: str, token: str, payload: dict | None = None) -> tuple:
        body = json.dumps(payload).encode() if payload is not None else None
        status, headers, data = self.request(
            method,
            path,
            body=body,
            headers={
                "Authorization": f"Token {token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            return status, json.loads(data or b"null")
        except ValueError:
            return status, data[:300]


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def wait_for(what: str, check, timeout: float, running: dict, tmp: Path):
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        for name, proc in running.items():
            if proc.poll() is not None:
                raise SmokeFailure(
                    f"{name} exited with {proc.returncode} while waiting for {what}:\n"
                    + tail(tmp, name)
                )
        try:
            result = check()
            if result:
                return result
        except (OSError, http.client.HTTPException) as exc:
            last = exc
        time.sleep(0.5)
    raise SmokeFailure(f"timed out after {timeout:.0f}s waiting for {what} (last: {last})")


# --- the scenario -----------------------------------------------------------------------


def fresh_database(admin_url: str, name: str) -> str:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    parts = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(admin_url: str, name: str) -> None:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_timeout=5).flushdb()


def login_over_http(browser: Browser) -> None:
    status, _, page = browser.request("GET", "/accounts/login/")
    expect(status == 200, f"GET /accounts/login/ answered {status}")
    html = page.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    expect(match is not None, "the login page has no CSRF token")
    # The page's static files are served, hashed, by WhiteNoise.
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        code, headers, _ = browser.request("GET", src)
        expect(code == 200, f"GET {src} answered {code}")
        expect("max-age" in headers.get("cache-control", ""), f"{src} is not cacheable")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1), "username": USERNAME, "password": PASSWORD}
    ).encode()
    status, headers, _ = browser.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": browser.origin,
            "Referer": f"{browser.origin}/accounts/login/",
        },
    )
    expect(status == 302, f"POST /accounts/login/ answered {status}, not a redirect")
    expect("sessionid" in browser.cookies, "no session cookie after logging in")
    status, _, page = browser.request("GET", "/deals/")
    expect(status == 200 and USERNAME.encode() in page, f"GET /deals/ logged in: {status}")
    log("logged in over HTTP (login page, CSRF, session) and opened My deals")


def api_scenario(browser: Browser, running: dict, tmp: Path, timeout: float) -> None:
    status, headers, data = browser.request(
        "POST",
        "/api/v1/auth/token/",
        body=json.dumps({"username": USERNAME, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    expect(status == 200, f"POST /api/v1/auth/token/ answered {status}: {data[:200]!r}")
    token = json.loads(data)["token"]
    status, prospect = browser.api("POST", "/api/v1/prospects/", token, {"name": "Smoke Ltd"})
    expect(status == 201, f"POST /api/v1/prospects/ answered {status}: {prospect}")
    status, deal = browser.api(
        "POST",
        "/api/v1/deals/",
        token,
        {"title": "Smoke deal", "prospect": prospect["id"], "currency": "EUR"},
    )
    expect(status == 201, f"POST /api/v1/deals/ answered {status}: {deal}")
    log(f"created prospect {prospect['id']} and deal {deal['id']} through the API")

    def computed():
        code, body = browser.api("GET", f"/api/v1/deals/{deal['id']}/", token)
        expect(code == 200, f"GET deal answered {code}: {body}")
        return body if body.get("health_computed_at") else None

    body = wait_for("the deal's health to be computed", computed, timeout, running, tmp)

    # ...and by the Celery worker, not in the web process: its log shows the task done.
    def worker_ran() -> bool:
        log_text = (tmp / "worker.log").read_text(errors="replace")
        done = r"Task deals\.tasks\.health_recompute_task\[[^\]]+\] succeeded"
        return bool(re.search(done, log_text))

    wait_for("the worker's health_recompute_task", worker_ran, timeout, running, tmp)
    log(
        f"worker computed health: buyer {body['buyer_score']}, seller {body['seller_score']},"
        f" balance {body['balance']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SMOKE_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a URL to a database from which the smoke database can be created",
    )
    parser.add_argument("--database", default=os.environ.get("SMOKE_DATABASE", "winwin_smoke"))
    parser.add_argument(
        "--redis", default=os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("SMOKE_PORT", "8299")))
    parser.add_argument(
        "--timeout", type=float, default=300, help="seconds for each wait (migrate is one)"
    )
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="winwin-smoke-"))
    database_url = fresh_database(args.postgres, args.database)
    flush_redis(args.redis)
    overrides = {
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis,
        # A real key: 50 random characters, as production must bring.
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # This driver plays the TLS proxy: it says X-Forwarded-Proto: https from 127.0.0.1.
        "TRUSTED_PROXIES": "127.0.0.1",
    }
    services = compose_services()
    failed = False
    try:
        with processes(tmp) as running:
            web_env = service_env(services["web"], overrides)
            expect(web_env["DEBUG"] == "false", "compose web does not set DEBUG=false")
            start(running, "web", command_argv(services["web"], args.port, tmp), web_env, tmp)
            for name in ("worker", "beat"):
                env = service_env(services[name], overrides)
                start(running, name, command_argv(services[name], args.port, tmp), env, tmp)
            browser = Browser(args.port)

            def healthy():
                status, _, body = browser.request("GET", "/healthz", timeout=5)
                return status == 200 and json.loads(body)["status"] == "ok"

            wait_for("gunicorn to answer /healthz", healthy, args.timeout, running, tmp)
            # The web service's own healthcheck command, pointed at our port.
            check = services["web"]["healthcheck"]["test"]
            argv = [
                a.replace("127.0.0.1:8000", f"127.0.0.1:{args.port}") for a in check[1:]
            ]  # drop "CMD"
            result = subprocess.run(argv, env=web_env, cwd=ROOT, timeout=30)
            expect(result.returncode == 0, "the compose healthcheck command failed")
            log("web is up (migrate, collectstatic, gunicorn); its compose healthcheck passes")
            subprocess.run(
                [
                    sys.executable,
                    "manage.py",
                    "create_crm_user",
                    USERNAME,
                    "--role",
                    "rep",
                    "--team",
                    "Smoke Sales",
                    "--password",
                    PASSWORD,
                ],
                env=web_env,
                cwd=ROOT,
                check=True,
                timeout=120,
                stdout=subprocess.DEVNULL,
            )
            login_over_http(browser)
            api_scenario(browser, running, tmp, args.timeout)
            status, headers, _ = browser.request("GET", "/accounts/login/")
            expect("strict-transport-security" in headers, "no HSTS behind the TLS proxy")
    except (SmokeFailure, subprocess.SubprocessError, OSError) as exc:
        failed = True
        print(f"[smoke] FAILED: {exc}", file=sys.stderr)
        for name in SERVICES:
            print(f"--- last lines of {name} ---\n{tail(tmp, name)}", file=sys.stderr)
    finally:
        if not args.keep_database:
            try:
                drop_database(args.postgres, args.database)
            except Exception as exc:  # noqa: BLE001 - cleanup must not hide the result
                print(f"[smoke] could not drop {args.database}: {exc}", file=sys.stderr)
    elapsed = time.monotonic() - started
    shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        print(f"[smoke] production smoke test FAILED after {elapsed:.0f}s", file=sys.stderr)
        return 1
    log(f"production smoke test passed in {elapsed:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
