"""Line items: validation, needs of the deal's prospect only, totals, visibility."""

from decimal import Decimal

import pytest

from deals.models import Deal, LineItem
from tests import factories as f
from tests.api.domain_helpers import assert_flat_list_queries, ids

URL = "/api/v1/line-items/"


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.PROPOSAL)


@pytest.fixture
def rep(api_as, rep_user):
    return api_as(rep_user)


def payload(deal, **kw):
    data = {
        "deal": deal.id,
        "name": "Licence",
        "quantity": "4",
        "unit_list_price": "250.00",
        "unit_price": "200.00",
        "unit_cost": "50.00",
    }
    data.update(kw)
    return data


def test_creating_an_item_serving_needs_updates_the_deal_totals(rep, deal):
    need = f.NeedFactory(deal=deal)
    response = rep.post(URL, payload(deal, needs=[need.id]))
    assert response.status_code == 201, response.json()
    assert response.json()["needs"] == [need.id]
    assert response.json()["line_net_total"] == "800.00"
    deal.refresh_from_db()
    assert (deal.list_total, deal.net_total, deal.cost_total) == (
        Decimal("1000"), Decimal("800"), Decimal("200")
    )  # fmt: skip
    item_id = response.json()["id"]
    assert rep.patch(f"{URL}{item_id}/", {"quantity": "1"}).status_code == 200
    deal.refresh_from_db()
    assert deal.net_total == Decimal("200")
    assert rep.delete(f"{URL}{item_id}/").status_code == 204
    deal.refresh_from_db()
    assert deal.net_total == 0


def test_a_need_of_another_prospect_is_a_400(rep, rep_user, team, deal):
    other_deal = f.DealFactory(owner=rep_user, team=team)  # visible, but another prospect
    foreign_need = f.NeedFactory(deal=other_deal)
    response = rep.post(URL, payload(deal, needs=[foreign_need.id]))
    assert response.status_code == 400
    assert response.json() == {
        "needs": [f"Need {foreign_need.id} is not a need of this deal's prospect."]
    }
    invisible_need = f.NeedFactory()
    response = rep.post(URL, payload(deal, needs=[invisible_need.id]))
    assert response.status_code == 400 and "needs" in response.json()
    assert not LineItem.objects.exists()


def test_a_need_id_past_the_databases_integers_is_a_400_not_a_500(rep, deal):
    response = rep.post(URL, payload(deal, needs=[2**63]))
    assert response.status_code == 400
    assert "needs" in response.json() and not LineItem.objects.exists()


@pytest.mark.parametrize(
    "field,value",
    [
        ("quantity", "0"),
        ("quantity", "-2"),
        ("unit_price", "-1.00"),
        ("unit_list_price", "-0.01"),
        ("unit_cost", "-3"),
        ("quantity", "lots"),
        ("unit_price", "1e30"),
        ("needs", ["x"]),
    ],
)
def test_bad_numbers_are_field_errors(rep, deal, field, value):
    response = rep.post(URL, payload(deal, **{field: value}))
    assert response.status_code == 400
    assert field in response.json()
    assert not LineItem.objects.exists()


def test_a_deal_of_another_team_is_a_400(rep, other_team):
    foreign = f.DealFactory(team=other_team)
    response = rep.post(URL, payload(foreign))
    assert response.status_code == 400 and "deal" in response.json()


def test_another_rep_cannot_see_or_touch_the_items(api_as, other_rep, deal):
    item = f.LineItemFactory(deal=deal)
    client = api_as(other_rep)
    assert ids(client.get(URL)) == []
    assert client.get(f"{URL}{item.id}/").status_code == 404
    assert client.delete(f"{URL}{item.id}/").status_code == 404
    assert LineItem.objects.filter(pk=item.pk).exists()


def test_manager_sees_but_cannot_add_or_change_items(api_as, manager_user, deal):
    item = f.LineItemFactory(deal=deal)
    client = api_as(manager_user)
    assert ids(client.get(URL, {"deal": deal.id})) == [item.id]
    assert client.post(URL, payload(deal)).status_code == 403
    assert client.patch(f"{URL}{item.id}/", {"quantity": "99"}).status_code == 403
    item.refresh_from_db()
    assert item.quantity == Decimal("10")


def test_closed_deal_proposal_is_frozen(rep, rep_user, team):
    won = f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.CLOSED_WON)
    response = rep.post(URL, payload(won))
    assert response.status_code == 400 and "deal" in response.json()


def test_line_item_list_queries_do_not_grow_with_rows(rep, deal):
    need = f.NeedFactory(deal=deal)

    def add(n):
        for _ in range(n):
            f.LineItemFactory(deal=deal, needs=[need])

    assert_flat_list_queries(rep, URL, add, max_queries=5)


def test_an_item_posted_without_a_quantity_is_one_unit(rep, deal):
    body = payload(deal)
    del body["quantity"]
    response = rep.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["quantity"] == "1.00"
