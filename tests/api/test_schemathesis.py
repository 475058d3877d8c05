"""Fuzz every operation of the OpenAPI schema, as a rep and as a manager.

schemathesis generates requests from the schema drf-spectacular publishes; every answer
must be a non-5xx whose body and content type match what the schema documents. Path ids
and the `deal`/`prospect` ids in bodies point at real objects of the fixture world, so
the generated data reaches the services instead of stopping at a 404.

Bounded for CI (about two minutes on 2 cores): FUZZ_MAX_EXAMPLES generated examples per
operation and role (default 8), plus schemathesis's coverage cases for the reads;
derandomized so a failure reproduces on the next run.
"""

from __future__ import annotations

import json
import os
import re

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.security.world import build_world

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "8"))
FUZZ_ROLES = ("owner", "manager")  # the rep who owns team A's deals, and their manager


def _published_schema() -> dict:
    """The schema /api/schema/ serves (that view needs a login, so generate it directly)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


@schemathesis.serializer("message/rfc822", "text/calendar")
def _raw_text(ctx, value) -> bytes:
    """POST /api/v1/mail/ takes a raw message: send whatever was generated as its bytes."""
    if isinstance(value, bytes):
        return value
    return (value if isinstance(value, str) else json.dumps(value)).encode("utf-8", "replace")


schema = schemathesis.openapi.from_dict(_published_schema())
schema.app = get_wsgi_application()

# Which world object a path's {id} names, by the resource the path starts with.
PATH_OBJECTS = {
    "prospects": "prospect",
    "contacts": "contact",
    "needs": "need",
    "discovery-calls": "discovery_call",
    "deals": "deal",
    "line-items": "line_item",
    "milestones": "milestone",
    "activities": "activity",
    "concessions": "concession",
    "commitments": "commitment",
    "disclosures": "disclosure",
    "flags": "flag",
    "health-policies": "policy",
    "imports": "import_job",
    "handoffs": "handoff",
    "handoff-checklist-items": "checklist_item",
    "check-ins": "check_in",
}
BODY_REFERENCES = {"deal": "deal", "prospect": "prospect", "team": "team_a"}


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker):
    fast_hashing = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), fast_hashing, transaction.atomic():
        world = build_world()
        world.objs["tokens"] = {
            role: AuthToken.objects.create(user=world.users[role])[1] for role in FUZZ_ROLES
        }
        yield world
        transaction.set_rollback(True)


@pytest.fixture
def wsgi_in_test_transaction():
    """The WSGI handler closes 'old' connections at request boundaries, which would drop
    the test's transaction; Django's test client switches that off the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _point_at_world(case, world) -> None:
    match = re.match(r"^/api/v1/([\w-]+)/", case.operation.path)
    if case.path_parameters and "id" in case.path_parameters and match:
        name = PATH_OBJECTS.get(match.group(1))
        if case.operation.path.endswith("/reopen/"):
            name = "won_deal"
        if name:
            case.path_parameters["id"] = world.objs[name].pk
    if isinstance(case.body, dict):
        for key, name in BODY_REFERENCES.items():
            if key in case.body:
                case.body[key] = world.objs[name].pk


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
BOUNDED = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "suppress_health_check": list(HealthCheck),
}


def _call(case, world, role) -> None:
    _point_at_world(case, world)
    cache.clear()  # throttle counters: these tests are about answers, not rate limits
    token = world.tokens[role]
    if case.operation.path.startswith("/api/v1/auth/"):
        # Revoking and logging out everywhere are fuzzed too: with a token of their own,
        # so the shared one survives for the other operations.
        token = AuthToken.objects.create(user=world.users[role])[1]
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


@pytest.mark.parametrize("role", FUZZ_ROLES)
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, phases=[Phase.generate], **BOUNDED)
def test_api_answers_generated_requests_without_errors(
    case, role, fuzz_world, db, wsgi_in_test_transaction
):
    """Random valid-per-schema requests to every operation, as the rep and the manager."""
    _call(case, fuzz_world, role)


@schema.include(method="GET").parametrize()
@settings(phases=[Phase.explicit], **BOUNDED)
def test_api_answers_boundary_queries_without_errors(
    case, fuzz_world, db, wsgi_in_test_transaction
):
    """schemathesis's coverage cases (huge, negative, fractional, empty and missing query
    values, documented examples) for every read, as the manager who sees most. Writes get
    only the generated examples above: their coverage sweep is ~500 cases an operation."""
    _call(case, fuzz_world, "manager")
