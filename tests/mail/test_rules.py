"""The health rules on captured mail: pressure language quotes what was sent and links
the mail; chasing and staleness ignore auto-replies."""

import datetime as dt

import pytest
from django.utils import timezone

from deals.health import health_recompute
from deals.mail.services import mail_capture
from deals.models import Flag

from .test_services import raw_mail

pytestmark = pytest.mark.django_db


def send(world, **kwargs):
    (result,) = mail_capture(raw=raw_mail(**kwargs), user=world.rita, channel="api")
    return result


def open_flag(deal, code):
    health_recompute(deal_id=deal.id)
    return Flag.objects.filter(deal=deal, code=code, status="open").first()


def test_pressure_language_quotes_the_sentence_and_links_the_mail(world):
    result = send(
        world,
        subject="Proposal",
        body="Hi Ann,\n\nThanks for the call. This is our final offer, so please sign "
        "today if you can. Happy to help with the review.\n\nRita",
    )
    flag = open_flag(world.deal, "PRESSURE_LANGUAGE")
    assert flag is not None
    matches = flag.evidence["matches"]
    assert {m["phrase"] for m in matches} == {"final offer", "sign today"}
    for match in matches:
        assert match["activity_id"] == result.activity.id
        assert match["sentence"] == ("This is our final offer, so please sign today if you can.")
        assert match["mail_url"] == f"/mail/activities/{result.activity.id}/"


def test_pressure_language_ignores_the_quoted_buyer_text_and_the_buyers_own_mail(world):
    send(
        world,
        sender="Ann Lee <ann.lee@acme.example>",
        to="rita@northwind.example",
        body="Is this really your final offer?",
    )
    send(
        world,
        message_id="<m2@northwind.example>",
        body="Thanks Ann, we will wait for your review.\n\n"
        "On Mon, 2 Nov 2026 at 17:40, Ann <ann.lee@acme.example> wrote:\n"
        "> Is this really your final offer?",
    )
    assert open_flag(world.deal, "PRESSURE_LANGUAGE") is None


def _chase(world, days_ago_list):
    now = timezone.now()
    for i, days in enumerate(days_ago_list):
        send(
            world,
            message_id=f"<chase{i}@northwind.example>",
            date=now - dt.timedelta(days=days),
            body=f"Just checking in ({i}).",
            extra="In-Reply-To: <chase0@northwind.example>\r\n" if i else "",
        )


def test_chasing_counts_mail_follow_ups_and_names_the_unanswered_thread(world):
    _chase(world, [6, 5, 3, 1])
    flag = open_flag(world.deal, "PRESSURE_CHASING")
    assert flag is not None
    assert flag.evidence["count"] == 4
    (thread,) = flag.evidence["unanswered_thread_ids"]
    first = world.deal.activities.get(message_id="<chase0@northwind.example>")
    assert thread == first.id


def test_an_auto_reply_is_not_the_buyer_answering_the_chase(world):
    _chase(world, [6, 5, 3, 1])
    send(
        world,
        sender="Ann Lee <ann.lee@acme.example>",
        to="rita@northwind.example",
        subject="Automatic reply: Just checking in",
        message_id="<oof@acme.example>",
        date=timezone.now() - dt.timedelta(hours=12),
        body="I am out of the office.",
        extra="Auto-Submitted: auto-replied\r\nIn-Reply-To: <chase3@northwind.example>\r\n",
    )
    assert open_flag(world.deal, "PRESSURE_CHASING") is not None


def test_a_real_reply_in_the_window_clears_the_chase(world):
    _chase(world, [6, 5, 3, 1])
    send(
        world,
        sender="Ann Lee <ann.lee@acme.example>",
        to="rita@northwind.example",
        message_id="<answer@acme.example>",
        date=timezone.now() - dt.timedelta(hours=12),
        body="Thanks, we will get back to you next week.",
        extra="In-Reply-To: <chase3@northwind.example>\r\n",
    )
    assert open_flag(world.deal, "PRESSURE_CHASING") is None


def test_an_auto_reply_does_not_reset_buyer_silence(world, settings):
    world.deal.created_at = timezone.now() - dt.timedelta(days=60)
    world.deal.save(update_fields=["created_at"])
    type(world.deal).objects.filter(pk=world.deal.pk).update(
        created_at=timezone.now() - dt.timedelta(days=60)
    )
    send(
        world,
        sender="Ann Lee <ann.lee@acme.example>",
        to="rita@northwind.example",
        subject="Out of office",
        message_id="<oof2@acme.example>",
        body="Away.",
        extra="Auto-Submitted: auto-replied\r\n",
    )
    assert open_flag(world.deal, "RELATIONSHIP_STALE") is not None
