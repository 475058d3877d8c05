"""Buyer milestones (the mutual plan)."""

import pytest

from tests import factories as f
from tests.api.domain_helpers import assert_flat_list_queries, ids

URL = "/api/v1/milestones/"


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team)


@pytest.fixture
def rep(api_as, rep_user):
    return api_as(rep_user)


def test_rep_plans_and_completes_a_milestone(rep, deal):
    response = rep.post(
        URL, {"deal": deal.id, "title": "Security review", "required_for_decision": True}
    )
    assert response.status_code == 201, response.json()
    body = rep.patch(f"{URL}{response.json()['id']}/", {"completed": True}).json()
    assert body["is_completed"] is True and body["completed_at"]
    assert ids(rep.get(URL, {"completed": "false"})) == []


@pytest.mark.parametrize(
    "field,value", [("side", "both"), ("due_date", "2030-13-40"), ("title", "")]
)
def test_bad_milestone_is_a_field_error(rep, deal, field, value):
    response = rep.post(URL, {"deal": deal.id, "title": "Pilot", field: value})
    assert response.status_code == 400 and field in response.json()


def test_milestones_of_someone_elses_deal_are_invisible(api_as, other_manager, deal):
    milestone = f.BuyerMilestoneFactory(deal=deal)
    client = api_as(other_manager)
    assert ids(client.get(URL)) == []
    assert client.patch(f"{URL}{milestone.id}/", {"completed": True}).status_code == 404


def test_milestone_list_queries_do_not_grow_with_rows(rep, deal):
    assert_flat_list_queries(
        rep, URL, lambda n: f.BuyerMilestoneFactory.create_batch(n, deal=deal), max_queries=4
    )
