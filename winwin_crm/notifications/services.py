"""Writes of notifications: `notify()` for every sender, mark read, preferences, digest."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from winwin_crm.accounts.models import User

from .models import Delivery, Kind, Notification, NotificationPreference, default_delivery

logger = logging.getLogger(__name__)

# One digest email per user; users are read in pages so a big team never loads at once.
DIGEST_USERS_PER_BATCH = 200
# Rows per INSERT when a sweep opens flags on thousands of deals at once.
BULK_BATCH = 1000
# A digest lists this many items and then says how many more wait in the inbox.
DIGEST_MAX_ITEMS = 50


@dataclass(frozen=True)
class NotifyResult:
    """Who got it: every `notified` user sees it in the app; `no_email` wanted an email
    but has no address, so the sender can say so instead of pretending it was sent."""

    notified: list[User] = field(default_factory=list)
    emailed: list[User] = field(default_factory=list)
    no_email: list[User] = field(default_factory=list)
    written: int = 0  # inbox rows written (one person may get several from notify_each)

    def sentence(self, *, nobody: str = "Nobody could be notified.") -> str:
        """'Rita Reyes was notified.' / '… has no email address, so only their in-app inbox
        shows it.' — what the sender is told after the action."""
        if not self.notified:
            return nobody
        names = ", ".join(str(u) for u in self.notified)
        verb = "was" if len(self.notified) == 1 else "were"
        text = f"{names} {verb} notified."
        if self.no_email:
            missing = ", ".join(str(u) for u in self.no_email)
            has = "has" if len(self.no_email) == 1 else "have"
            text += f" {missing} {has} no email address, so only their in-app inbox shows it."
        return text


def absolute_url(path: str) -> str:
    """Links in emails must work outside the app: SITE_URL + the path."""
    return settings.SITE_URL.rstrip("/") + path


@dataclass(frozen=True)
class Notice:
    """One notification for one person: what notify_each() writes in bulk."""

    recipient: User
    kind: str
    title: str
    url: str
    body: str = ""
    key: str = ""


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    url: str,
    body: str = "",
    actor: User | None = None,
    key: str = "",
) -> NotifyResult:
    """Put a notification in each recipient's inbox and email it as they chose.

    The actor is never told about their own action; a `key` makes a repeated call (a beat
    task every few minutes) a no-op for whoever already has it. Emails go after commit.
    """
    people: dict[int, User] = {}
    for user in recipients:
        if user is not None:
            people.setdefault(user.pk, user)
    notices = [
        Notice(recipient=user, kind=kind, title=title, url=url, body=body, key=key)
        for user in sorted(people.values(), key=lambda u: (str(u), u.pk))
    ]
    return notify_each(notices=notices, actor=actor)


def notify_each(*, notices: list[Notice], actor: User | None = None) -> NotifyResult:
    """notify() for many different notifications at once (a health sweep's new flags):
    a fixed number of queries whatever their number."""
    for notice in notices:
        if notice.kind not in Kind.values:
            raise ValueError(f"unknown notification kind {notice.kind!r}")
    notices = [
        n
        for n in notices
        if n.recipient.is_active and (actor is None or n.recipient.pk != actor.pk)
    ]
    keyed = [n for n in notices if n.key]
    if keyed:
        already = set(
            Notification.objects.filter(
                recipient_id__in={n.recipient.pk for n in keyed}, key__in={n.key for n in keyed}
            ).values_list("recipient_id", "key")
        )
        notices = [n for n in notices if not n.key or (n.recipient.pk, n.key) not in already]
    if not notices:
        return NotifyResult()
    chosen = {
        (user_id, kind): delivery
        for user_id, kind, delivery in NotificationPreference.objects.filter(
            user_id__in={n.recipient.pk for n in notices},
            kind__in={n.kind for n in notices},
        ).values_list("user_id", "kind", "delivery")
    }
    rows, messages = [], []
    notified: dict[int, User] = {}
    emailed: dict[int, User] = {}
    no_email: dict[int, User] = {}
    for notice in notices:
        user = notice.recipient
        notified.setdefault(user.pk, user)
        how = chosen.get((user.pk, notice.kind), default_delivery(notice.kind))
        email_state = Notification.Email.NONE
        if how != Delivery.OFF:
            if not user.email:
                email_state = Notification.Email.NO_ADDRESS
                no_email.setdefault(user.pk, user)
            elif how == Delivery.DAILY:
                email_state = Notification.Email.PENDING_DIGEST
                emailed.setdefault(user.pk, user)
            else:
                email_state = Notification.Email.SENT
                emailed.setdefault(user.pk, user)
                messages.append(
                    EmailMessage(
                        subject=notice.title[:200],
                        body=_email_body(title=notice.title, body=notice.body, url=notice.url),
                        from_email=settings.DEFAULT_FROM_EMAIL,
                        to=[user.email],
                    )
                )
        rows.append(
            Notification(
                recipient=user,
                kind=notice.kind,
                title=notice.title[:200],
                body=notice.body,
                url=notice.url,
                actor=actor,
                key=notice.key,
                email=email_state,
            )
        )
    Notification.objects.bulk_create(rows, batch_size=BULK_BATCH)
    if messages:
        _email_on_commit(messages)
    if no_email:
        logger.info("%d notifications: no email address for %s", len(rows), list(no_email.values()))
    return NotifyResult(
        notified=list(notified.values()),
        emailed=list(emailed.values()),
        no_email=list(no_email.values()),
        written=len(rows),
    )


