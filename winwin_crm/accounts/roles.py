"""Roles are Django groups; this module is the one place that names them."""

from dataclasses import dataclass
from functools import cache

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest

from .models import Team, User

REP = "rep"
MANAGER = "manager"
DELIVERY = "delivery"
ROLES = (REP, MANAGER, DELIVERY)


@dataclass(frozen=True, slots=True)
class TeamMembership:
    """A team the user manages or belongs to."""

    team_id: int
    kind: str
    manages: bool
    member: bool


@cache
def memberships_sql() -> str:
    # Built once from the models' metadata; one statement for roles and teams together,
    # as every scoped request needs both.
    user_groups = User.groups.through._meta
    members = Team.members.through._meta
    ug_user = user_groups.get_field("user").column
    ug_group = user_groups.get_field("group").column
    m_team = members.get_field("team").column
    m_user = members.get_field("user").column
    is_member = (
        f"EXISTS (SELECT 1 FROM {members.db_table} m "
        f"WHERE m.{m_team} = t.id AND m.{m_user} = %(user)s)"
    )
    return (
        # Named columns: the session backend joins this to the user's row.
        "SELECT 'role' AS row_kind, g.name AS role_name, NULL AS team_id, "
        "NULL AS team_kind, 0 AS manages, 0 AS member "
        f"FROM {Group._meta.db_table} g "
        f"INNER JOIN {user_groups.db_table} ug ON ug.{ug_group} = g.id "
        f"WHERE ug.{ug_user} = %(user)s "
        "UNION ALL "
        "SELECT 'team', NULL, t.id, t.kind, "
        "CASE WHEN t.manager_id = %(user)s THEN 1 ELSE 0 END, "
        f"CASE WHEN {is_member} THEN 1 ELSE 0 END "
        f"FROM {Team._meta.db_table} t WHERE t.manager_id = %(user)s OR {is_member}"
    )


def cache_memberships(user, rows) -> None:
    """Keep the rows of `memberships_sql()` on the user object (roles_of reads them)."""
    roles, teams = set(), []
    for row_kind, name, team_id, team_kind, manages, member in rows:
        if row_kind == "role":
            if name in ROLES:
                roles.add(name)
        else:
            teams.append(TeamMembership(team_id, team_kind, bool(manages), bool(member)))
    user._crm_roles = frozenset(roles)
    user._crm_teams = tuple(teams)


def _load_memberships(user) -> None:
    """Load the user's roles and teams in one query and cache both on the user object."""
    with connection.cursor() as cursor:
        cursor.execute(memberships_sql(), {"user": user.pk})
        cache_memberships(user, cursor.fetchall())


def load_memberships(users) -> None:
    """`_load_memberships` for many users in one statement (a batch of mail from many
    reps): each user's query, tagged with its id, joined by UNION ALL."""
    pending = [u for u in users if u.is_authenticated and getattr(u, "_crm_roles", None) is None]
    if len(pending) == 1:
        _load_memberships(pending[0])
    if len(pending) <= 1:
        return
    sql = memberships_sql()
    parts, params = [], {}
    for i, user in enumerate(pending):
        parts.append(f"SELECT %(u{i})s, q.* FROM ({sql.replace('%(user)s', f'%(u{i})s')}) q")
        params[f"u{i}"] = user.pk
    rows: dict[int, list[tuple]] = {u.pk: [] for u in pending}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for user_id, *row in cursor.fetchall():
            rows[user_id].append(tuple(row))
    for user in pending:
        cache_memberships(user, rows[user.pk])


def roles_of(user) -> frozenset[str]:
    """The user's role names, loaded once (with their teams) and cached on the user object."""
    if not user.is_authenticated:
        return frozenset()
    if getattr(user, "_crm_roles", None) is None:
        _load_memberships(user)
    return user._crm_roles


def team_memberships(user) -> tuple[TeamMembership, ...]:
    """Teams the user manages or belongs to, loaded with their roles."""
    if not user.is_authenticated:
        return ()
    if getattr(user, "_crm_teams", None) is None:
        _load_memberships(user)
    return user._crm_teams


def has_role(user, role: str) -> bool:
    return role in roles_of(user)


def is_admin(user) -> bool:
    return user.is_authenticated and user.is_superuser


def ensure_role_groups() -> dict[str, Group]:
    return {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}


def authenticated_user(request: HttpRequest) -> User:
    """The user of a request that passed a login check (login_required, IsAuthenticated,
    the admin's staff check): typed as the User it is, refused if it somehow is not."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Log in first.")
    return user
