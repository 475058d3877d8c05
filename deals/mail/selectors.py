"""Reads of captured mail, already scoped to the user."""

from __future__ import annotations

from django.db.models import QuerySet

from deals.models import CapturedMail, Deal
from deals.visibility import deal_edit_scope_q, deal_scope_q

# Every list a request builds is capped.
INBOX_LIMIT = 100
DEAL_CHOICES_LIMIT = 200


def mail_inbox(*, user) -> QuerySet[CapturedMail]:
    """Mail waiting for this user: only mail they sent or that came to their address."""
    return CapturedMail.objects.filter(user=user, status=CapturedMail.Status.INBOX).order_by(
        "-received_at", "-id"
    )


def mail_for_activity(*, user, activity_id: int) -> CapturedMail | None:
    """The captured mail behind an activity, when the user may see the activity's deal."""
    return (
        CapturedMail.objects.filter(deal_scope_q(user, prefix="activity__deal__"))
        .filter(activity_id=activity_id)
        .select_related("activity", "activity__deal")
        .first()
    )


def mail_assignable_deals(*, user, mail: CapturedMail) -> list[Deal]:
    """Deals the user may log this mail on: the matched candidates first, then the rest
    of their open deals."""
    editable = Deal.objects.filter(deal_edit_scope_q(user))
    candidates = list(editable.filter(id__in=mail.candidate_deal_ids[:20]).order_by("title"))
    seen = {d.id for d in candidates}
    others = [
        d
        for d in editable.filter(stage__in=Deal.OPEN_STAGES).order_by("title")[:DEAL_CHOICES_LIMIT]
        if d.id not in seen
    ]
    return candidates + others
