"""Reminders that come with the clock, run by a beat task: a handoff whose claim SLA is
about to pass, and a check-in that is due. Each goes once (notification keys)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from winwin_crm.notifications.models import Kind
from winwin_crm.notifications.services import notify

from .emails import delivery_team_members
from .models import CheckIn, Handoff

# Warn this long before the SLA passes: enough to claim it within a working morning.
SLA_WARNING = dt.timedelta(hours=4)
# A run touches at most this many; the next run (every 15 minutes) picks up the rest.
REMINDERS_PER_RUN = 500
CHECK_IN_LOOKBACK = dt.timedelta(days=14)


def sla_at_risk_notify(*, now: dt.datetime | None = None) -> int:
    """Tell the delivery team about each unclaimed handoff whose SLA passes within 4 h."""
    now = now or timezone.now()
    handoffs = (
        Handoff.objects.filter(
            status=Handoff.Status.SUBMITTED, sla_due_at__gt=now, sla_due_at__lte=now + SLA_WARNING
        )
        .select_related("deal__prospect", "delivery_team")
        .order_by("sla_due_at")[:REMINDERS_PER_RUN]
    )
    told = 0
    for handoff in handoffs:
        assert handoff.sla_due_at is not None  # filtered on it above
        left = max(int((handoff.sla_due_at - now).total_seconds() // 60), 1)
        hours, minutes = divmod(left, 60)
        result = notify(
            recipients=delivery_team_members(handoff),
            kind=Kind.SLA_AT_RISK,
            title=(
                f"Claim {handoff.deal.title} ({handoff.deal.prospect.name}) within "
                f"{f'{hours} h ' if hours else ''}{minutes} min"
            ),
            body="Its SLA runs out soon; nobody has claimed it yet.",
            url=reverse("handoff:detail", args=[handoff.pk]),
            key=f"sla:{handoff.pk}:{handoff.sla_due_at:%Y%m%d%H%M}",
        )
        told += len(result.notified)
    return told


def check_ins_due_notify(*, today: dt.date | None = None) -> int:
    """Tell the handoff's assignee (else its delivery team) that a check-in is due."""
    today = today or timezone.localdate()
    check_ins = (
        CheckIn.objects.filter(
            completed_at__isnull=True,
            due_date__lte=today,
            # Older ones were told already (or before this existed); keeps the scan short.
            due_date__gte=today - CHECK_IN_LOOKBACK,
        )
        .select_related("handoff__deal__prospect", "handoff__assignee", "handoff__delivery_team")
        .order_by("due_date", "id")[:REMINDERS_PER_RUN]
    )
    told = 0
    for check_in in check_ins:
        handoff = check_in.handoff
        recipients = (
            [handoff.assignee] if handoff.assignee is not None else delivery_team_members(handoff)
        )
        result = notify(
            recipients=recipients,
            kind=Kind.CHECK_IN_DUE,
            title=f"Day-{check_in.day_offset} check-in due: {handoff.deal.title}",
            body=(
                f"Ask {handoff.deal.prospect.name} whether they get the value they bought "
                f"(due {check_in.due_date:%d %b %Y})."
            ),
            url=reverse("handoff:detail", args=[handoff.pk]) + "#check-ins",
            key=f"check_in:{check_in.pk}",
        )
        told += len(result.notified)
    return told
