"""Who may see and change what on the sales side: the one place that decides it.

Every selector, API view, page and service asks these functions, so a permission is
decided once and never re-derived. Children of a deal (needs, line items, activities, …)
are visible exactly when their deal is, via `deal_scope_q(user, prefix="deal__")`.

- admin (superuser): everything.
- rep: the deals they own; they may change them. Prospects and contacts of their team.
- manager: every deal of the teams they manage or belong to as manager; read, acknowledge
  flags, set their teams' health policies, import into their teams, see their dashboard.
- delivery: closed-won deals handed off to one of their delivery teams, and deals whose
  handoff they already have (submitted or later) even once reopened; read-only, except
  the commitments of a handoff they accepted.

Sections: teams · deals · prospects and contacts · commitments · health (flags, policies)
· dashboard · imports. The handoff app's own rules are in handoff/permissions.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from winwin_crm.accounts.models import Team, User
from winwin_crm.accounts.roles import (
    DELIVERY,
    MANAGER,
    REP,
    is_admin,
    roles_of,
    team_memberships,
)

if TYPE_CHECKING:
    from deals.models import Commitment, Contact, Deal, HealthPolicy, Prospect

# Whoever makes the request: pages and the API may ask about a user who is not logged in.
Viewer: TypeAlias = User | AnonymousUser

NOTHING = Q(pk__in=[])
# Handoff statuses past draft: delivery has the package.
SENT_HANDOFF_STATUSES = ("submitted", "claimed", "needs_info", "accepted")


# --- teams ---------------------------------------------------------------------------------


def managed_team_ids(user: Viewer) -> list[int]:
    """Sales teams whose deals this manager reviews: teams they manage or belong to."""
    if MANAGER not in roles_of(user):
        return []
    return [
        t.team_id
        for t in team_memberships(user)
        if t.kind == Team.Kind.SALES and (t.manages or t.member)
    ]


def delivery_team_ids(user: Viewer) -> list[int]:
    """Delivery teams whose handoffs this delivery user works on: teams they belong to."""
    if DELIVERY not in roles_of(user):
        return []
    return [t.team_id for t in team_memberships(user) if t.kind == Team.Kind.DELIVERY and t.member]


def sales_team_ids(user: Viewer) -> list[int]:
    """Sales teams the user belongs to (a rep's team, a manager's own)."""
    return [t.team_id for t in team_memberships(user) if t.kind == Team.Kind.SALES and t.member]


def managed_teams(user: Viewer) -> QuerySet[Team]:
    """Sales teams a manager works for (every sales team for an admin): the dashboard's
    scope, the teams a manager may import into."""
    teams = Team.objects.filter(kind=Team.Kind.SALES)
    if is_admin(user):
        return teams
    return teams.filter(id__in=managed_team_ids(user))


# --- deals ---------------------------------------------------------------------------------


def deal_scope_q(user: Viewer, prefix: str = "") -> Q:
    """A Q over Deal (or over a model reaching Deal through `prefix`) for what `user` sees."""
    if not user.is_authenticated:
        return NOTHING
    if is_admin(user):
        return Q()
    q = _owned_and_managed_q(user, prefix)
    delivery_ids = delivery_team_ids(user)
    if delivery_ids:
        team = {f"{prefix}handoff__delivery_team_id__in": delivery_ids}
        # A handoff delivery already has stays theirs when the deal is reopened (the page
        # shows why), rather than turning into a 404 under their feet.
        q |= Q(**{f"{prefix}stage": "closed_won"}, **team) | Q(
            **{f"{prefix}handoff__status__in": SENT_HANDOFF_STATUSES}, **team
        )
    return q


def deal_scope_by_team_and_owner_q(user: Viewer) -> Q | None:
    """deal_scope_q in the columns `team_id` and `owner_id` alone, for rows that carry
    those and are not deals (the dashboard's deal sums); None where the scope needs more
    than those (a delivery user sees deals through their handoffs)."""
    if not user.is_authenticated:
        return None
    if is_admin(user):
        return Q()
    if delivery_team_ids(user):
        return None
    return _owned_and_managed_q(user)


def _owned_and_managed_q(user: Viewer, prefix: str = "") -> Q:
    """A rep's own deals and the deals of the teams a manager manages, by the deal's
    owner_id and team_id (the part of deal_scope_q other rows carry too)."""
    q = NOTHING
    if REP in roles_of(user):
        q |= Q(**{f"{prefix}owner_id": user.pk})
    team_ids = managed_team_ids(user)
    if team_ids:
        q |= Q(**{f"{prefix}team_id__in": team_ids})
    return q


def deal_edit_scope_q(user: Viewer, prefix: str = "") -> Q:
    """What `user` may change: reps their own deals, admins everything."""
    if not user.is_authenticated:
        return NOTHING
    if is_admin(user):
        return Q()
    if REP in roles_of(user):
        return Q(**{f"{prefix}owner": user})
    return NOTHING


def scope_to_user(queryset: QuerySet, user: Viewer, prefix: str = "") -> QuerySet:
    return queryset.filter(deal_scope_q(user, prefix))


def user_can_create_deal(user: Viewer) -> bool:
    """Deals are owned by reps (admins may create them for anyone)."""
    return is_admin(user) or REP in roles_of(user)


def user_can_edit_deal(user: Viewer, deal: Deal) -> bool:
    if is_admin(user):
        return True
    return REP in roles_of(user) and deal.owner_id == user.pk


def user_can_reopen_handed_off_deal(user: Viewer, deal: Deal) -> bool:
    """A won deal whose handoff delivery already has reopens for its rep or a team manager."""
    return user_can_edit_deal(user, deal) or deal.team_id in managed_team_ids(user)


# --- prospects and contacts ----------------------------------------------------------------


def prospect_scope_q(user: Viewer, prefix: str = "") -> Q:
    """Prospects are visible to their team's members and managers, and through visible deals."""
    if not user.is_authenticated:
        return NOTHING
    if is_admin(user):
        return Q()
    # A subquery, not a join, so prospects with several visible deals are not repeated.
    q = Q(**{f"{prefix}id__in": _visible_deal_ids(user).values("prospect_id")})
    team_ids = prospect_team_ids(user)
    if team_ids and (REP in roles_of(user) or MANAGER in roles_of(user)):
        q |= Q(**{f"{prefix}team_id__in": team_ids})
    return q


def _visible_deal_ids(user: Viewer) -> QuerySet[Deal]:
    from deals.models import Deal

    return Deal.objects.filter(deal_scope_q(user))


def prospect_team_ids(user: Viewer) -> list[int]:
    """Sales teams whose prospects the user works with: their own, then those they manage."""
    ids = sales_team_ids(user)
    return ids + [i for i in managed_team_ids(user) if i not in ids]


def prospect_teams(user: Viewer) -> QuerySet[Team]:
    """The teams a new prospect may belong to (every sales team for an admin)."""
    teams = Team.objects.filter(kind=Team.Kind.SALES)
    if is_admin(user):
        return teams
    return teams.filter(pk__in=prospect_team_ids(user))


def user_can_edit_prospect(user: Viewer, prospect: Prospect) -> bool:
    """Admins, and reps with an open deal at the prospect, change it and its contacts;
    managers read (rules in the block "Prospects and contacts: who may change them")."""
    if is_admin(user):
        return True
    return _rep_with_an_open_deal_may_edit(user, prospect)


def user_can_use_prospect_for_deal(user: Viewer, prospect: Prospect) -> bool:
    """A rep opens deals with their own teams' prospects only."""
    return is_admin(user) or prospect.team_id in prospect_team_ids(user)


# --- commitments ---------------------------------------------------------------------------


def user_can_set_commitment_status(user: Viewer, commitment: Commitment) -> bool:
    """The deal's editors; after acceptance also the delivery team, which now owns the
    customer and keeps the promises."""
    if user_can_edit_deal(user, commitment.deal):
        return True
    if DELIVERY not in roles_of(user):
        return False
    handoff = getattr(commitment.deal, "handoff", None)
    return (
        handoff is not None
        and handoff.status == "accepted"
        and handoff.delivery_team_id in delivery_team_ids(user)
    )


# --- health: flags and policies ------------------------------------------------------------


def user_can_acknowledge_flags(user: Viewer, deal: Deal) -> bool:
    """A manager of the deal's team (or an admin) accepts its flags with a note."""
    return is_admin(user) or deal.team_id in managed_team_ids(user)


def user_can_work_with_policies(user: Viewer) -> bool:
    """Health policies are read and changed by managers and admins only."""
    return bool(user.is_authenticated and (is_admin(user) or MANAGER in roles_of(user)))


def policy_scope_q(user: Viewer) -> Q:
    """Policies a manager reads: the global one (what applies when their team has none) and
    their teams' own; an admin reads every one."""
    if is_admin(user):
        return Q()
    return Q(team__isnull=True) | Q(team_id__in=managed_team_ids(user))


def user_can_set_team_policy(user: Viewer, team: Team) -> bool:
    """Give `team` its own policy: the team's managers and admins."""
    return is_admin(user) or team.pk in managed_team_ids(user)


def user_can_edit_policy(user: Viewer, policy: HealthPolicy) -> bool:
    """Admins change the global policy; managers their teams' own."""
    if is_admin(user):
        return True
    return policy.team_id is not None and policy.team_id in managed_team_ids(user)


# --- dashboard -----------------------------------------------------------------------------


def user_can_view_dashboard(user: Viewer) -> bool:
    return bool(user.is_authenticated and (is_admin(user) or MANAGER in roles_of(user)))


def dashboard_team_ids(user: Viewer) -> list[int] | None:
    """The teams a dashboard covers: None for every team (an admin), else the managed
    teams (empty for a user without a dashboard)."""
    if not user_can_view_dashboard(user):
        return []
    if is_admin(user):
        return None
    return managed_team_ids(user)


def dashboard_scope_q(user: Viewer, prefix: str = "") -> Q:
    """Deals on this user's dashboard: admins all, managers their teams' deals only.

    It narrows deal_scope_q to the managed teams, so a manager who is also on a delivery
    team never counts handed-off deals of another sales team.
    """
    team_ids = dashboard_team_ids(user)
    if team_ids is None:
        return Q()
    if not team_ids:
        return NOTHING
    return deal_scope_q(user, prefix) & Q(**{f"{prefix}team_id__in": team_ids})


def dashboard_team_scope_q(user: Viewer) -> Q:
    """Rows that carry a team (snapshots, rollups) on this user's dashboard, scoped by team
    without joining them to deals."""
    team_ids = dashboard_team_ids(user)
    if team_ids is None:
        return Q()
    return Q(team_id__in=team_ids) if team_ids else NOTHING


# --- imports -------------------------------------------------------------------------------


def user_can_import(user: Viewer) -> bool:
    """Managers import into their teams, admins into any."""
    return is_admin(user) or MANAGER in roles_of(user)


# --- Prospects and contacts: who may change them ---------------------------------------
# (A block of its own: the rules below are about the buying organisation and its people,
# which several reps' deals share, not about one deal.)
#
# - admin: everything.
# - rep: a prospect of their sales team, and its contacts, while they have an open deal
#   there; or one they created that has no deal yet (the New deal form writes the prospect
#   and its first contact just before the deal).
# - manager, delivery: read-only.


def user_can_create_prospect(user: Viewer, team: Team) -> bool:
    if is_admin(user):
        return True
    return REP in roles_of(user) and team.pk in sales_team_ids(user)


def _rep_with_an_open_deal_may_edit(user: Viewer, prospect: Prospect) -> bool:
    """A rep changes a prospect of their team (and its contacts) while they have an open
    deal there, or one they created that has no deal yet."""
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
