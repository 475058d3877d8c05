"""The drop stores in batches (deals.mail.smtp.deliver_batch, DropBatcher): each session is
answered once the batch holding its message committed, with the reply the one-message path
would give; a batch that cannot be stored is answered 451, never 250."""

import asyncio
import smtplib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import OperationalError, transaction

from deals.mail import batch as batch_module
from deals.mail import services, smtp
from deals.mail.addresses import deal_drop_address, user_drop_address
from deals.mail.smtp import TEMPFAIL, Delivery, DropBatcher, deliver_batch, deliver_message
from deals.models import Activity, CapturedMail
from tests import factories as f

from .drop import running_drop
from .test_batch import _messages, _more_deals, _plain_batch, _state
from .test_services import raw_mail


def _run(coro):
    """asyncio.run() in a thread of its own: the browser tests' Playwright keeps an event
    loop running in the main thread, and asyncio.run() refuses to nest in it."""
    with ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(asyncio.run, coro).result()


def _deliveries(world, messages: list[bytes]) -> list[Delivery]:
    # BCC'd to Rita's own address: every message is hers, as the drop takes it.
    rcpt = [user_drop_address(world.rita.pk)]
    return [Delivery(raw, "rita@northwind.example", rcpt) for raw in messages]


@pytest.mark.django_db
def test_a_batch_answers_and_stores_what_the_one_message_path_does(world):
    _more_deals(world)
    deliveries = _deliveries(world, _messages(world))
    sams = f.DealFactory(team=world.team, owner=world.sam, title="Sam's")
    deliveries += [
        # A deal Rita may not change, and a sender who is no CRM user on a deal address.
        Delivery(
            raw_mail(message_id="<x1@nw>"), "rita@northwind.example", [deal_drop_address(sams.pk)]
        ),
        Delivery(
            raw_mail(message_id="<x2@nw>"),
            "ghost@northwind.example",
            [deal_drop_address(world.deal.pk)],
        ),
    ]
    with transaction.atomic():
        expected_replies = [
            deliver_message(d.raw, d.mail_from, d.rcpt_tos, d.auth_user_id) for d in deliveries
        ]
        expected = _state()
        transaction.set_rollback(True)
    assert _state() != expected

    replies = deliver_batch(deliveries)

    assert replies == expected_replies
    assert _state() == expected
    assert replies[-2].startswith("550 5.7.1 No deal")
    assert replies[-1] == "550 5.7.1 The sender is not a CRM user"
    assert replies[2] == "250 2.0.0 OK: duplicate"  # <m1@nw> again
    assert sum(r.startswith("250") for r in replies) == len(replies) - 3  # and one unreadable


@pytest.mark.django_db
@pytest.mark.parametrize("n", [10, 40])
def test_a_batch_runs_the_same_queries_for_10_or_40_messages(world, n, django_assert_num_queries):
    # The batch's transaction; users of every recipient and participant; activities and
    # captured mail by Message-ID; deals by contact; the owner's roles and which of those
    # deals they may change; replies waiting for a parent; the writes' savepoint, one
    # insert of activities, one of mail, one update of last buyer contact, the release
    # and the commit.
    deliveries = _deliveries(world, _plain_batch(world, n, 100))
    with django_assert_num_queries(14):
        replies = deliver_batch(deliveries)
    assert replies == ["250 2.0.0 OK: logged"] * n
    assert Activity.objects.filter(deal=world.deal).count() == n


@pytest.mark.django_db
def test_a_failed_batch_is_stored_one_by_one_so_only_the_bad_message_is_refused(world, monkeypatch):
    def broken_write(*args, **kwargs):
        raise OperationalError("the batch insert failed")

    store_email = services._store_email

    def store_unless_bad(parsed, *args, **kwargs):
        if parsed.message_id == "<bad@nw>":
            raise OperationalError("connection lost")
        return store_email(parsed, *args, **kwargs)

    monkeypatch.setattr(batch_module, "_write", broken_write)
    monkeypatch.setattr(services, "_store_email", store_unless_bad)
    messages = [
        raw_mail(message_id="<good1@nw>"),
        raw_mail(message_id="<bad@nw>"),
        raw_mail(message_id="<good2@nw>"),
    ]
    replies = deliver_batch(_deliveries(world, messages))
    assert replies == ["250 2.0.0 OK: logged", TEMPFAIL, "250 2.0.0 OK: logged"]
    assert sorted(Activity.objects.values_list("message_id", flat=True)) == [
        "<good1@nw>",
        "<good2@nw>",
    ]


class _FirstBatchHeld:
    """A store_batch that records its batches and holds the first until released."""

    def __init__(self):
        self.started, self.release = threading.Event(), threading.Event()
        self.batches: list[list[bytes]] = []

    def store(self, deliveries):
        self.batches.append([d.raw for d in deliveries])
        if len(self.batches) == 1:
            self.started.set()
            self.release.wait(5)
        return [f"250 OK {d.raw.decode()}" for d in deliveries]


