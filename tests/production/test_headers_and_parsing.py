"""Items 2 and 8: CSP on every page, HSTS only through the trusted proxy, request bodies
bounded and never a 500 however they are nested."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import PASSWORD

DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/deals/", "/dashboard/", "/dashboard/flags/", "/api/docs/"]
)
def test_pages_carry_a_csp_without_inline_script_and_use_no_inline_script(
    client, manager_user, path
):
    if path != "/accounts/login/":
        client.force_login(manager_user)
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", policy).group(1).split()
    assert script_src == ["'self'"]  # htmx and Chart.js are served from /static/
    assert "frame-ancestors 'none'" in policy
    html = response.content.decode()
    inline = [m for m in re.findall(r"<script([^>]*)>", html) if "src=" not in m]
    assert inline == [], f"inline <script> on {path}"
    assert not re.search(r"\son(click|change|submit|load)=", html)


@pytest.mark.django_db
def test_hsts_only_when_the_request_really_came_through_the_trusted_proxy(settings):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    direct = Client(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in direct.get("/accounts/login/")
    proxied = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.get("/accounts/login/")["Strict-Transport-Security"].startswith("max-age=3600")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/auth/token/", "/api/v1/deals/", "/api/v1/discovery-calls/"]
)
def test_deeply_nested_json_is_a_400_everywhere(rep_user, path):
    client = APIClient()
    client.force_authenticate(rep_user)
    response = client.generic("POST", path, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


@pytest.mark.django_db
def test_a_body_over_the_request_cap_is_refused_before_parsing(rep_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = APIClient()
    response = client.generic(
        "POST",
        "/api/v1/auth/token/",
        b'{"username": "' + b"x" * 20_000 + b'", "password": "' + PASSWORD.encode() + b'"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "too large" in response.json()["detail"]
