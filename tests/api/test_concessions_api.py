"""Concessions move the deal's net and cost totals."""

from decimal import Decimal

import pytest

from tests import factories as f
from tests.api.domain_helpers import assert_flat_list_queries, ids

URL = "/api/v1/concessions/"


@pytest.fixture
def deal(rep_user, team):
    deal = f.DealFactory(owner=rep_user, team=team)
    f.LineItemFactory(deal=deal)  # 10 × 100, cost 10 × 40
    from deals.services import pricing_refresh

    pricing_refresh(deal_id=deal.id)
    return deal


@pytest.fixture
def rep(api_as, rep_user):
    return api_as(rep_user)


def test_price_cut_lowers_net_and_value_add_raises_cost(rep, deal):
    cut = rep.post(
        URL, {"deal": deal.id, "kind": "price", "description": "5% off", "amount": "50.00"}
    )
    assert cut.status_code == 201, cut.json()
    add = rep.post(
        URL,
        {"deal": deal.id, "kind": "value_add", "description": "Training", "amount": "500",
         "cost_to_seller": "80", "in_exchange_for": "Reference call"},
    )  # fmt: skip
    assert add.status_code == 201
    deal.refresh_from_db()
    assert (deal.net_total, deal.cost_total) == (Decimal("950"), Decimal("480"))
    assert rep.delete(f"{URL}{cut.json()['id']}/").status_code == 204
    deal.refresh_from_db()
    assert deal.net_total == Decimal("1000")


@pytest.mark.parametrize(
    "field,value", [("amount", "-1"), ("cost_to_seller", "-0.5"), ("kind", "bribe")]
)
def test_bad_concession_is_a_field_error(rep, deal, field, value):
    data = {"deal": deal.id, "kind": "price", "description": "x", "amount": "1", field: value}
    response = rep.post(URL, data)
    assert response.status_code == 400 and field in response.json()


def test_concessions_of_someone_elses_deal_are_invisible(api_as, other_rep, deal):
    concession = f.ConcessionFactory(deal=deal)
    client = api_as(other_rep)
    assert ids(client.get(URL)) == []
    assert client.delete(f"{URL}{concession.id}/").status_code == 404


def test_concession_list_queries_do_not_grow_with_rows(rep, deal):
    assert_flat_list_queries(
        rep, URL, lambda n: f.ConcessionFactory.create_batch(n, deal=deal), max_queries=4
    )
