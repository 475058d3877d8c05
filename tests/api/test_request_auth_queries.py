"""What signing in costs each request: the session's user arrives with their roles and teams
(`MembershipsBackend`), and a token is checked without reading the user's other tokens."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests import factories as f
from tests.factories import PASSWORD

URL = "/api/v1/deals/"
# The page and its bounded count: one statement on PostgreSQL, a page and a COUNT elsewhere.
PAGE_QUERIES = 1 if connection.vendor == "postgresql" else 2

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _token_client(user) -> tuple[APIClient, str]:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client, token


def test_a_signed_in_manager_lists_the_teams_deals_in_three_queries(
    manager_user, rep_user, other_manager, team, other_team, django_assert_num_queries
):
    mine = f.DealFactory.create_batch(3, owner=rep_user, team=team)
    f.DealFactory.create_batch(2, owner=other_manager, team=other_team)
    client = _signed_in(manager_user)
    # the session row; the user with their roles and teams; the page (and its count)
    with django_assert_num_queries(2 + PAGE_QUERIES):
        body = client.get(URL).json()
    # the roles and teams read with the user still scope the list to the manager's team
    assert sorted(d["id"] for d in body["results"]) == sorted(d.pk for d in mine)


def test_a_signed_in_rep_sees_only_their_own_deals(rep_user, other_rep, team):
    own = f.DealFactory(owner=rep_user, team=team)
    f.DealFactory(owner=other_rep, team=team)
    body = _signed_in(rep_user).get(URL).json()
    assert [d["id"] for d in body["results"]] == [own.pk]


def test_a_signed_in_user_with_no_role_and_no_team_sees_no_deal(rep_user, team):
    f.DealFactory(owner=rep_user, team=team)
    outsider = f.UserFactory(username="nobody")
    response = _signed_in(outsider).get(URL)
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        assert response.json()["results"] == []


def test_a_session_of_a_deactivated_user_is_signed_out(rep_user, team):
    f.DealFactory(owner=rep_user, team=team)
    client = _signed_in(rep_user)
    assert client.get(URL).status_code == 200
    rep_user.is_active = False
    rep_user.save(update_fields=["is_active"])
    assert client.get(URL).status_code in (401, 403)
    assert client.get("/deals/").status_code == 302  # the pages send them to sign in


def test_a_token_request_costs_the_same_however_many_tokens_the_user_holds(
    manager_user, rep_user, team, django_assert_num_queries
):
    f.DealFactory.create_batch(2, owner=rep_user, team=team)
    for _ in range(4):  # other logins: a laptop, a phone, a script
        _token_client(manager_user)
    client, _ = _token_client(manager_user)
    # the token with its user; roles and teams; the page (and its count)
    with django_assert_num_queries(2 + PAGE_QUERIES):
        assert len(client.get(URL).json()["results"]) == 2


def test_an_expired_token_is_refused_and_deleted_without_touching_the_others(manager_user):
    live, _ = _token_client(manager_user)
    expired, expired_key = _token_client(manager_user)
    AuthToken.objects.filter(token_key=expired_key[:15]).update(
        expiry=timezone.now() - timedelta(seconds=1)
    )
    assert expired.get(URL).status_code == 401
    assert not AuthToken.objects.filter(token_key=expired_key[:15]).exists()
    assert live.get(URL).status_code == 200
    assert AuthToken.objects.filter(user=manager_user).count() == 1
