"""Production settings pass Django's deploy checks; logins are throttled; no enumeration."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_reports_nothing_with_production_settings():
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never does.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "crm.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.fixture
def lockouts_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_even_with_the_right_password(
    client, rep_user, lockouts_on
):
    for _ in range(3):
        client.post(reverse("login"), {"username": rep_user.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": rep_user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_failed_login_looks_the_same_for_unknown_and_known_usernames(client, rep_user):
    known = client.post(reverse("login"), {"username": rep_user.username, "password": "wrong"})
    unknown = client.post(reverse("login"), {"username": "nobody-here", "password": "wrong"})
    assert known.status_code == unknown.status_code == 200
    marker = b"didn't match"
    assert marker in known.content and marker in unknown.content


@pytest.mark.django_db
def test_login_form_requires_csrf(rep_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": rep_user.username, "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.django_db
def test_api_requests_are_throttled_per_user(api_as, rep_user, settings):
    from django.core.cache import cache
    from rest_framework.settings import api_settings
    from rest_framework.throttling import UserRateThrottle

    cache.clear()
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "user": "3/min"}
    original = UserRateThrottle.THROTTLE_RATES
    UserRateThrottle.THROTTLE_RATES = rates
    try:
        client = api_as(rep_user)
        codes = [client.get("/api/schema/").status_code for _ in range(4)]
    finally:
        UserRateThrottle.THROTTLE_RATES = original
        cache.clear()
    assert codes[:3] == [200, 200, 200]
    assert codes[3] == 429
