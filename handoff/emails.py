"""Handoff notifications: in the inbox of the people who must act, and emailed as each of
them chose (winwin_crm.notifications). Each returns who was told, so the page can say
"Rita Reyes was notified" — or that she has no email address — instead of just "sent".
"""

from __future__ import annotations

from django.urls import reverse

from winwin_crm.accounts.models import User
from winwin_crm.accounts.roles import DELIVERY
from winwin_crm.notifications.models import Kind
from winwin_crm.notifications.services import NotifyResult, notify


def _path(handoff) -> str:
    return reverse("handoff:detail", args=[handoff.pk])


def delivery_team_members(handoff) -> list[User]:
    if handoff.delivery_team_id is None:
        return []
    return list(handoff.delivery_team.members.filter(is_active=True, groups__name=DELIVERY))


def email_handoff_submitted(handoff, *, actor: User | None = None) -> NotifyResult:
    deal = handoff.deal
    return notify(
        recipients=delivery_team_members(handoff),
        kind=Kind.HANDOFF_SUBMITTED,
        title=f"New handoff: {deal.title} ({deal.prospect.name})",
        body=(
            f"{handoff.rep} submitted the handoff of “{deal.title}” for "
            f"{deal.prospect.name} to {handoff.delivery_team}.\n\n"
            f"Please claim it by {handoff.sla_due_at:%Y-%m-%d %H:%M %Z}."
        ),
        url=_path(handoff),
        actor=actor,
    )


def email_question_asked(handoff, message) -> NotifyResult:
    deal = handoff.deal
    return notify(
        recipients=[handoff.rep] if handoff.rep_id else [],
        kind=Kind.HANDOFF_QUESTION,
        title=f"Question on the handoff of {deal.title}",
        body=f"{message.author} from {handoff.delivery_team} asks:\n\n{message.body}",
        url=_path(handoff),
        actor=message.author,
    )


def email_question_answered(handoff, message) -> NotifyResult:
    deal = handoff.deal
    return notify(
        recipients=[handoff.assignee] if handoff.assignee_id else [],
        kind=Kind.HANDOFF_ANSWER,
        title=f"Answer on the handoff of {deal.title}",
        body=f"{message.author} answered:\n\n{message.body}",
        url=_path(handoff),
        actor=message.author,
    )
