"""Captured-mail benchmark: messages parsed and stored per second, through `import_mail`
on an mbox and through the SMTP drop (`manage.py run_mail_drop`) with smtplib clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/winwin_mailbench \\
        .venv/bin/python bench/mail.py --messages 10000 --smtp-messages 3000 --port 2525

Each run builds its own team (20 reps, 400 buyer organisations with two contacts each, 400
open deals) and its own Message-IDs, so runs never deduplicate against each other. The
messages are real-shaped: multipart/alternative rep mail with a quoted reply and a
signature, buyer replies threaded by In-Reply-To, HTML-only mail, quoted-printable and
base64 bodies, auto-replies and, one in fifty, an Outlook-style calendar invite.

Health recomputes are queued (not run) as in production, where the Celery workers take
them: the figure is parsing, matching, threading and storing. `--recompute-inline` runs
each recompute in the storing process instead (the embedded default without Redis).

Besides messages per second, each path prints CPU time per message (the storing process
and PostgreSQL), so the rate of an idle machine can be inferred on a shared one, and the
queries per message: counted on the import's connection, and for the drop on `store_batch()`
(what the drop's batch thread runs) over a sample run in this process, in batches as large as
the number of clients (each client waits for its reply, so a batch holds at most one message
per client).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import mailbox
import os
import random
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPS = 20
BUYERS = 400
DOMAIN = "northwind.example"
SECRET = "bench-mail-secret"


def _setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "winwin_crm.settings")
    os.environ.setdefault("MAIL_DROP_ALLOWED_DOMAINS", DOMAIN)
    os.environ.setdefault("MAIL_DROP_SECRET", SECRET)
    # Production settings: DEBUG on would record every query of every message.
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    import django

    django.setup()


def build_world(run: str) -> tuple[list, list[tuple[str, str]]]:
    """Reps (users) and (contact address, display name) pairs for one run."""
    from django.contrib.auth.models import Group

    from deals.models import Contact, Deal, Prospect
    from winwin_crm.accounts.models import Team, User

    team = Team.objects.create(name=f"Mail bench {run}")
    rep_group, _ = Group.objects.get_or_create(name="rep")
    reps = []
    for i in range(REPS):
        user = User.objects.create(
            username=f"mailbench{run}r{i}",
            email=f"rep{i}.{run}@{DOMAIN}",
            first_name="Rep",
            last_name=str(i),
        )
        user.groups.add(rep_group)
        reps.append(user)
    team.members.add(*reps)
    prospects = Prospect.objects.bulk_create(
        Prospect(name=f"Buyer {run} {j}", team=team, website=f"https://buyer{j}-{run}.example")
        for j in range(BUYERS)
    )
    contacts = []
    for j, prospect in enumerate(prospects):
        for k in range(2):
            contacts.append(
                Contact(
                    prospect=prospect,
                    name=f"Contact {j}.{k}",
                    email=f"c{k}@buyer{j}-{run}.example",
                )
            )
    Contact.objects.bulk_create(contacts)
    Deal.objects.bulk_create(
        Deal(
            prospect=prospect,
            team=team,
            owner=reps[j % REPS],
            title=f"Bench deal {run} {j}",
            stage=Deal.Stage.PROPOSAL,
            currency="EUR",
        )
        for j, prospect in enumerate(prospects)
    )
    buyers = [(c.email, c.name) for c in contacts]
    _analyze()
    return reps, buyers


def _analyze() -> None:
    """Fresh statistics for the tables the mail path reads, as autovacuum keeps them on a
    live database: on a bench database that grew by thousands of rows a minute ago the
    planner would otherwise pick a sequential scan for the Message-ID lookups."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE deals_activity, deals_capturedmail, deals_deal, deals_contact, "
            "deals_prospect, accounts_user"
        )


def _qp(text: str) -> str:
    import quopri

    return quopri.encodestring(text.encode()).decode()


