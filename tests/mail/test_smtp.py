"""The SMTP drop end to end: smtplib → stored activity → recomputed flag, and everything
it must refuse. Runs against the drop `.ci/run` starts, else one started here."""

import smtplib
import socket
import time
import tracemalloc

import pytest

from deals.mail.addresses import deal_drop_address, user_drop_address
from deals.models import Activity, CapturedMail, Flag
from winwin_crm.api.auth import issue_token

from .drop import running_drop
from .test_services import raw_mail

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def drop(world):
    with running_drop() as (host, port, in_process):
        yield host, port, in_process


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def send(drop, sender, recipients, raw, login=None):
    host, port, _ = drop
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.ehlo("mx.northwind.example")
        if login:
            smtp.login(*login)
        return smtp.sendmail(sender, recipients, raw)


def test_bcc_to_the_users_address_logs_the_mail_and_recomputes_the_flags(world, drop):
    raw = raw_mail(body="Hi Ann,\n\nThis is our final offer. Please sign today.\n\nRita")
    refused = send(drop, "rita@northwind.example", [user_drop_address(world.rita.pk)], raw)
    assert refused == {}
    activity = wait_for(lambda: Activity.objects.filter(deal=world.deal, source="email").first())
    assert activity is not None
    assert activity.initiated_by == "rep"
    assert "final offer" in activity.notes
    assert activity.captured_mail.channel == "smtp"
    flag = wait_for(lambda: Flag.objects.filter(deal=world.deal, code="PRESSURE_LANGUAGE").first())
    assert flag is not None and flag.status == "open"
    assert flag.evidence["matches"][0]["sentence"] == "This is our final offer."


def test_signed_deal_address_logs_on_that_deal(world, drop):
    send(drop, "rita@northwind.example", [deal_drop_address(world.deal.pk)], raw_mail())
    assert wait_for(lambda: Activity.objects.filter(deal=world.deal).exists())


def test_the_same_mail_delivered_twice_is_one_activity(world, drop):
    raw = raw_mail()
    to = [user_drop_address(world.rita.pk), deal_drop_address(world.deal.pk)]
    send(drop, "rita@northwind.example", to, raw)  # BCC'd to both addresses
    send(drop, "rita@northwind.example", [user_drop_address(world.rita.pk)], raw)  # a retry
    assert wait_for(lambda: CapturedMail.objects.count() == 1)
    time.sleep(0.3)
    assert Activity.objects.filter(message_id="<m1@northwind.example>").count() == 1


def test_a_stranger_is_refused_before_data(world, drop):
    with pytest.raises(smtplib.SMTPSenderRefused) as exc:
        send(drop, "eve@evil.example", [user_drop_address(world.rita.pk)], raw_mail())
    assert exc.value.smtp_code == 550
    assert not Activity.objects.exists()


def test_a_forged_address_signature_is_refused(world, drop):
    forged = f"u.{world.rita.pk}.000000000000@mail.winwin.test"
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(drop, "rita@northwind.example", [forged], raw_mail())
    assert not CapturedMail.objects.exists()


def test_a_bare_deal_address_needs_smtp_auth(world, drop):
    bare = f"deal+{world.deal.pk}@mail.winwin.test"
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(drop, "rita@northwind.example", [bare], raw_mail())
    assert not Activity.objects.exists()
    # Authenticated with the user's API token as the password, the same address works.
    token = issue_token(world.rita)
    send(drop, "rita@northwind.example", [bare], raw_mail(), login=("rita", token))
    assert wait_for(lambda: Activity.objects.filter(deal=world.deal).exists())


def test_a_wrong_password_is_refused(world, drop):
    with pytest.raises(smtplib.SMTPAuthenticationError):
        send(drop, "rita@northwind.example", [], b"", login=("rita", "wrong"))


def test_a_deal_the_sender_may_not_change_is_refused(world, drop):
    from tests import factories as f

    sams = f.DealFactory(team=world.team, owner=world.sam)
    with pytest.raises(smtplib.SMTPDataError) as exc:
        send(drop, "rita@northwind.example", [deal_drop_address(sams.pk)], raw_mail())
    assert exc.value.smtp_code == 550
    assert not Activity.objects.filter(deal=sams).exists()


def test_a_20_mb_message_is_refused_by_size_up_front(world, drop):
    raw = raw_mail(body="x" * (20 * 1024 * 1024))
    with pytest.raises(smtplib.SMTPSenderRefused) as exc:
        send(drop, "rita@northwind.example", [user_drop_address(world.rita.pk)], raw)
    assert exc.value.smtp_code == 552
    assert not CapturedMail.objects.exists()


def _stream_20_mb_without_size(host, port, rcpt) -> bytes:
    """Speak SMTP by hand, streaming 20 MB of DATA in 64 KB chunks with no SIZE hint,
    so neither side ever holds the message."""
    chunk = (b"x" * 998 + b"\r\n") * 64
    with socket.create_connection((host, port), timeout=60) as sock:
        reader = sock.makefile("rb")

        def command(line: bytes) -> bytes:
            sock.sendall(line + b"\r\n")
            reply = reader.readline()
            while reply[3:4] == b"-":
                reply = reader.readline()
            return reply

        reader.readline()  # greeting
        assert command(b"EHLO mx.northwind.example").startswith(b"250")
        assert command(b"MAIL FROM:<rita@northwind.example>").startswith(b"250")
        assert command(b"RCPT TO:<" + rcpt.encode() + b">").startswith(b"250")
        assert command(b"DATA").startswith(b"354")
        sock.sendall(b"From: rita@northwind.example\r\nSubject: huge\r\n\r\n")
        for _ in range((20 * 1024 * 1024) // len(chunk)):
            sock.sendall(chunk)
        sock.sendall(b".\r\n")
        reply = reader.readline()
        command(b"QUIT")
        return reply


def test_a_20_mb_message_without_size_is_refused_without_holding_it(world, drop):
    host, port, in_process = drop
    rcpt = user_drop_address(world.rita.pk)
    if in_process:
        tracemalloc.start()
        try:
            reply = _stream_20_mb_without_size(host, port, rcpt)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # The server keeps at most the 10 MB cap and discards the rest as it arrives:
        # holding the 20 MB message (or a parsed copy) would peak well above this.
        assert peak < 14 * 1024 * 1024
    else:
        reply = _stream_20_mb_without_size(host, port, rcpt)
    assert reply.startswith(b"552")
    assert not CapturedMail.objects.exists()
    # The drop is still serving.
    send(drop, "rita@northwind.example", [rcpt], raw_mail())
    assert wait_for(lambda: Activity.objects.exists())