def _email_body(*, title: str, body: str, url: str) -> str:
    parts = [title]
    if body:
        parts.append(body)
    parts.append(absolute_url(url))
    parts.append(f"Choose which emails you get: {absolute_url('/notifications/settings/')}")
    return "\n\n".join(parts) + "\n"


def _email_on_commit(messages: list[EmailMessage]) -> None:
    # On commit, so a rolled-back action emails nobody; robust, so a mail-server outage
    # is logged instead of turning a committed action into an error page.
    def send() -> None:
        with get_connection() as connection:
            connection.send_messages(messages)

    transaction.on_commit(send, robust=True)


def notification_mark_read(*, user: User, notification_id: int) -> int:
    """Mark one of the user's notifications read; returns how many rows changed (0 or 1)."""
    return Notification.objects.filter(
        recipient=user, pk=notification_id, read_at__isnull=True
    ).update(read_at=timezone.now())


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def preferences_set(*, user: User, choices: dict[str, str]) -> None:
    """Save the user's per-kind email choice (only kinds and values we know)."""
    for kind, delivery in choices.items():
        if kind not in Kind.values or delivery not in Delivery.values:
            raise ValueError(f"unknown preference {kind}={delivery}")
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"delivery": delivery}
        )


def notifications_digest_send() -> int:
    """Email each user one digest of what waits for it; returns how many emails went out.

    Rows are marked sent in the same transaction that queues the email, so a second run
    (a retried task) finds nothing left to send.
    """
    sent = 0
    while True:
        with transaction.atomic():
            pending = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(email=Notification.Email.PENDING_DIGEST)
                .select_related("recipient")
                .order_by("recipient_id", "-created_at")[: DIGEST_USERS_PER_BATCH * 20]
            )
            if not pending:
                return sent
            by_user: dict[int, list[Notification]] = defaultdict(list)
            for row in pending:
                by_user[row.recipient_id].append(row)
            messages = []
            for rows in by_user.values():
                user = rows[0].recipient
                if not user.email:
                    continue
                lines = [f"- {n.title}\n  {absolute_url(n.url)}" for n in rows[:DIGEST_MAX_ITEMS]]
                if len(rows) > DIGEST_MAX_ITEMS:
                    lines.append(f"…and {len(rows) - DIGEST_MAX_ITEMS} more in your inbox.")
                messages.append(
                    EmailMessage(
                        subject=f"WinWin CRM: {len(rows)} update{'s' if len(rows) != 1 else ''}",
                        body=(
                            "Here is what happened since your last digest.\n\n"
                            + "\n".join(lines)
                            + f"\n\nYour inbox: {absolute_url('/notifications/')}\n"
                        ),
                        from_email=settings.DEFAULT_FROM_EMAIL,
                        to=[user.email],
                    )
                )
            Notification.objects.filter(pk__in=[n.pk for n in pending]).update(
                email=Notification.Email.SENT
            )
            if messages:
                _email_on_commit(messages)
            sent += len(messages)