def test_with_one_lane_sessions_that_arrive_while_a_batch_is_stored_share_the_next_batch(
    monkeypatch,
):
    held = _FirstBatchHeld()
    monkeypatch.setattr(smtp, "store_batch", held.store)

    async def main(pool):
        batcher = DropBatcher(pool, size=50, lanes=1)
        first = asyncio.ensure_future(batcher.submit(Delivery(b"m0", "a@b", [])))
        await asyncio.get_running_loop().run_in_executor(None, held.started.wait, 5)
        others = [
            asyncio.ensure_future(batcher.submit(Delivery(f"m{i}".encode(), "a@b", [])))
            for i in range(1, 8)
        ]
        await asyncio.sleep(0.05)
        assert not any(o.done() for o in others)  # nobody is answered before their batch
        held.release.set()
        return await asyncio.gather(first, *others)

    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = _run(main(pool))
    assert replies == [f"250 OK m{i}" for i in range(8)]
    assert held.batches == [[b"m0"], [f"m{i}".encode() for i in range(1, 8)]]


def test_a_second_lane_stores_what_arrives_while_the_first_batch_is_stored(monkeypatch):
    """With two lanes a session does not wait for the batch ahead of it."""
    held = _FirstBatchHeld()
    monkeypatch.setattr(smtp, "store_batch", held.store)

    async def main(pool):
        batcher = DropBatcher(pool, size=50, lanes=2)
        first = asyncio.ensure_future(batcher.submit(Delivery(b"m0", "a@b", [])))
        await asyncio.get_running_loop().run_in_executor(None, held.started.wait, 5)
        others = [
            asyncio.ensure_future(batcher.submit(Delivery(f"m{i}".encode(), "a@b", [])))
            for i in range(1, 4)
        ]
        answered = await asyncio.gather(*others)  # while m0's batch is still held
        assert not first.done()
        held.release.set()
        return [await first, *answered]

    with ThreadPoolExecutor(max_workers=3) as pool:
        replies = _run(main(pool))
    assert replies == [f"250 OK m{i}" for i in range(4)]
    assert held.batches == [[b"m0"], [b"m1", b"m2", b"m3"]]


def test_a_batch_that_raises_answers_every_session_451(monkeypatch):
    def store(deliveries):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(smtp, "store_batch", store)

    async def main(pool):
        batcher = DropBatcher(pool)
        sessions = [batcher.submit(Delivery(b"m", "a@b", [])) for _ in range(3)]
        first = await asyncio.gather(*sessions)
        # The batcher keeps serving after a failure.
        monkeypatch.setattr(smtp, "store_batch", lambda ds: ["250 OK"] * len(ds))
        return first, await batcher.submit(Delivery(b"m", "a@b", []))

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, later = _run(main(pool))
    assert first == [TEMPFAIL] * 3
    assert later == "250 OK"


# --- over SMTP ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_clients_each_mail_lands_once_and_250_means_stored(world):
    rcpt = [user_drop_address(world.rita.pk)]
    clients, per_client = 8, 5
    replies: list[dict] = []
    errors: list[Exception] = []

    def client(host: str, port: int, k: int) -> None:
        try:
            with smtplib.SMTP(host, port, timeout=60) as s:
                for i in range(per_client):
                    # Every client also sends one same mail: one activity for it.
                    mid = f"<c{k}-{i}@nw>" if i else "<shared@nw>"
                    raw = raw_mail(message_id=mid)
                    replies.append(s.sendmail("rita@northwind.example", rcpt, raw))
        except Exception as exc:  # reported below
            errors.append(exc)

    with running_drop() as (host, port, _in_process):
        threads = [threading.Thread(target=client, args=(host, port, k)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # No waiting: a 250 is only given once the message is stored.
        assert errors == []
        assert replies == [{}] * (clients * per_client)
        ids = list(Activity.objects.filter(deal=world.deal).values_list("message_id", flat=True))
        assert len(ids) == len(set(ids)) == clients * (per_client - 1) + 1
        assert CapturedMail.objects.count() == len(ids)
        assert "<shared@nw>" in ids


@pytest.mark.django_db(transaction=True)
def test_a_store_that_fails_answers_451_and_the_sender_can_retry(world, monkeypatch):
    with running_drop() as (host, port, in_process):
        if not in_process:
            pytest.skip("the failure is injected into an in-process drop")

        def fail(*args, **kwargs):
            raise OperationalError("the database went away")

        monkeypatch.setattr(batch_module, "_write", fail)
        monkeypatch.setattr(services, "_store_email", fail)
        rcpt = [user_drop_address(world.rita.pk)]
        with smtplib.SMTP(host, port, timeout=30) as s:
            with pytest.raises(smtplib.SMTPDataError) as exc:
                s.sendmail("rita@northwind.example", rcpt, raw_mail())
            assert exc.value.smtp_code == 451
            assert not CapturedMail.objects.exists()
            monkeypatch.undo()
            # The sending server retries later: now it is stored, once.
            assert s.sendmail("rita@northwind.example", rcpt, raw_mail()) == {}
        assert Activity.objects.filter(deal=world.deal).count() == 1