def generate_messages(n: int, reps: list, buyers: list[tuple[str, str]], run: str, seed: int = 11):
    """`n` raw messages, each (envelope sender, bytes)."""
    import datetime as dt

    rng = random.Random(seed)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    sent: list[tuple[str, str, str]] = []  # (message id, rep address, buyer address)
    for i in range(n):
        when = format_datetime(start + dt.timedelta(seconds=i * 200))
        j = rng.randrange(BUYERS)
        rep = reps[j % REPS]
        buyer_address, buyer_name = buyers[2 * j + rng.randrange(2)]
        mid = f"<bench-{run}-{i}@{DOMAIN}>"
        roll = rng.random()
        if roll < 0.02:
            yield rep.email, _invite(run, i, rep.email, buyer_address, buyer_name, when)
            continue
        if roll < 0.35 and sent:
            parent, parent_rep, parent_buyer = sent[rng.randrange(len(sent))]
            raw = (
                f"From: {buyer_name} <{parent_buyer}>\r\nTo: <{parent_rep}>\r\n"
                f"Subject: Re: Proposal {i}\r\nDate: {when}\r\nMessage-ID: <reply-{run}-{i}@buyer>"
                f"\r\nIn-Reply-To: {parent}\r\nReferences: {parent}\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64"
                "\r\n\r\n"
                + base64.encodebytes(
                    b"Thanks, we will review the appendix with our security team and "
                    b"come back to you next week.\n\nOn Mon, someone wrote:\n> earlier text\n"
                ).decode()
            )
            yield parent_rep, raw.encode()
            continue
        if roll < 0.40:
            raw = (
                f"From: {buyer_name} <{buyer_address}>\r\nTo: <{rep.email}>\r\n"
                f"Subject: Automatic reply: Proposal\r\nDate: {when}\r\n"
                f"Message-ID: <oof-{run}-{i}@buyer>\r\nAuto-Submitted: auto-replied\r\n"
                "Content-Type: text/plain; charset=us-ascii\r\n\r\nI am out of the office.\r\n"
            )
            yield rep.email, raw.encode()
            continue
        if roll < 0.45:
            html = (
                "<html><head><style>p{margin:0}</style></head><body><p>Hi,</p><p>Here is the "
                f"revised quote for <b>option {i % 3}</b> &amp; the rollout plan.</p>"
                "<blockquote>older</blockquote></body></html>"
            )
            raw = (
                f"From: <{rep.email}>\r\nTo: {buyer_name} <{buyer_address}>\r\n"
                f"Subject: Quote {i}\r\nDate: {when}\r\nMessage-ID: {mid}\r\nMIME-Version: 1.0"
                "\r\nContent-Type: text/html; charset=utf-8\r\n"
                f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{_qp(html)}"
            )
            sent.append((mid, rep.email, buyer_address))
            yield rep.email, raw.encode()
            continue
        pressure = " This is our final offer, so please sign today." if i % 7 == 0 else ""
        body = (
            f"Hi {buyer_name},\n\nThanks for the call about proposal {i}. I attached the "
            f"data residency appendix and the rollout plan we discussed.{pressure}\n\n"
            "Happy to walk your security team through the SSO setup.\n\nBest,\nRep\n-- \n"
            "Rep | Account Executive | Northwind\n+44 20 7946 0958\n\n"
            f"On Mon, {buyer_name} <{buyer_address}> wrote:\n> Can you send the SSO docs?\n"
        )
        boundary = f"b{run}{i}"
        raw = (
            f"From: Rep <{rep.email}>\r\nTo: {buyer_name} <{buyer_address}>\r\n"
            f"Subject: Proposal {i}\r\nDate: {when}\r\nMessage-ID: {mid}\r\nMIME-Version: 1.0"
            f'\r\nContent-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{_qp(body)}\r\n"
            f"--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            f"<div>{body.replace(chr(10), '<br>')}</div>\r\n--{boundary}--\r\n"
        )
        sent.append((mid, rep.email, buyer_address))
        yield rep.email, raw.encode()


