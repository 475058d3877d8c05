"""Who is in the demo: teams, users and roles (a fixed roster), and "now"."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from winwin_crm.accounts.models import Team, User
from winwin_crm.accounts.roles import DELIVERY, MANAGER, REP, ensure_role_groups

DEMO_PASSWORD = "winwin-demo"
# The users printed by `seed_demo`; each one's home page has something worth clicking.
DEMO_USERS = [
    ("rita", "rep", "Northwind Sales"),
    ("sam", "rep", "Northwind Sales"),
    ("mona", "manager", "Northwind Sales"),
    ("dana", "delivery", "Customer Success"),
]
NORTHWIND, HARBOR, CUSTOMER_SUCCESS = "Northwind Sales", "Harbor Sales", "Customer Success"
# A new joiner with a small book: the same ~100 generated deals at every demo size (the
# benchmark's "rep with about 100 deals"), given to her by deals/demo/generator._owner_for
# rather than drawn. She is left out of `reps_by_team`: a longer list to draw from would move
# the owner of every deal, and with them the demo's pinned figures. Copies of her deals in a
# large demo (deals/demo/replicate.py) belong to NEW_JOINER_TEAMMATE, so her book stays ~100.
NEW_JOINER, NEW_JOINER_TEAM, NEW_JOINER_TEAMMATE = "nora", NORTHWIND, "omar"
# Everyone else the generated deals need: (username, first name, last name, role, team).
# A fixed roster, so deal i always lands with the same rep whatever the number of deals.
ROSTER = [
    ("rita", "Rita", "Reyes", REP, NORTHWIND),
    ("sam", "Sam", "Okafor", REP, NORTHWIND),
    ("mona", "Mona", "Lindqvist", MANAGER, NORTHWIND),
    ("priya", "Priya", "Natarajan", REP, NORTHWIND),
    ("tom", "Tom", "Becker", REP, NORTHWIND),
    ("lena", "Lena", "Fischer", REP, NORTHWIND),
    ("omar", "Omar", "Haddad", REP, NORTHWIND),
    ("hugo", "Hugo", "Marchetti", MANAGER, HARBOR),
    ("ines", "Ines", "Duarte", REP, HARBOR),
    ("kofi", "Kofi", "Mensah", REP, HARBOR),
    ("mei", "Mei", "Tanaka", REP, HARBOR),
    ("paul", "Paul", "Girard", REP, HARBOR),
    ("zoe", "Zoe", "Walsh", REP, HARBOR),
    ("luis", "Luis", "Romero", REP, HARBOR),
    ("dana", "Dana", "Kowalski", DELIVERY, CUSTOMER_SUCCESS),
    ("ravi", "Ravi", "Shah", DELIVERY, CUSTOMER_SUCCESS),
    ("elin", "Elin", "Berg", DELIVERY, CUSTOMER_SUCCESS),
    (NEW_JOINER, "Nora", "Quinlan", REP, NEW_JOINER_TEAM),
]

# Every deal and prospect the generator writes carries an external_id with this prefix,
# which is how a re-run finds what is already there and how --reset finds what to delete.


@dataclass
class World:
    """Teams and people, plus "now": the fixed points every deal is drawn around."""

    now: dt.datetime
    teams: dict[str, Team]
    users: dict[str, User]
    reps_by_team: dict[str, list[User]]
    delivery_members: list[User]
    checklist: list[tuple[str, str, bool]]

    @cached_property
    def tz(self) -> dt.tzinfo:
        return timezone.get_current_timezone()

    @cached_property
    def today(self) -> dt.date:
        return self.localdate(self.now)

    def localdate(self, when: dt.datetime) -> dt.date:
        """timezone.localdate(when), with the zone looked up once (millions of calls)."""
        return when.astimezone(self.tz).date()

    def ago(self, days: float, hour: int | None = None) -> dt.datetime:
        when = self.now - dt.timedelta(days=days)
        if hour is not None:
            when = when.replace(hour=hour, minute=0, second=0, microsecond=0)
            when = min(when, self.now)
        return when


def world_ensure() -> World:
    """Teams, users and roles of the demo, created if missing (idempotent)."""
    groups = ensure_role_groups()
    delivery, _ = Team.objects.get_or_create(
        name=CUSTOMER_SUCCESS, defaults={"kind": Team.Kind.DELIVERY}
    )
    teams = {CUSTOMER_SUCCESS: delivery}
    for name in (NORTHWIND, HARBOR):
        team, _ = Team.objects.get_or_create(name=name, defaults={"kind": Team.Kind.SALES})
        if team.default_delivery_team_id is None:
            team.default_delivery_team = delivery
            team.save(update_fields=["default_delivery_team"])
        teams[name] = team
    # One hash for everyone: hashing the demo password per user would take seconds.
    password_hash = None
    users = {}
    for username, first, last, role, team_name in ROSTER:
        user = User.objects.filter(username=username).first()
        if user is None:
            password_hash = password_hash or make_password(DEMO_PASSWORD)
            user = User.objects.create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@winwin.example.com",
                password=password_hash,
            )
        elif not user.first_name:
            user.first_name, user.last_name = first, last
            user.save(update_fields=["first_name", "last_name"])
        user.groups.add(groups[role])
        team = teams[team_name]
        team.members.add(user)
        if role == MANAGER and team.manager_id is None:
            team.manager = user
            team.save(update_fields=["manager"])
        users[username] = user
    reps_by_team = defaultdict(list)
    for username, _f, _l, role, team_name in ROSTER:
        if role == REP and username != NEW_JOINER:
            reps_by_team[team_name].append(users[username])
    from handoff.models import ChecklistTemplateItem
    from handoff.services import DEFAULT_CHECKLIST

    checklist: tuple[tuple[str, str, bool], ...] = DEFAULT_CHECKLIST
    templates = list(ChecklistTemplateItem.objects.filter(active=True).order_by("position", "id"))
    if templates:
        checklist = tuple((t.key, t.label, t.required) for t in templates)
    return World(
        now=timezone.now().replace(microsecond=0),
        teams=teams,
        users=users,
        reps_by_team=dict(reps_by_team),
        delivery_members=[users[u] for u, *_r, role, _t in ROSTER if role == DELIVERY],
        checklist=list(checklist),
    )
