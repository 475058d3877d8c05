"""The SMTP drop (aiosmtpd): mail BCC'd or forwarded to the CRM becomes activities.

Who may write here, decided while the session talks (before any storing):
- MAIL FROM must be in the company's domains (MAIL_DROP_ALLOWED_DOMAINS, else the
  domains of active users), so a stranger is refused before sending a byte of DATA;
- each RCPT is one of our addresses: a user's signed `u.ID.SIG@`, a deal's signed
  `deal+ID.SIG@`, or a bare `deal+ID@` in a session authenticated (SMTP AUTH) as a user;
- the size cap is announced (ESMTP SIZE) and enforced while reading DATA, and what goes
  past it is discarded as it arrives, so a 20 MB message never sits in memory.

Storing is batched: each DATA joins the next batch (`DropBatcher`), and two lanes store
batches through the import's batch path (batch.py), so one round of its queries serves
every message that arrived while the lanes were busy.
A session is answered only once the batch holding its message has committed: 250 then, the
message's own 5xx when it is refused (a deal its owner may not change, a sender who is no
CRM user, an unreadable message), or 451 when storing failed, so the sender's server keeps
the message and retries; no message answered 250 is lost. A batch that fails is stored
again one message at a time (`deliver_message`, each in its own transaction), so one bad
message costs only its own 451. A deal's health recompute is debounced: the first mail in
a few seconds queues one delayed recompute that reads every mail of the window
(services.recompute_debounced; at once when Celery runs eagerly).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from django.conf import settings
from django.db import close_old_connections

from .addresses import DropTarget, parse_drop_address
from .matching import company_domains
from .parsing import MAX_MESSAGE_BYTES, ParsedMail, parse_message
from .types import MailRefused, MailTooLarge, MailUnreadable

if TYPE_CHECKING:
    from winwin_crm.accounts.models import User

log = logging.getLogger("deals.mail.smtp")

# AUTH checks, the sender-domain check (without an allow-list), parsing and the batches
# run here: DEFAULT_BATCH_LANES threads store, the others serve the sessions.
DEFAULT_WORKERS = 4
# Batches stored at once. One lane alone makes a session wait for the batch ahead of it
# as well as its own (a few clients then each wait for two commits: 38 msg/s with 4
# clients); a second lane stores what arrives meanwhile. Two batches that touch one deal
# take turns on its row lock; should they deadlock or collide on a Message-ID, the
# losing batch is stored again message by message (deliver_batch), as one-message
# deliveries always were.
DEFAULT_BATCH_LANES = 2
# At most this many messages a batch; a batch starts as soon as the previous one is done
# (after `batch_wait` seconds, if given, to gather more when mail trickles in).
DEFAULT_BATCH_SIZE = 200
DEFAULT_BATCH_WAIT = 0.0
TEMPFAIL = "451 4.3.0 Temporary failure, try again later"
NOT_A_USER = "550 5.7.1 The sender is not a CRM user"
TOO_BIG = "552 5.3.4 Message too big"


def _unreadable(exc: MailUnreadable) -> str:
    return f"554 5.6.0 {exc}"


def _stored(outcomes: Iterable[str]) -> str:
    return f"250 2.0.0 OK: {', '.join(sorted(set(outcomes))) or 'nothing to log'}"


def _in_db_thread(fn):
    """Run `fn` with fresh, properly closed Django connections (like a request)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper


@_in_db_thread
def _sender_allowed_by_users(domain: str) -> bool:
    return domain in company_domains()


def _sender_allowed_by_settings(domain: str) -> bool | None:
    """The allow-list's answer without a thread hop, or None when the users' domains
    (a query) decide."""
    allowed = settings.MAIL_DROP_ALLOWED_DOMAINS
    return domain in frozenset(allowed) if allowed else None


@_in_db_thread
def _check_login(login: str, password: str) -> int | None:
    """A CRM user's id for a username (or email) and password, or their API token."""
    from rest_framework.exceptions import AuthenticationFailed

    from winwin_crm.accounts.models import User
    from winwin_crm.api.authentication import ExpiringTokenAuthentication

    user = (
        User.objects.filter(is_active=True, username=login).first()
        or User.objects.filter(is_active=True, email__iexact=login).first()
    )
    if user is None:
        return None
    if user.check_password(password):
        return user.pk
    # The same check as the API's: a live (unexpired, unrevoked) token of this user.
    try:
        token_user, _ = ExpiringTokenAuthentication().authenticate_credentials(password.encode())
    except AuthenticationFailed:
        return None
    return user.pk if token_user.pk == user.pk else None


