"""A user's roles and teams are read in one query, and each scope gets the right teams."""

import pytest
from django.contrib.auth.models import Group

from deals.visibility import delivery_team_ids, managed_team_ids, sales_team_ids
from tests import factories as f
from winwin_crm.accounts.roles import DELIVERY, MANAGER, REP, roles_of

pytestmark = pytest.mark.django_db


def fresh(user):
    user.refresh_from_db()
    for attr in ("_crm_roles", "_crm_teams"):
        user.__dict__.pop(attr, None)
    return user


def test_roles_and_every_kind_of_team_come_from_one_query(django_assert_num_queries):
    managed_only = f.TeamFactory(name="Managed, not a member")
    own = f.TeamFactory(name="Own sales team")
    delivery_team = f.DeliveryTeamFactory(name="Delivery")
    f.TeamFactory(name="Someone else's")
    user = f.UserFactory()
    for role in (MANAGER, DELIVERY):
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    user.groups.add(Group.objects.get_or_create(name="not-a-crm-role")[0])
    managed_only.manager = user
    managed_only.save()
    own.members.add(user)
    delivery_team.members.add(user)
    user = fresh(user)

    with django_assert_num_queries(1):
        assert roles_of(user) == {MANAGER, DELIVERY}
        assert sorted(managed_team_ids(user)) == sorted([managed_only.id, own.id])
        assert delivery_team_ids(user) == [delivery_team.id]
        assert sales_team_ids(user) == [own.id]


def test_team_ids_follow_the_role_not_just_the_membership():
    team = f.TeamFactory()
    delivery_team = f.DeliveryTeamFactory()
    rep = f.rep(team)
    delivery_team.members.add(rep)  # a member of a delivery team, without the delivery role
    rep = fresh(rep)
    assert roles_of(rep) == {REP}
    assert managed_team_ids(rep) == []
    assert delivery_team_ids(rep) == []
    assert sales_team_ids(rep) == [team.id]


def test_a_user_without_roles_or_teams_gets_nothing():
    user = fresh(f.UserFactory())
    assert roles_of(user) == frozenset()
    assert (managed_team_ids(user), delivery_team_ids(user), sales_team_ids(user)) == ([], [], [])


def test_many_users_memberships_load_in_one_query_as_one_by_one(django_assert_num_queries):
    from winwin_crm.accounts.roles import load_memberships, team_memberships

    team = f.TeamFactory(name="Sales")
    other = f.TeamFactory(name="Other sales")
    rep = f.rep(team)
    manager = f.manager(other)
    other.manager = manager
    other.save()
    nobody = f.UserFactory()
    users = [fresh(u) for u in (rep, manager, nobody)]
    expected = [(roles_of(u), team_memberships(u)) for u in users]
    users = [fresh(u) for u in (rep, manager, nobody)]

    with django_assert_num_queries(1):
        load_memberships(users)
        assert [(roles_of(u), team_memberships(u)) for u in users] == expected
    assert expected[0][0] == {REP} and expected[2] == (frozenset(), ())
