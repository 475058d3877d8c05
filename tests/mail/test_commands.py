"""`manage.py import_mail FILE` and `manage.py run_mail_drop`."""

import os
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from deals.mail.addresses import user_drop_address
from deals.models import Activity
from tests.worker import database_url_of_test_db

from .conftest import FIXTURES
from .drop import _free_port
from .test_services import raw_mail

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_import_mail_logs_an_mbox_as_each_senders_user(world, capsys):
    call_command("import_mail", str(FIXTURES / "25_thunderbird_export.mbox"))
    out = capsys.readouterr().out
    assert "3 messages (logged 3)" in out
    assert Activity.objects.filter(deal=world.deal, source="email").count() == 3


@pytest.mark.django_db
def test_import_mail_twice_adds_nothing(world, capsys):
    path = str(FIXTURES / "25_thunderbird_export.mbox")
    call_command("import_mail", path)
    call_command("import_mail", path)
    assert "duplicate 3" in capsys.readouterr().out
    assert Activity.objects.count() == 3


@pytest.mark.django_db
def test_import_mail_reads_eml_and_ics(world):
    call_command(
        "import_mail",
        str(FIXTURES / "13_google_calendar_invite.ics"),
        str(FIXTURES / "03_outlook_reply_qp_1252.eml"),
    )
    assert set(Activity.objects.values_list("kind", flat=True)) == {"meeting", "email"}


@pytest.mark.django_db
def test_import_mail_reports_messages_without_a_crm_user(world, tmp_path):
    path = tmp_path / "stranger.eml"
    path.write_bytes(raw_mail(sender="eve@evil.example", to="ann.lee@acme.example"))
    with pytest.raises(CommandError):
        call_command("import_mail", str(path))
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_import_mail_refuses_other_file_kinds(world, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(CommandError, match=r"\.eml, \.mbox or \.ics"):
        call_command("import_mail", str(path))


@pytest.mark.django_db(transaction=True)
def test_run_mail_drop_command_serves_smtp(world):
    db_url = database_url_of_test_db()
    if db_url is None:
        pytest.skip("the drop process shares the test database only on PostgreSQL")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CONN_MAX_AGE": "0",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "MAIL_DROP_ALLOWED_DOMAINS": "northwind.example",
        "MAIL_DROP_SECRET": "test-mail-secret",
        "MAIL_DROP_DOMAIN": "mail.winwin.test",
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_mail_drop", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert b"Mail drop listening" in proc.stdout.readline()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.sendmail("rita@northwind.example", [user_drop_address(world.rita.pk)], raw_mail())
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not Activity.objects.exists():
            time.sleep(0.1)
        assert Activity.objects.get().deal == world.deal
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        connection.close()
    assert proc.returncode == 0


@pytest.mark.django_db(transaction=True)
def test_import_mail_with_workers_keeps_every_thread_linked(world, tmp_path):
    import mailbox

    path = tmp_path / "threads.mbox"
    box = mailbox.mbox(str(path))
    for t in range(8):
        root = f"<t{t}-0@northwind.example>"
        previous = root
        for n in range(4):
            mid = f"<t{t}-{n}@northwind.example>"
            extra = f"In-Reply-To: {previous}\r\nReferences: {root}\r\n" if n else ""
            sender, to = (
                ("ann.lee@acme.example", "rita@northwind.example")
                if n % 2
                else ("rita@northwind.example", "ann.lee@acme.example")
            )
            box.add(raw_mail(sender=sender, to=to, message_id=mid, extra=extra))
            previous = mid
    box.flush()
    box.close()
    call_command("import_mail", str(path), "--workers", "3")
    activities = {a.message_id: a for a in Activity.objects.all()}
    assert len(activities) == 32
    for t in range(8):
        root = activities[f"<t{t}-0@northwind.example>"]
        assert root.thread_id is None
        for n in range(1, 4):
            assert activities[f"<t{t}-{n}@northwind.example>"].thread_id == root.id
    connection.close()
