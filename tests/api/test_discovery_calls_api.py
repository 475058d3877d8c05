"""Discovery calls with nested needs and milestones, written as one unit of work."""

import pytest

from deals.models import BuyerMilestone, Deal, DiscoveryCall, Need
from tests import factories as f
from tests.api.domain_helpers import assert_flat_list_queries, ids

URL = "/api/v1/discovery-calls/"


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.DISCOVERY)


@pytest.fixture
def rep(api_as, rep_user):
    return api_as(rep_user)


def test_call_with_needs_and_milestones_is_created_in_one_request(rep, deal):
    contact = f.ContactFactory(prospect=deal.prospect)
    response = rep.post(
        URL,
        {
            "deal": deal.id,
            "held_at": "2030-01-15T10:00:00Z",
            "attendees": [contact.id],
            "summary": "Mapped their onboarding",
            "next_step": "Send the security questionnaire",
            "needs": [
                {"kind": "problem", "statement": "Onboarding takes 3 weeks", "importance": 5},
                {"kind": "goal", "statement": "Go live in Q2", "importance": 4,
                 "confirmed_by_buyer": True},
            ],
            "milestones": [
                {"title": "Security review", "required_for_decision": True,
                 "due_date": "2030-02-01"},
            ],
        },
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["attendees"] == [contact.id]
    assert sorted(n["statement"] for n in body["needs"]) == [
        "Go live in Q2", "Onboarding takes 3 weeks"
    ]  # fmt: skip
    assert [m["title"] for m in body["milestones"]] == ["Security review"]
    assert (
        Need.objects.filter(deal=deal, prospect=deal.prospect, discovery_call_id=body["id"]).count()
        == 2
    )
    assert BuyerMilestone.objects.get().required_for_decision is True


def test_one_bad_need_rolls_back_the_whole_call_with_errors_keyed_per_row(rep, deal):
    response = rep.post(
        URL,
        {
            "deal": deal.id,
            "held_at": "2030-01-15T10:00:00Z",
            "needs": [
                {"kind": "problem", "statement": "Fine", "importance": 3},
                {"kind": "wish", "statement": "Bad kind", "importance": 7},
            ],
            "milestones": [{"title": "", "side": "buyer"}],
        },
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"needs[1].kind", "needs[1].importance", "milestones[0].title"}
    assert not DiscoveryCall.objects.exists() and not Need.objects.exists()
    assert not BuyerMilestone.objects.exists()


def test_attendee_from_another_prospect_is_refused(rep, rep_user, team, deal):
    other = f.ContactFactory(prospect=f.ProspectFactory(team=team))  # visible to the rep
    response = rep.post(
        URL, {"deal": deal.id, "held_at": "2030-01-15T10:00:00Z", "attendees": [other.id]}
    )
    assert response.status_code == 400 and "attendee_ids" in response.json()
    assert not DiscoveryCall.objects.exists()


def test_missing_or_bad_held_at_is_a_400(rep, deal):
    assert "held_at" in rep.post(URL, {"deal": deal.id}).json()
    assert "held_at" in rep.post(URL, {"deal": deal.id, "held_at": "soonish"}).json()


def test_another_rep_cannot_see_the_call(api_as, other_rep, deal):
    call = f.DiscoveryCallFactory(deal=deal)
    client = api_as(other_rep)
    assert ids(client.get(URL)) == []
    assert client.get(f"{URL}{call.id}/").status_code == 404
    response = client.post(URL, {"deal": deal.id, "held_at": "2030-01-15T10:00:00Z"})
    assert response.status_code == 400 and "deal" in response.json()


def test_filters_by_deal_and_held_range(rep, rep_user, team, deal):
    call = f.DiscoveryCallFactory(deal=deal)
    f.DiscoveryCallFactory(deal=f.DealFactory(owner=rep_user, team=team))
    assert ids(rep.get(URL, {"deal": deal.id})) == [call.id]
    bad = rep.get(
        URL, {"held_after": "2030-02-01T00:00:00Z", "held_before": "2030-01-01T00:00:00Z"}
    )
    assert bad.status_code == 400 and "held_before" in bad.json()


def test_discovery_call_list_queries_do_not_grow_with_rows(rep, deal):
    contact = f.ContactFactory(prospect=deal.prospect)

    def add(n):
        for _ in range(n):
            call = f.DiscoveryCallFactory(deal=deal)
            call.attendees.add(contact)
            f.NeedFactory(deal=deal, discovery_call=call)
            f.BuyerMilestoneFactory(deal=deal, discovery_call=call)

    assert_flat_list_queries(rep, URL, add, max_queries=6)
