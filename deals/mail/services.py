"""Writes of captured mail: a raw message becomes an activity on its deal, or waits in
the user's inbox; assign, discard, delete and the retention purge.

Every entry point (SMTP drop, API, upload, import_mail) calls `mail_capture`, so a mail
is parsed, matched and deduplicated the same way whichever door it came through.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from deals.health.queue import health_recompute_on_commit
from deals.models import Activity, CapturedMail, Deal
from deals.services import _refresh_last_buyer_contact
from deals.visibility import deal_edit_scope_q

from .calendar import ParsedEvent
from .matching import Match, Parent, Side, initiated_by, match_deal, side_for, thread_parents
from .parsing import ParsedMail, parse_message
from .types import MailRefused, Person

Status = CapturedMail.Status


@dataclass
class CaptureResult:
    """What happened to one message (or one event of an invite)."""

    outcome: str  # logged, inbox, duplicate, updated, cancelled
    mail: CapturedMail | None = None
    activity: Activity | None = None
    reason: str = ""

    @property
    def deal_id(self) -> int | None:
        return self.activity.deal_id if self.activity else None


# --- recomputes ---------------------------------------------------------------------------

# The drop debounces: a burst of mail on one deal (a thread, a BCC'd conversation) queues
# one delayed recompute that sees all of it, instead of one per message. Everything else
# (the API, uploads, imports) queues one per deal on commit, as any edit does.
MAIL_RECOMPUTE_DEBOUNCE_SECONDS = 5
_debounce: ContextVar[bool] = ContextVar("mail_recompute_debounce", default=False)


@contextmanager
def debounced_recomputes() -> Iterator[None]:
    token = _debounce.set(True)
    try:
        yield
    finally:
        _debounce.reset(token)


# Deals this process queued a debounced recompute for, and when (time.monotonic()): a
# busy drop touches the same deals batch after batch, and asks Redis only once a window.
_queued_at: dict[int, float] = {}
_queued_lock = threading.Lock()


def recompute_debounced(deal_id: int, seconds: int = MAIL_RECOMPUTE_DEBOUNCE_SECONDS) -> None:
    """Queue the deal's recompute `seconds` from now unless one is already waiting. The
    waiting one runs after the window closes, so it reads every mail committed in it.
    Eager Celery (no broker: the embedded default, tests) recomputes at once."""
    from django.core.cache import cache

    from deals.tasks import health_recompute_task

    if health_recompute_task.app.conf.task_always_eager or seconds <= 0:
        health_recompute_task.delay(deal_id)
        return
    now = time.monotonic()
    with _queued_lock:
        if now - _queued_at.get(deal_id, -seconds) < seconds:
            return  # this process queued one in the window: it has not run yet
        _queued_at[deal_id] = now
        if len(_queued_at) > 10_000:
            for stale in [d for d, at in _queued_at.items() if now - at >= seconds]:
                del _queued_at[stale]
    if cache.add(f"mail:recompute:{deal_id}", 1, timeout=seconds):
        health_recompute_task.apply_async((deal_id,), countdown=seconds)


def queue_recompute(deal_id: int) -> None:
    """The deal's health recompute after commit: debounced inside `debounced_recomputes`."""
    if _debounce.get():
        transaction.on_commit(lambda: recompute_debounced(deal_id))
    else:
        health_recompute_on_commit(deal_id=deal_id)


def captured_mail_fields(parsed: ParsedMail, *, channel: str, match: Match) -> dict[str, Any]:
    """What a captured email keeps of its message: one home for the one-message path and
    the batched import (deals.mail.batch)."""
    return {
        "kind": CapturedMail.Kind.EMAIL,
        "channel": channel,
        "message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to,
        "references": parsed.references,
        "subject": parsed.subject,
        "from_name": (parsed.sender.name if parsed.sender else "")[:200],
        "from_address": parsed.sender.address if parsed.sender else "",
        "to_addresses": _person_list(parsed.to),
        "cc_addresses": _person_list(parsed.cc),
        "sent_at": parsed.sent_at,
        "text": parsed.text,
        "attachment_names": parsed.attachment_names,
        "auto_reply": parsed.auto_reply,
        "forwarded_by": parsed.forwarded_by.address if parsed.forwarded_by else "",
        "candidate_deal_ids": match.candidate_ids,
        "size_bytes": parsed.size,
    }


