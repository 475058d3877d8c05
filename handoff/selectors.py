"""Reads of handoffs, scoped to the user through deals.visibility (the one permission rule).

- admin: every handoff; rep: their own deals'; manager: their teams' deals';
- delivery: closed-won deals handed to one of their delivery teams.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from deals.models import Activity, Commitment
from deals.visibility import Viewer
from winwin_crm.accounts.roles import DELIVERY as DELIVERY_ROLE
from winwin_crm.accounts.roles import MANAGER, REP, is_admin, roles_of

from .models import CheckIn, Handoff, HandoffChecklistItem, HandoffEvent, HandoffMessage
from .package import keep_ids_of, package_build, package_diff
from .permissions import handoff_child_scope_q, handoff_scope_q

Status = Handoff.Status

QUEUE_TABS = (
    ("draft", "Drafts"),
    ("unclaimed", "Unclaimed"),
    ("mine", "Mine"),
    ("needs_info", "Needs info"),
    ("overdue", "Overdue"),
    ("accepted", "Accepted"),
    ("leaks", "Leaks"),
    ("all", "All"),
)


# Which tabs each role works from, in their words: a rep never claims a handoff, and
# delivery never has drafts. Managers and admins see every tab.
ROLE_TABS = {
    "delivery": (
        ("unclaimed", "Unclaimed"),
        ("mine", "Claimed by me"),
        ("needs_info", "Waiting for the rep"),
        ("overdue", "Overdue"),
        ("accepted", "Accepted"),
        ("leaks", "Leaks"),
        ("all", "All"),
    ),
    "rep": (
        ("draft", "To submit"),
        ("unclaimed", "Waiting for delivery"),
        ("needs_info", "Questions for you"),
        ("accepted", "Accepted"),
        ("leaks", "Leaks"),
        ("all", "All"),
    ),
}
ROLE_INTROS = {
    "delivery": (
        "Closed-won deals on their way to your team: claim them within the SLA, ask the rep "
        "what the package doesn't say, accept when you own the customer."
    ),
    "rep": (
        "Your won deals on their way to delivery: tick the checklist and submit each draft, "
        "and answer delivery's questions."
    ),
    "": "Closed-won deals on their way to delivery, with their SLA.",
}


def queue_role(user: Viewer) -> str:
    """'delivery', 'rep' or '' (managers, admins, anyone with several hats)."""
    roles = roles_of(user)
    if is_admin(user) or MANAGER in roles:
        return ""
    if DELIVERY_ROLE in roles:
        return "delivery"
    return "rep" if REP in roles else ""


def queue_tabs_for(user: Viewer) -> tuple[tuple[str, str], ...]:
    return ROLE_TABS.get(queue_role(user), QUEUE_TABS)


def _leak_exists() -> Exists:
    """A buyer-initiated support request on the deal after the handoff was accepted: the
    customer still goes to the rep for service, so the handoff leaked. (Before acceptance
    accepted_at is NULL and the comparison is never true.)"""
    return Exists(
        Activity.objects.filter(
            deal_id=OuterRef("deal_id"),
            kind=Activity.Kind.SUPPORT,
            initiated_by=Activity.InitiatedBy.BUYER,
            occurred_at__gt=OuterRef("accepted_at"),
        )
    )


def handoff_list(*, user: Viewer) -> QuerySet[Handoff]:
    """Handoffs `user` may see, joined for lists, with `has_leak` annotated."""
    return (
        Handoff.objects.filter(handoff_scope_q(user))
        .select_related("deal", "deal__prospect", "delivery_team", "rep", "assignee")
        .annotate(has_leak=_leak_exists())
        .order_by("-created_at", "-id")
    )


def tab_q(tab: str, *, user: Viewer, now: dt.datetime | None = None) -> Q:
    now = now or timezone.now()
    return {
        "draft": Q(status=Status.DRAFT),
        "unclaimed": Q(status=Status.SUBMITTED),
        "mine": Q(assignee_id=user.pk, status__in=[Status.CLAIMED, Status.NEEDS_INFO]),
        "needs_info": Q(status=Status.NEEDS_INFO),
        "overdue": Q(status=Status.SUBMITTED, sla_due_at__lt=now),
        "accepted": Q(status=Status.ACCEPTED),
        "leaks": Q(has_leak=True),
        "all": Q(),
    }[tab]


def handoff_queue(*, user: Viewer, tab: str) -> QuerySet[Handoff]:
    qs = handoff_list(user=user).filter(tab_q(tab, user=user))
    if tab in ("unclaimed", "overdue"):
        # Oldest promise first: the one closest to (or furthest past) its SLA.
        qs = qs.order_by("sla_due_at", "id")
    return qs


def handoff_queue_counts(*, user: Viewer) -> dict[str, int]:
    """The count for every queue tab, in one query."""
    now = timezone.now()
    return handoff_list(user=user).aggregate(
        **{tab: Count("id", filter=tab_q(tab, user=user, now=now)) for tab, _label in QUEUE_TABS}
    )


def handoff_get(*, user: Viewer, handoff_id: int) -> Handoff:
    """One handoff the user may see, or 404."""
    handoff = handoff_list(user=user).filter(pk=handoff_id).first()
    if handoff is None:
        raise Http404("No such handoff.")
    return handoff


def handoff_detail_parts(*, handoff: Handoff) -> dict[str, Any]:
    """Checklist, thread, events, check-ins and commitments of one handoff."""
    return {
        "checklist": list(
            HandoffChecklistItem.objects.filter(handoff=handoff).select_related("checked_by")
        ),
        "messages": list(HandoffMessage.objects.filter(handoff=handoff).select_related("author")),
        "events": list(HandoffEvent.objects.filter(handoff=handoff).select_related("actor")),
        "check_ins": list(CheckIn.objects.filter(handoff=handoff).select_related("recorded_by")),
        "commitments": list(
            Commitment.objects.filter(deal_id=handoff.deal_id)
            .select_related("owner")
            .order_by("due_date", "id")
        ),
        "leak_activities": list(handoff_leak_activities(handoff=handoff)),
    }


def handoff_leak_activities(*, handoff: Handoff) -> QuerySet[Activity]:
    if handoff.accepted_at is None:
        return Activity.objects.none()
    return Activity.objects.filter(
        deal_id=handoff.deal_id,
        kind=Activity.Kind.SUPPORT,
        initiated_by=Activity.InitiatedBy.BUYER,
        occurred_at__gt=handoff.accepted_at,
    ).order_by("-occurred_at")


def handoff_changes_since_snapshot(*, handoff: Handoff) -> list[dict[str, Any]]:
    """What changed on the deal since the package was frozen (empty before submit)."""
    if not handoff.package:
        return []
    current = package_build(
        deal=handoff.deal,
        notes_for_delivery=handoff.notes_for_delivery,
        keep_ids=keep_ids_of(handoff.package),
    )
    return package_diff(frozen=handoff.package, current=current)


def check_in_list(*, user: Viewer) -> QuerySet[CheckIn]:
    return (
        CheckIn.objects.filter(handoff_child_scope_q(user))
        .select_related("handoff", "handoff__deal", "recorded_by")
        .order_by("due_date", "id")
    )


def checklist_item_list(*, user: Viewer) -> QuerySet[HandoffChecklistItem]:
    return (
        HandoffChecklistItem.objects.filter(handoff_child_scope_q(user))
        .select_related("handoff", "checked_by")
        .order_by("handoff_id", "position", "id")
    )
