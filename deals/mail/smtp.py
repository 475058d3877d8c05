"""The SMTP drop (aiosmtpd): mail BCC'd or forwarded to the CRM becomes activities.

Who may write here:
- MAIL FROM must be in the company's domains (MAIL_DROP_ALLOWED_DOMAINS, else the
  domains of active users), so a stranger is refused before sending a byte of DATA;
- each RCPT is one of our addresses: a user's signed `u.ID.SIG@`, a deal's signed
  `deal+ID.SIG@`, or a bare `deal+ID@` in a session authenticated (SMTP AUTH) as a user;
- the size cap is announced (ESMTP SIZE) and enforced while reading DATA, and what goes
  past it is discarded as it arrives, so a 20 MB message never sits in memory.

DATA is parsed and stored in a thread pool (Django's ORM is synchronous); each delivery
is its own transaction, and a deal's health recompute is debounced: the first mail in a
few seconds queues one delayed recompute that reads every mail of the window
(services.recompute_debounced; at once when Celery runs eagerly).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from django.conf import settings
from django.db import close_old_connections

from .addresses import parse_drop_address
from .matching import company_domains
from .parsing import MAX_MESSAGE_BYTES
from .types import MailRefused, MailTooLarge, MailUnreadable

log = logging.getLogger("deals.mail.smtp")

# Parsing and storing run here; a few threads keep PostgreSQL busy while one parses.
DEFAULT_WORKERS = 4


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
def _sender_allowed(domain: str) -> bool:
    return domain in company_domains()


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
    from django.db.models import Q
    from django.db.models.functions import Lower

    from winwin_crm.accounts.models import User

    from .parsing import parse_message
    from .services import debounced_recomputes, mail_capture_parsed

    outcomes: list[str] = []
    try:
        targets = [t for rcpt in rcpt_tos if (t := parse_drop_address(rcpt)) is not None]
        if not targets:  # checked at RCPT already
            return "250 2.0.0 OK: nothing to log"
        parsed = parse_message(raw)
        sender = mail_from.strip().strip("<>").lower()
        addresses = {sender, *(p.address for p in parsed.participants)}
        ids = {t.id for t in targets if t.kind == "user"}
        if auth_user_id is not None:
            ids.add(auth_user_id)
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
        for target in targets:
            deal_id = target.id if target.kind == "deal" else None
            if target.kind == "user":
                owner = by_id.get(target.id)
            elif auth_user_id is not None:
                owner = by_id.get(auth_user_id)
            else:
                owner = users.get(sender)
            if owner is None:
                return "550 5.7.1 The sender is not a CRM user"
            with debounced_recomputes():
                results = mail_capture_parsed(
                    parsed=parsed, user=owner, channel="smtp", deal_id=deal_id, cache=users
                )
            outcomes.extend(result.outcome for result in results)
    except MailRefused as exc:
        return f"{exc.smtp_code} 5.7.1 {exc}"
    except MailTooLarge:
        return "552 5.3.4 Message too big"
    except MailUnreadable as exc:
        return f"554 5.6.0 {exc}"
    except Exception:  # the sender's server retries a 4xx later
        log.exception("mail drop: delivery failed")
        return "451 4.3.0 Temporary failure, try again later"
    return f"250 2.0.0 OK: {', '.join(sorted(set(outcomes))) or 'nothing to log'}"


# What the drop's threads run: the same, with fresh connections like a request.
deliver = _in_db_thread(deliver_message)


class DropHandler:
    """aiosmtpd handler hooks: refuse early, store in the thread pool."""

    def __init__(self, executor: ThreadPoolExecutor):
        self.executor = executor

    async def _run(self, fn, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        domain = address.rpartition("@")[2].lower().rstrip(">")
        if not domain or not await self._run(_sender_allowed, domain):
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
        return await self._run(deliver, raw, envelope.mail_from, envelope.rcpt_tos, auth_user_id)

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
    on_ready=None,
) -> None:
    """Serve until cancelled (the management command's loop); `on_ready()` once bound."""
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mail-drop")
    handler = DropHandler(executor)
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