def _person_list(people: list[Person]) -> list[str]:
    return [str(p) for p in people][:50]


def _people_from(stored: list[str]) -> list[Person]:
    from email.utils import parseaddr

    out = []
    for value in stored:
        name, address = parseaddr(value)
        if "@" in address:
            out.append(Person(name, address.lower()))
    return out


def _notes(subject: str, text: str) -> str:
    # The subject is part of what was said ("Final offer — sign by Friday").
    return f"{subject}\n\n{text}".strip() if subject else text


def _thread_root(deal_id: int, parents: list[Parent]) -> int | None:
    return next((p.root_id for p in parents if p.deal_id == deal_id), None)


def _log_activity(
    *,
    deal_id: int,
    user,
    kind: str,
    source: str,
    message_id: str,
    occurred_at: dt.datetime,
    notes: str,
    initiator: str,
    senior_present: bool = False,
    auto_reply: bool = False,
    parents: list[Parent] | None = None,
) -> Activity:
    activity = Activity(
        deal_id=deal_id,
        kind=kind,
        source=source,
        message_id=message_id,
        initiated_by=initiator,
        occurred_at=occurred_at,
        notes=notes,
        senior_present=senior_present,
        auto_reply=auto_reply,
        thread_id=_thread_root(deal_id, parents or []),
        created_by=user,
    )
    activity.save()
    if kind == Activity.Kind.EMAIL:
        # A reply that arrived before the mail it answers: link it now.
        Activity.objects.filter(
            deal_id=deal_id, thread__isnull=True, captured_mail__in_reply_to=message_id
        ).exclude(pk=activity.pk).update(thread=activity.thread_id or activity.pk)
    if initiator == Activity.InitiatedBy.BUYER and not auto_reply:
        _refresh_last_buyer_contact(deal_id)
    queue_recompute(deal_id)
    return activity


def mail_capture(
    *, raw: bytes, user, channel: str, deal_id: int | None = None, cache: dict | None = None
) -> list[CaptureResult]:
    """Parse, match and store one raw message (or .ics file) as `user` sees the deals.

    Raises MailTooLarge / MailUnreadable for what cannot be read, and MailRefused for
    a deal the user may not log mail on.
    """
    return mail_capture_parsed(
        parsed=parse_message(raw), user=user, channel=channel, deal_id=deal_id, cache=cache
    )


def mail_capture_parsed(
    *, parsed: ParsedMail, user, channel: str, deal_id: int | None = None, cache: dict | None = None
) -> list[CaptureResult]:
    """`mail_capture` of a message already parsed (the import parses before it batches)."""
    if parsed.events:
        return [
            _capture_event(parsed=parsed, event=event, user=user, channel=channel, deal_id=deal_id)
            for event in parsed.events
        ]
    return [_capture_email(parsed=parsed, user=user, channel=channel, deal_id=deal_id, cache=cache)]


def _duplicate(user, message_id: str) -> CaptureResult:
    existing = (
        CapturedMail.objects.filter(user=user, message_id=message_id)
        .select_related("activity")
        .first()
    )
    return CaptureResult(
        "duplicate", existing, existing.activity if existing else None, "already captured"
    )


