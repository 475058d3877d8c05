"""Roles are Django groups; this module is the one place that names them."""

from django.contrib.auth.models import Group

REP = "rep"
MANAGER = "manager"
DELIVERY = "delivery"
ROLES = (REP, MANAGER, DELIVERY)


def roles_of(user) -> frozenset[str]:
    """The user's role names, loaded once and cached on the user object."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_crm_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._crm_roles = cached
    return cached


def has_role(user, role: str) -> bool:
    return role in roles_of(user)


def is_admin(user) -> bool:
    return user.is_authenticated and user.is_superuser


def ensure_role_groups() -> dict[str, Group]:
    return {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
