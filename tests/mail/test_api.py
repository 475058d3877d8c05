"""POST /api/v1/mail/ with a raw RFC 822 body."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from deals.mail.addresses import deal_drop_address
from deals.mail.parsing import MAX_MESSAGE_BYTES
from deals.models import Activity, CapturedMail
from tests import factories as f
from winwin_crm.api.auth import issue_token

from .conftest import fixture_bytes
from .test_services import raw_mail

pytestmark = pytest.mark.django_db
URL = "/api/v1/mail/"


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user)}")
    return client


def post(client, raw, **extra):
    return client.generic("POST", URL, raw, content_type="message/rfc822", **extra)


def test_url_is_the_contract():
    assert reverse("mail-capture") == URL


def test_a_signed_in_rep_logs_a_raw_message(world):
    response = post(token_client(world.rita), fixture_bytes("02_gmail_buyer_reply.eml"))
    assert response.status_code == 201, response.content
    (result,) = response.json()["results"]
    assert result["outcome"] == "logged"
    assert result["deal"] == world.deal.id
    activity = Activity.objects.get(pk=result["activity"])
    assert activity.initiated_by == "buyer"


def test_the_same_message_posted_twice_answers_duplicate(world):
    client = token_client(world.rita)
    post(client, raw_mail())
    response = post(client, raw_mail())
    assert response.status_code == 200
    assert response.json()["results"][0]["outcome"] == "duplicate"
    assert Activity.objects.count() == 1


def test_deal_param_names_the_deal_and_is_scoped_to_the_user(world):
    sams = f.DealFactory(team=world.team, owner=world.sam)
    response = post(token_client(world.rita), raw_mail(), QUERY_STRING=f"deal={sams.id}")
    assert response.status_code == 400
    assert "deal" in response.json()
    assert not Activity.objects.exists()
    bad = post(token_client(world.sam), raw_mail(), QUERY_STRING="deal=abc")
    assert bad.status_code == 400 and bad.json() == {"deal": ["A deal id is a number."]}


def test_a_calendar_invite_can_be_posted(world):
    response = post(token_client(world.rita), fixture_bytes("14_outlook_meeting_request.eml"))
    assert response.status_code == 201
    assert Activity.objects.get().kind == "meeting"


def test_anonymous_is_refused(world):
    response = post(APIClient(), raw_mail())
    assert response.status_code == 401
    assert not CapturedMail.objects.exists()


def test_webhook_with_the_secret_logs_as_the_senders_user(world):
    raw = raw_mail(to=f"Ann <ann.lee@acme.example>, {deal_drop_address(world.deal.pk)}")
    response = post(APIClient(), raw, HTTP_X_MAIL_SECRET="test-webhook-secret")
    assert response.status_code == 201
    mail = CapturedMail.objects.get()
    assert mail.user == world.rita
    assert mail.activity.deal == world.deal


def test_webhook_with_a_wrong_secret_is_refused(world):
    response = post(APIClient(), raw_mail(), HTTP_X_MAIL_SECRET="guess")
    assert response.status_code == 401
    assert not CapturedMail.objects.exists()


def test_webhook_for_mail_no_crm_user_sent_or_received_is_refused(world):
    raw = raw_mail(sender="eve@evil.example", to="ann.lee@acme.example")
    response = post(APIClient(), raw, HTTP_X_MAIL_SECRET="test-webhook-secret")
    assert response.status_code == 400
    assert not CapturedMail.objects.exists()


def test_other_content_types_are_refused(world):
    client = token_client(world.rita)
    response = client.post(URL, {"raw": "x"}, format="json")
    assert response.status_code == 415


def test_an_empty_or_unreadable_body_is_a_400(world):
    client = token_client(world.rita)
    assert post(client, b"").status_code == 400
    response = post(client, b"\x00\x01\x02")
    assert response.status_code == 400
    assert "body" in response.json()


def test_a_20_mb_body_is_refused_with_413(world):
    response = post(token_client(world.rita), b"x" * (20 * 1024 * 1024), CONTENT_LENGTH="20971520")
    assert response.status_code == 413
    assert not CapturedMail.objects.exists()


def test_a_body_just_over_the_cap_with_no_length_is_still_refused(world):
    raw = raw_mail(body="x" * MAX_MESSAGE_BYTES)
    response = post(token_client(world.rita), raw)
    assert response.status_code == 413


def test_the_endpoint_is_in_the_schema(world):
    client = token_client(world.rita)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert URL in response.json()["paths"]
