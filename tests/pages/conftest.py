import pytest

from tests import factories as f


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team, title="Dispatch automation")


@pytest.fixture
def rep_client(client, rep_user):
    client.force_login(rep_user)
    return client


@pytest.fixture
def htmx():
    """Headers of a request htmx makes."""
    return {"HTTP_HX_REQUEST": "true"}
