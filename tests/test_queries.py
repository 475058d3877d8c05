"""The query pin explains a failure: it lists every statement that ran."""

import pytest
from django.contrib.auth import get_user_model

from tests.queries import assert_database_query_count


def test_a_failing_pin_prints_every_statement_that_ran(db):
    User = get_user_model()
    with (
        pytest.raises(pytest.fail.Exception) as failure,
        assert_database_query_count(1, info="two reads"),
    ):
        User.objects.filter(username="first").exists()
        User.objects.filter(username="second").exists()
    message = str(failure.value)
    assert "Expected 1 queries, 2 ran (two reads):" in message
    assert "  1. SELECT" in message and "first" in message
    assert "  2. SELECT" in message and "second" in message


def test_an_upper_bound_pin_passes_below_the_bound_and_fails_above_it(db):
    User = get_user_model()
    with assert_database_query_count(2, exact=False) as captured:
        User.objects.exists()
    assert len(captured) == 1
    with (
        pytest.raises(pytest.fail.Exception, match="at most 0 queries, 1 ran"),
        assert_database_query_count(0, exact=False),
    ):
        User.objects.exists()


def test_the_pytest_django_fixtures_are_the_explaining_pin(db, django_assert_num_queries):
    with pytest.raises(pytest.fail.Exception, match=r"1\. SELECT"), django_assert_num_queries(0):
        get_user_model().objects.exists()
