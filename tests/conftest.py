import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests import factories as f
from tests.queries import assert_database_query_count
from winwin_crm.celery import app as celery_app


def pytest_report_header(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "eager (in-process)" if not settings.REDIS_URL else settings.REDIS_URL
    return [f"database vendor: {connection.vendor} ({engine})", f"celery broker: {broker}"]


@pytest.fixture(autouse=True)
def _celery_eager_in_tests():
    """Tasks run in-process in tests; the worker tests switch this off themselves."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
    # Eager tasks that ran in two threads at once (a live server's and the test's, the
    # mail drop's) can leave Celery's process-wide "inside a task" flag set, since each
    # restores what it saw; a later test's result.get() would then refuse to block.
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is deliberately slow; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    # Cached aggregates are keyed by ids, and a rolled-back test database reuses ids.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def django_assert_num_queries():
    """pytest-django's pin, printing every statement when the count is wrong."""

    def pin(num: int, connection=None, info: str | None = None):
        return assert_database_query_count(num, connection=connection, info=info)

    return pin


@pytest.fixture
def django_assert_max_num_queries():
    """pytest-django's upper-bound pin, printing every statement when it is exceeded."""

    def pin(num: int, connection=None, info: str | None = None):
        return assert_database_query_count(num, exact=False, connection=connection, info=info)

    return pin


@pytest.fixture(autouse=True)
def _no_login_lockouts(settings):
    # Many tests log in with the test client; lockout has its own tests.
    settings.AXES_ENABLED = False


@pytest.fixture
def team(db):
    return f.TeamFactory(name="Alpha sales")


@pytest.fixture
def other_team(db):
    return f.TeamFactory(name="Beta sales")


@pytest.fixture
def delivery_team(db, team):
    delivery_team = f.DeliveryTeamFactory(name="Alpha delivery")
    team.default_delivery_team = delivery_team
    team.save(update_fields=["default_delivery_team"])
    return delivery_team


@pytest.fixture
def rep_user(team):
    return f.rep(team, username="rita_rep")


@pytest.fixture
def other_rep(team):
    """Same team as rep_user, but does not own rep_user's deals."""
    return f.rep(team, username="oscar_rep")


@pytest.fixture
def manager_user(team):
    return f.manager(team, username="mona_manager")


@pytest.fixture
def other_manager(other_team):
    return f.manager(other_team, username="mike_manager")


@pytest.fixture
def delivery_user(delivery_team):
    return f.delivery(delivery_team, username="dana_delivery")


@pytest.fixture
def admin_user(db):
    return f.UserFactory(username="ada_admin", is_superuser=True, is_staff=True)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as():
    """api_as(user) -> an APIClient authenticated as that user."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user=user)
        return client

    return make
