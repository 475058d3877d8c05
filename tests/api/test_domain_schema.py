"""The sales API's OpenAPI schema generates cleanly and documents every field."""

from django.core.management import call_command


def test_sales_api_schema_has_no_warnings_and_describes_every_field(tmp_path):
    out = tmp_path / "schema.yaml"
    # Only the sales API's routes, so another area's warnings do not mask or fail ours.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(out),
        "--urlconf", "tests.api.domain_schema_urls",
    )  # fmt: skip
    import yaml

    schema = yaml.safe_load(out.read_text())
    undocumented = [
        f"{name}.{prop}"
        for name, component in schema["components"]["schemas"].items()
        if not name.startswith("Paginated")  # the shared pagination envelope
        for prop, spec in component.get("properties", {}).items()
        if not spec.get("description")
    ]
    undocumented += [
        f"{path} {method} ?{param['name']}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for param in operation.get("parameters", [])
        if not param.get("description")
    ]
    assert undocumented == []
    assert "/api/v1/deals/{id}/history/" in schema["paths"]
    assert "/api/v1/discovery-calls/" in schema["paths"]


def test_schema_endpoint_serves_for_a_logged_in_user(api_as, rep_user):
    response = api_as(rep_user).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/line-items/" in response.content
