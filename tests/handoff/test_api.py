"""The handoffs, handoff-checklist-items and check-ins endpoints."""

import datetime as dt

import pytest
from django.utils import timezone

from deals.models import Deal
from handoff.models import Handoff
from tests import factories as f

from .conftest import make_submitted

pytestmark = pytest.mark.django_db


def test_a_deals_handoff_is_found_by_deal_filter(api_as, submitted, won_deal, delivery_user):
    response = api_as(delivery_user).get(f"/api/v1/handoffs/?deal={won_deal.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == submitted.pk
    assert row["status"] == "submitted"
    assert row["deal_title"] == "Acme onboarding platform"
    assert row["is_overdue"] is False and row["has_leak"] is False


def test_list_filters_by_status_team_assignee_and_overdue(
    api_as, won_deal, team, rep_user, delivery_user, delivery_team
):
    claimed = make_submitted(won_deal)
    client = api_as(delivery_user)
    client.post(f"/api/v1/handoffs/{claimed.pk}/claim/")
    late = make_submitted(f.DealFactory(team=team, owner=rep_user, stage=Deal.Stage.CLOSED_WON))
    Handoff.objects.filter(pk=late.pk).update(sla_due_at=timezone.now() - dt.timedelta(minutes=5))

    def ids(query):
        response = client.get(f"/api/v1/handoffs/?{query}")
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids("status=claimed") == [claimed.pk]
    assert ids(f"assignee={delivery_user.pk}") == [claimed.pk]
    assert ids("overdue=true") == [late.pk]
    assert ids("overdue=false") == [claimed.pk]
    assert sorted(ids(f"delivery_team={delivery_team.pk}")) == sorted([claimed.pk, late.pk])
    assert client.get("/api/v1/handoffs/?status=lost").status_code == 400


def test_list_query_count_does_not_grow_with_rows(
    api_as, team, rep_user, delivery_user, django_assert_max_num_queries
):
    client = api_as(delivery_user)

    def add(n):
        for _ in range(n):
            make_submitted(f.DealFactory(team=team, owner=rep_user, stage=Deal.Stage.CLOSED_WON))

    add(2)
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/handoffs/").json()["count"] == 2
    add(8)
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/handoffs/").json()["count"] == 10


def test_users_who_may_not_see_a_handoff_get_404(
    api_as, submitted, other_rep, other_manager, outsider_delivery
):
    for user in (other_rep, other_manager, outsider_delivery):
        client = api_as(user)
        assert client.get(f"/api/v1/handoffs/{submitted.pk}/").status_code == 404
        assert client.post(f"/api/v1/handoffs/{submitted.pk}/claim/").status_code == 404
        assert client.get("/api/v1/handoffs/").json()["count"] == 0


def test_a_manager_sees_the_handoff_but_cannot_claim_it(api_as, submitted, manager_user):
    client = api_as(manager_user)
    assert client.get(f"/api/v1/handoffs/{submitted.pk}/").status_code == 200
    response = client.post(f"/api/v1/handoffs/{submitted.pk}/claim/")
    assert response.status_code == 403
    assert "delivery team" in response.json()["detail"]


def test_the_whole_workflow_through_the_api(api_as, draft, rep_user, delivery_user, won_deal):
    rep, delivery = api_as(rep_user), api_as(delivery_user)

    refused = rep.post(f"/api/v1/handoffs/{draft.pk}/submit/", {}, format="json")
    assert refused.status_code == 400
    assert "Kickoff contact confirmed" in refused.json()["checklist"][0]

    items = rep.get(f"/api/v1/handoff-checklist-items/?handoff={draft.pk}").json()["results"]
    assert len(items) == 5
    for item in items:
        response = rep.patch(
            f"/api/v1/handoff-checklist-items/{item['id']}/", {"checked": True}, format="json"
        )
        assert response.status_code == 200 and response.json()["checked"] is True
    assert (
        delivery.patch(
            f"/api/v1/handoff-checklist-items/{items[0]['id']}/", {"checked": False}, format="json"
        ).status_code
        == 403
    )

    response = rep.post(
        f"/api/v1/handoffs/{draft.pk}/submit/", {"notes_for_delivery": "Call Jo."}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "submitted"
    assert body["package"]["notes_for_delivery"] == "Call Jo."
    assert body["changes_since_snapshot"] == []
    assert rep.post(f"/api/v1/handoffs/{draft.pk}/submit/").status_code == 409

    assert rep.post(f"/api/v1/handoffs/{draft.pk}/claim/").status_code == 403
    response = delivery.post(f"/api/v1/handoffs/{draft.pk}/claim/")
    assert response.status_code == 200 and response.json()["assignee"] == delivery_user.pk
    conflict = delivery.post(f"/api/v1/handoffs/{draft.pk}/claim/")
    assert conflict.status_code == 409
    assert "it is claimed" in conflict.json()["detail"]

    assert delivery.post(f"/api/v1/handoffs/{draft.pk}/ask/", {}, format="json").json() == {
        "question": ["This field is required."]
    }
    response = delivery.post(
        f"/api/v1/handoffs/{draft.pk}/ask/", {"question": "Who is the sponsor?"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "needs_info"
    assert (
        delivery.post(
            f"/api/v1/handoffs/{draft.pk}/answer/", {"answer": "me"}, format="json"
        ).status_code
        == 403
    )
    assert delivery.post(f"/api/v1/handoffs/{draft.pk}/accept/").status_code == 409
    response = rep.post(
        f"/api/v1/handoffs/{draft.pk}/answer/", {"answer": "Jo Buyer."}, format="json"
    )
    assert response.status_code == 200
    assert [m["kind"] for m in response.json()["messages"]] == ["question", "answer"]

    response = delivery.post(f"/api/v1/handoffs/{draft.pk}/accept/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted"
    assert [c["day_offset"] for c in body["check_ins"]] == [30, 90, 180]
    assert [e["to_status"] for e in body["events"]] == [
        "draft",
        "submitted",
        "claimed",
        "needs_info",
        "claimed",
        "accepted",
    ]
    open_commitment = next(c for c in body["commitments"] if c["status"] == "open")
    assert open_commitment["owner"] == delivery_user.pk

    response = delivery.post(
        f"/api/v1/handoffs/{draft.pk}/commitment-status/",
        {"commitment": open_commitment["id"], "status": "done"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "done"
    other_deal_commitment = f.CommitmentFactory()
    assert (
        delivery.post(
            f"/api/v1/handoffs/{draft.pk}/commitment-status/",
            {"commitment": other_deal_commitment.pk, "status": "done"},
            format="json",
        ).status_code
        == 400
    )


def test_check_ins_are_listed_and_recorded_by_delivery(
    api_as, accepted, won_deal, delivery_user, rep_user, outsider_delivery
):
    delivery = api_as(delivery_user)
    rows = delivery.get(f"/api/v1/check-ins/?deal={won_deal.pk}").json()["results"]
    assert [r["day_offset"] for r in rows] == [30, 90, 180]
    first = rows[0]
    assert first["completed_at"] is None

    bad = delivery.put(
        f"/api/v1/check-ins/{first['id']}/",
        {"customer_value": 7, "account_health": "fine"},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"customer_value", "account_health"}

    assert (
        api_as(rep_user)
        .put(
            f"/api/v1/check-ins/{first['id']}/",
            {"customer_value": 5, "account_health": "profitable"},
            format="json",
        )
        .status_code
        == 403
    )
    assert api_as(outsider_delivery).get(f"/api/v1/check-ins/{first['id']}/").status_code == 404

    response = delivery.put(
        f"/api/v1/check-ins/{first['id']}/",
        {"customer_value": 4, "account_health": "profitable", "referrals": 1, "notes": "Happy."},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["customer_value"], body["account_health"], body["referrals"]) == (
        4,
        "profitable",
        1,
    )
    assert body["completed_at"] is not None and body["recorded_by"] == delivery_user.pk
    patched = delivery.patch(f"/api/v1/check-ins/{first['id']}/", {"referrals": 3}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["referrals"], patched.json()["customer_value"]) == (3, 4)
    assert delivery.get("/api/v1/check-ins/?completed=true").json()["count"] == 1
