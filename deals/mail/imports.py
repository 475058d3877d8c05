"""Many messages at once: `manage.py import_mail` and the deal page's upload.

One worker (the default) takes the batched path of batch.py: a batch of messages is
parsed, then matched and stored with a fixed handful of queries, in one transaction.
With `workers` > 1, threads store one message at a time through `mail_capture`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import transaction

from deals.models import Activity

from .services import mail_capture
from .types import MailRefused

# One transaction per this many messages: a failure loses at most a batch's progress,
# and a deal touched by the batch gets one last-buyer-contact update and one recompute.
IMPORT_BATCH_SIZE = 500


@dataclass
class ImportSummary:
    counts: dict[str, int]
    errors: list[str]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def mail_owner_for_headers(raw: bytes, cache: dict[str, object]):
    """The CRM user a message belongs to: its From, else the first user among To/Cc."""
    from email.parser import BytesHeaderParser
    from email.utils import getaddresses

    from winwin_crm.accounts.models import User

    if raw.lstrip()[:15].upper() == b"BEGIN:VCALENDAR":
        # A bare invite: its organizer, else its first attendee who is a CRM user.
        from .calendar import parse_ics

        try:
            _method, events = parse_ics(raw)
        except ValueError:
            return None
        addresses = [
            p.address for e in events[:1] for p in (e.organizer, *e.attendees) if p is not None
        ]
    else:
        headers = BytesHeaderParser().parsebytes(raw)
        addresses = [
            address
            for name in ("From", "To", "Cc")
            for _display, address in getaddresses([str(v) for v in headers.get_all(name, [])])
        ]
    for address in addresses:
        address = address.lower()
        if "@" not in address:
            continue
        if address not in cache:
            cache[address] = User.objects.filter(is_active=True, email__iexact=address).first()
        if cache[address] is not None:
            return cache[address]
    return None


def mail_import(
    *,
    messages,
    channel: str,
    user=None,
    deal_id: int | None = None,
    workers: int = 1,
) -> ImportSummary:
    """Capture many raw messages. With `user`, all as that user (an upload); without,
    each as its own sender's CRM user would see it (import_mail).

    With `workers` > 1, threads share the work by conversation (a message's first
    References id, else In-Reply-To, else its own Message-ID), so a thread's mails keep
    their order in one worker; a reply that still reached the database before its parent
    is linked by the parent's store, or by the final pass below.
    """
    counts: dict[str, int] = {}
    errors: list[str] = []
    users: dict[str, object] = {}
    if workers <= 1:
        _import_sequence(enumerate(messages, 1), channel, user, deal_id, users, errors, counts)
        return ImportSummary(counts=counts, errors=errors[:100])

    import queue
    import threading

    from django.db import connection

    queues: list[queue.Queue] = [queue.Queue(maxsize=IMPORT_BATCH_SIZE) for _ in range(workers)]
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work(q: queue.Queue) -> None:
        mine: dict[str, int] = {}
        my_errors: list[str] = []
        try:
            # One transaction per message here: parallel batches would hold row locks
            # on shared deals (last buyer contact) across many messages and deadlock.
            for number, raw in iter(q.get, None):
                outcome = _import_one_retrying(
                    raw, channel, user, deal_id, users, my_errors, number
                )
                mine[outcome] = mine.get(outcome, 0) + 1
        except BaseException as exc:  # reported after the join, never swallowed
            failures.append(exc)
            while q.get() is not None:  # keep draining so the reader never blocks
                pass
        finally:
            connection.close()
            with lock:
                for key, value in mine.items():
                    counts[key] = counts.get(key, 0) + value
                errors.extend(my_errors)

    threads = [threading.Thread(target=work, args=(q,), daemon=True) for q in queues]
    for thread in threads:
        thread.start()
    try:
        for number, raw in enumerate(messages, 1):
            queues[hash(_conversation_key(raw)) % workers].put((number, raw))
    finally:
        for q in queues:
            q.put(None)
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    mail_relink_threads()
    return ImportSummary(counts=counts, errors=errors[:100])


def _conversation_key(raw) -> str:
    if isinstance(raw, Exception):
        return ""
    from email.parser import BytesHeaderParser

    from .parsing import _message_ids

    headers = BytesHeaderParser().parsebytes(raw)
    for name in ("References", "In-Reply-To", "Message-ID"):
        ids = _message_ids(str(headers.get(name, "")))
        if ids:
            return ids[0]
    return ""


def _import_sequence(numbered, channel, user, deal_id, users, errors, counts) -> None:
    from itertools import islice

    from .batch import import_batch

    while True:
        batch = list(islice(numbered, IMPORT_BATCH_SIZE))
        if not batch:
            return
        with transaction.atomic():
            import_batch(
                batch,
                channel=channel,
                user=user,
                deal_id=deal_id,
                users=users,
                errors=errors,
                counts=counts,
            )


def _import_one_retrying(raw, channel, user, deal_id, users, errors, number) -> str:
    from django.db import OperationalError

    for attempt in range(3):
        try:
            with transaction.atomic():
                return _import_one(raw, channel, user, deal_id, users, errors, number)
        except OperationalError as exc:  # a deadlock or serialisation failure: try again
            if attempt == 2:
                errors.append(f"message {number}: {exc}")
                return "failed"
            time.sleep(0.05 * (attempt + 1))
    return "failed"


def mail_relink_threads() -> int:
    """Link captured replies whose parent is on the same deal but who have no thread yet
    (their parent was stored concurrently); returns how many were linked."""
    linked = 0
    orphans = (
        Activity.objects.filter(thread__isnull=True, source=Activity.Source.EMAIL)
        .exclude(captured_mail__in_reply_to="")
        .filter(captured_mail__isnull=False)
        .values_list("id", "deal_id", "captured_mail__in_reply_to")
    )
    for activity_id, deal_id, in_reply_to in orphans.iterator():
        parent = (
            Activity.objects.filter(deal_id=deal_id, message_id=in_reply_to)
            .exclude(pk=activity_id)
            .values_list("id", "thread_id")
            .first()
        )
        if parent is not None:
            Activity.objects.filter(pk=activity_id).update(thread=parent[1] or parent[0])
            linked += 1
    return linked


def _import_one(raw, channel, user, deal_id, users, errors, number) -> str:
    from .types import MailTooLarge, MailUnreadable

    if isinstance(raw, Exception):
        errors.append(f"message {number}: {raw}")
        return "refused"
    owner = user or mail_owner_for_headers(raw, users)
    if owner is None:
        errors.append(f"message {number}: no CRM user among its sender and recipients")
        return "no_user"
    try:
        # No savepoint of our own: reading and matching write nothing, and each store
        # has its own (mail_capture), so a refused message leaves the batch intact.
        results = mail_capture(raw=raw, user=owner, channel=channel, deal_id=deal_id, cache=users)
    except (MailTooLarge, MailUnreadable, MailRefused) as exc:
        errors.append(f"message {number}: {exc}")
        return "refused"
    return results[0].outcome if results else "nothing"
