from django.db import transaction

from .models import Team, User
from .roles import DELIVERY, MANAGER, ROLES, ensure_role_groups


@transaction.atomic
def crm_user_create(
    *,
    username: str,
    role: str,
    team_name: str,
    password: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create (or update) a user in one role and one team; creates the team if needed.

    A delivery user's team is a delivery team; a manager becomes the team's manager.
    Running it twice with the same input leaves one user and one team.
    """
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.")
    if not team_name.strip():
        raise ValueError("A team name is required.")
    groups = ensure_role_groups()
    kind = Team.Kind.DELIVERY if role == DELIVERY else Team.Kind.SALES
    team, created = Team.objects.get_or_create(name=team_name.strip(), defaults={"kind": kind})
    if not created and team.kind != kind:
        raise ValueError(
            f"Team {team.name!r} is a {team.get_kind_display().lower()} team; "
            f"a {role} belongs to a {kind} team."
        )
    user, _ = User.objects.get_or_create(username=username)
    user.email = email or user.email
    user.first_name = first_name or user.first_name
    user.last_name = last_name or user.last_name
    user.set_password(password)
    user.save()
    user.groups.add(groups[role])
    team.members.add(user)
    if role == MANAGER and team.manager_id is None:
        team.manager = user
        team.save(update_fields=["manager"])
    return user
