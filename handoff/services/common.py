"""What every handoff write shares: the row lock, the status check, the event record."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from deals.health import health_recompute_on_commit
from deals.models import Deal
from handoff.models import Handoff, HandoffEvent
from winwin_crm.accounts.models import User

Status = Handoff.Status

CHECK_IN_OFFSETS_DAYS = (30, 90, 180)

# (key, label, required) — used when no ChecklistTemplateItem is configured.
DEFAULT_CHECKLIST = (
    ("kickoff_contact_confirmed", "Kickoff contact confirmed", True),
    ("needs_reviewed_with_buyer", "Needs reviewed with buyer", True),
    ("commitments_listed", "Commitments listed", True),
    ("limitations_disclosed", "Limitations disclosed", True),
    ("success_criteria_agreed", "Success criteria agreed", True),
)


class HandoffTransitionError(Exception):
    """The handoff's current state does not allow this action (answered 409)."""


# --- helpers ---------------------------------------------------------------------------


def lock_handoff(handoff_id: int) -> Handoff:
    # of=("self",): lock only the handoff row; PostgreSQL refuses FOR UPDATE on the
    # nullable side of the outer joins select_related adds for the optional foreign keys.
    return (
        Handoff.objects.select_for_update(of=("self",))
        .select_related("deal", "deal__prospect", "deal__team", "rep", "delivery_team", "assignee")
        .get(pk=handoff_id)
    )


def require_status(handoff: Handoff, allowed: tuple[str, ...], action: str) -> None:
    if handoff.status not in allowed:
        wanted = " or ".join(Status(s).label.lower() for s in allowed)
        raise HandoffTransitionError(
            f"Cannot {action} this handoff: it is {handoff.get_status_display().lower()}, "
            f"and only a {wanted} handoff can be {_past(action)}."
        )


def _past(action: str) -> str:
    return {
        "submit": "submitted",
        "claim": "claimed",
        "ask about": "asked about",
        "answer": "answered",
        "accept": "accepted",
        "change the checklist of": "changed",
        "edit the notes of": "edited",
        "record a check-in on": "checked in on",
        "update commitments of": "updated",
    }.get(action, action)


def record_event(
    handoff: Handoff, *, user: User | None, from_status: str, note: str = ""
) -> HandoffEvent:
    health_recompute_on_commit(deal_id=handoff.deal_id)
    return HandoffEvent.objects.create(
        handoff=handoff,
        from_status=from_status,
        to_status=handoff.status,
        actor=user if getattr(user, "is_authenticated", False) else None,
        note=note,
        at=timezone.now(),
    )


def sla_hours(deal: Deal) -> int:
    """The deal team's policy's handoff SLA (the global policy, else 48 hours)."""
    from deals.health import policy_for_team

    return policy_for_team(deal.team).handoff_sla_hours


def required_text(value: str | None, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: [message]})
    return text
