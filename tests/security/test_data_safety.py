"""Nothing that matters can be lost: handed-off deals are not deleted, history outlives
deletes, and the database itself refuses rows that break the product's invariants."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from deals import models as m
from handoff import models as hm
from handoff.services import handoff_create_for_deal
from tests import factories as f


@pytest.fixture
def won_deal(rep_user, delivery_team):
    deal = f.DealFactory(
        team=rep_user.teams.first(),
        owner=rep_user,
        stage=m.Deal.Stage.CLOSED_WON,
        closed_at=timezone.now(),
        title="Acme rollout",
    )
    f.CommitmentFactory(deal=deal, description="Migrate their historical data")
    handoff_create_for_deal(deal=deal, user=rep_user)
    return deal


# --- a deal with a handoff cannot be deleted ------------------------------------------


@pytest.mark.django_db
def test_api_refuses_to_delete_a_deal_with_a_handoff(api_as, rep_user, admin_user, won_deal):
    for user in (rep_user, admin_user):
        response = api_as(user).delete(f"/api/v1/deals/{won_deal.pk}/")
        # The API offers no deal deletion at all: a closed deal is history, not clutter.
        assert response.status_code == 405, response.content
        assert response.json()["detail"]
    assert m.Deal.objects.filter(pk=won_deal.pk).exists()
    assert hm.Handoff.objects.filter(deal=won_deal).count() == 1
    assert m.Commitment.objects.filter(deal=won_deal).count() == 1


@pytest.mark.django_db
def test_admin_refuses_to_delete_a_deal_with_a_handoff(client, admin_user, won_deal):
    client.force_login(admin_user)
    url = f"/admin/deals/deal/{won_deal.pk}/delete/"
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 200  # the confirmation page again, not a redirect
    body = response.content.decode()
    assert "Cannot delete" in body
    assert "Handoff of Acme rollout" in body  # names what protects it
    assert m.Deal.objects.filter(pk=won_deal.pk).exists()
    assert hm.Handoff.objects.filter(deal=won_deal).exists()

    # The bulk action is refused the same way.
    response = client.post(
        "/admin/deals/deal/",
        {"action": "delete_selected", "_selected_action": [won_deal.pk], "post": "yes"},
    )
    assert "Cannot delete" in response.content.decode()
    assert m.Deal.objects.filter(pk=won_deal.pk).exists()


@pytest.mark.django_db
def test_admin_can_delete_a_deal_without_a_handoff_and_its_history_remains(
    client, admin_user, rep_user
):
    """The control for the refusal above; and the deal's history outlives it."""
    deal = f.DealFactory(team=rep_user.teams.first(), owner=rep_user, title="Never closed")
    deal_id = deal.pk
    client.force_login(admin_user)
    response = client.post(f"/admin/deals/deal/{deal_id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not m.Deal.objects.filter(pk=deal_id).exists()
    history = list(m.Deal.history.filter(id=deal_id).order_by("history_id"))
    assert [h.history_type for h in history] == ["+", "-"]
    assert history[-1].title == "Never closed"
    assert history[-1].history_user == admin_user


@pytest.mark.django_db
def test_the_database_protects_a_handed_off_deal_even_without_the_admin(won_deal):
    with pytest.raises(ProtectedError), transaction.atomic():
        won_deal.delete()
    assert m.Deal.objects.filter(pk=won_deal.pk).exists()


# --- history survives deletes ------------------------------------------------------------


@pytest.mark.django_db
def test_deleting_a_line_item_keeps_its_history_and_the_deal_history_shows_it(api_as, rep_user):
    deal = f.DealFactory(team=rep_user.teams.first(), owner=rep_user, stage="proposal")
    api = api_as(rep_user)
    created = api.post(
        "/api/v1/line-items/",
        {
            "deal": deal.pk,
            "name": "Onboarding workshop",
            "quantity": "2",
            "unit_list_price": "500.00",
            "unit_price": "450.00",
        },
    )
    assert created.status_code == 201, created.content
    item_id = created.json()["id"]
    assert api.patch(f"/api/v1/line-items/{item_id}/", {"quantity": "3"}).status_code == 200
    assert api.delete(f"/api/v1/line-items/{item_id}/").status_code == 204
    assert not m.LineItem.objects.filter(pk=item_id).exists()

    rows = list(m.LineItem.history.filter(id=item_id).order_by("history_id"))
    assert [r.history_type for r in rows] == ["+", "~", "-"]
    assert rows[-1].name == "Onboarding workshop"
    assert rows[-1].quantity == Decimal("3")
    assert rows[-1].history_user == rep_user

    history = api.get(f"/api/v1/deals/{deal.pk}/history/").json()
    entries = [e for e in history if e["model"] == "line_item" and e["object_id"] == item_id]
    assert sorted(e["action"] for e in entries) == ["changed", "created", "deleted"]
    deleted = next(e for e in entries if e["action"] == "deleted")
    assert deleted["object_repr"] == "Onboarding workshop"
    assert deleted["username"] == rep_user.username


@pytest.mark.django_db
def test_deleting_a_concession_keeps_its_history(api_as, rep_user):
    deal = f.DealFactory(team=rep_user.teams.first(), owner=rep_user, stage="negotiation")
    concession = f.ConcessionFactory(deal=deal, description="Free training day")
    assert api_as(rep_user).delete(f"/api/v1/concessions/{concession.pk}/").status_code == 204
    rows = m.Concession.history.filter(id=concession.pk).order_by("history_id")
    assert [r.history_type for r in rows] == ["+", "-"]
    assert rows.last().description == "Free training day"


# --- the database backs every invariant ---------------------------------------------------


def _refused(create):
    """The database itself rejects the row (services and forms are bypassed on purpose)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


@pytest.mark.django_db
def test_database_allows_one_handoff_per_deal(won_deal, delivery_team, rep_user):
    _refused(
        lambda: hm.Handoff.objects.create(deal=won_deal, delivery_team=delivery_team, rep=rep_user)
    )
    assert hm.Handoff.objects.filter(deal=won_deal).count() == 1


@pytest.mark.django_db
def test_database_allows_one_active_flag_per_deal_and_code():
    flag = f.FlagFactory(code="SELLER_MARGIN_BELOW_FLOOR")
    deal = flag.deal
    _refused(lambda: f.FlagFactory(deal=deal, code="SELLER_MARGIN_BELOW_FLOOR"))
    _refused(
        lambda: f.FlagFactory(deal=deal, code="SELLER_MARGIN_BELOW_FLOOR", status="acknowledged")
    )
    # A resolved flag is history: the same code may open again, and another code is fine.
    f.FlagFactory(deal=deal, code="SELLER_MARGIN_BELOW_FLOOR", status="resolved")
    f.FlagFactory(deal=deal, code="BUYER_OVERSELL")
    m.Flag.objects.filter(pk=flag.pk).update(status="resolved")
    f.FlagFactory(deal=deal, code="SELLER_MARGIN_BELOW_FLOOR")
    assert m.Flag.objects.filter(deal=deal, code="SELLER_MARGIN_BELOW_FLOOR").count() == 3
    assert (
        m.Flag.objects.filter(
            deal=deal, code="SELLER_MARGIN_BELOW_FLOOR", status__in=["open", "acknowledged"]
        ).count()
        == 1
    )


@pytest.mark.django_db
@pytest.mark.parametrize("importance", [0, 6, -1])
def test_database_keeps_need_importance_between_1_and_5(importance):
    need = f.NeedFactory(importance=3)
    _refused(lambda: f.NeedFactory(deal=need.deal, importance=importance))
    _refused(lambda: m.Need.objects.filter(pk=need.pk).update(importance=importance))
    need.refresh_from_db()
    assert need.importance == 3


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["unit_list_price", "unit_price", "unit_cost"])
def test_database_refuses_negative_line_item_prices(field):
    item = f.LineItemFactory()
    _refused(lambda: f.LineItemFactory(deal=item.deal, **{field: Decimal("-0.01")}))
    _refused(lambda: m.LineItem.objects.filter(pk=item.pk).update(**{field: Decimal("-5")}))
    _refused(lambda: m.LineItem.objects.filter(pk=item.pk).update(quantity=Decimal("0")))


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["amount", "cost_to_seller"])
def test_database_refuses_negative_concession_money(field):
    _refused(lambda: f.ConcessionFactory(**{field: Decimal("-1.00")}))


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["list_total", "cost_total"])
def test_database_refuses_negative_deal_totals(field):
    deal = f.DealFactory()
    _refused(lambda: m.Deal.objects.filter(pk=deal.pk).update(**{field: Decimal("-1")}))
    deal.refresh_from_db()
    assert getattr(deal, field) == Decimal("0")


@pytest.mark.django_db
def test_database_keeps_check_in_value_between_1_and_5_and_one_per_offset(won_deal):
    handoff = won_deal.handoff
    due = timezone.localdate()
    hm.CheckIn.objects.create(handoff=handoff, day_offset=30, due_date=due, customer_value=5)
    _refused(lambda: hm.CheckIn.objects.create(handoff=handoff, day_offset=90, due_date=due,
                                               customer_value=6))  # fmt: skip
    _refused(lambda: hm.CheckIn.objects.create(handoff=handoff, day_offset=30, due_date=due))


@pytest.mark.django_db
def test_database_keeps_one_health_snapshot_per_deal_and_day():
    deal = f.DealFactory()
    row = {
        "deal": deal,
        "day": timezone.localdate(),
        "buyer_score": 90,
        "seller_score": 80,
        "balance": "win_win",
        "team": deal.team,
        "owner": deal.owner,
    }
    m.HealthSnapshot.objects.create(**row)
    _refused(lambda: m.HealthSnapshot.objects.create(**row))
