"""Contacts at prospects."""

import pytest

from tests import factories as f
from tests.api.domain_helpers import assert_flat_list_queries, ids

URL = "/api/v1/contacts/"


@pytest.fixture
def rep(api_as, rep_user):
    return api_as(rep_user)


def test_rep_adds_a_contact_with_a_buying_role(rep, rep_user, team):
    prospect = f.ProspectFactory(team=team)
    f.DealFactory(owner=rep_user, team=team, prospect=prospect)  # contacts: reps with a deal
    response = rep.post(
        URL,
        {"prospect": prospect.id, "name": "Ann Buyer", "email": "ann@acme.test",
         "buying_role": "decision_maker"},
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert ids(rep.get(URL, {"prospect": prospect.id})) == [response.json()["id"]]


@pytest.mark.parametrize(
    "field,value", [("buying_role", "boss"), ("email", "nope"), ("prospect", 999999)]
)
def test_bad_contact_input_is_a_field_error(rep, team, field, value):
    data = {"prospect": f.ProspectFactory(team=team).id, "name": "Ann", field: value}
    response = rep.post(URL, data)
    assert response.status_code == 400 and field in response.json()


def test_contacts_of_another_teams_prospect_are_invisible(rep, other_team):
    contact = f.ContactFactory(prospect=f.ProspectFactory(team=other_team))
    assert ids(rep.get(URL)) == []
    assert rep.get(f"{URL}{contact.id}/").status_code == 404
    response = rep.post(URL, {"prospect": contact.prospect_id, "name": "Sneaky"})
    assert response.status_code == 400 and "prospect" in response.json()


def test_contact_list_queries_do_not_grow_with_rows(rep, team):
    prospect = f.ProspectFactory(team=team)
    assert_flat_list_queries(
        rep, URL, lambda n: f.ContactFactory.create_batch(n, prospect=prospect), max_queries=5
    )
