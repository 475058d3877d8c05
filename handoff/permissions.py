"""Who may do what with a handoff: the one place the handoff app decides it.

Seeing a handoff follows its deal (`handoff_scope_q`, from deals.visibility). Acting on it:
the deal's rep completes the checklist, submits and answers questions; a member of the
handoff's delivery team claims it and records check-ins; only the member who claimed it
asks and accepts; only an admin moves it to another delivery team. Services ask these
functions and views read them to show the actions a user has; neither re-derives them.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from deals.visibility import Viewer, deal_scope_q, delivery_team_ids
from winwin_crm.accounts.roles import DELIVERY, is_admin, roles_of

from .models import Handoff


def handoff_scope_q(user: Viewer) -> Q:
    """Handoffs visible to `user`: exactly those of the deals they see."""
    return deal_scope_q(user, prefix="deal__")


def handoff_child_scope_q(user: Viewer) -> Q:
    """Check-ins and checklist items visible to `user`: those of the handoffs they see."""
    return deal_scope_q(user, prefix="handoff__deal__")


def is_deal_rep(user: Viewer, handoff: Handoff) -> bool:
    return user.is_authenticated and handoff.deal.owner_id == user.pk


def is_delivery_member(user: Viewer, handoff: Handoff) -> bool:
    return (
        user.is_authenticated
        and handoff.delivery_team_id is not None
        and DELIVERY in roles_of(user)
        and handoff.delivery_team_id in delivery_team_ids(user)
    )


def is_assignee(user: Viewer, handoff: Handoff) -> bool:
    return is_delivery_member(user, handoff) and handoff.assignee_id == user.pk


def may_reassign_delivery_team(user: Viewer) -> bool:
    return is_admin(user)


def require(allowed: bool, message: str) -> None:
    """Refuse with `message` (a 403) unless `allowed`."""
    if not allowed:
        raise PermissionDenied(message)
