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
    delivery_team_name: str = "",
) -> User:
    """Create (or update) a user in one role and one team; creates the team if needed.

    A delivery user's team is a delivery team; a manager becomes the team's manager.
    `delivery_team_name` (sales roles) links the sales team to that delivery team, created
    if needed, so its closed-won deals can be handed off. Running it twice with the same
    input leaves one user and one team.
    """
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.")
    if not team_name.strip():
        raise ValueError("A team name is required.")
    if delivery_team_name.strip() and role == DELIVERY:
        raise ValueError("--delivery-team is for sales roles: a delivery user joins --team.")
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
    if delivery_team_name.strip():
        team_link(sales_team_name=team.name, delivery_team_name=delivery_team_name)
    return user


@transaction.atomic
def team_link(*, sales_team_name: str, delivery_team_name: str) -> Team:
    """Make `delivery_team_name` (created if missing) the sales team's default delivery
    team: where its closed-won deals are handed off. Returns the sales team."""
    sales = Team.objects.filter(name=sales_team_name.strip()).first()
    if sales is None:
        raise ValueError(f"No team {sales_team_name!r}.")
    if sales.kind != Team.Kind.SALES:
        raise ValueError(f"Team {sales.name!r} is a delivery team; link a sales team.")
    delivery, _ = Team.objects.get_or_create(
        name=delivery_team_name.strip(), defaults={"kind": Team.Kind.DELIVERY}
    )
    if delivery.kind != Team.Kind.DELIVERY:
        raise ValueError(f"Team {delivery.name!r} is a sales team, not a delivery team.")
    if sales.default_delivery_team_id != delivery.pk:
        sales.default_delivery_team = delivery
        sales.save(update_fields=["default_delivery_team"])
    return sales