def _users_for(
    addresses: set[str], ids: set[int]
) -> tuple[dict[str, User | None], dict[int, User]]:
    """The active users an address (lower-cased) or an id names, in one query: by address
    (None where no user has it) and by id."""
    from django.db.models import Q
    from django.db.models.functions import Lower

    from winwin_crm.accounts.models import User

    users: dict[str, User | None] = dict.fromkeys(addresses)
    by_id: dict[int, User] = {}
    for user in (
        User.objects.filter(is_active=True)
        .annotate(_address=Lower("email"))
        .filter(Q(pk__in=ids) | Q(_address__in=addresses))
        .order_by("pk")
    ):
        by_id[user.pk] = user
        if user._address in users and users[user._address] is None:
            users[user._address] = user
    return users, by_id


def _owner_for(
    target: DropTarget,
    *,
    auth_user_id: int | None,
    sender: str,
    users: dict[str, User | None],
    by_id: dict[int, User],
) -> User | None:
    """Whose mail it is for one of our recipients: the user of a user's address; for a
    deal's address the signed-in sender, else the envelope sender's user."""
    if target.kind == "user":
        return by_id.get(target.id)
    if auth_user_id is not None:
        return by_id.get(auth_user_id)
    return users.get(sender)


def deliver_message(
    raw: bytes, mail_from: str, rcpt_tos: list[str], auth_user_id: int | None
) -> str:
    """Store one message for each of our recipients; the SMTP reply to send.

    The lean path: the message is parsed once whatever the number of recipients, and the
    recipients' users, the envelope sender and every participant are looked up in one
    query (what `side_for` would ask is then answered from it), so a plain mail costs the
    match, two inserts and the thread-link update; its recompute is debounced per deal
    (services.recompute_debounced) while a burst of mail arrives.
    """
    from .services import debounced_recomputes, mail_capture_parsed

    outcomes: list[str] = []
    try:
        targets = [t for rcpt in rcpt_tos if (t := parse_drop_address(rcpt)) is not None]
        if not targets:  # checked at RCPT already
            return _stored([])
        parsed = parse_message(raw)
        sender = mail_from.strip().strip("<>").lower()
        ids = {t.id for t in targets if t.kind == "user"}
        if auth_user_id is not None:
            ids.add(auth_user_id)
        users, by_id = _users_for({sender, *(p.address for p in parsed.participants)}, ids)
        for target in targets:
            deal_id = target.id if target.kind == "deal" else None
            owner = _owner_for(
                target, auth_user_id=auth_user_id, sender=sender, users=users, by_id=by_id
            )
            if owner is None:
                return NOT_A_USER
            with debounced_recomputes():
                results = mail_capture_parsed(
                    parsed=parsed, user=owner, channel="smtp", deal_id=deal_id, cache=users
                )
            outcomes.extend(result.outcome for result in results)
    except MailRefused as exc:
        return f"{exc.smtp_code} 5.7.1 {exc}"
    except MailTooLarge:
        return TOO_BIG
    except MailUnreadable as exc:
        return _unreadable(exc)
    except Exception:  # the sender's server retries a 4xx later
        log.exception("mail drop: delivery failed")
        return TEMPFAIL
    return _stored(outcomes)


@dataclass(slots=True)
class Delivery:
    """One message the session accepted: what `deliver_message` takes, and the message
    already parsed (or why it cannot be) when the session's thread did it."""

    raw: bytes
    mail_from: str
    rcpt_tos: list[str]
    auth_user_id: int | None = None
    parsed: ParsedMail | MailTooLarge | MailUnreadable | None = None

    def parse(self) -> ParsedMail:
        if self.parsed is None:
            return parse_message(self.raw)
        if isinstance(self.parsed, Exception):
            raise self.parsed
        return self.parsed


def _parse_for(delivery: Delivery) -> None:
    """Parse in a session thread, so the batch thread's turn holds only matching and
    storing (the parse of the next messages runs while a batch waits on PostgreSQL)."""
    try:
        delivery.parsed = parse_message(delivery.raw)
    except (MailTooLarge, MailUnreadable) as exc:
        delivery.parsed = exc


def deliver_batch(deliveries: list[Delivery]) -> list[str]:
    """Store a batch of accepted messages in one transaction; one SMTP reply each, given
    once the batch has committed. A batch that fails is stored again one message at a
    time, so only the message that cannot be stored is answered 451."""
    from django.db import transaction

    from .services import debounced_recomputes

    try:
        with transaction.atomic(), debounced_recomputes():
            return _deliver_batch(deliveries)
    except Exception:
        log.exception("mail drop: a batch of %d failed; storing one by one", len(deliveries))
    return [deliver_message(d.raw, d.mail_from, d.rcpt_tos, d.auth_user_id) for d in deliveries]