def _invite(run: str, i: int, organizer: str, attendee: str, name: str, when: str) -> bytes:
    ics = (
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:Microsoft Exchange Server 2010\r\n"
        "VERSION:2.0\r\nBEGIN:VEVENT\r\n"
        f"ORGANIZER;CN=Rep:mailto:{organizer}\r\n"
        f"ATTENDEE;ROLE=REQ-PARTICIPANT;CN={name}:mailto:{attendee}\r\n"
        f"UID:bench-{run}-{i}\r\nSUMMARY:Review {i}\r\nDTSTART:20261201T100000Z\r\n"
        "DTEND:20261201T110000Z\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    return (
        f"From: <{organizer}>\r\nTo: <{attendee}>\r\nSubject: Review {i}\r\nDate: {when}\r\n"
        f"Message-ID: <invite-{run}-{i}@{DOMAIN}>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/calendar; charset="utf-8"; method=REQUEST\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{base64.encodebytes(ics.encode()).decode()}"
    ).encode()


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of a process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pids() -> list[int]:
    """PostgreSQL backends on the bench database other than ours (the drop's)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


@contextlib.contextmanager
def _query_counter():
    """Count the statements this process's connection runs (DEBUG off: no query log)."""
    from django.db import connection

    seen = [0]

    def count(execute, sql, params, many, context):
        seen[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield seen


def _counts(run: str) -> int:
    from deals.models import CapturedMail

    return CapturedMail.objects.filter(user__username__startswith=f"mailbench{run}").count()


def run_import(n: int, *, workers: int = 1, recompute_inline: bool = False) -> dict:
    """Write `n` messages to an mbox and `import_mail` it; messages per second."""
    from django.core.management import call_command
    from django.db import connection

    from winwin_crm.celery import app as celery_app

    run = f"{int(time.time())}{random.randrange(1000):03d}"
    reps, buyers = build_world(run)
    with tempfile.NamedTemporaryFile(suffix=".mbox", delete=False) as tmp:
        path = tmp.name
    box = mailbox.mbox(path)
    box.lock()
    for _sender, raw in generate_messages(n, reps, buyers, run):
        box.add(raw)
    box.flush()
    box.unlock()
    size = os.path.getsize(path)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = recompute_inline
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        t0 = time.perf_counter()
        cpu0, db0 = time.process_time(), _proc_cpu(backend)
        with open(os.devnull, "w") as devnull, _query_counter() as queries:
            call_command("import_mail", path, "--workers", str(workers), stdout=devnull)
        elapsed = time.perf_counter() - t0
        app_cpu = time.process_time() - cpu0
        # With workers, each thread has its own backend; only ours is measured then.
        db_cpu = _proc_cpu(backend) - db0 if workers == 1 else None
    finally:
        celery_app.conf.task_always_eager = eager
        os.unlink(path)
    stored = _counts(run)
    return {
        "messages": n,
        "stored": stored,
        "seconds": elapsed,
        "per_second": n / elapsed,
        "mbox_mb": size / 1e6,
        "app_cpu_ms": app_cpu * 1000 / n,
        "db_cpu_ms": db_cpu * 1000 / n if db_cpu is not None else None,
        "workers": workers,
        # With workers, the threads' connections are not counted.
        "queries": queries[0] / n if workers == 1 else None,
    }


def deliver_queries(n: int = 600, batch: int = 16) -> tuple[float, float]:
    """Queries and CPU ms per message of the drop's store (`store_batch`: parse, match,
    store, commit, without the SMTP session), on `n` messages in batches of `batch` (what
    the drop's batches hold with as many clients), in this process."""
    from deals.mail.addresses import user_drop_address
    from deals.mail.smtp import Delivery, store_batch

    run = f"{int(time.time())}{random.randrange(1000):03d}q"
    reps, buyers = build_world(run)
    rep_ids = {r.email: r.pk for r in reps}
    messages = [
        Delivery(raw, sender, [user_drop_address(rep_ids[sender])])
        for sender, raw in generate_messages(n, reps, buyers, run)
    ]
    cpu0 = time.process_time()
    with _query_counter() as queries:
        for k in range(0, n, batch):
            replies = store_batch(messages[k : k + batch])
            assert all(r.startswith("250") for r in replies), replies
    return queries[0] / n, (time.process_time() - cpu0) * 1000 / n


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_smtp(
    n: int,
    *,
    clients: int = 4,
    port: int | None = None,
    recompute_inline: bool = False,
    drop_args: tuple[str, ...] = (),
) -> dict:
    """Start run_mail_drop and send `n` messages from `clients` smtplib connections."""
    from deals.mail.addresses import user_drop_address

    run = f"{int(time.time())}{random.randrange(1000):03d}"
    reps, buyers = build_world(run)
    messages = list(generate_messages(n, reps, buyers, run))
    rep_ids = {r.email: r.pk for r in reps}
    port = port or _free_port()
    env = {
        **os.environ,
        "CONN_MAX_AGE": "60",
        "REDIS_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "true" if recompute_inline else "false",
        "MAIL_DROP_ALLOWED_DOMAINS": DOMAIN,
        "MAIL_DROP_SECRET": SECRET,
    }
    log = open(ROOT / "var" / "bench-mail-drop.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_mail_drop", "--port", str(port), *drop_args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    errors: list[str] = []
    try:
        assert b"listening" in proc.stdout.readline()
        chunks = [messages[k::clients] for k in range(clients)]

        def client(chunk):
            with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
                for sender, raw in chunk:
                    try:
                        smtp.sendmail(sender, [user_drop_address(rep_ids[sender])], raw)
                    except smtplib.SMTPException as exc:
                        errors.append(str(exc))

        threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
        # One message first, so the drop's database connections exist to be measured.
        first_sender, first_raw = messages[0]
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
            smtp.sendmail(first_sender, [user_drop_address(rep_ids[first_sender])], first_raw)
        backends = _backend_pids()
        t0 = time.perf_counter()
        drop0, client0 = _proc_cpu(proc.pid), time.process_time()
        db0 = sum(_proc_cpu(pid) for pid in backends)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        drop_cpu = _proc_cpu(proc.pid) - drop0
        client_cpu = time.process_time() - client0
        backends = sorted(set(backends) | set(_backend_pids()))
        db_cpu = sum(_proc_cpu(pid) for pid in backends) - db0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    stored = _counts(run)
    return {
        "messages": n,
        "stored": stored,
        "seconds": elapsed,
        "per_second": n / elapsed,
        "clients": clients,
        "errors": len(errors),
        "drop_cpu_ms": drop_cpu * 1000 / n,
        "db_cpu_ms": db_cpu * 1000 / n,
        "client_cpu_ms": client_cpu * 1000 / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000, help="messages in the mbox")
    parser.add_argument("--smtp-messages", type=int, default=3_000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent SMTP clients")
    parser.add_argument(
        "--workers", type=int, default=1, help="import_mail --workers (1: the batched path)"
    )
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument(
        "--drop-batch-size", type=int, default=None, help="run_mail_drop --batch-size"
    )
    parser.add_argument(
        "--drop-batch-wait-ms", type=float, default=None, help="run_mail_drop --batch-wait-ms"
    )
    parser.add_argument("--recompute-inline", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-smtp", action="store_true")
    args = parser.parse_args()
    _setup_django()
    from django.db import connection

    (ROOT / "var").mkdir(exist_ok=True)
    load_before = os.getloadavg()
    print(f"database: {connection.vendor}; load average {load_before[0]:.2f}")
    if not args.skip_import:
        r = run_import(args.messages, workers=args.workers, recompute_inline=args.recompute_inline)
        db = f", PostgreSQL {r['db_cpu_ms']:.1f} ms" if r["db_cpu_ms"] is not None else ""
        if r["queries"] is not None:
            db += f"; {r['queries']:.2f} queries per message"
        print(
            f"import_mail --workers {r['workers']}: {r['messages']:,} messages "
            f"({r['mbox_mb']:.1f} MB mbox) in {r['seconds']:.1f} s = {r['per_second']:.0f} "
            f"msg/s; {r['stored']:,} stored; CPU per message: import {r['app_cpu_ms']:.1f} ms"
            f"{db}; load average {os.getloadavg()[0]:.2f}"
        )
    if not args.skip_smtp:
        drop_args: tuple[str, ...] = ()
        if args.drop_batch_size is not None:
            drop_args += ("--batch-size", str(args.drop_batch_size))
        if args.drop_batch_wait_ms is not None:
            drop_args += ("--batch-wait-ms", str(args.drop_batch_wait_ms))
        r = run_smtp(
            args.smtp_messages,
            clients=args.clients,
            port=args.port,
            recompute_inline=args.recompute_inline,
            drop_args=drop_args,
        )
        print(
            f"SMTP drop: {r['messages']:,} messages from {r['clients']} clients in "
            f"{r['seconds']:.1f} s = {r['per_second']:.0f} msg/s; {r['stored']:,} stored, "
            f"{r['errors']} errors; CPU per message: drop {r['drop_cpu_ms']:.1f} ms, "
            f"PostgreSQL {r['db_cpu_ms']:.1f} ms, clients {r['client_cpu_ms']:.1f} ms; "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        queries, cpu_ms = deliver_queries(batch=args.clients)
        print(
            f"SMTP drop store_batch() in process, batches of {args.clients}: {queries:.2f} "
            f"queries and {cpu_ms:.1f} ms CPU per message; load average "
            f"{os.getloadavg()[0]:.2f}"
        )
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
