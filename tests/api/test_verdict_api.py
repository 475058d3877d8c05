"""Issue 22 through the API: breakdown, ?preview=STAGE, confirm + reason, reopen."""

import datetime as dt

import pytest
from django.utils import timezone

from deals.health import health_recompute
from deals.models import Deal, Flag
from handoff.models import Handoff
from tests import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/v1/deals/"


def _v(deal: Deal) -> int:
    """The version a client holds after reading the deal (every deal write sends it)."""
    return Deal.objects.values_list("version", flat=True).get(pk=deal.pk)


@pytest.fixture
def deal(rep_user, team, delivery_team):
    deal = f.DealFactory(owner=rep_user, team=team, stage="negotiation")
    need = f.NeedFactory(deal=deal, importance=5, statement="Cut dispatch time")
    f.LineItemFactory(deal=deal, needs=[need])
    f.DisclosureFactory(deal=deal)
    f.DiscoveryCallFactory(deal=deal)
    f.ActivityFactory(deal=deal, initiated_by="buyer")
    return deal


def test_health_carries_the_breakdown_as_the_sum_of_each_active_flag(api_as, rep_user, deal):
    f.ActivityFactory(deal=deal, notes="This is our final offer.")
    health_recompute(deal_id=deal.pk)

    body = api_as(rep_user).get(f"{URL}{deal.pk}/health/").json()

    buyer = body["breakdown"]["buyer"]
    assert buyer["start"] == 100
    assert buyer["items"] == [
        {
            "code": "PRESSURE_LANGUAGE",
            "label": "Deadline language in the rep's notes",
            "severity": "warning",
            "points": -20,
        }
    ]
    assert buyer["score"] == body["buyer_score"] == 80
    assert body["breakdown"]["seller"]["score"] == body["seller_score"]
    flag = body["flags"][0]
    assert flag["label"] == "Deadline language in the rep's notes"
    assert flag["advice"].startswith("Drop deadline language")


def test_recompute_answers_with_the_breakdown_too(api_as, rep_user, deal):
    body = api_as(rep_user).post(f"{URL}{deal.pk}/health/recompute/").json()
    assert body["breakdown"]["buyer"]["items"] == []
    assert body["balance"] == "win_win"


def test_preview_answers_the_same_shape_for_the_swapped_stage_without_storing(
    api_as, rep_user, team
):
    deal = f.DealFactory(owner=rep_user, team=team, stage="qualification")
    f.NeedFactory(deal=deal, importance=5, statement="Works offline")
    f.BuyerMilestoneFactory(deal=deal, title="Security review")
    health_recompute(deal_id=deal.pk)
    stored = list(Flag.objects.values_list("id", "status"))

    response = api_as(rep_user).get(f"{URL}{deal.pk}/health/?preview=closed_won")

    assert response.status_code == 200
    body = response.json()
    assert body["preview"] == "closed_won"
    codes = {fl["code"] for fl in body["flags"]}
    assert {"BUYER_UNMET_NEED", "BUYER_UNDISCLOSED"} <= codes
    assert "BUYER_UNMET_NEED" in body["new_codes"]
    assert all(fl["id"] is None for fl in body["flags"])
    assert any("Security review" in c for c in body["confirm_needed"])
    assert body["breakdown"]["buyer"]["score"] == body["buyer_score"]
    assert list(Flag.objects.values_list("id", "status")) == stored
    assert Deal.objects.get(pk=deal.pk).stage == "qualification"


def test_preview_of_an_unknown_stage_is_a_400_naming_the_parameter(api_as, rep_user, deal):
    response = api_as(rep_user).get(f"{URL}{deal.pk}/health/?preview=won")
    assert response.status_code == 400
    assert "preview" in response.json()


def test_preview_of_a_deal_you_may_not_see_is_404(api_as, other_rep, deal):
    assert api_as(other_rep).get(f"{URL}{deal.pk}/health/?preview=proposal").status_code == 404


def test_close_over_an_open_milestone_needs_confirm_and_reason(api_as, rep_user, deal):
    f.BuyerMilestoneFactory(deal=deal, title="Security review")
    client = api_as(rep_user)

    response = client.post(f"{URL}{deal.pk}/stage/", {"stage": "closed_won", "version": _v(deal)})
    assert response.status_code == 400
    assert "“Security review” is still open" in response.json()["confirm"][0]

    response = client.post(
        f"{URL}{deal.pk}/stage/", {"stage": "closed_won", "confirm": True, "version": _v(deal)}
    )
    assert response.status_code == 400
    assert "reason" in response.json()

    response = client.post(
        f"{URL}{deal.pk}/stage/",
        {
            "stage": "closed_won",
            "confirm": True,
            "reason": "Their CISO waived it in writing",
            "version": _v(deal),
        },
    )
    assert response.status_code == 200, response.json()
    assert deal.stage_history.first().reason == "Their CISO waived it in writing"


