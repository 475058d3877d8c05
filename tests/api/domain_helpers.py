"""Shared checks for the sales API tests (not a conftest: other areas share tests/api)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

ROLE_CACHES = ("_crm_roles", "_crm_teams")


def _fresh_request_user(client):
    # force_authenticate reuses one user object, whose role lookups are cached on it; a
    # real request loads a fresh user, so forget the caches to count honest queries.
    user = getattr(client.handler, "_force_user", None)
    for attr in ROLE_CACHES:
        if user is not None and hasattr(user, attr):
            delattr(user, attr)


def list_query_counts(client, url, add_rows, *, small=3, large=20):
    """Query counts of GET `url` with `small` rows, then with `large` rows.

    `add_rows(n)` creates n more visible rows. Returns (queries_small, queries_large).
    """
    add_rows(small)
    _fresh_request_user(client)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200, response.content
    assert response.json()["count"] == small
    add_rows(large - small)
    _fresh_request_user(client)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200, response.content
    assert response.json()["count"] == large
    return len(few.captured_queries), len(many.captured_queries)


def assert_flat_list_queries(client, url, add_rows, *, max_queries):
    few, many = list_query_counts(client, url, add_rows)
    assert few == many, f"{url}: {few} queries for 3 rows but {many} for 20"
    assert many <= max_queries, f"{url}: {many} queries (pinned at {max_queries})"


def ids(response):
    return sorted(row["id"] for row in response.json()["results"])
