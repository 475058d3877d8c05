"""Matching and storing: every matching branch, duplicates, threads, auto-replies,
calendar invites, the inbox's assign and discard, and deletion."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from deals.mail.services import (
    mail_assign,
    mail_capture,
    mail_discard,
    mail_import,
    mail_purge_expired,
)
from deals.mail.types import MailRefused
from deals.models import Activity, CapturedMail, Deal, Flag
from deals.services import activity_delete
from tests import factories as f

from .conftest import fixture_bytes

pytestmark = pytest.mark.django_db


def raw_mail(
    *,
    sender="Rita Reyes <rita@northwind.example>",
    to="Ann Lee <ann.lee@acme.example>",
    subject="Next steps",
    body="Hi Ann, here are the next steps.",
    message_id="<m1@northwind.example>",
    date=None,
    extra="",
) -> bytes:
    date = date or timezone.now() - dt.timedelta(hours=1)
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: {date.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
        f"Message-ID: {message_id}\r\n{extra}MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def capture(world, raw, user=None, deal_id=None):
    (result,) = mail_capture(raw=raw, user=user or world.rita, channel="api", deal_id=deal_id)
    return result


# --- matching -----------------------------------------------------------------------------


def test_deal_address_wins_over_the_contacts(world):
    other = f.DealFactory(team=world.team, owner=world.rita, title="Other deal")
    result = capture(world, raw_mail(), deal_id=other.id)
    assert result.outcome == "logged"
    assert result.activity.deal == other
    assert result.reason == "address"


def test_deal_address_of_a_deal_the_sender_cannot_change_is_refused(world):
    sams_deal = f.DealFactory(team=world.team, owner=world.sam)
    with pytest.raises(MailRefused):
        capture(world, raw_mail(), deal_id=sams_deal.id)
    assert not Activity.objects.filter(deal=sams_deal).exists()


def test_contact_address_matches_the_one_open_deal(world):
    f.DealFactory(  # a closed deal with the same buyer does not compete with the open one
        team=world.team,
        prospect=world.acme,
        owner=world.rita,
        stage=Deal.Stage.CLOSED_LOST,
        lost_reason="budget",
    )
    result = capture(world, raw_mail())
    assert result.outcome == "logged"
    assert result.activity.deal == world.deal
    assert result.reason == "contact"
    activity = result.activity
    assert activity.kind == "email"
    assert activity.source == "email"
    assert activity.initiated_by == "rep"
    assert activity.message_id == "<m1@northwind.example>"
    assert activity.notes == "Next steps\n\nHi Ann, here are the next steps."


def test_a_buyer_mail_is_buyer_initiated_and_updates_last_buyer_contact(world):
    result = capture(
        world, raw_mail(sender="Ann Lee <Ann.Lee@acme.example>", to="rita@northwind.example")
    )
    assert result.activity.initiated_by == "buyer"
    world.deal.refresh_from_db()
    assert world.deal.last_buyer_contact_at == result.activity.occurred_at


def test_domain_matches_when_no_contact_address_does(world):
    result = capture(world, raw_mail(to="New Person <cfo@acme.example>"))
    assert result.reason == "domain"
    assert result.activity.deal == world.deal


def test_prospect_website_domain_matches(world):
    prospect = f.ProspectFactory(team=world.team, website="http://globex.example")
    deal = f.DealFactory(team=world.team, prospect=prospect, owner=world.rita)
    result = capture(world, raw_mail(to="someone@globex.example"))
    assert result.activity.deal == deal


def test_freemail_domains_never_match_by_domain(world):
    f.ContactFactory(prospect=world.acme, email="ann.private@gmail.com")
    result = capture(world, raw_mail(to="stranger@gmail.com"))
    assert result.outcome == "inbox"
    assert result.mail.candidate_deal_ids == []


def test_several_open_deals_leave_the_mail_in_the_inbox_with_candidates(world):
    second = f.DealFactory(team=world.team, prospect=world.acme, owner=world.rita)
    result = capture(world, raw_mail())
    assert result.outcome == "inbox"
    assert result.activity is None
    assert sorted(result.mail.candidate_deal_ids) == sorted([world.deal.id, second.id])
    assert result.mail.status == CapturedMail.Status.INBOX


def test_no_matching_deal_leaves_the_mail_in_the_inbox(world):
    result = capture(world, raw_mail(to="nobody@initech.example"))
    assert result.outcome == "inbox"
    assert result.mail.candidate_deal_ids == []


def test_matching_only_reaches_deals_the_sender_may_change(world):
    # Sam's deal with another buyer: Rita's mail to that buyer must not land on it.
    globex = f.ProspectFactory(team=world.team)
    contact = f.ContactFactory(prospect=globex, email="ceo@globex.example")
    sams = f.DealFactory(team=world.team, prospect=globex, owner=world.sam)
    result = capture(world, raw_mail(to=contact.email))
    assert result.outcome == "inbox"
    assert not Activity.objects.filter(deal=sams).exists()


def test_reply_in_a_thread_follows_the_thread_to_its_deal(world):
    first = capture(world, raw_mail()).activity
    # A reply from an address nobody knows still belongs to the thread's deal.
    reply = capture(
        world,
        raw_mail(
            sender="Assistant <pa@unknown.example>",
            to="rita@northwind.example",
            message_id="<r1@unknown.example>",
            extra="In-Reply-To: <m1@northwind.example>\r\n",
        ),
    )
    assert reply.reason == "thread"
    assert reply.activity.deal == first.deal
    assert reply.activity.thread_id == first.id


def test_a_reply_arriving_before_its_parent_is_linked_when_the_parent_arrives(world):
    reply = capture(
        world,
        raw_mail(
            sender="ann.lee@acme.example",
            message_id="<r2@acme.example>",
            extra="In-Reply-To: <m1@northwind.example>\r\n",
        ),
    ).activity
    assert reply.thread_id is None
    parent = capture(world, raw_mail()).activity
    reply.refresh_from_db()
    assert reply.thread_id == parent.id


def test_the_same_message_twice_is_one_activity(world):
    first = capture(world, raw_mail())
    again = capture(world, raw_mail())
    assert again.outcome == "duplicate"
    assert again.activity == first.activity
    assert Activity.objects.filter(deal=world.deal).count() == 1
    assert CapturedMail.objects.count() == 1


def test_two_users_capturing_the_same_message_make_one_activity(world, manager_user):
    world.deal.owner = world.rita
    capture(world, raw_mail())
    # An admin BCCs the same mail: it is already on the deal.
    admin = f.UserFactory(username="root", is_superuser=True, email="root@northwind.example")
    again = capture(world, raw_mail(), user=admin)
    assert again.outcome == "duplicate"
    assert Activity.objects.filter(deal=world.deal).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_delivery_stores_one_activity(world):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    barrier = threading.Barrier(2)
    outcomes = []

    def deliver():
        try:
            barrier.wait()
            (result,) = mail_capture(raw=raw_mail(), user=world.rita, channel="smtp")
            outcomes.append(result.outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["duplicate", "logged"]
    assert Activity.objects.filter(message_id="<m1@northwind.example>").count() == 1
    assert CapturedMail.objects.count() == 1


def test_forwarded_mail_is_the_buyers_at_the_buyers_time(world):
    result = capture(world, fixture_bytes("06_gmail_forwarded_inline.eml"))
    activity = result.activity
    assert activity.initiated_by == "buyer"
    assert activity.occurred_at == dt.datetime(2026, 11, 6, 16, 45, tzinfo=dt.UTC)
    assert result.mail.forwarded_by == "rita@northwind.example"
    assert result.mail.from_address == "ann.lee@acme.example"


def test_auto_reply_is_noted_but_is_not_the_buyer_answering(world):
    result = capture(world, fixture_bytes("10_outlook_automatic_reply.eml"))
    assert result.activity.auto_reply is True
    assert result.mail.auto_reply is True
    world.deal.refresh_from_db()
    assert world.deal.last_buyer_contact_at is None


def test_attachments_are_named_not_stored(world):
    result = capture(world, fixture_bytes("22_attachments.eml"))
    assert result.mail.attachment_names == [
        "Quote v3.pdf",
        "Anhänge Datenresidenz.docx",
        "logo.png",
    ]
    assert "PDF" not in result.mail.text


# --- calendar -----------------------------------------------------------------------------


def test_google_invite_becomes_a_meeting_with_a_senior_seller_present(world):
    (result,) = mail_capture(
        raw=fixture_bytes("12_google_calendar_invite.eml"), user=world.rita, channel="api"
    )
    meeting = result.activity
    assert meeting.kind == "meeting"
    assert meeting.source == "calendar"
    assert meeting.occurred_at == dt.datetime(2026, 11, 17, 14, 0, tzinfo=dt.UTC)
    assert meeting.initiated_by == "rep"
    assert meeting.senior_present is True  # Victor is flagged senior
    assert "data residency review" in meeting.notes
    assert result.mail.to_addresses[1] == "Ann Lee <ann.lee@acme.example>"


def test_an_invite_without_a_senior_seller_does_not_set_senior_present(world):
    world.victor.senior = False
    world.victor.save()
    (result,) = mail_capture(
        raw=fixture_bytes("13_google_calendar_invite.ics"), user=world.rita, channel="upload"
    )
    assert result.activity.senior_present is False


def test_the_same_invite_as_eml_and_ics_is_one_meeting(world):
    mail_capture(raw=fixture_bytes("12_google_calendar_invite.eml"), user=world.rita, channel="api")
    (again,) = mail_capture(
        raw=fixture_bytes("13_google_calendar_invite.ics"), user=world.rita, channel="upload"
    )
    assert again.outcome == "duplicate"
    assert Activity.objects.filter(kind="meeting").count() == 1


def test_buyer_organised_invite_is_buyer_initiated_and_a_cancel_removes_it(world):
    (request,) = mail_capture(
        raw=fixture_bytes("14_outlook_meeting_request.eml"), user=world.rita, channel="api"
    )
    assert request.activity.initiated_by == "buyer"
    assert request.activity.occurred_at == dt.datetime(2026, 11, 19, 9, 0, tzinfo=dt.UTC)
    (cancel,) = mail_capture(
        raw=fixture_bytes("15_outlook_meeting_cancel.eml"), user=world.rita, channel="api"
    )
    assert cancel.outcome == "cancelled"
    assert not Activity.objects.filter(pk=request.activity.pk).exists()
    assert not CapturedMail.objects.exists()


def test_a_later_sequence_moves_the_meeting(world):
    raw = fixture_bytes("13_google_calendar_invite.ics")
    (first,) = mail_capture(raw=raw, user=world.rita, channel="upload")
    moved = raw.replace(b"SEQUENCE:0", b"SEQUENCE:2").replace(
        b"DTSTART;TZID=Europe/London:20261117T140000",
        b"DTSTART;TZID=Europe/London:20261118T090000",
    )
    (second,) = mail_capture(raw=moved, user=world.rita, channel="upload")
    assert second.outcome == "updated"
    first.activity.refresh_from_db()
    assert first.activity.occurred_at == dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC)


# --- inbox, delete, retention -------------------------------------------------------------


def test_assign_from_the_inbox_logs_it_on_the_chosen_deal(world):
    second = f.DealFactory(team=world.team, prospect=world.acme, owner=world.rita)
    mail = capture(world, raw_mail()).mail
    activity = mail_assign(mail=mail, user=world.rita, deal=second)
    assert activity.deal == second
    assert activity.initiated_by == "rep"
    mail.refresh_from_db()
    assert mail.status == "assigned" and mail.activity == activity


def test_only_the_mails_owner_may_assign_it(world):
    mail = capture(world, raw_mail(to="x@initech.example")).mail
    with pytest.raises(MailRefused):
        mail_assign(mail=mail, user=world.sam, deal=world.deal)


def test_assigning_to_a_deal_the_user_cannot_change_is_refused(world):
    mail = capture(world, raw_mail(to="x@initech.example")).mail
    sams = f.DealFactory(team=world.team, owner=world.sam)
    with pytest.raises(MailRefused):
        mail_assign(mail=mail, user=world.rita, deal=sams)


def test_discard_forgets_the_text_and_keeps_a_redelivery_out(world):
    mail = capture(world, raw_mail(to="x@initech.example", body="secret plans")).mail
    mail_discard(mail=mail, user=world.rita)
    mail.refresh_from_db()
    assert mail.status == "discarded"
    assert mail.text == "" and mail.subject == "" and mail.from_address == ""
    again = capture(world, raw_mail(to="x@initech.example", body="secret plans"))
    assert again.outcome == "duplicate"


def test_deleting_the_activity_deletes_the_stored_mail_text(world):
    activity = capture(world, raw_mail(body="confidential terms")).activity
    activity_delete(activity=activity, user=world.rita)
    assert not CapturedMail.objects.filter(text__contains="confidential").exists()
    assert not CapturedMail.objects.exists()


def test_purge_deletes_old_inbox_and_discarded_mail_only(world, settings):
    settings.MAIL_INBOX_RETENTION_DAYS = 30
    old_inbox = capture(world, raw_mail(to="x@initech.example", message_id="<a@x>")).mail
    logged = capture(world, raw_mail(message_id="<b@x>")).mail
    CapturedMail.objects.update(received_at=timezone.now() - dt.timedelta(days=31))
    assert mail_purge_expired() == 1
    assert not CapturedMail.objects.filter(pk=old_inbox.pk).exists()
    assert CapturedMail.objects.filter(pk=logged.pk).exists()


def test_import_matches_each_message_as_its_senders_user(world):
    from deals.mail.sources import raw_messages

    from .conftest import FIXTURES

    summary = mail_import(
        messages=raw_messages(FIXTURES / "25_thunderbird_export.mbox", ".mbox"),
        channel="import",
    )
    assert summary.counts == {"logged": 3}
    activities = list(Activity.objects.filter(deal=world.deal).order_by("occurred_at"))
    assert [a.initiated_by for a in activities] == ["rep", "buyer", "rep"]
    assert activities[1].thread_id == activities[0].id
    assert activities[2].thread_id == activities[0].id
    # The mbox's ">From " escape is undone, so the line is not taken for a quote.
    assert "\nFrom our side the kickoff" in activities[0].notes


def test_a_mail_changes_the_deals_flags_after_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        capture(
            world,
            raw_mail(body="This is our final offer. Please sign today.\n\nRita"),
        )
    flag = Flag.objects.get(deal=world.deal, code="PRESSURE_LANGUAGE")
    assert flag.status == "open"