def _capture_email(
    *, parsed: ParsedMail, user, channel: str, deal_id: int | None, cache: dict | None = None
) -> CaptureResult:
    # No "seen it?" query first: a second delivery is rare, and the unique constraints
    # (user, Message-ID) and (deal, Message-ID) refuse it below.
    side = side_for(parsed.participants, cache)
    parents = thread_parents(user=user, thread_ids=[parsed.in_reply_to, *parsed.references])
    match = match_deal(
        user=user,
        participants=parsed.participants,
        side=side,
        deal_id=deal_id,
        parents=parents,
    )
    try:
        with transaction.atomic():
            return _store_email(parsed, user, channel, match, side, parents)
    except IntegrityError:
        # The same mail delivered again or twice at once (BCC and a forward, an SMTP
        # retry), or already logged on the deal by another user: one activity, not two.
        duplicate = _duplicate(user, parsed.message_id)
        if duplicate.mail is None and match.deal_id is not None:
            duplicate.activity = (
                Activity.objects.filter(deal_id=match.deal_id, message_id=parsed.message_id)
                .select_related("captured_mail")
                .first()
            )
            duplicate.reason = "on the deal"
        return duplicate


def _store_email(
    parsed: ParsedMail, user, channel: str, match: Match, side: Side, parents: list[Parent]
) -> CaptureResult:
    activity = None
    if match.deal_id is not None:
        activity = _log_activity(
            deal_id=match.deal_id,
            user=user,
            kind=Activity.Kind.EMAIL,
            source=Activity.Source.EMAIL,
            message_id=parsed.message_id,
            occurred_at=parsed.sent_at,
            notes=_notes(parsed.subject, parsed.text),
            initiator=initiated_by(parsed.sender, side),
            auto_reply=parsed.auto_reply,
            parents=parents,
        )
    mail = CapturedMail.objects.create(
        user=user,
        activity=activity,
        status=Status.ASSIGNED if activity else Status.INBOX,
        **captured_mail_fields(parsed, channel=channel, match=match),
    )
    return CaptureResult("logged" if activity else "inbox", mail, activity, match.reason)


def _capture_event(
    *, parsed: ParsedMail, event: ParsedEvent, user, channel: str, deal_id: int | None
) -> CaptureResult:
    people = [p for p in (event.organizer, *event.attendees) if p is not None]
    existing = (
        CapturedMail.objects.filter(user=user, message_id=event.key)
        .select_related("activity")
        .first()
    )
    if existing is not None:
        return _update_event(existing, event, people)
    if event.cancelled:
        return CaptureResult("cancelled", reason="an event we never logged")
    side = side_for(people)
    match = match_deal(user=user, participants=people, side=side, deal_id=deal_id)
    text = event.description.strip()
    try:
        with transaction.atomic():
            activity = None
            if match.deal_id is not None:
                activity = Activity.objects.filter(
                    deal_id=match.deal_id, message_id=event.key
                ).first() or _log_activity(
                    deal_id=match.deal_id,
                    user=user,
                    kind=Activity.Kind.MEETING,
                    source=Activity.Source.CALENDAR,
                    message_id=event.key,
                    occurred_at=event.start,
                    notes=_notes(event.summary, text),
                    initiator=initiated_by(event.organizer, side),
                    senior_present=side.senior_among(people),
                )
            mail = CapturedMail.objects.create(
                user=user,
                activity=activity,
                status=Status.ASSIGNED if activity else Status.INBOX,
                kind=CapturedMail.Kind.CALENDAR,
                channel=channel,
                message_id=event.key,
                subject=event.summary,
                from_name=(event.organizer.name if event.organizer else "")[:200],
                from_address=event.organizer.address if event.organizer else "",
                to_addresses=_person_list(event.attendees),
                sent_at=event.start,
                text=text[:20_000],
                calendar_sequence=event.sequence,
                candidate_deal_ids=match.candidate_ids,
                size_bytes=parsed.size,
            )
    except IntegrityError:
        return _duplicate(user, event.key)
    return CaptureResult("logged" if activity else "inbox", mail, activity, match.reason)


