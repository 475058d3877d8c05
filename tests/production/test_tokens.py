"""Item 5: API tokens expire, can be listed and revoked, die on password change and on
logging out everywhere; every login is a new token (django-rest-knox)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import PASSWORD


def _login(user) -> str:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"token"}  # the DESIGN contract
    return response.json()["token"]


def _as(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _works(token: str) -> bool:
    status = _as(token).get("/api/v1/deals/").status_code
    assert status in (200, 401)
    return status == 200


@pytest.mark.django_db
def test_each_login_hands_out_a_new_token_and_both_work(rep_user):
    first, second = _login(rep_user), _login(rep_user)
    assert first != second
    assert _works(first) and _works(second)


@pytest.mark.django_db
def test_owner_lists_their_tokens_without_secrets_and_revokes_one(rep_user, other_rep):
    first, second = _login(rep_user), _login(rep_user)
    foreign = _login(other_rep)
    listing = _as(second).get("/api/v1/auth/tokens/")
    assert listing.status_code == 200
    rows = listing.json()
    assert [r["token_key"] for r in rows] == [second[:15], first[:15]]  # newest first
    assert [r["current"] for r in rows] == [True, False]
    assert all(first not in str(r) and second not in str(r) for r in rows)

    assert _as(second).delete(f"/api/v1/auth/tokens/{first[:15]}/").status_code == 204
    assert not _works(first) and _works(second)
    # Another user's token is not yours to revoke (and does not exist for you).
    assert _as(second).delete(f"/api/v1/auth/tokens/{foreign[:15]}/").status_code == 404
    assert _works(foreign)


@pytest.mark.django_db
def test_logout_everywhere_kills_every_token_of_the_user_only(rep_user, other_rep):
    tokens = [_login(rep_user) for _ in range(3)]
    foreign = _login(other_rep)
    response = _as(tokens[0]).post("/api/v1/auth/logout-all/")
    assert response.status_code == 200 and response.json() == {"revoked": 3}
    assert not any(_works(t) for t in tokens)
    assert _works(foreign)


@pytest.mark.django_db
def test_changing_the_password_kills_the_users_tokens(rep_user):
    token = _login(rep_user)
    rep_user.set_password("a-brand-new-passphrase")
    rep_user.save()
    assert not _works(token)


@pytest.mark.django_db
def test_a_token_unused_for_the_idle_period_expires_and_use_slides_the_expiry(rep_user, settings):
    token = _login(rep_user)
    row = AuthToken.objects.get(token_key=token[:15])
    # 30 days by default.
    assert abs(row.expiry - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    AuthToken.objects.filter(pk=row.pk).update(expiry=timezone.now() + timedelta(days=1))
    AuthToken.objects.filter(pk=row.pk).update(created=timezone.now() - timedelta(days=29))
    assert _works(token)  # used: the expiry moves 30 days ahead again
    row.refresh_from_db()
    assert row.expiry > timezone.now() + timedelta(days=29)

    AuthToken.objects.filter(pk=row.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert not _works(token)


@pytest.mark.django_db
def test_token_list_and_revoke_need_a_login(api_client):
    assert api_client.get("/api/v1/auth/tokens/").status_code in (401, 403)
    assert api_client.post("/api/v1/auth/logout-all/").status_code in (401, 403)
