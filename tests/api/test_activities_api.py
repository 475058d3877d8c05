"""Activities and the buyer's last contact."""

import pytest

from tests import factories as f
from tests.api.domain_helpers import assert_flat_list_queries, ids

URL = "/api/v1/activities/"


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team)


@pytest.fixture
def rep(api_as, rep_user):
    return api_as(rep_user)


def test_logging_a_buyer_email_updates_last_buyer_contact(rep, deal):
    response = rep.post(
        URL,
        {"deal": deal.id, "kind": "email", "initiated_by": "buyer",
         "occurred_at": "2030-01-10T09:30:00Z", "notes": "Asked for a pilot"},
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    deal_body = rep.get(f"/api/v1/deals/{deal.id}/").json()
    assert deal_body["last_buyer_contact_at"].startswith("2030-01-10T09:30:00")


@pytest.mark.parametrize(
    "field,value",
    [("kind", "fax"), ("initiated_by", "robot"), ("occurred_at", "yesterday"),
     ("close_attempt", "maybe")],
)  # fmt: skip
def test_bad_activity_is_a_field_error(rep, deal, field, value):
    data = {"deal": deal.id, "kind": "call", "initiated_by": "rep",
            "occurred_at": "2030-01-10T09:30:00Z", field: value}  # fmt: skip
    response = rep.post(URL, data)
    assert response.status_code == 400 and field in response.json()


def test_activities_of_someone_elses_deal_are_invisible(api_as, other_rep, deal):
    activity = f.ActivityFactory(deal=deal)
    client = api_as(other_rep)
    assert ids(client.get(URL)) == []
    assert client.get(f"{URL}{activity.id}/").status_code == 404


def test_filters_by_initiator_and_rejects_reversed_range(rep, deal):
    buyer = f.ActivityFactory(deal=deal, initiated_by="buyer")
    f.ActivityFactory(deal=deal, initiated_by="rep")
    assert ids(rep.get(URL, {"initiated_by": "buyer", "deal": deal.id})) == [buyer.id]
    response = rep.get(
        URL, {"occurred_after": "2030-01-02T00:00:00Z", "occurred_before": "2030-01-01T00:00:00Z"}
    )
    assert response.status_code == 400 and "occurred_before" in response.json()
    assert rep.get(URL, {"deal": "abc"}).status_code == 400


def test_activity_list_queries_do_not_grow_with_rows(rep, deal):
    assert_flat_list_queries(
        rep, URL, lambda n: f.ActivityFactory.create_batch(n, deal=deal), max_queries=4
    )
