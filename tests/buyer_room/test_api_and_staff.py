"""The rep's side: the buyer-shares API, the deal-page panel, the link command, the
OpenAPI schema and check-ins answered by the customer."""

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from deals.buyer_room import services
from deals.buyer_room.models import BuyerCheckInAnswer, BuyerShare
from handoff.models import CheckIn
from tests import factories as f
from tests.buyer_room.conftest import room_url

pytestmark = pytest.mark.django_db


def _token(url: str) -> str:
    return re.search(r"/buyer/([\w-]+)/$", url).group(1)


def test_rep_creates_lists_resends_and_revokes_a_share(
    api_as, client, room_deal, buyer, rep_user, committed
):
    api = api_as(rep_user)
    with committed():
        created = api.post("/api/v1/buyer-shares/", {"deal": room_deal.pk, "contact": buyer.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["url"].startswith("http://127.0.0.1:8000/buyer/")
    assert body["revoked_at"] is None and body["opens"] == 0
    assert mail.outbox[-1].to == [buyer.email]
    first = _token(body["url"])
    assert client.get(room_url(first)).status_code == 200

    listed = api.get(f"/api/v1/buyer-shares/?deal={room_deal.pk}").json()
    assert listed["count"] == 1
    assert listed["results"][0]["opens"] == 1
    assert listed["results"][0]["url"] is None  # the token exists only in the create answer

    with committed():
        resent = api.post(f"/api/v1/buyer-shares/{body['id']}/resend/").json()
    second = _token(resent["url"])
    assert second != first
    assert client.get(room_url(first)).status_code == 404
    assert client.get(room_url(second)).status_code == 200

    revoked = api.post(f"/api/v1/buyer-shares/{body['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get(room_url(second)).status_code == 404


def test_shares_are_visible_only_with_their_deal(api_as, share, other_rep, room_deal, buyer):
    api = api_as(other_rep)
    assert api.get("/api/v1/buyer-shares/").json()["count"] == 0
    assert api.post(f"/api/v1/buyer-shares/{share.pk}/revoke/").status_code == 404
    refused = api.post("/api/v1/buyer-shares/", {"deal": room_deal.pk, "contact": buyer.pk})
    assert refused.status_code == 400  # not a deal they may change
    share.refresh_from_db()
    assert share.revoked_at is None


def test_a_contact_of_another_prospect_is_refused(api_as, room_deal, rep_user):
    stranger = f.ContactFactory(prospect=f.ProspectFactory(team=room_deal.team))
    api = api_as(rep_user)
    response = api.post("/api/v1/buyer-shares/", {"deal": room_deal.pk, "contact": stranger.pk})
    assert response.status_code == 400
    assert "contact" in response.json()
    assert not BuyerShare.objects.exists()


def test_deal_page_shares_revokes_and_lists_the_audit_trail(
    client, room_deal, buyer, rep_user, committed
):
    client.force_login(rep_user)
    with committed():
        response = client.post(
            reverse("buyer_room:share_create", args=[room_deal.pk]), {"contact": buyer.pk}
        )
    assert response.status_code == 302
    share = BuyerShare.objects.get(deal=room_deal)
    token = _token(re.search(r"http\S+/buyer/[\w-]+/", mail.outbox[-1].body).group(0))
    Client = type(client)
    Client(HTTP_USER_AGENT="PhoneBrowser/1.0").get(room_url(token))
    page = client.get(reverse("deals:deal_detail", args=[room_deal.pk])).content.decode()
    assert 'id="buyer-room"' in page
    assert "Bea Buyer" in page and "Active" in page
    assert "Opened" in page and "PhoneBrowser/1.0" in page and "127.0.0.1" in page
    client.post(reverse("buyer_room:share_revoke", args=[room_deal.pk, share.pk]))
    page = client.get(reverse("deals:deal_detail", args=[room_deal.pk])).content.decode()
    assert "Revoked" in page
    assert Client().get(room_url(token)).status_code == 404


def test_a_manager_sees_the_panel_but_cannot_share(client, room_deal, share, manager_user):
    client.force_login(manager_user)
    page = client.get(reverse("deals:deal_detail", args=[room_deal.pk])).content.decode()
    assert 'id="buyer-room"' in page and "Share the room" not in page
    response = client.post(reverse("buyer_room:share_revoke", args=[room_deal.pk, share.pk]))
    assert response.status_code == 403
    share.refresh_from_db()
    assert share.revoked_at is None


def test_buyer_room_link_command_prints_a_working_link(client, room_deal, buyer, settings):
    settings.SITE_URL = "http://127.0.0.1:8150"
    out = io.StringIO()
    call_command("buyer_room_link", str(room_deal.pk), str(buyer.pk), stdout=out)
    link = out.getvalue().strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8150/buyer/")
    assert client.get(link.removeprefix("http://127.0.0.1:8150")).status_code == 200


def test_the_openapi_schema_documents_the_buyer_endpoints_and_token(api_as, rep_user):
    schema = api_as(rep_user).get("/api/schema/?format=json").json()
    assert "buyerRoomToken" in schema["components"]["securitySchemes"]
    assert "/buyer/{token}/" in schema["paths"]
    assert "/buyer/{token}/pulse/{meeting_id}/" in schema["paths"]
    assert "/api/v1/buyer-shares/{id}/revoke/" in schema["paths"]


@pytest.fixture
def accepted_check_in(room_deal, delivery_user, delivery_team):
    from django.utils import timezone

    from deals.models import Deal

    Deal.objects.filter(pk=room_deal.pk).update(stage=Deal.Stage.CLOSED_WON)
    room_deal.refresh_from_db()
    handoff = f.HandoffFactory(
        deal=room_deal,
        delivery_team=delivery_team,
        status="accepted",
        accepted_at=timezone.now(),
        assignee=delivery_user,
    )
    return CheckIn.objects.create(handoff=handoff, day_offset=30, due_date=timezone.localdate())


def test_the_customer_answers_a_check_in_shown_next_to_deliverys(
    post, client, room_deal, buyer, delivery_user, accepted_check_in, committed
):
    client.force_login(delivery_user)
    with committed():
        response = client.post(
            reverse("buyer_room:check_in_send", args=[accepted_check_in.pk]), {"contact": buyer.pk}
        )
    assert response.status_code == 302
    token = _token(re.search(r"http\S+/buyer/[\w-]+/", mail.outbox[-1].body).group(0))
    client.logout()
    page = client.get(room_url(token)).content.decode()
    assert "How is it going? (day 30)" in page
    # The first question to answer has the focus: one autofocus, on its first choice.
    assert page.count(" autofocus") == 1
    assert re.search(r'<input type="radio" name="need_\d+"[^>]* autofocus', page)
    sold = room_deal.needs.get(statement="Onboard a customer in a week")
    promise = room_deal.commitments.get()
    response = post(
        room_url(token, "check_in"),
        {f"need_{sold.pk}": "4", f"promise_{promise.pk}": "no", "comment": "<b>Slow</b> start"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    answer = BuyerCheckInAnswer.objects.get(check_in=accepted_check_in)
    assert [(v.need_id, v.value) for v in answer.need_values.all()] == [(sold.pk, 4)]
    assert [(p.commitment_id, p.kept) for p in answer.promises.all()] == [(promise.pk, False)]
    # a need that was not sold cannot be rated
    unsold = room_deal.needs.get(statement="Fewer tickets")
    complete = {f"need_{sold.pk}": "5", f"promise_{promise.pk}": "yes"}
    refused = post(room_url(token, "check_in"), {**complete, f"need_{unsold.pk}": "5"})
    assert refused.status_code == 400
    assert "cannot be changed here" in refused.content.decode()
    assert [v.value for v in answer.need_values.all()] == [4]  # unchanged

    client.force_login(delivery_user)
    handoff_page = client.get(
        reverse("handoff:detail", args=[accepted_check_in.handoff_id])
    ).content.decode()
    assert "The customer's own answer" in handoff_page
    assert "value <strong>4/5</strong>" in handoff_page
    assert "not kept" in handoff_page
    assert "&lt;b&gt;Slow&lt;/b&gt; start" in handoff_page


def test_services_refuse_a_share_from_someone_who_cannot_change_the_deal(
    room_deal, buyer, manager_user
):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.buyer_share_create(deal=room_deal, contact=buyer, user=manager_user)
