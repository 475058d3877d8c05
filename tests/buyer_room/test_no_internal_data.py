"""The room shows the buyer what was written about them and nothing internal: no cost,
margin, list prices, flags, scores, notes, other contacts, other deals."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from deals.health import health_recompute
from deals.models import Activity, Concession, Deal
from tests import factories as f
from tests.buyer_room.conftest import room_url

pytestmark = pytest.mark.django_db

# Every one of these is on the deal (or next to it) and must never reach the buyer.
INTERNAL = {
    "unit cost": "4321.17",
    "unit list price": "1999.93",
    "cost total": "43211.70",
    "list total": "19999.30",
    "margin": "margin",
    "activity notes": "INTERNAL-CALL-NOTE their budget is bigger",
    "summary of the discovery call": "INTERNAL-SUMMARY champion is leaving",
    "delivery notes": "INTERNAL-DELIVERY-NOTE hard to please",
    "prospect notes": "INTERNAL-PROSPECT-NOTE",
    "contact notes": "INTERNAL-CONTACT-NOTE",
    "other contact's name": "Olga Otherperson",
    "other contact's email": "olga@buyer.example.com",
    "own email of the buyer": "bea@buyer.example.com",
    "rep's email": "rep-secret@seller.example.com",
    "concession": "INTERNAL-CONCESSION price cut",
    "traded for": "INTERNAL-EXCHANGE",
    "cost to seller": "777.31",
    "other deal": "INTERNAL-OTHER-DEAL",
    "external id": "EXT-INTERNAL-42",
    "flag code": "SELLER_",
    "flag word": "flag",
    "score": "score",
    "balance": "win_win",
    "rep-side pressure language": "sign today",
}


@pytest.fixture
def full_deal(room_deal, buyer, rep_user):
    deal = room_deal
    rep_user.email = INTERNAL["rep's email"]
    rep_user.save()
    Deal.objects.filter(pk=deal.pk).update(
        notes_for_delivery=INTERNAL["delivery notes"],
        external_id=INTERNAL["external id"],
        stage=Deal.Stage.NEGOTIATION,
    )
    deal.prospect.notes = INTERNAL["prospect notes"]
    deal.prospect.save()
    buyer.notes = INTERNAL["contact notes"]
    buyer.save()
    f.ContactFactory(
        prospect=deal.prospect,
        name=INTERNAL["other contact's name"],
        email=INTERNAL["other contact's email"],
    )
    item = deal.line_items.get()
    item.unit_cost = Decimal(INTERNAL["unit cost"])
    item.unit_list_price = Decimal(INTERNAL["unit list price"])
    item.save()
    Deal.objects.filter(pk=deal.pk).update(
        cost_total=Decimal(INTERNAL["cost total"]), list_total=Decimal(INTERNAL["list total"])
    )
    f.LineItemFactory(deal=deal, name="Unlinked add-on", unit_cost=Decimal(INTERNAL["unit cost"]))
    f.ActivityFactory(
        deal=deal,
        kind=Activity.Kind.MEETING,
        notes=f"{INTERNAL['activity notes']} — {INTERNAL['rep-side pressure language']}",
        close_attempt=True,
        senior_present=True,
        occurred_at=timezone.now() - dt.timedelta(hours=2),
    )
    deal.discovery_calls.update(summary=INTERNAL["summary of the discovery call"])
    f.ConcessionFactory(
        deal=deal,
        kind=Concession.Kind.PRICE,
        description=INTERNAL["concession"],
        in_exchange_for=INTERNAL["traded for"],
        cost_to_seller=Decimal(INTERNAL["cost to seller"]),
        amount=Decimal("50.00"),
    )
    f.DealFactory(
        team=deal.team, owner=rep_user, prospect=deal.prospect, title=INTERNAL["other deal"]
    )
    health_recompute(deal_id=deal.pk)
    deal.refresh_from_db()
    assert deal.flags.exists()  # there are flags to leak
    return deal


def _assert_clean(text: str, where: str) -> None:
    lowered = text.lower()
    for what, value in INTERNAL.items():
        assert value.lower() not in lowered, f"{what} ({value!r}) leaked in {where}"


def test_no_internal_data_in_any_room_response(post, client, full_deal, token, committed):
    responses = {"the room": client.get(room_url(token))}
    assert "Onboard a customer in a week" in responses["the room"].content.decode()
    assert "90.00" in responses["the room"].content.decode()  # the price offered is shown
    need = full_deal.needs.first()
    meeting = full_deal.activities.get(kind="meeting")
    responses["a 400 re-render"] = post(room_url(token, "need_add"), {"statement": ""})
    responses["a refused field"] = post(room_url(token, "question"), {"question": "q", "x": "1"})
    responses["a 403 re-render"] = post(
        room_url(token, "milestone_tick", full_deal.milestones.get(side="seller").pk),
        {"done": "yes"},
    )
    responses["a redirect"] = post(room_url(token, "need_confirm", need.pk))
    responses["after an action"] = client.get(room_url(token) + "?done=needs")
    responses["the pulse"] = post(
        room_url(token, "pulse", meeting.pk),
        {"got_what_needed": "yes", "felt_pushed": "no", "next_step_agreed": "yes"},
    )
    responses["a bad id"] = post(room_url(token, "need_confirm", 999999))
    responses["a bad link"] = client.get(room_url("x" * 43))
    for where, response in responses.items():
        body = response.content.decode()
        headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
        _assert_clean(body + headers, where)


def test_no_internal_data_in_the_email_to_the_buyer(full_deal, buyer, rep_user, committed):
    from deals.buyer_room import services

    mail.outbox.clear()
    with committed():
        services.buyer_share_create(deal=full_deal, contact=buyer, user=rep_user)
    (message,) = mail.outbox
    text = message.subject + message.body
    for what, value in INTERNAL.items():
        if what != "own email of the buyer":
            assert value.lower() not in text.lower(), what
