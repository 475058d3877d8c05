"""Handoff notifications, sent through Django's email backend after the change commits.

Sent on commit so a rolled-back transition never emails anyone; `robust=True` so a mail
server outage is logged instead of turning a committed action into an error page.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from winwin_crm.accounts.roles import DELIVERY

logger = logging.getLogger(__name__)


def _link(handoff) -> str:
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return f"{base}{reverse('handoff:detail', args=[handoff.pk])}"


def _send_on_commit(subject: str, body: str, recipients: list[str]) -> None:
    recipients = sorted({r for r in recipients if r})
    if not recipients:
        logger.info("handoff email %r has no recipients with an address", subject)
        return

    def send():
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)

    transaction.on_commit(send, robust=True)


def delivery_team_emails(handoff) -> list[str]:
    if handoff.delivery_team_id is None:
        return []
    return list(
        handoff.delivery_team.members.filter(is_active=True, groups__name=DELIVERY)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def email_handoff_submitted(handoff) -> None:
    deal = handoff.deal
    _send_on_commit(
        f"New handoff: {deal.title} ({deal.prospect.name})",
        (
            f"{handoff.rep} submitted the handoff of “{deal.title}” for "
            f"{deal.prospect.name} to {handoff.delivery_team}.\n\n"
            f"Please claim it by {handoff.sla_due_at:%Y-%m-%d %H:%M %Z}.\n\n{_link(handoff)}\n"
        ),
        delivery_team_emails(handoff),
    )


def email_question_asked(handoff, message) -> None:
    deal = handoff.deal
    _send_on_commit(
        f"Question on the handoff of {deal.title}",
        (
            f"{message.author} from {handoff.delivery_team} asks about “{deal.title}”:\n\n"
            f"{message.body}\n\nAnswer it here: {_link(handoff)}\n"
        ),
        [handoff.rep.email],
    )


def email_question_answered(handoff, message) -> None:
    deal = handoff.deal
    recipients = [handoff.assignee.email] if handoff.assignee_id else []
    _send_on_commit(
        f"Answer on the handoff of {deal.title}",
        f"{message.author} answered:\n\n{message.body}\n\n{_link(handoff)}\n",
        recipients,
    )
