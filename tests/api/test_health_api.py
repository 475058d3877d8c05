"""The health API: a deal's health, flags and acknowledgement, health policies."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deals.health import health_recompute
from deals.models import Deal, Flag, HealthPolicy
from tests import factories as f

pytestmark = pytest.mark.django_db

ROLE_CACHES = ("_crm_roles", "_crm_teams")


def discounted(deal, net="8000.00"):
    Deal.objects.filter(pk=deal.pk).update(
        list_total=Decimal("10000.00"), net_total=Decimal(net), cost_total=Decimal("2000.00")
    )
    return deal


@pytest.fixture
def rita_deal(rep_user, team):
    deal = discounted(f.DealFactory(team=team, owner=rep_user, title="Acme onboarding"))
    f.ActivityFactory(deal=deal, notes="Told them it is the last chance for this price.")
    health_recompute(deal_id=deal.id)
    return deal


def fresh(user):
    # force_authenticate reuses one user object whose role lookups are cached on it;
    # a real request loads the user afresh, so forget the caches to count honest queries.
    for attr in ROLE_CACHES:
        if hasattr(user, attr):
            delattr(user, attr)
    return user


def count_queries(client, url):
    fresh(client.handler._force_user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx), response.json()


# --- deals/{id}/health/ ------------------------------------------------------------------


def test_owner_reads_deal_health_with_scores_and_explained_flags(api_as, rep_user, rita_deal):
    response = api_as(rep_user).get(f"/api/v1/deals/{rita_deal.id}/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["deal"] == rita_deal.id
    assert (body["buyer_score"], body["seller_score"], body["balance"]) == (80, 60, "seller_loses")
    assert body["computed_at"]
    flags = {fl["code"]: fl for fl in body["flags"]}
    assert set(flags) == {"PRESSURE_LANGUAGE", "SELLER_DISCOUNT_OVER_POLICY"}
    language = flags["PRESSURE_LANGUAGE"]
    assert language["side"] == "relationship"
    assert language["severity"] == "warning"
    assert language["status"] == "open"
    assert language["evidence"]["phrases"] == ["last chance"]
    assert "'last chance'" in language["message"]


def test_someone_who_may_not_see_the_deal_gets_404_for_its_health(
    api_as, rita_deal, other_rep, other_manager, delivery_user
):
    for user in (other_rep, other_manager, delivery_user):
        client = api_as(user)
        assert client.get(f"/api/v1/deals/{rita_deal.id}/health/").status_code == 404
        assert client.post(f"/api/v1/deals/{rita_deal.id}/health/recompute/").status_code == 404
    assert api_as(other_rep).get("/api/v1/deals/999999/health/").status_code == 404


def test_anonymous_callers_are_refused(api_client, rita_deal):
    assert api_client.get(f"/api/v1/deals/{rita_deal.id}/health/").status_code in (401, 403)


def test_health_of_a_deal_never_computed_is_computed_on_first_read(api_as, rep_user, team):
    deal = discounted(f.DealFactory(team=team, owner=rep_user))

    body = api_as(rep_user).get(f"/api/v1/deals/{deal.id}/health/").json()

    assert body["seller_score"] == 80
    deal.refresh_from_db()
    assert deal.health_computed_at is not None


def test_recompute_returns_health_reflecting_the_latest_facts(api_as, rep_user, rita_deal):
    discounted(rita_deal, net="10000.00")

    response = api_as(rep_user).post(f"/api/v1/deals/{rita_deal.id}/health/recompute/")

    assert response.status_code == 200
    body = response.json()
    assert [fl["code"] for fl in body["flags"]] == ["PRESSURE_LANGUAGE"]
    assert body["seller_score"] == 80


def test_manager_of_the_team_reads_health_in_a_fixed_number_of_queries(
    api_as, manager_user, rita_deal
):
    client = api_as(manager_user)
    queries, body = count_queries(client, f"/api/v1/deals/{rita_deal.id}/health/")

    assert len(body["flags"]) == 2
    assert queries <= 5


# --- flags/ ------------------------------------------------------------------------------


def test_flag_list_shows_only_flags_of_visible_deals(api_as, rep_user, other_rep, rita_deal):
    other = discounted(f.DealFactory(team=rita_deal.team, owner=other_rep))
    health_recompute(deal_id=other.id)

    mine = api_as(rep_user).get("/api/v1/flags/").json()
    theirs = api_as(other_rep).get("/api/v1/flags/").json()

    assert {fl["deal"] for fl in mine["results"]} == {rita_deal.id}
    assert mine["count"] == 2
    assert {fl["deal"] for fl in theirs["results"]} == {other.id}
    assert theirs["count"] == 1


def test_flags_filter_by_code_side_status_severity_owner_deal_and_team(
    api_as, manager_user, rep_user, other_rep, rita_deal, team
):
    other = discounted(f.DealFactory(team=team, owner=other_rep), net="5000.00")
    health_recompute(deal_id=other.id)
    client = api_as(manager_user)

    def codes(query):
        response = client.get(f"/api/v1/flags/?{query}")
        assert response.status_code == 200, response.content
        return sorted((fl["deal"], fl["code"]) for fl in response.json()["results"])

    assert codes("code=PRESSURE_LANGUAGE") == [(rita_deal.id, "PRESSURE_LANGUAGE")]
    assert codes("side=seller") == [
        (rita_deal.id, "SELLER_DISCOUNT_OVER_POLICY"),
        (other.id, "SELLER_DISCOUNT_OVER_POLICY"),
    ]
    assert codes("severity=critical") == [(other.id, "SELLER_DISCOUNT_OVER_POLICY")]
    assert codes(f"owner={other_rep.id}") == [(other.id, "SELLER_DISCOUNT_OVER_POLICY")]
    assert codes(f"deal={rita_deal.id}&side=relationship") == [(rita_deal.id, "PRESSURE_LANGUAGE")]
    assert len(codes(f"team={team.id}&status=open")) == 3
    assert codes("status=resolved") == []
    assert len(codes("status=active")) == 3


def test_unknown_filter_values_answer_400_naming_the_parameter(api_as, manager_user):
    response = api_as(manager_user).get("/api/v1/flags/?code=NOT_A_CODE&severity=huge")

    assert response.status_code == 400
    assert set(response.json()) == {"code", "severity"}


def test_flag_list_query_count_does_not_grow_with_rows(api_as, manager_user, team):
    client = api_as(manager_user)

    def add(n):
        for _ in range(n):
            deal = discounted(f.DealFactory(team=team))
            f.ActivityFactory(deal=deal, notes="final offer")
            health_recompute(deal_id=deal.id)

    add(2)
    few, body_few = count_queries(client, "/api/v1/flags/")
    add(10)
    many, body_many = count_queries(client, "/api/v1/flags/")

    assert (body_few["count"], body_many["count"]) == (4, 24)
    assert few == many
    assert many <= 6


# --- flags/{id}/acknowledge/ -------------------------------------------------------------


def _flag(deal, code="SELLER_DISCOUNT_OVER_POLICY"):
    return Flag.objects.get(deal=deal, code=code, status__in=Flag.ACTIVE_STATUSES)


def test_manager_acknowledges_a_flag_with_a_note(api_as, manager_user, rita_deal):
    flag = _flag(rita_deal)

    response = api_as(manager_user).post(
        f"/api/v1/flags/{flag.id}/acknowledge/", {"note": "Strategic logo, VP approved."}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by"] == manager_user.id
    assert body["acknowledge_note"] == "Strategic logo, VP approved."
    flag.refresh_from_db()
    assert flag.status == "acknowledged"


def test_rep_may_see_but_not_acknowledge_their_flag(api_as, rep_user, rita_deal):
    flag = _flag(rita_deal)

    response = api_as(rep_user).post(f"/api/v1/flags/{flag.id}/acknowledge/", {"note": "fine"})

    assert response.status_code == 403
    flag.refresh_from_db()
    assert flag.status == "open"


def test_manager_of_another_team_cannot_find_the_flag(api_as, other_manager, rita_deal):
    flag = _flag(rita_deal)
    client = api_as(other_manager)

    assert client.get(f"/api/v1/flags/{flag.id}/").status_code == 404
    assert client.post(f"/api/v1/flags/{flag.id}/acknowledge/", {"note": "x"}).status_code == 404


def test_acknowledging_without_a_note_is_a_field_error(api_as, manager_user, rita_deal):
    response = api_as(manager_user).post(
        f"/api/v1/flags/{_flag(rita_deal).id}/acknowledge/", {"note": ""}
    )

    assert response.status_code == 400
    assert "note" in response.json()


def test_acknowledging_a_resolved_flag_is_a_conflict(api_as, manager_user, rita_deal):
    flag = _flag(rita_deal)
    discounted(rita_deal, net="10000.00")
    health_recompute(deal_id=rita_deal.id)

    response = api_as(manager_user).post(f"/api/v1/flags/{flag.id}/acknowledge/", {"note": "x"})

    assert response.status_code == 409


# --- health-policies/ --------------------------------------------------------------------


def test_reps_cannot_use_health_policies(api_as, rep_user):
    assert api_as(rep_user).get("/api/v1/health-policies/").status_code == 403


def test_manager_sees_the_global_policy_and_their_teams_but_not_other_teams(
    api_as, manager_user, other_manager, team, other_team, admin_user
):
    client = api_as(admin_user)
    assert client.get("/api/v1/health-policies/").status_code == 200  # creates nothing
    mine = HealthPolicy.objects.create(team=team)
    theirs = HealthPolicy.objects.create(team=other_team)
    HealthPolicy.objects.create(team=None)

    body = api_as(manager_user).get("/api/v1/health-policies/").json()

    assert sorted((p["team"] or 0) for p in body["results"]) == [0, team.id]
    assert api_as(manager_user).get(f"/api/v1/health-policies/{theirs.id}/").status_code == 404
    assert api_as(other_manager).get(f"/api/v1/health-policies/{mine.id}/").status_code == 404


def test_manager_creates_and_tunes_their_teams_policy_which_changes_the_flags(
    api_as, manager_user, team, rita_deal, django_capture_on_commit_callbacks
):
    client = api_as(manager_user)

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/health-policies/",
            {"team": team.id, "discount_max_pct": "25.00", "pressure_phrases": ["sign today"]},
        )

    assert created.status_code == 201, created.content
    assert created.json()["discount_max_pct"] == "25.00"
    assert created.json()["margin_floor_pct"] == "20.00"  # copied from the global policy
    # The policy change sweeps the team's deals: 20 % is within 25 %, "last chance" no
    # longer a listed phrase.
    assert not Flag.objects.filter(deal=rita_deal, status="open").exists()

    policy_id = created.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        updated = client.patch(f"/api/v1/health-policies/{policy_id}/", {"discount_max_pct": "10"})
    assert updated.status_code == 200
    assert updated.json()["updated_by"] == manager_user.id
    assert _flag(rita_deal).evidence["max_pct"] == "10.00"


def test_manager_cannot_change_the_global_policy_but_an_admin_can(api_as, manager_user, admin_user):
    policy = HealthPolicy.objects.create(team=None)
    url = f"/api/v1/health-policies/{policy.id}/"

    assert api_as(manager_user).patch(url, {"stale_days": 30}).status_code == 403
    response = api_as(admin_user).patch(url, {"stale_days": 30})

    assert response.status_code == 200
    policy.refresh_from_db()
    assert policy.stale_days == 30


def test_out_of_range_thresholds_are_field_errors(api_as, admin_user):
    policy = HealthPolicy.objects.create(team=None)

    response = api_as(admin_user).patch(
        f"/api/v1/health-policies/{policy.id}/",
        {"discount_max_pct": "150", "win_win_threshold": 101},
    )

    assert response.status_code == 400
    assert set(response.json()) == {"discount_max_pct", "win_win_threshold"}
    policy.refresh_from_db()
    assert policy.discount_max_pct == Decimal("15.00")


def test_manager_cannot_create_a_policy_for_another_team(api_as, manager_user, other_team):
    response = api_as(manager_user).post("/api/v1/health-policies/", {"team": other_team.id})

    assert response.status_code == 403
    assert not HealthPolicy.objects.filter(team=other_team).exists()
