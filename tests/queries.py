"""Query pins that explain themselves (after Zulip's `assert_database_query_count`).

A pin that fails prints every statement that ran, numbered, so the extra query is read off
the failure instead of found by bisecting. tests/conftest.py puts this behind pytest-django's
`django_assert_num_queries` and `django_assert_max_num_queries` fixtures, so every pinned
test (and every new one) uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.utils import CaptureQueriesContext


def queries_report(context: CaptureQueriesContext) -> str:
    """Every captured statement, numbered, one per line."""
    return "\n".join(
        f"{number:>3}. {query['sql']}"
        for number, query in enumerate(context.captured_queries, start=1)
    )


@contextmanager
def assert_database_query_count(
    count: int,
    *,
    exact: bool = True,
    connection: BaseDatabaseWrapper | None = None,
    info: str | None = None,
) -> Iterator[CaptureQueriesContext]:
    """Fail unless the block runs `count` statements (at most `count` with exact=False)."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    with CaptureQueriesContext(connection) as context:
        yield context
    ran = len(context)
    if ran == count or (not exact and ran < count):
        return
    expected = f"{count}" if exact else f"at most {count}"
    lines = [f"Expected {expected} queries, {ran} ran" + (f" ({info})" if info else "") + ":"]
    pytest.fail("\n".join([*lines, queries_report(context)]), pytrace=False)
