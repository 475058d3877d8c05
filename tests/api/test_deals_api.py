"""The deals endpoint: visibility, representation, stage rules, locking, history, filters."""

from decimal import Decimal
from unittest import mock

import pytest

from deals import services
from deals.models import Deal
from tests import factories as f
from tests.api.domain_helpers import assert_flat_list_queries, ids

URL = "/api/v1/deals/"


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.PROPOSAL, title="Acme rollout")


@pytest.fixture
def rep(api_as, rep_user):
    return api_as(rep_user)


def test_rep_sees_only_own_deals(rep, deal, other_rep, team):
    theirs = f.DealFactory(owner=other_rep, team=team)
    response = rep.get(URL)
    assert ids(response) == [deal.id]
    assert rep.get(f"{URL}{theirs.id}/").status_code == 404
    assert rep.patch(f"{URL}{theirs.id}/", {"title": "x"}).status_code == 404


def test_manager_sees_team_deals_but_cannot_change_them(api_as, deal, manager_user, other_manager):
    response = api_as(manager_user).get(URL)
    assert ids(response) == [deal.id]
    patch = api_as(manager_user).patch(f"{URL}{deal.id}/", {"title": "Managed"})
    assert patch.status_code == 403
    assert api_as(other_manager).get(f"{URL}{deal.id}/").status_code == 404
    deal.refresh_from_db()
    assert deal.title == "Acme rollout"


def test_delivery_sees_only_won_deals_handed_to_their_team_read_only(
    api_as, deal, delivery_user, delivery_team, rep_user, team
):
    not_handed = f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.CLOSED_WON)
    client = api_as(delivery_user)
    assert client.get(f"{URL}{deal.id}/").status_code == 404
    Deal.objects.filter(pk=deal.pk).update(stage=Deal.Stage.CLOSED_WON)
    f.HandoffFactory(deal=deal, delivery_team=delivery_team)
    assert ids(client.get(URL)) == [deal.id]
    assert client.get(f"{URL}{not_handed.id}/").status_code == 404
    assert client.patch(f"{URL}{deal.id}/", {"title": "Ours"}).status_code == 403


def test_deal_shows_pricing_percentages_version_and_health(rep, rep_user, deal):
    services.line_item_create(
        deal=deal, user=rep_user, name="Licence", quantity=Decimal("10"),
        unit_list_price=Decimal("100"), unit_price=Decimal("88"), unit_cost=Decimal("22"),
    )  # fmt: skip
    Deal.objects.filter(pk=deal.pk).update(buyer_score=82, seller_score=64, balance="seller_loses")
    body = rep.get(f"{URL}{deal.id}/").json()
    assert body["list_total"] == "1000.00"
    assert body["net_total"] == "880.00"
    assert body["cost_total"] == "220.00"
    assert body["discount_pct"] == "12.00"
    assert body["margin_pct"] == "75.00"
    assert body["version"] == 1
    assert (body["buyer_score"], body["seller_score"], body["balance"]) == (
        82, 64, "seller_loses"
    )  # fmt: skip


def test_health_and_totals_cannot_be_written_and_the_400_names_them(rep, deal):
    response = rep.patch(
        f"{URL}{deal.id}/",
        {"buyer_score": 1, "balance": "lose_lose", "net_total": "5", "title": "T", "version": 1},
    )
    assert response.status_code == 400
    assert set(response.json()) == {"buyer_score", "balance", "net_total"}
    assert "read-only" in response.json()["net_total"][0]
    deal.refresh_from_db()
    assert (deal.buyer_score, deal.balance, deal.net_total, deal.title) == (
        None, "", 0, "Acme rollout"
    )  # fmt: skip


def test_rep_creates_a_deal_they_own(rep, rep_user, team):
    prospect = f.ProspectFactory(team=team)
    response = rep.post(URL, {"prospect": prospect.id, "title": "Pilot", "currency": "eur"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["owner"], body["team"], body["stage"], body["currency"], body["version"]) == (
        rep_user.id, team.id, "discovery", "EUR", 1
    )  # fmt: skip


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"title": "X", "stage": "sold"}, "stage"),
        ({"title": "X", "currency": "euro"}, "currency"),
        ({"title": "X", "expected_close_date": "next week"}, "expected_close_date"),
        ({"title": ""}, "title"),
        ({"title": "X", "prospect": "abc"}, "prospect"),
    ],
)
def test_bad_deal_input_is_a_400_naming_the_field(rep, team, payload, field):
    payload = {"prospect": f.ProspectFactory(team=team).id, **payload}
    response = rep.post(URL, payload)
    assert response.status_code == 400
    assert field in response.json()


def test_deal_for_another_teams_prospect_is_refused(rep, other_team):
    prospect = f.ProspectFactory(team=other_team)
    response = rep.post(URL, {"prospect": prospect.id, "title": "Poach"})
    assert response.status_code == 400
    assert "prospect" in response.json()
    assert not Deal.objects.exists()


def test_stale_version_gets_409_with_current_version_and_changes_nothing(rep, deal):
    assert rep.patch(f"{URL}{deal.id}/", {"title": "First", "version": 1}).json()["version"] == 2
    response = rep.patch(f"{URL}{deal.id}/", {"title": "Second", "version": 1})
    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == 2 and "changed" in body["detail"]
    deal.refresh_from_db()
    assert (deal.title, deal.version) == ("First", 2)


def test_closing_lost_without_reason_is_a_400_the_rep_understands(rep, deal):
    response = rep.patch(f"{URL}{deal.id}/", {"stage": "closed_lost", "version": 1})
    assert response.status_code == 400
    assert response.json() == {
        "lost_reason": ["Say why the deal was lost before closing it as lost."]
    }
    response = rep.post(
        f"{URL}{deal.id}/stage/", {"stage": "closed_lost", "lost_reason": "Budget", "version": 1}
    )
    assert response.status_code == 200
    assert response.json()["stage"] == "closed_lost"