def _deliver_batch(deliveries: list[Delivery]) -> list[str]:
    """`deliver_message`'s decisions for many messages, on batch.py's queries: the users
    of every recipient, sender and participant in one query, invites one by one, emails
    matched and stored together (`store_emails`)."""
    from .batch import Email, store_emails
    from .services import mail_capture_parsed

    replies: list[str | None] = [None] * len(deliveries)
    parsed: dict[int, ParsedMail] = {}
    targets: dict[int, list[DropTarget]] = {}
    for i, delivery in enumerate(deliveries):
        found = [t for rcpt in delivery.rcpt_tos if (t := parse_drop_address(rcpt)) is not None]
        if not found:  # checked at RCPT already
            replies[i] = _stored([])
            continue
        try:
            parsed[i] = delivery.parse()
        except MailTooLarge:
            replies[i] = TOO_BIG
            continue
        except MailUnreadable as exc:
            replies[i] = _unreadable(exc)
            continue
        targets[i] = found

    senders = {i: deliveries[i].mail_from.strip().strip("<>").lower() for i in parsed}
    addresses = set(senders.values()) | {
        p.address for mail in parsed.values() for p in mail.participants
    }
    ids = {t.id for found in targets.values() for t in found if t.kind == "user"}
    ids |= {a for i in parsed if (a := deliveries[i].auth_user_id) is not None}
    users, by_id = _users_for(addresses, ids) if parsed else ({}, {})

    emails: list[Email] = []
    numbers: dict[int, list[int]] = {}  # delivery → its emails' numbers
    outcomes: dict[int, str] = {}
    notes: dict[int, str] = {}
    event_outcomes: dict[int, list[str]] = {}
    for i, mail in parsed.items():
        auth_user_id = deliveries[i].auth_user_id
        owners: list[tuple[User | None, int | None]] = []
        for target in targets[i]:
            owner = _owner_for(
                target, auth_user_id=auth_user_id, sender=senders[i], users=users, by_id=by_id
            )
            owners.append((owner, target.id if target.kind == "deal" else None))
        if any(owner is None for owner, _deal in owners):
            replies[i] = NOT_A_USER
            continue
        for owner, deal_id in owners:
            assert owner is not None
            if mail.events:  # invites (rare) one by one, as the import does
                try:
                    results = mail_capture_parsed(
                        parsed=mail, user=owner, channel="smtp", deal_id=deal_id, cache=users
                    )
                except MailRefused as exc:
                    replies[i] = f"{exc.smtp_code} 5.7.1 {exc}"
                    break
                event_outcomes.setdefault(i, []).extend(r.outcome for r in results)
            else:
                number = len(emails) + 1
                emails.append((number, mail, owner, deal_id))
                numbers.setdefault(i, []).append(number)
    if emails:
        store_emails(emails, channel="smtp", users=users, outcomes=outcomes, notes=notes)

    for i in parsed:
        if replies[i] is not None:
            continue
        mine = [outcomes[n] for n in numbers.get(i, [])]
        refused = [n for n in numbers.get(i, []) if outcomes[n] == "refused"]
        if refused:
            replies[i] = f"550 5.7.1 {notes[refused[0]]}"
            continue
        replies[i] = _stored([*mine, *event_outcomes.get(i, [])])
    return [reply or TEMPFAIL for reply in replies]


