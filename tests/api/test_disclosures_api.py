"""Disclosures: what the buyer was openly told."""

import pytest

from tests import factories as f
from tests.api.domain_helpers import assert_flat_list_queries, ids

URL = "/api/v1/disclosures/"


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team)


@pytest.fixture
def rep(api_as, rep_user):
    return api_as(rep_user)


def test_rep_records_a_limitation(rep, deal):
    response = rep.post(
        URL, {"deal": deal.id, "kind": "limitation", "description": "No on-premise option"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["disclosed_at"]
    assert ids(rep.get(URL, {"kind": "limitation"})) == [response.json()["id"]]


def test_unknown_kind_is_a_field_error(rep, deal):
    response = rep.post(URL, {"deal": deal.id, "kind": "secret", "description": "x"})
    assert response.status_code == 400 and "kind" in response.json()


def test_disclosures_of_another_team_are_invisible(api_as, other_manager, deal):
    disclosure = f.DisclosureFactory(deal=deal)
    client = api_as(other_manager)
    assert ids(client.get(URL)) == []
    assert client.get(f"{URL}{disclosure.id}/").status_code == 404
    response = client.post(URL, {"deal": deal.id, "kind": "risk", "description": "x"})
    assert response.status_code == 400 and "deal" in response.json()


def test_disclosure_list_queries_do_not_grow_with_rows(rep, deal):
    assert_flat_list_queries(
        rep, URL, lambda n: f.DisclosureFactory.create_batch(n, deal=deal), max_queries=4
    )
