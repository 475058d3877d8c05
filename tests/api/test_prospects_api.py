"""Prospects: a rep works with their sales team's prospects; other teams' are 404."""

import pytest

from deals.models import Prospect
from tests import factories as f
from tests.api.domain_helpers import assert_flat_list_queries, ids

URL = "/api/v1/prospects/"


@pytest.fixture
def rep(api_as, rep_user):
    return api_as(rep_user)


def test_rep_creates_a_prospect_in_their_own_team(rep, team):
    response = rep.post(URL, {"name": "Acme", "industry": "Retail", "size": "large"})
    assert response.status_code == 201, response.json()
    assert response.json()["team"] == team.id
    assert Prospect.objects.get().created_by.username == "rita_rep"


def test_prospect_of_another_team_is_invisible(rep, other_team, team):
    mine = f.ProspectFactory(team=team)
    theirs = f.ProspectFactory(team=other_team)
    assert ids(rep.get(URL)) == [mine.id]
    assert rep.get(f"{URL}{theirs.id}/").status_code == 404
    assert rep.patch(f"{URL}{theirs.id}/", {"name": "Mine"}).status_code == 404


def test_delivery_sees_prospects_of_handed_off_deals_but_cannot_edit(
    api_as, delivery_user, delivery_team, rep_user, team
):
    deal = f.DealFactory(owner=rep_user, team=team, stage="closed_won")
    f.HandoffFactory(deal=deal, delivery_team=delivery_team)
    client = api_as(delivery_user)
    assert ids(client.get(URL)) == [deal.prospect_id]
    assert client.patch(f"{URL}{deal.prospect_id}/", {"name": "X"}).status_code == 403


@pytest.mark.parametrize(
    "payload,field",
    [({"name": ""}, "name"), ({"name": "A", "size": "huge"}, "size"),
     ({"name": "A", "website": "not a url"}, "website"), ({"name": "A", "team": "x"}, "team")],
)  # fmt: skip
def test_bad_prospect_input_is_a_field_error(rep, payload, field):
    response = rep.post(URL, payload)
    assert response.status_code == 400 and field in response.json()


def test_prospect_in_a_team_you_are_not_in_is_refused(rep, other_team):
    response = rep.post(URL, {"name": "Acme", "team": other_team.id})
    assert response.status_code == 400 and "team" in response.json()


def test_prospect_list_queries_do_not_grow_with_rows(rep, team):
    assert_flat_list_queries(
        rep, URL, lambda n: f.ProspectFactory.create_batch(n, team=team), max_queries=5
    )
