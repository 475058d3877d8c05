"""A checklist that checks: items with a data condition, override reasons, and the package
delivery reads (served-by per need, flags at submit with advice, the close reason)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from deals import services as deal_services
from deals.health import health_recompute
from deals.models import Commitment, Disclosure, Need
from handoff import services
from handoff.models import HandoffChecklistItem
from tests import factories as f

from .conftest import make_draft

pytestmark = pytest.mark.django_db


def item(handoff, key):
    return HandoffChecklistItem.objects.get(handoff=handoff, key=key)


def test_limitations_disclosed_cannot_be_ticked_while_nothing_was_disclosed(won_deal, rep_user):
    Disclosure.objects.filter(deal=won_deal).delete()
    f.DisclosureFactory(deal=won_deal, kind="pricing")  # a price sheet discloses no limit
    handoff = make_draft(won_deal)

    with pytest.raises(ValidationError) as exc:
        services.checklist_item_set(
            item=item(handoff, "limitations_disclosed"), user=rep_user, checked=True
        )
    assert "Nothing has been disclosed" in exc.value.message_dict["override_reason"][0]
    assert item(handoff, "limitations_disclosed").checked_at is None

    ticked = services.checklist_item_set(
        item=item(handoff, "limitations_disclosed"),
        user=rep_user,
        checked=True,
        override_reason="Told them on the call; writing it up today",
    )
    assert ticked.checked_at and ticked.override_reason.startswith("Told them")


def test_needs_reviewed_needs_a_need_confirmed_by_the_buyer(won_deal, rep_user):
    Need.objects.filter(deal=won_deal).update(confirmed_by_buyer=False)
    handoff = make_draft(won_deal)
    with pytest.raises(ValidationError):
        services.checklist_item_set(
            item=item(handoff, "needs_reviewed_with_buyer"), user=rep_user, checked=True
        )
    Need.objects.filter(deal=won_deal).update(confirmed_by_buyer=True)
    ticked = services.checklist_item_set(
        item=item(handoff, "needs_reviewed_with_buyer"), user=rep_user, checked=True
    )
    assert ticked.checked_at and ticked.override_reason == ""


def test_commitments_listed_needs_a_due_date_on_every_open_commitment(won_deal, rep_user):
    f.CommitmentFactory(deal=won_deal, description="Train their admins", due_date=None)
    handoff = make_draft(won_deal)
    with pytest.raises(ValidationError) as exc:
        services.checklist_item_set(
            item=item(handoff, "commitments_listed"), user=rep_user, checked=True
        )
    assert "“Train their admins”" in exc.value.message_dict["override_reason"][0]
    Commitment.objects.filter(deal=won_deal, due_date=None).update(
        due_date=timezone.localdate() + dt.timedelta(days=9)
    )
    services.checklist_item_set(
        item=item(handoff, "commitments_listed"), user=rep_user, checked=True
    )


def test_items_without_a_condition_tick_as_before(won_deal, rep_user):
    handoff = make_draft(won_deal)
    ticked = services.checklist_item_set(
        item=item(handoff, "kickoff_contact_confirmed"), user=rep_user, checked=True
    )
    assert ticked.checked_at


def test_the_api_ticks_with_an_override_reason_or_answers_400(api_as, won_deal, rep_user):
    Disclosure.objects.filter(deal=won_deal).delete()
    handoff = make_draft(won_deal)
    url = f"/api/v1/handoff-checklist-items/{item(handoff, 'limitations_disclosed').pk}/"
    client = api_as(rep_user)

    refused = client.patch(url, {"checked": True}, format="json")
    assert refused.status_code == 400
    assert "override_reason" in refused.json()

    response = client.patch(url, {"checked": True, "override_reason": "Verbal only"}, format="json")
    assert response.status_code == 200
    assert response.json()["checked"] is True
    assert response.json()["override_reason"] == "Verbal only"


def test_the_package_shows_overrides_served_by_flags_with_advice_and_the_close_reason(
    won_deal, rep_user, delivery_user, client
):
    Disclosure.objects.filter(deal=won_deal).delete()
    deal_services.stage_history_record(
        deal=won_deal, from_stage="negotiation", user=rep_user, reason="Signed by the COO",
        concerns=["No limitation, risk or cheaper alternative has been disclosed to the buyer."],
    )  # fmt: skip
    health_recompute(deal_id=won_deal.pk)
    handoff = make_draft(won_deal)
    handoff.checklist.exclude(key="limitations_disclosed").update(checked_at=timezone.now())
    services.checklist_item_set(
        item=item(handoff, "limitations_disclosed"),
        user=rep_user,
        checked=True,
        override_reason="Disclosed verbally",
    )

    handoff = services.handoff_submit(handoff=handoff, user=rep_user)

    package = handoff.package
    served = {n["statement"]: [i["name"] for i in n["served_by"]] for n in package["needs"]}
    assert served == {
        "Onboard a customer in a week": ["Platform licence"],
        "Fewer support tickets": [],
    }
    undisclosed = next(fl for fl in package["flags"] if fl["code"] == "BUYER_UNDISCLOSED")
    assert undisclosed["label"] == "Nothing disclosed to the buyer"
    assert undisclosed["advice"].startswith("Record the limitations")
    assert package["checklist_overrides"] == [
        {
            "key": "limitations_disclosed",
            "label": "Limitations disclosed",
            "reason": "Disclosed verbally",
        }
    ]
    assert package["close"]["reason"] == "Signed by the COO"

    client.force_login(delivery_user)
    page = client.get(reverse("handoff:detail", args=[handoff.pk])).content.decode()
    assert "Nothing serves this" in page
    assert "Nothing disclosed to the buyer" in page
    assert "Disclosed verbally" in page
    assert "Signed by the COO" in page


def test_the_rep_s_checklist_page_says_what_the_data_is_missing(won_deal, rep_user, client):
    Disclosure.objects.filter(deal=won_deal).delete()
    handoff = make_draft(won_deal)
    client.force_login(rep_user)
    page = client.get(reverse("handoff:detail", args=[handoff.pk])).content.decode()
    assert 'data-testid="condition-limitations_disclosed"' in page

    url = reverse(
        "handoff:checklist_toggle", args=[handoff.pk, item(handoff, "limitations_disclosed").pk]
    )
    refused = client.post(url, {"checked": "on"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    assert "Nothing has been disclosed" in refused.content.decode()
    ok = client.post(url, {"checked": "on", "override_reason": "Said it"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200
    assert "Ticked against the data" in ok.content.decode()


def test_delivery_sees_the_reopened_banner_instead_of_a_404(
    submitted, won_deal, rep_user, delivery_user, client
):
    deal_services.deal_reopen(
        deal=won_deal, user=rep_user, confirm=True, reason="They want a second site"
    )
    client.force_login(delivery_user)
    response = client.get(reverse("handoff:detail", args=[submitted.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="reopened-banner"' in page
    assert "because “They want a second site”" in page
