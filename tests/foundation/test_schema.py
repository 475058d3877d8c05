"""The OpenAPI schema generates cleanly and documents the contract's resources."""

import pytest
from django.core.management import call_command


def test_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.stat().st_size > 0


@pytest.mark.django_db
def test_schema_lists_every_resource_of_the_api_contract(api_as, rep_user):
    paths = api_as(rep_user).get("/api/schema/", {"format": "json"}).json()["paths"]
    for resource in [
        "prospects",
        "contacts",
        "needs",
        "discovery-calls",
        "deals",
        "line-items",
        "milestones",
        "activities",
        "concessions",
        "commitments",
        "disclosures",
        "flags",
        "handoffs",
        "check-ins",
    ]:
        assert f"/api/v1/{resource}/" in paths, resource
    assert "/api/v1/deals/{id}/health/" in paths
    assert "/api/v1/dashboard/balance/" in paths
