"""Commitments: promises the handoff carries."""

import pytest

from tests import factories as f
from tests.api.domain_helpers import assert_flat_list_queries, ids

URL = "/api/v1/commitments/"


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team)


@pytest.fixture
def rep(api_as, rep_user):
    return api_as(rep_user)


def test_rep_promises_and_marks_done(rep, rep_user, deal):
    response = rep.post(
        URL, {"deal": deal.id, "description": "Migrate data", "due_date": "2030-03-01"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["owner"]) == ("open", rep_user.id)
    done = rep.patch(f"{URL}{body['id']}/", {"status": "done"}).json()
    assert done["status"] == "done" and done["completed_at"]


def test_unknown_status_and_bad_dates_are_field_errors(rep, deal):
    commitment = f.CommitmentFactory(deal=deal)
    response = rep.patch(f"{URL}{commitment.id}/", {"status": "forgotten"})
    assert response.status_code == 400 and "status" in response.json()
    response = rep.get(URL, {"due_after": "2030-02-01", "due_before": "2030-01-01"})
    assert response.status_code == 400 and "due_before" in response.json()


def test_commitments_of_someone_elses_deal_are_invisible(api_as, other_rep, deal):
    commitment = f.CommitmentFactory(deal=deal)
    client = api_as(other_rep)
    assert ids(client.get(URL)) == []
    assert client.patch(f"{URL}{commitment.id}/", {"status": "done"}).status_code == 404


def test_manager_sees_but_cannot_change_commitments(api_as, manager_user, deal):
    commitment = f.CommitmentFactory(deal=deal)
    client = api_as(manager_user)
    assert ids(client.get(URL, {"status": "open"})) == [commitment.id]
    assert client.patch(f"{URL}{commitment.id}/", {"status": "done"}).status_code == 403


def test_commitment_list_queries_do_not_grow_with_rows(rep, deal):
    assert_flat_list_queries(
        rep, URL, lambda n: f.CommitmentFactory.create_batch(n, deal=deal), max_queries=4
    )
