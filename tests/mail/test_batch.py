"""The batched import path (deals/mail/batch.py) decides exactly as `mail_capture` does,
message by message: every matching branch, duplicates, thread links inside a batch and to
stored mail, replies waiting for their parent, auto-replies, invites and refusals — and it
runs a fixed number of queries per batch, whatever the number of messages."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from deals.mail import imports
from deals.mail.imports import mail_import
from deals.mail.services import mail_capture
from deals.models import Activity, CapturedMail, Deal
from tests import factories as f

from .conftest import fixture_bytes
from .test_services import raw_mail

pytestmark = pytest.mark.django_db

T0 = timezone.now() - dt.timedelta(days=2)


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _messages(world) -> list[bytes]:
    rita, ann, bob = "rita@northwind.example", "ann.lee@acme.example", "bob@acme.example"
    return [
        raw_mail(sender=rita, to=ann, message_id="<m1@nw>", date=_at(1)),
        # A stranger answering in the thread: the thread's deal.
        raw_mail(
            sender="pa@unknown.example",
            to=rita,
            message_id="<r1@x>",
            date=_at(2),
            extra="In-Reply-To: <m1@nw>\r\nReferences: <m1@nw>\r\n",
        ),
        raw_mail(sender=rita, to=ann, message_id="<m1@nw>", date=_at(1)),  # again
        # A reply before its parent, then the parent: linked when the parent arrives.
        raw_mail(
            sender=ann, to=rita, message_id="<r2@x>", date=_at(4), extra="In-Reply-To: <p2@nw>\r\n"
        ),
        raw_mail(sender=rita, to=ann, message_id="<p2@nw>", date=_at(3)),
        raw_mail(
            sender=bob,
            to=rita,
            subject="Automatic reply: Next steps",
            message_id="<oof@x>",
            date=_at(5),
            extra="Auto-Submitted: auto-replied\r\n",
        ),
        raw_mail(sender=rita, to="carol@acme.example", message_id="<dom@nw>", date=_at(6)),
        raw_mail(sender=rita, to="pal@gmail.com", message_id="<free@nw>", date=_at(7)),
        raw_mail(sender=rita, to="g@globex.example", message_id="<sev@nw>", date=_at(8)),
        raw_mail(sender=rita, to="i@initech.example", message_id="<theirs@nw>", date=_at(9)),
        raw_mail(sender="sam@northwind.example", to=ann, message_id="<sam@nw>", date=_at(10)),
        raw_mail(sender="eve@evil.example", to=ann, message_id="<eve@x>", date=_at(11)),
        b"no headers here",
        # A chain: c2 answers c1, which answers c0.
        raw_mail(sender=rita, to=ann, message_id="<c0@nw>", date=_at(12)),
        raw_mail(
            sender=ann, to=rita, message_id="<c1@x>", date=_at(13), extra="In-Reply-To: <c0@nw>\r\n"
        ),
        raw_mail(
            sender=rita,
            to=ann,
            message_id="<c2@nw>",
            date=_at(14),
            extra="In-Reply-To: <c1@x>\r\nReferences: <c0@nw> <c1@x>\r\n",
        ),
        # Answers to stored mail: a thread parent, and a parent a stored reply waits for.
        raw_mail(
            sender=ann,
            to=rita,
            message_id="<a-old@x>",
            date=_at(15),
            extra="In-Reply-To: <old@nw>\r\n",
        ),
        raw_mail(sender=rita, to=ann, message_id="<op@nw>", date=_at(16)),
        fixture_bytes("12_google_calendar_invite.eml"),
    ]


def _more_deals(world) -> None:
    globex = f.ProspectFactory(name="Globex", team=world.team)
    f.ContactFactory(prospect=globex, email="g@globex.example")
    for title in ("Globex one", "Globex two"):
        f.DealFactory(team=world.team, prospect=globex, owner=world.rita, title=title)
    initech = f.ProspectFactory(name="Initech", team=world.team)
    f.ContactFactory(prospect=initech, email="i@initech.example")
    f.DealFactory(team=world.team, prospect=initech, owner=world.sam, title="Initech")
    # Stored before the import: a mail the import answers, and a reply waiting for <op@nw>.
    for raw in (
        raw_mail(message_id="<old@nw>", date=_at(0)),
        raw_mail(
            sender="ann.lee@acme.example",
            to="rita@northwind.example",
            message_id="<w@x>",
            date=_at(0),
            extra="In-Reply-To: <op@nw>\r\n",
        ),
    ):
        mail_capture(raw=raw, user=world.rita, channel="api")


def _state() -> dict:
    titles = dict(Deal.objects.values_list("id", "title"))
    mids = dict(Activity.objects.values_list("id", "message_id"))
    return {
        "activities": sorted(
            (
                a.message_id,
                titles[a.deal_id],
                a.kind,
                a.initiated_by,
                a.auto_reply,
                a.senior_present,
                a.notes,
                a.occurred_at,
                mids.get(a.thread_id),
            )
            for a in Activity.objects.all()
        ),
        "mail": sorted(
            (
                m.user.username,
                m.message_id,
                m.status,
                m.kind,
                sorted(titles[d] for d in m.candidate_deal_ids),
                mids.get(m.activity_id),
                m.from_address,
                m.to_addresses,
                m.text,
                m.auto_reply,
            )
            for m in CapturedMail.objects.select_related("user")
        ),
        "last_buyer_contact": sorted(Deal.objects.values_list("title", "last_buyer_contact_at")),
    }


def _one_by_one(messages) -> tuple[dict, list[str]]:
    """The per-message path (`mail_capture` for each message) the batch must equal."""
    counts: dict[str, int] = {}
    errors: list[str] = []
    users: dict = {}
    for number, raw in enumerate(messages, 1):
        outcome = imports._import_one(raw, "import", None, None, users, errors, number)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts, errors


@pytest.mark.parametrize("batch_size", [500, 3])
def test_the_batch_path_stores_what_the_per_message_path_stores(world, monkeypatch, batch_size):
    _more_deals(world)
    messages = _messages(world)
    with transaction.atomic():
        expected_counts, expected_errors = _one_by_one(messages)
        expected = _state()
        transaction.set_rollback(True)
    assert _state() != expected  # the rollback undid the per-message run

    monkeypatch.setattr(imports, "IMPORT_BATCH_SIZE", batch_size)
    summary = mail_import(messages=iter(messages), channel="import")

    assert summary.counts == expected_counts
    assert summary.errors == expected_errors
    assert _state() == expected
    # What the per-message path decided, spelled out for the reader.
    assert expected_counts == {"logged": 12, "inbox": 4, "duplicate": 1, "no_user": 2}
    threads = {row[0]: row[8] for row in expected["activities"]}
    assert threads["<r1@x>"] == "<m1@nw>"
    assert threads["<r2@x>"] == "<p2@nw>"
    assert threads["<c1@x>"] == threads["<c2@nw>"] == "<c0@nw>"
    assert threads["<a-old@x>"] == "<old@nw>"
    assert threads["<w@x>"] == "<op@nw>"


def _plain_batch(world, n: int, start: int) -> list[bytes]:
    return [
        raw_mail(
            sender="ann.lee@acme.example" if i % 2 else "rita@northwind.example",
            to="rita@northwind.example" if i % 2 else "ann.lee@acme.example",
            message_id=f"<q{start + i}@nw>",
            date=_at(i),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [10, 40])
def test_a_batch_runs_the_same_queries_for_10_or_40_messages(world, n, django_assert_num_queries):
    # The batch's savepoint; users by address; activities and captured mail by Message-ID;
    # deals by contact; the owner's roles and which of those deals they may change; replies
    # waiting for a parent; the writes' savepoint, one insert of activities, one of mail,
    # one update of last buyer contact, and the two releases.
    with django_assert_num_queries(14):
        summary = mail_import(messages=iter(_plain_batch(world, n, 100)), channel="import")
    assert summary.counts == {"logged": n}