def test_closing_won_without_items_is_refused_then_allowed(rep, rep_user, deal):
    response = rep.post(f"{URL}{deal.id}/stage/", {"stage": "closed_won", "version": 1})
    assert response.status_code == 400 and "stage" in response.json()
    f.LineItemFactory(deal=deal)
    with mock.patch("handoff.services.handoff_create_for_deal") as create:
        response = rep.post(
            f"{URL}{deal.id}/stage/",
            {"stage": "closed_won", "version": 1, "confirm": True, "reason": "Signed"},
        )
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    assert create.call_count == 1


def test_reopen_is_the_way_back_from_closed(rep, deal):
    rep.post(
        f"{URL}{deal.id}/stage/", {"stage": "closed_lost", "lost_reason": "Budget", "version": 1}
    )
    assert rep.patch(f"{URL}{deal.id}/", {"stage": "proposal", "version": 2}).status_code == 400
    response = rep.post(
        f"{URL}{deal.id}/reopen/",
        {"stage": "proposal", "version": 2, "confirm": True, "reason": "Back"},
    )
    assert response.status_code == 200
    assert (response.json()["stage"], response.json()["lost_reason"]) == ("proposal", "")
    already_open = rep.post(
        f"{URL}{deal.id}/reopen/", {"version": 3, "confirm": True, "reason": "Again"}
    )
    assert already_open.status_code == 400


def test_stage_endpoint_with_stale_version_is_409(rep, deal):
    rep.patch(f"{URL}{deal.id}/", {"title": "bump", "version": 1})
    response = rep.post(f"{URL}{deal.id}/stage/", {"stage": "negotiation", "version": 1})
    assert response.status_code == 409 and response.json()["current_version"] == 2
    deal.refresh_from_db()
    assert deal.stage == "proposal"


def test_history_shows_who_changed_which_field_from_what_to_what(rep, rep_user, deal):
    rep.patch(f"{URL}{deal.id}/", {"title": "Acme global rollout", "version": 1})
    item = services.line_item_create(
        deal=deal, user=rep_user, name="Licence", quantity=Decimal("1"),
        unit_list_price=Decimal("10"), unit_price=Decimal("10"),
    )  # fmt: skip
    services.line_item_update(line_item=item, user=rep_user, unit_price=Decimal("9"))
    response = rep.get(f"{URL}{deal.id}/history/")
    assert response.status_code == 200
    entries = response.json()
    title_change = next(e for e in entries if e["model"] == "deal" and e["action"] == "changed")
    assert title_change["username"] == rep_user.username
    assert {"field": "title", "old": "Acme rollout", "new": "Acme global rollout"} in (
        title_change["changes"]
    )
    price_change = next(
        e for e in entries if e["model"] == "line_item" and e["action"] == "changed"
    )
    assert price_change["changes"] == [{"field": "unit_price", "old": "10.00", "new": "9.00"}]


def test_history_of_an_invisible_deal_is_404(api_as, other_rep, deal):
    assert api_as(other_rep).get(f"{URL}{deal.id}/history/").status_code == 404


def test_filters_by_stage_owner_prospect_and_dates(rep, rep_user, team, deal):
    other = f.DealFactory(owner=rep_user, team=team, stage="discovery", expected_close_date=None)
    assert ids(rep.get(URL, {"stage": "proposal"})) == [deal.id]
    assert ids(rep.get(URL, {"prospect": other.prospect_id})) == [other.id]
    assert ids(rep.get(URL, {"owner": rep_user.id})) == sorted([deal.id, other.id])
    after = deal.expected_close_date.isoformat()
    assert ids(rep.get(URL, {"expected_close_after": after})) == [deal.id]
    ordered = rep.get(URL, {"ordering": "title"}).json()["results"]
    assert [d["title"] for d in ordered] == sorted([deal.title, other.title])


@pytest.mark.parametrize(
    "params",
    [
        {"owner": "abc"},
        {"prospect": "1; drop table"},
        {"stage": "sold"},
        {"expected_close_after": "2030-01-02", "expected_close_before": "2030-01-01"},
        {"created_after": "yesterday"},
        {"owner": "99999999999999999999"},  # would overflow the driver, not match nothing
        {"team": "-4"},
    ],
)
def test_bad_filters_are_400_not_500(rep, deal, params):
    response = rep.get(URL, params)
    assert response.status_code == 400
    assert set(response.json()) & (set(params) | {"expected_close_before"})


def test_huge_or_odd_ids_in_urls_and_bodies_are_404_or_400(rep, deal):
    assert rep.get(f"{URL}99999999999999999999/").status_code == 404
    response = rep.post(URL, {"prospect": 10**20, "title": "X"}, format="json")
    assert response.status_code == 400 and "prospect" in response.json()
    response = rep.patch(f"{URL}{deal.id}/", {"version": "abc"})
    assert response.status_code == 400 and "version" in response.json()


def test_deal_list_queries_do_not_grow_with_rows(rep, rep_user, team):
    def add(n):
        f.DealFactory.create_batch(n, owner=rep_user, team=team)

    assert_flat_list_queries(rep, URL, add, max_queries=4)


def test_manager_deal_list_queries_do_not_grow_with_rows(api_as, manager_user, rep_user, team):
    def add(n):
        f.DealFactory.create_batch(n, owner=rep_user, team=team)

    assert_flat_list_queries(api_as(manager_user), URL, add, max_queries=5)


def test_anonymous_gets_401_or_403(api_client, deal):
    assert api_client.get(URL).status_code in (401, 403)
