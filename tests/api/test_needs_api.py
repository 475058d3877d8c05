"""Needs: importance 1–5, the deal decides the prospect, visibility follows the deal."""

import pytest

from deals.models import Need
from tests import factories as f
from tests.api.domain_helpers import assert_flat_list_queries, ids

URL = "/api/v1/needs/"


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team)


@pytest.fixture
def rep(api_as, rep_user):
    return api_as(rep_user)


def test_need_takes_its_prospect_from_the_deal(rep, deal):
    response = rep.post(
        URL, {"deal": deal.id, "kind": "goal", "statement": "Cut churn", "importance": 5}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["prospect"] == deal.prospect_id


@pytest.mark.parametrize(
    "field,value", [("importance", 0), ("importance", 6), ("kind", "whim"), ("statement", "")]
)
def test_bad_need_is_a_field_error(rep, deal, field, value):
    data = {"deal": deal.id, "kind": "goal", "statement": "x", "importance": 3, field: value}
    response = rep.post(URL, data)
    assert response.status_code == 400 and field in response.json()
    assert not Need.objects.exists()


def test_needs_of_someone_elses_deal_are_invisible(api_as, other_rep, deal):
    need = f.NeedFactory(deal=deal)
    client = api_as(other_rep)
    assert ids(client.get(URL)) == []
    assert client.get(f"{URL}{need.id}/").status_code == 404


def test_filter_needs_by_importance_range(rep, deal):
    high = f.NeedFactory(deal=deal, importance=5)
    f.NeedFactory(deal=deal, importance=2)
    assert ids(rep.get(URL, {"importance_min": 4})) == [high.id]
    assert rep.get(URL, {"importance_min": 5, "importance_max": 1}).status_code == 400
    assert rep.get(URL, {"importance_min": 9}).status_code == 400


def test_need_list_queries_do_not_grow_with_rows(rep, deal):
    assert_flat_list_queries(
        rep, URL, lambda n: f.NeedFactory.create_batch(n, deal=deal), max_queries=5
    )
