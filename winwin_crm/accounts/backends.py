"""The login backend: Django's model backend, with the signed-in user's roles and teams
read in the same statement as the user's row.

Every page and session-authenticated API request loads the user, then asks for their roles
and teams (the deal scope needs both); joined, the two are one round trip instead of two.
"""

from functools import cache

from django.contrib.auth.backends import ModelBackend

from .models import User
from .roles import cache_memberships, memberships_sql

_MEMBERSHIP_COLUMNS = ("row_kind", "role_name", "m_team_id", "team_kind", "manages", "member")


@cache
def _user_with_memberships_sql() -> str:
    # A user with no role and no team still has their row: LEFT JOIN on a condition
    # that always holds (SQLite and PostgreSQL both read `1 = 1`).
    return (
        "SELECT u.*, m.row_kind, m.role_name, m.team_id AS m_team_id, m.team_kind, "
        f"m.manages, m.member FROM {User._meta.db_table} u "
        f"LEFT JOIN ({memberships_sql()}) m ON 1 = 1 WHERE u.id = %(user)s"
    )


class MembershipsBackend(ModelBackend):
    """`ModelBackend` whose `get_user` also caches the user's roles and teams."""

    def get_user(self, user_id):
        # django.contrib.auth has already turned the session's id into the key's type
        rows = list(User.objects.raw(_user_with_memberships_sql(), {"user": user_id}))
        if not rows:
            return None
        user = rows[0]
        if not self.user_can_authenticate(user):
            return None
        cache_memberships(
            user,
            [
                tuple(getattr(row, column) for column in _MEMBERSHIP_COLUMNS)
                for row in rows
                if row.row_kind is not None
            ],
        )
        return user