def test_patching_the_stage_follows_the_same_rule(api_as, rep_user, deal):
    f.BuyerMilestoneFactory(deal=deal)
    client = api_as(rep_user)
    assert (
        client.patch(f"{URL}{deal.pk}/", {"stage": "closed_won", "version": _v(deal)}).status_code
        == 400
    )
    response = client.patch(
        f"{URL}{deal.pk}/",
        {"stage": "closed_won", "confirm": True, "reason": "Signed", "version": _v(deal)},
    )
    assert response.status_code == 200, response.json()
    assert "confirm" not in response.json() and "reason" not in response.json()


def test_reopen_takes_version_reason_and_confirm(api_as, rep_user, deal):
    client = api_as(rep_user)
    client.post(f"{URL}{deal.pk}/stage/", {"stage": "closed_won", "version": _v(deal)})
    version = Deal.objects.get(pk=deal.pk).version

    refused = client.post(f"{URL}{deal.pk}/reopen/", {"version": version})
    assert refused.status_code == 400
    assert {"confirm", "reason"} <= set(refused.json())

    response = client.post(
        f"{URL}{deal.pk}/reopen/",
        {"version": version, "confirm": True, "reason": "They want a second site"},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["stage"] == "negotiation"


def test_a_handed_off_deal_reopens_for_a_manager_but_not_another_rep(
    api_as, rep_user, other_rep, manager_user, deal
):
    api_as(rep_user).post(f"{URL}{deal.pk}/stage/", {"stage": "closed_won", "version": _v(deal)})
    Handoff.objects.filter(deal=deal).update(status="claimed", submitted_at=timezone.now())
    body = {"confirm": True, "reason": "Buyer back", "version": _v(deal)}
    assert api_as(other_rep).post(f"{URL}{deal.pk}/reopen/", body).status_code in (403, 404)
    response = api_as(manager_user).post(f"{URL}{deal.pk}/reopen/", body)
    assert response.status_code == 200, response.json()


def test_a_reopened_deal_s_handoff_stays_visible_to_delivery(api_as, rep_user, delivery_user, deal):
    api_as(rep_user).post(f"{URL}{deal.pk}/stage/", {"stage": "closed_won", "version": _v(deal)})
    handoff = Handoff.objects.get(deal=deal)
    Handoff.objects.filter(pk=handoff.pk).update(status="submitted", submitted_at=timezone.now())
    api_as(rep_user).post(
        f"{URL}{deal.pk}/reopen/", {"confirm": True, "reason": "Buyer back", "version": _v(deal)}
    )

    client = api_as(delivery_user)
    assert client.get(f"/api/v1/handoffs/{handoff.pk}/").status_code == 200
    assert client.get(f"{URL}{deal.pk}/").status_code == 200


def test_the_deal_shows_when_it_entered_its_stage_and_lists_sort_by_it(api_as, rep_user, team):
    old = f.DealFactory(owner=rep_user, team=team, title="Old")
    Deal.objects.filter(pk=old.pk).update(stage_changed_at=timezone.now() - dt.timedelta(days=40))
    new = f.DealFactory(owner=rep_user, team=team, title="New")
    client = api_as(rep_user)

    body = client.get(f"{URL}?ordering=stage_changed_at").json()
    assert [d["id"] for d in body["results"]][:2] == [old.pk, new.pk]
    assert client.get(f"{URL}{old.pk}/").json()["stage_changed_at"]


def test_a_manager_sets_the_stage_days_of_the_team_policy(api_as, manager_user, team):
    client = api_as(manager_user)
    response = client.post(
        "/api/v1/health-policies/",
        {"team": team.pk, "stage_stalled_days": {"negotiation": 10}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["stage_stalled_days"] == {"negotiation": 10}
    policy_id = response.json()["id"]
    bad = client.patch(
        f"/api/v1/health-policies/{policy_id}/",
        {"stage_stalled_days": {"closed_won": 3}},
        format="json",
    )
    assert bad.status_code == 400
    assert "stage_stalled_days" in bad.json()
