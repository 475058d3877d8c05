"""Every page and endpoint needs a login, except /healthz; token and session auth work."""

import pytest
from django.urls import reverse
from knox.models import AuthToken

from tests.factories import PASSWORD

PAGES = ["/", "/deals/", "/dashboard/", "/handoffs/", "/imports/", "/api/docs/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_anonymous_users_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/", "/api/schema/"])
def test_api_refuses_anonymous_users(api_client, path):
    response = api_client.get(path)
    assert response.status_code in (401, 403, 404)
    if path == "/api/schema/":
        assert response.status_code in (401, 403)


@pytest.mark.django_db
def test_admin_requires_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302


@pytest.mark.django_db
def test_token_endpoint_exchanges_credentials_for_a_token_that_authenticates(api_client, rep_user):
    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": rep_user.username, "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    # Stored hashed (knox): the table holds its key prefix, never the token itself.
    assert AuthToken.objects.filter(user=rep_user, token_key=token[:15]).count() == 1

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/schema/").status_code == 200


@pytest.mark.django_db
def test_token_endpoint_rejects_a_wrong_password_without_saying_which_part_was_wrong(
    api_client, rep_user
):
    wrong_pw = api_client.post(
        "/api/v1/auth/token/",
        {"username": rep_user.username, "password": "nope"},
        format="json",
    )
    no_user = api_client.post(
        "/api/v1/auth/token/", {"username": "ghost", "password": "nope"}, format="json"
    )
    assert wrong_pw.status_code == no_user.status_code == 400
    assert wrong_pw.json() == no_user.json()


@pytest.mark.django_db
def test_session_login_then_pages_render(client, rep_user):
    response = client.post(reverse("login"), {"username": rep_user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_login_page_shows_an_error_for_bad_credentials(client, rep_user):
    response = client.post(reverse("login"), {"username": rep_user.username, "password": "x"})
    assert response.status_code == 200
    assert b"didn't match" in response.content


@pytest.mark.django_db
def test_home_sends_each_role_to_its_work(client, rep_user, manager_user, delivery_user):
    for user, target in [
        (rep_user, reverse("deals:deal_list")),
        (manager_user, reverse("dashboard:index")),
        (delivery_user, reverse("handoff:queue")),
    ]:
        client.force_login(user)
        assert client.get("/").url == target
