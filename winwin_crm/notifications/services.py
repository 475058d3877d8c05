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
# A digest lists this many items and then says how many more wait in the inbox.
DIGEST_MAX_ITEMS = 50


@dataclass(frozen=True)
class NotifyResult:
    """Who got it: every `notified` user sees it in the app; `no_email` wanted an email
    but has no address, so the sender can say so instead of pretending it was sent."""

    notified: list[User] = field(default_factory=list)
    emailed: list[User] = field(default_factory=list)
    no_email: list[User] = field(default_factory=list)

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


def delivery_for(*, users: list[User], kind: str) -> dict[int, str]:
    chosen = dict(
        NotificationPreference.objects.filter(user__in=users, kind=kind).values_list(
            "user_id", "delivery"
        )
    )
    return {u.pk: chosen.get(u.pk, default_delivery(kind)) for u in users}


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
    if kind not in Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    people: dict[int, User] = {}
    for user in recipients:
        if user is None or not user.is_active or (actor is not None and user.pk == actor.pk):
            continue
        people.setdefault(user.pk, user)
    if key and people:
        already = set(
            Notification.objects.filter(recipient_id__in=people, key=key).values_list(
                "recipient_id", flat=True
            )
        )
        people = {pk: u for pk, u in people.items() if pk not in already}
    if not people:
        return NotifyResult()
    users = sorted(people.values(), key=lambda u: (str(u), u.pk))
    how = delivery_for(users=users, kind=kind)
    rows, emailed, no_email, send_now = [], [], [], []
    for user in users:
        email_state = Notification.Email.NONE
        if how[user.pk] != Delivery.OFF:
            if not user.email:
                email_state = Notification.Email.NO_ADDRESS
                no_email.append(user)
            elif how[user.pk] == Delivery.DAILY:
                email_state = Notification.Email.PENDING_DIGEST
                emailed.append(user)
            else:
                email_state = Notification.Email.SENT
                emailed.append(user)
                send_now.append(user)
        rows.append(
            Notification(
                recipient=user,
                kind=kind,
                title=title[:200],
                body=body,
                url=url,
                actor=actor,
                key=key,
                email=email_state,
            )
        )
    Notification.objects.bulk_create(rows)
    if send_now:
        _email_on_commit(
            [
                EmailMessage(
                    subject=title[:200],
                    body=_email_body(title=title, body=body, url=url),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[user.email],
                )
                for user in send_now
            ]
        )
    if no_email:
        logger.info("notification %s %r: no email address for %s", kind, title, no_email)
    return NotifyResult(notified=users, emailed=emailed, no_email=no_email)


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
                Notification.objects.select_for_update(skip_locked=True)
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