class DropBatcher:
    """Accepted messages wait here for the next batch; each session awaits its reply.

    Up to `lanes` batches are stored at once in the executor: a batch takes every message
    that arrived while the lanes were busy (up to `size`), so the busier the drop, the
    larger its batches and the fewer queries per message.
    """

    def __init__(
        self,
        executor: ThreadPoolExecutor,
        *,
        size: int = DEFAULT_BATCH_SIZE,
        wait: float = DEFAULT_BATCH_WAIT,
        lanes: int = DEFAULT_BATCH_LANES,
    ):
        self.executor = executor
        self.size = max(1, size)
        self.lanes = max(1, lanes)
        self.wait = wait
        self._pending: list[tuple[Delivery, asyncio.Future[str]]] = []
        self._ready: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    async def submit(self, delivery: Delivery) -> str:
        """The SMTP reply for `delivery`, once its batch has been stored (or failed)."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._ready = asyncio.Event()
            self._task = loop.create_task(self._flush_forever())
        assert self._ready is not None
        future: asyncio.Future[str] = loop.create_future()
        self._pending.append((delivery, future))
        self._ready.set()
        return await future

    async def _flush_forever(self) -> None:
        assert self._ready is not None
        loop = asyncio.get_running_loop()
        lanes = asyncio.Semaphore(self.lanes)
        in_flight: set[asyncio.Task] = set()

        def done(task: asyncio.Task) -> None:
            in_flight.discard(task)
            lanes.release()

        try:
            while True:
                await self._ready.wait()
                await lanes.acquire()
                if self.wait > 0 and len(self._pending) < self.size:
                    await asyncio.sleep(self.wait)
                batch = self._pending[: self.size]
                del self._pending[: self.size]
                if not self._pending:
                    self._ready.clear()
                task = loop.create_task(self._store(batch))
                in_flight.add(task)
                task.add_done_callback(done)
        finally:
            # Shutting down: whoever still waits gets no 250 (their server retries).
            for task in in_flight:
                task.cancel()
            for _delivery, future in self._pending:
                future.cancel()
            self._pending.clear()

    async def _store(self, batch: list[tuple[Delivery, asyncio.Future[str]]]) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            replies = await loop.run_in_executor(self.executor, store_batch, [d for d, _f in batch])
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("mail drop: storing a batch failed")
            replies = [TEMPFAIL] * len(batch)
        log.debug("stored %d messages in %.1f ms", len(batch), (loop.time() - started) * 1e3)
        for (_delivery, future), reply in zip(batch, replies, strict=True):
            if not future.done():  # a session that hung up meanwhile
                future.set_result(reply)


# What the batch thread runs: with fresh connections, like a request.
store_batch = _in_db_thread(deliver_batch)


class DropHandler:
    """aiosmtpd handler hooks: refuse early, store in batches."""

    def __init__(
        self,
        executor: ThreadPoolExecutor,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_wait: float = DEFAULT_BATCH_WAIT,
    ):
        self.executor = executor
        self.batcher = DropBatcher(executor, size=batch_size, wait=batch_wait)

    async def _run(self, fn, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        domain = address.rpartition("@")[2].lower().rstrip(">")
        allowed = _sender_allowed_by_settings(domain) if domain else False
        if allowed is None:
            allowed = await self._run(_sender_allowed_by_users, domain)
        if not allowed:
            return "550 5.7.1 Sender domain not accepted here"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        target = parse_drop_address(address)
        if target is None:
            return "550 5.1.1 No such mailbox here"
        if not target.signed and not session.authenticated:
            return "530 5.7.0 Authentication required for this address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        auth_user_id = session.auth_data if session.authenticated else None
        if not isinstance(auth_user_id, int):
            auth_user_id = None
        delivery = Delivery(raw, envelope.mail_from or "", list(envelope.rcpt_tos), auth_user_id)
        await self._run(_parse_for, delivery)
        return await self.batcher.submit(delivery)

    def authenticator(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace")
        password = data.password.decode("utf-8", "replace")
        # Called synchronously by aiosmtpd; AUTH is once per session, so blocking on the
        # pool briefly is fine.
        user_id = self.executor.submit(_check_login, login, password).result(timeout=30)
        if user_id is None:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=user_id)


def build_smtp(handler: DropHandler, *, max_size: int = MAX_MESSAGE_BYTES) -> SMTP:
    return SMTP(
        handler,
        data_size_limit=max_size,
        hostname=settings.MAIL_DROP_DOMAIN,
        ident="WinWin CRM mail drop",
        authenticator=handler.authenticator,
        auth_require_tls=settings.MAIL_DROP_AUTH_REQUIRE_TLS,
        timeout=120,
    )


async def serve(
    host: str,
    port: int,
    *,
    workers: int = DEFAULT_WORKERS,
    max_size: int = MAX_MESSAGE_BYTES,
    batch_size: int = DEFAULT_BATCH_SIZE,
    batch_wait: float = DEFAULT_BATCH_WAIT,
    on_ready=None,
) -> None:
    """Serve until cancelled (the management command's loop); `on_ready()` once bound."""
    executor = ThreadPoolExecutor(max_workers=max(2, workers), thread_name_prefix="mail-drop")
    handler = DropHandler(executor, batch_size=batch_size, batch_wait=batch_wait)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: build_smtp(handler, max_size=max_size), host=host, port=port
    )
    if on_ready is not None:
        on_ready()
    try:
        async with server:
            await server.serve_forever()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
