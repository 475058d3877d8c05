"""The buyer room's link is the only credential: bad links leak nothing, one link opens
one deal, the buyer sets only what the room offers, and what they write is escaped."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deals.buyer_room import services
from deals.buyer_room.models import BuyerShare
from deals.buyer_room.tokens import token_new
from deals.models import BuyerMilestone, Deal, Need
from tests import factories as f
from tests.buyer_room.conftest import room_url

pytestmark = pytest.mark.django_db


def _expired(share):
    BuyerShare.objects.filter(pk=share.pk).update(expires_at=timezone.now() - dt.timedelta(1))


def test_expired_revoked_and_guessed_links_answer_the_same_404(
    client, share, token, rep_user, room_deal, buyer
):
    guessed, _ = token_new()
    bodies = {}
    bodies["guessed"] = client.get(room_url(guessed))
    bodies["malformed"] = client.get("/buyer/not-a-token/")
    _, revoked_token = services.buyer_share_create(deal=room_deal, contact=buyer, user=rep_user)
    services.buyer_share_revoke(share=BuyerShare.objects.latest("id"), user=rep_user)
    bodies["revoked"] = client.get(room_url(revoked_token))
    _expired(share)
    bodies["expired"] = client.get(room_url(token))
    bodies["expired post"] = client.post(
        room_url(token, "need_confirm", room_deal.needs.first().pk)
    )
    contents = {name: r.content for name, r in bodies.items()}
    assert {r.status_code for r in bodies.values()} == {404}
    assert len(set(contents.values())) == 1, "every bad link must look the same"
    page = contents["expired"].decode()
    for secret in ("Northwind onboarding", "Bea Buyer", room_deal.team.name):
        assert secret not in page
    assert room_deal.needs.filter(confirmed_by_buyer_at__isnull=False).count() == 0


def test_unknown_and_expired_tokens_take_the_same_path(client, share, token):
    """No timing difference by construction: one hash and one indexed query whether the
    token is unknown or expired, and the same response; the stored hash is compared in
    constant time."""
    guessed, _ = token_new()
    with CaptureQueriesContext(connection) as unknown:
        client.get(room_url(guessed))
    _expired(share)
    with CaptureQueriesContext(connection) as expired:
        client.get(room_url(token))
    shape = [q["sql"].split("WHERE")[0] for q in unknown.captured_queries]
    assert shape == [q["sql"].split("WHERE")[0] for q in expired.captured_queries]
    assert len(unknown.captured_queries) == 1


def test_enumeration_is_rate_limited_per_address(client, settings, token):
    settings.BUYER_ROOM_FAILURES_PER_10_MINUTES = 5
    for _ in range(5):
        assert client.get(room_url(token_new()[0])).status_code == 404
    # the next request, even with the right token, waits
    response = client.get(room_url(token))
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.get(room_url(token)).status_code == 200


def test_requests_per_minute_are_capped(client, settings, token):
    settings.BUYER_ROOM_REQUESTS_PER_MINUTE = 3
    codes = [client.get(room_url(token)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_token_of_deal_a_never_reads_or_writes_deal_b(post, client, token, team, rep_user):
    deal_b = f.DealFactory(team=team, owner=rep_user, title="Deal B secret title")
    need_b = f.NeedFactory(deal=deal_b, statement="Deal B need", importance=3)
    milestone_b = f.BuyerMilestoneFactory(deal=deal_b, side=BuyerMilestone.Side.BUYER)
    meeting_b = f.ActivityFactory(deal=deal_b, kind="meeting")
    assert "Deal B" not in client.get(room_url(token)).content.decode()
    attempts = [
        post(room_url(token, "need_confirm", need_b.pk)),
        post(room_url(token, "need_change", need_b.pk), {"statement": "x", "importance": "1"}),
        post(room_url(token, "milestone_tick", milestone_b.pk), {"done": "yes"}),
        post(room_url(token, "milestone_date", milestone_b.pk), {"proposed_date": "2099-01-01"}),
        post(
            room_url(token, "pulse", meeting_b.pk),
            {"got_what_needed": "yes", "felt_pushed": "yes", "next_step_agreed": "yes"},
        ),
    ]
    assert [r.status_code for r in attempts] == [404] * 5
    need_b.refresh_from_db()
    milestone_b.refresh_from_db()
    assert (need_b.statement, need_b.importance, need_b.confirmed_by_buyer_at) == (
        "Deal B need",
        3,
        None,
    )
    assert milestone_b.completed_at is None and not milestone_b.date_proposals.exists()
    assert not deal_b.buyer_pulses.exists()
    assert not deal_b.activities.filter(kind="buyer_room").exists()


def test_fields_the_room_does_not_offer_are_refused(post, room_deal, token):
    need = room_deal.needs.get(statement="Fewer tickets")
    item = room_deal.line_items.get()
    response = post(
        room_url(token, "need_change", need.pk),
        {
            "statement": "Fewer tickets",
            "importance": "2",
            "deal": "999",
            "confirmed_by_buyer": "on",
            "unit_price": "1",
        },
    )
    assert response.status_code == 400
    assert "cannot be changed here" in response.content.decode()
    response = post(room_url(token, "need_add"), {"statement": "x", "importance": "3", "id": "1"})
    assert response.status_code == 400
    response = post(room_url(token, "question"), {"question": "Hi", "initiated_by": "rep"})
    assert response.status_code == 400
    need.refresh_from_db()
    item.refresh_from_db()
    assert need.confirmed_by_buyer is False and need.confirmed_by_buyer_at is None
    assert item.unit_price == 90
    assert room_deal.needs.count() == 2
    assert not room_deal.activities.filter(kind="buyer_room").exists()


def test_forms_are_csrf_protected(room_deal, token):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(room_url(token)).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page
    need = room_deal.needs.first()
    assert browser.post(room_url(token, "need_confirm", need.pk)).status_code == 403
    csrf = browser.cookies["csrftoken"].value
    response = browser.post(room_url(token, "need_confirm", need.pk), {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 302


def test_room_pages_keep_the_token_private(client, token):
    response = client.get(room_url(token))
    assert response["Referrer-Policy"] == "same-origin"  # never sent to another site
    assert response["Cache-Control"] == "no-store"
    assert "script-src" not in response["Content-Security-Policy"]  # no script at all
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "<script" not in response.content.decode()
    assert " style=" not in response.content.decode()


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_what_the_buyer_writes_is_escaped_on_every_staff_page(
    post, client, room_deal, token, meeting, rep_user, manager_user, committed
):
    Deal.objects.filter(pk=room_deal.pk).update(stage=Deal.Stage.PROPOSAL)
    need = room_deal.needs.get(statement="Fewer tickets")
    post(room_url(token, "need_change", need.pk), {"statement": XSS, "importance": "5"})
    post(room_url(token, "need_add"), {"statement": XSS, "importance": "5", "kind": "goal"})
    post(room_url(token, "question"), {"question": XSS})
    post(
        room_url(token, "milestone_date", room_deal.milestones.first().pk),
        {"proposed_date": (timezone.localdate() + dt.timedelta(days=3)).isoformat()},
    )
    post(
        room_url(token, "pulse", meeting.pk),
        {"got_what_needed": "no", "felt_pushed": "yes", "next_step_agreed": "no"},
    )
    assert Need.objects.filter(statement=XSS).count() == 2
    staff = Client()
    staff.force_login(rep_user)
    pages = [
        reverse("deals:deal_detail", args=[room_deal.pk]),
        reverse("deals:deal_section", args=[room_deal.pk, "needs"]),
        reverse("deals:deal_section", args=[room_deal.pk, "activities"]),
        reverse("deals:deal_summary", args=[room_deal.pk]),
        reverse("deals:deal_list"),
    ]
    manager = Client()
    manager.force_login(manager_user)
    for viewer in (staff, manager):
        for url in pages:
            response = viewer.get(url)
            assert response.status_code == 200, url
            assert "<script>alert" not in response.content.decode(), url
            assert "<img src=x" not in response.content.decode(), url
    manager_pages = [reverse("dashboard:index"), reverse("dashboard:flags")]
    for url in manager_pages:
        response = manager.get(url)
        assert response.status_code == 200, url
        assert "<script>alert" not in response.content.decode(), url
    # the room itself escapes it too
    room = client.get(room_url(token)).content.decode()
    assert "<script>alert" not in room and "&lt;script&gt;" in room
