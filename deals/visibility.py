"""Who may see and change which deals: the one place that decides it.

Every selector, API view and page scopes through these functions, so a permission is
decided once. Children of a deal (needs, line items, activities, …) are visible exactly
when their deal is, via `deal_scope_q(user, prefix="deal__")`.

- admin (superuser): everything.
- rep: the deals they own; they may change them.
- manager: every deal of the teams they manage or belong to as manager; read, acknowledge.
- delivery: closed-won deals handed off to one of their delivery teams; read-only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from winwin_crm.accounts.models import Team
from winwin_crm.accounts.roles import (
    DELIVERY,
    MANAGER,
    REP,
    is_admin,
    roles_of,
    team_memberships,
)

if TYPE_CHECKING:
    from deals.models import Contact, Prospect
    from winwin_crm.accounts.models import User

NOTHING = Q(pk__in=[])


def managed_team_ids(user) -> list[int]:
    """Sales teams whose deals this manager reviews: teams they manage or belong to."""
    if MANAGER not in roles_of(user):
        return []
    return [
        t.team_id
        for t in team_memberships(user)
        if t.kind == Team.Kind.SALES and (t.manages or t.member)
    ]


def delivery_team_ids(user) -> list[int]:
    """Delivery teams whose handoffs this delivery user works on: teams they belong to."""
    if DELIVERY not in roles_of(user):
        return []
    return [t.team_id for t in team_memberships(user) if t.kind == Team.Kind.DELIVERY and t.member]


def sales_team_ids(user) -> list[int]:
    """Sales teams the user belongs to (a rep's team, a manager's own)."""
    return [t.team_id for t in team_memberships(user) if t.kind == Team.Kind.SALES and t.member]


def deal_scope_q(user, prefix: str = "") -> Q:
    """A Q over Deal (or over a model reaching Deal through `prefix`) for what `user` sees."""
    if not user.is_authenticated:
        return NOTHING
    if is_admin(user):
        return Q()
    roles = roles_of(user)
    q = NOTHING
    if REP in roles:
        q |= Q(**{f"{prefix}owner": user})
    team_ids = managed_team_ids(user)
    if team_ids:
        q |= Q(**{f"{prefix}team_id__in": team_ids})
    delivery_ids = delivery_team_ids(user)
    if delivery_ids:
        q |= Q(
            **{
                f"{prefix}stage": "closed_won",
                f"{prefix}handoff__delivery_team_id__in": delivery_ids,
            }
        )
    return q


def deal_edit_scope_q(user, prefix: str = "") -> Q:
    """What `user` may change: reps their own deals, admins everything."""
    if not user.is_authenticated:
        return NOTHING
    if is_admin(user):
        return Q()
    if REP in roles_of(user):
        return Q(**{f"{prefix}owner": user})
    return NOTHING


def scope_to_user(queryset: QuerySet, user, prefix: str = "") -> QuerySet:
    return queryset.filter(deal_scope_q(user, prefix))


def prospect_scope_q(user, prefix: str = "") -> Q:
    """Prospects are visible to their team's members and managers, and through visible deals."""
    if not user.is_authenticated:
        return NOTHING
    if is_admin(user):
        return Q()
    # A subquery, not a join, so prospects with several visible deals are not repeated.
    q = Q(**{f"{prefix}id__in": _visible_deal_ids(user).values("prospect_id")})
    team_ids = sales_team_ids(user) + managed_team_ids(user)
    if team_ids and (REP in roles_of(user) or MANAGER in roles_of(user)):
        q |= Q(**{f"{prefix}team_id__in": team_ids})
    return q


def _visible_deal_ids(user):
    from deals.models import Deal

    return Deal.objects.filter(deal_scope_q(user))


def user_can_edit_deal(user, deal) -> bool:
    if is_admin(user):
        return True
    return REP in roles_of(user) and deal.owner_id == user.id


# --- Prospects and contacts: who may change them ---------------------------------------
# (A block of its own: the rules below are about the buying organisation and its people,
# which several reps' deals share, not about one deal.)
#
# - admin: everything.
# - rep: a prospect of their sales team, and its contacts, while they have an open deal
#   there; or one they created that has no deal yet (the New deal form writes the prospect
#   and its first contact just before the deal).
# - manager, delivery: read-only.


def user_can_create_prospect(user: User, team: Team) -> bool:
    if is_admin(user):
        return True
    return REP in roles_of(user) and team.pk in sales_team_ids(user)


def user_can_edit_prospect(user: User, prospect: Prospect) -> bool:
    """Change or delete the prospect, and add, change or delete its contacts."""
    if is_admin(user):
        return True
    if REP not in roles_of(user) or prospect.team_id not in sales_team_ids(user):
        return False
    from deals.models import Deal  # models import this module

    deals = Deal.objects.filter(prospect_id=prospect.pk)
    if deals.filter(owner_id=user.pk, stage__in=Deal.OPEN_STAGES).exists():
        return True
    return prospect.created_by_id == user.pk and not deals.exists()


def contact_references(contact: Contact) -> list[str]:
    """What still refers to `contact` (so deleting it would lose history): discovery calls
    it attended and handoff packages that list it."""
    from handoff.models import Handoff

    refs = []
    calls = contact.discovery_calls.count()
    if calls:
        refs.append(f"{calls} discovery call{'s' if calls != 1 else ''}")
    packages = Handoff.objects.filter(
        deal__prospect_id=contact.prospect_id, snapshot_at__isnull=False
    )
    named = sum(
        1
        for package in packages.values_list("package", flat=True)
        if any(c.get("id") == contact.pk for c in (package or {}).get("contacts", []))
    )
    if named:
        refs.append(f"{named} handoff package{'s' if named != 1 else ''}")
    return refs
