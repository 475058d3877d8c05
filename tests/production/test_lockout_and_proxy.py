"""Item 4: the client IP comes only from trusted proxies; lockouts are per username and
client address with a cool-off, never the account for everyone; the API says 429."""

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from tests.factories import PASSWORD

PROXY = "10.0.0.5"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def _via_proxy(client_ip: str, cls=Client):
    return cls(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{client_ip}")


def _token(client, username, password):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


@pytest.mark.django_db
def test_an_attacker_behind_the_proxy_cannot_lock_the_owner_out(rep_user, behind_proxy):
    attacker = _via_proxy("198.51.100.66")
    for _ in range(3):
        attacker.post("/accounts/login/", {"username": rep_user.username, "password": "guess"})
    locked = attacker.post(
        "/accounts/login/", {"username": rep_user.username, "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert b"Too many failed logins" in locked.content

    owner = _via_proxy("203.0.113.10")  # same proxy, the owner's own address
    response = owner.post("/accounts/login/", {"username": rep_user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in owner.session


@pytest.mark.django_db
def test_the_token_endpoint_says_429_with_retry_after_when_locked(rep_user, behind_proxy):
    attacker = _via_proxy("198.51.100.66", APIClient)
    answers = [_token(attacker, rep_user.username, "guess").status_code for _ in range(3)]
    assert answers[:2] == [400, 400] and answers[2] == 429
    locked = _token(attacker, rep_user.username, PASSWORD)
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "token" not in locked.json()

    owner = _via_proxy("203.0.113.10", APIClient)
    assert _token(owner, rep_user.username, PASSWORD).status_code == 200


@pytest.mark.django_db
def test_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(rep_user, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    # A direct client rotating X-Forwarded-For to dodge the lockout: still one address.
    for n in range(3):
        Client(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").post(
            "/accounts/login/", {"username": rep_user.username, "password": "guess"}
        )
    again = Client(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="198.51.100.99")
    response = again.post("/accounts/login/", {"username": rep_user.username, "password": PASSWORD})
    assert response.status_code == 429


@pytest.mark.django_db
def test_the_token_throttle_counts_by_the_real_client_not_a_claimed_header(settings, rep_user):
    settings.TRUSTED_PROXIES = []
    original_rates = AnonRateThrottle.THROTTLE_RATES
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "1000/min"},
    }
    AnonRateThrottle.THROTTLE_RATES = {"anon": "3/min", "user": "1000/min"}
    try:
        cache.clear()
        statuses = [
            _token(
                APIClient(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"),
                "nobody",
                "x",
            ).status_code
            for n in range(5)
        ]
    finally:
        # The rates the class read at import: later tests must not inherit 3/min.
        AnonRateThrottle.THROTTLE_RATES = original_rates
    assert statuses[:3] == [400, 400, 400]
    assert statuses[3:] == [429, 429]
