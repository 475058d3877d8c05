"""Item 6: writes that lose data. Every deal update names its version; an update saves only
what it changed and recomputes totals under the lock; a second flag acknowledgement made
from a stale read is refused (409) instead of overwriting the first note; read-only fields
in a write are a 400 naming them."""

from decimal import Decimal

import pytest

from deals import services
from deals.health.store import FlagAcknowledgedMeanwhile, flag_acknowledge
from deals.models import Deal, Flag
from tests import factories as f

URL = "/api/v1/deals/"


@pytest.fixture
def deal(rep_user, team):
    return f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.PROPOSAL, title="Acme")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method,suffix,payload",
    [
        ("patch", "", {"title": "New"}),
        ("put", "", {"title": "New", "prospect": None, "currency": "EUR"}),
        ("post", "stage/", {"stage": "negotiation"}),
    ],
)
def test_every_deal_update_without_a_version_is_a_400_naming_it(
    api_as, rep_user, deal, method, suffix, payload
):
    if "prospect" in payload:
        payload["prospect"] = deal.prospect_id
    response = getattr(api_as(rep_user), method)(f"{URL}{deal.id}/{suffix}", payload)
    assert response.status_code == 400
    assert "version" in response.json()
    deal.refresh_from_db()
    assert (deal.title, deal.stage, deal.version) == ("Acme", "proposal", 1)


@pytest.mark.django_db
def test_the_etag_of_a_read_can_stand_in_for_the_version(api_as, rep_user, deal):
    client = api_as(rep_user)
    etag = client.get(f"{URL}{deal.id}/")["ETag"]
    assert etag == '"1"'
    ok = client.patch(f"{URL}{deal.id}/", {"title": "Via ETag"}, HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(f"{URL}{deal.id}/", {"title": "Again"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 409 and stale.json()["current_version"] == 2


@pytest.mark.django_db
def test_a_deal_update_from_a_copy_read_before_a_line_item_keeps_the_new_totals(rep_user, deal):
    stale_copy = Deal.objects.get(pk=deal.pk)  # the PATCH read the deal...
    services.line_item_create(  # ...a line item POST lands meanwhile...
        deal=deal, user=rep_user, need_ids=[], name="Licence", quantity=Decimal("10"),
        unit_list_price=Decimal("100"), unit_price=Decimal("90"), unit_cost=Decimal("20"),
    )  # fmt: skip
    # ...then the PATCH saves its copy (today: every column, totals of 0 included).
    services.deal_update(deal=stale_copy, user=rep_user, version=1, title="Renamed")
    deal.refresh_from_db()
    assert deal.title == "Renamed"
    assert (deal.list_total, deal.net_total, deal.cost_total) == (
        Decimal("1000.00"), Decimal("900.00"), Decimal("200.00")
    )  # fmt: skip
    assert stale_copy.net_total == Decimal("900.00")  # the caller's answer is current too


@pytest.mark.django_db
def test_two_acknowledgements_from_the_same_read_keep_the_first_note(
    api_as, manager_user, rep_user, team
):
    second_manager = f.manager(team, username="max_manager")
    deal = f.DealFactory(owner=rep_user, team=team)
    flag = f.FlagFactory(deal=deal)
    read_by_mona = Flag.objects.get(pk=flag.pk)
    read_by_max = Flag.objects.get(pk=flag.pk)
    flag_acknowledge(flag=read_by_mona, user=manager_user, note="Agreed with the VP.")
    with pytest.raises(FlagAcknowledgedMeanwhile, match="Agreed with the VP"):
        flag_acknowledge(flag=read_by_max, user=second_manager, note="Fine by me.")
    flag.refresh_from_db()
    assert (flag.acknowledged_by, flag.acknowledge_note) == (manager_user, "Agreed with the VP.")

    # The API answers the same race with 409, and a fresh read may replace the note.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            "deals.health.api.FlagViewSet.get_object", lambda self: read_by_max, raising=True
        )
        response = api_as(second_manager).post(
            f"/api/v1/flags/{flag.id}/acknowledge/", {"note": "Fine by me."}
        )
    assert response.status_code == 409
    again = api_as(second_manager).post(
        f"/api/v1/flags/{flag.id}/acknowledge/", {"note": "Fine by me."}
    )
    assert again.status_code == 200 and again.json()["acknowledge_note"] == "Fine by me."


@pytest.mark.django_db
def test_read_only_fields_in_a_write_are_a_400_naming_them(api_as, rep_user, deal):
    client = api_as(rep_user)
    item = client.post(
        "/api/v1/line-items/",
        {"deal": deal.id, "name": "Seat", "quantity": "1", "unit_list_price": "10",
         "unit_price": "10", "created_at": "2020-01-01T00:00:00Z"},
    )  # fmt: skip
    assert item.status_code == 400 and set(item.json()) == {"created_at"}

    other = f.DealFactory(owner=rep_user, team=deal.team)
    need = f.NeedFactory(deal=deal)
    moved = client.patch(f"/api/v1/needs/{need.id}/", {"deal": other.id, "importance": 2})
    assert moved.status_code == 400 and set(moved.json()) == {"deal"}
    need.refresh_from_db()
    assert (need.deal_id, need.importance) == (deal.id, need.importance)

    # Sending back what GET returned, unchanged, is not an error.
    body = client.get(f"/api/v1/needs/{need.id}/").json()
    assert client.put(f"/api/v1/needs/{need.id}/", body).status_code == 200