@transaction.atomic
def _update_event(mail: CapturedMail, event: ParsedEvent, people: list[Person]) -> CaptureResult:
    """A later invite for a known event: cancel it, or move it (higher SEQUENCE wins)."""
    activity = mail.activity
    if event.cancelled:
        deal_id = activity.deal_id if activity else None
        # The meeting did not happen: the activity and its stored text go.
        if activity is not None:
            activity.delete()
        else:
            mail.delete()
        if deal_id is not None:
            queue_recompute(deal_id)
        return CaptureResult("cancelled", reason="the organizer cancelled it")
    if event.sequence <= mail.calendar_sequence:
        return CaptureResult("duplicate", mail, activity, "already captured")
    side = side_for(people)
    mail.calendar_sequence = event.sequence
    mail.sent_at = event.start
    mail.subject = event.summary
    mail.text = event.description.strip()[:20_000]
    mail.to_addresses = _person_list(event.attendees)
    mail.save()
    if activity is not None:
        activity.occurred_at = event.start
        activity.notes = _notes(event.summary, mail.text)
        activity.senior_present = side.senior_among(people)
        activity.save(update_fields=["occurred_at", "notes", "senior_present", "updated_at"])
        queue_recompute(activity.deal_id)
    return CaptureResult("updated", mail, activity, "a later version of the invite")


def _ensure_own(mail: CapturedMail, user) -> None:
    if mail.user_id != user.pk:
        raise MailRefused("This mail is not yours.")


@transaction.atomic
def mail_assign(*, mail: CapturedMail, user, deal: Deal) -> Activity:
    """Log a mail from the inbox on a deal the user chose."""
    _ensure_own(mail, user)
    if mail.status != Status.INBOX:
        raise MailRefused("This mail is no longer in the inbox.")
    if not Deal.objects.filter(deal_edit_scope_q(user), pk=deal.pk).exists():
        raise MailRefused("You may not log mail on this deal.")
    people = [
        Person(mail.from_name, mail.from_address),
        *_people_from(mail.to_addresses),
        *_people_from(mail.cc_addresses),
    ]
    side = side_for(people)
    calendar = mail.kind == CapturedMail.Kind.CALENDAR
    activity = Activity.objects.filter(deal=deal, message_id=mail.message_id).first()
    if activity is None:
        activity = _log_activity(
            deal_id=deal.pk,
            user=user,
            kind=Activity.Kind.MEETING if calendar else Activity.Kind.EMAIL,
            source=Activity.Source.CALENDAR if calendar else Activity.Source.EMAIL,
            message_id=mail.message_id,
            occurred_at=mail.sent_at,
            notes=_notes(mail.subject, mail.text),
            initiator=initiated_by(Person(mail.from_name, mail.from_address), side),
            senior_present=calendar and side.senior_among(people),
            auto_reply=mail.auto_reply,
            parents=thread_parents(user=user, thread_ids=[mail.in_reply_to, *mail.references]),
        )
    mail.activity = activity
    mail.status = Status.ASSIGNED
    mail.save(update_fields=["activity", "status"])
    return activity


@transaction.atomic
def mail_discard(*, mail: CapturedMail, user) -> None:
    """Forget an inbox mail's content; its Message-ID stays so a redelivery stays out."""
    _ensure_own(mail, user)
    if mail.status != Status.INBOX:
        raise MailRefused("This mail is no longer in the inbox.")
    CapturedMail.objects.filter(pk=mail.pk).update(
        status=Status.DISCARDED,
        subject="",
        from_name="",
        from_address="",
        to_addresses=[],
        cc_addresses=[],
        text="",
        attachment_names=[],
        references=[],
        in_reply_to="",
        candidate_deal_ids=[],
    )


def mail_purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete inbox and discarded mail older than MAIL_INBOX_RETENTION_DAYS."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.MAIL_INBOX_RETENTION_DAYS)
    deleted, _ = CapturedMail.objects.filter(
        status__in=[Status.INBOX, Status.DISCARDED], received_at__lt=cutoff
    ).delete()
    return deleted


# The file import (import_mail and the deal page's upload) lives in imports.py; these names
# stay importable from here, loaded on first use (imports.py imports this module).
_MOVED = (
    "IMPORT_BATCH_SIZE",
    "ImportSummary",
    "mail_import",
    "mail_owner_for_headers",
    "mail_relink_threads",
)


def __getattr__(name: str):
    if name in _MOVED:
        from . import imports

        return getattr(imports, name)
    raise AttributeError(name)
