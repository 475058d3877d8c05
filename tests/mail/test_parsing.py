"""Every fixture message parses into what a rep would recognise: the right sender, date,
subject and new text, without quotes, signatures, HTML or attachment content."""

import datetime as dt

import pytest

from deals.mail.parsing import MAX_MESSAGE_BYTES, html_to_text, parse_message
from deals.mail.types import MailTooLarge, MailUnreadable

from .conftest import FIXTURES, fixture_bytes

UTC = dt.UTC

# name: (subject, sender, sent_at, text contains, text must not contain, extra checks)
EXPECTED = {
    "01_gmail_rep_followup.eml": {
        "subject": "Re: Northwind Analytics proposal",
        "sender": "rita@northwind.example",
        "sent_at": dt.datetime(2026, 11, 3, 8, 14, 22, tzinfo=UTC),
        "has": ["final offer", "sign today", "SSO setup"],
        "lacks": ["security review", "Account Executive", "wrote:", ">"],
    },
    "02_gmail_buyer_reply.eml": {
        "subject": "Re: Northwind Analytics proposal",
        "sender": "ann.lee@acme.example",
        "sent_at": dt.datetime(2026, 11, 4, 13, 1, 9, tzinfo=UTC),
        "has": ["two more weeks"],
        "lacks": ["final offer", "wrote"],
        "in_reply_to": "<CAF7xQk2hB9v1nR0pXq3Lw8s=Yt4cQm1@mail.gmail.com>",
        "references": 2,
    },
    "03_outlook_reply_qp_1252.eml": {
        "subject": "RE: Northwind Analytics proposal",
        "sender": "bob@acme.example",
        "sent_at": dt.datetime(2026, 11, 5, 10, 22, 31, tzinfo=UTC),
        "has": ["review is done – the team", "We’d like", "“data residency”"],
        "lacks": ["final offer", "Sent:"],
        "cc": ["ann.lee@acme.example"],
    },
    "04_outlook_html_only.eml": {
        "subject": "Pricing question",
        "sender": "ann.lee@acme.example",
        "has": ["split the licence and the training", "Thanks & regards", "Ann"],
        "lacks": ["<", "alert", "Calibri", "ignored title", "tracker"],
    },
    "05_apple_mail_iphone.eml": {
        "sender": "ann.lee@acme.example",
        "has": ["15 minutes on the data migration"],
        "lacks": ["Sent from my iPhone", "kick-off agenda."],
    },
    "06_gmail_forwarded_inline.eml": {
        "subject": "Budget for next year",
        "sender": "ann.lee@acme.example",
        "forwarded_by": "rita@northwind.example",
        "sent_at": dt.datetime(2026, 11, 6, 16, 45, tzinfo=UTC),
        "has": ["budget for next year was approved"],
        "lacks": ["FYI", "Forwarded message"],
    },
    "07_outlook_forward_as_attachment.eml": {
        "subject": "Reference customers",
        "sender": "ann.lee@acme.example",
        "forwarded_by": "rita@northwind.example",
        "sent_at": dt.datetime(2026, 11, 9, 15, 20, tzinfo=UTC),
        "has": ["two reference customers"],
        "lacks": ["See attached"],
    },
    "08_apple_mail_forwarded.eml": {
        "subject": "Contract redlines",
        "sender": "bob@acme.example",
        "forwarded_by": "rita@northwind.example",
        "sent_at": dt.datetime(2026, 11, 10, 17, 5, 10, tzinfo=UTC),
        "has": ["two redlines on the liability cap"],
        "lacks": ["Begin forwarded", ">"],
    },
    "09_gmail_forwarded_thread.eml": {
        "subject": "Re: Data residency appendix",
        "sender": "bob@acme.example",
        "forwarded_by": "sam@northwind.example",
        "sent_at": dt.datetime(2026, 11, 11, 15, 30, tzinfo=UTC),
        "has": ["ready to move on"],
        "lacks": ["attached is the data residency", "Where is our data", "while you were out"],
    },
    "10_outlook_automatic_reply.eml": {"sender": "ann.lee@acme.example", "auto_reply": True},
    "11_gmail_vacation_responder.eml": {"sender": "ann.lee@acme.example", "auto_reply": True},
    "12_google_calendar_invite.eml": {
        "sender": "rita@northwind.example",
        "attachments": ["invite.ics"],
        "events": 1,
    },
    "13_google_calendar_invite.ics": {
        "subject": "Northwind x Acme: data residency review",
        "sender": "rita@northwind.example",
        "sent_at": dt.datetime(2026, 11, 17, 14, 0, tzinfo=UTC),
        "events": 1,
    },
    "14_outlook_meeting_request.eml": {"sender": "bob@acme.example", "events": 1},
    "15_outlook_meeting_cancel.eml": {"sender": "bob@acme.example", "events": 1},
    "16_qp_iso8859_1.eml": {
        "subject": "Schulungstermine für März",
        "sender": "juergen@acme.example",
        "sender_name": "Jürgen Müller",
        "has": ["Übersicht über die Schulungstermine für März", "Grüße aus München"],
    },
    "17_base64_utf8.eml": {"has": ["pilot went well 🎉 — the team"]},
    "18_rfc2047_headers.eml": {
        "subject": "Devis pour la formation – réponse avant vendredi",
        "sender": "andre@acme.example",
        "sender_name": "André François",
        "cc": ["renee@acme.example"],
        "has": ["merci pour le devis"],
    },
    "19_8bit_windows1252.eml": {"has": ["We’ve reviewed the “Premium” tier – it’s €2,000"]},
    "20_iso2022jp.eml": {
        "subject": "見積もり",
        "sender_name": "田中",
        "has": ["見積もりをありがとうございます"],
    },
    "21_koi8r_base64.eml": {"subject": "Договор", "has": ["Договор подпишем в декабре"]},
    "22_attachments.eml": {
        "has": ["updated quote and the appendix are attached"],
        "lacks": ["PDF", "PK fake"],
        "attachments": ["Quote v3.pdf", "Anhänge Datenresidenz.docx", "logo.png"],
    },
    "23_no_message_id.eml": {
        "sender": "ann.lee@acme.example",
        "sent_at": dt.datetime(2026, 11, 24, 13, 0, tzinfo=UTC),
        "has": ["onboarding included"],
    },
    "24_unknown_charset.eml": {"has": ["Café meeting on Friday"]},
}


def test_the_fixture_set_has_at_least_twenty_messages_and_each_is_checked():
    files = {p.name for p in FIXTURES.iterdir() if p.suffix in (".eml", ".ics")}
    assert len(files) >= 20
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses(name):
    want = EXPECTED[name]
    mail = parse_message(fixture_bytes(name))
    assert mail.message_id.startswith("<") and mail.message_id.endswith(">")
    if "subject" in want:
        assert mail.subject == want["subject"]
    if "sender" in want:
        assert mail.sender.address == want["sender"]
    if "sender_name" in want:
        assert mail.sender.name == want["sender_name"]
    if "sent_at" in want:
        assert mail.sent_at == want["sent_at"]
    for text in want.get("has", []):
        assert text in mail.text
    for text in want.get("lacks", []):
        assert text not in mail.text
    assert mail.auto_reply is want.get("auto_reply", False)
    if "forwarded_by" in want:
        assert mail.forwarded_by.address == want["forwarded_by"]
    else:
        assert mail.forwarded_by is None
    if "cc" in want:
        assert [p.address for p in mail.cc] == want["cc"]
    if "in_reply_to" in want:
        assert mail.in_reply_to == want["in_reply_to"]
        assert len(mail.references) == want["references"]
    assert mail.attachment_names == want.get("attachments", [])
    assert len(mail.events) == want.get("events", 0)
    assert "<div" not in mail.text and "<p>" not in mail.text


def test_google_invite_reads_organizer_attendees_and_start():
    (event,) = parse_message(fixture_bytes("12_google_calendar_invite.eml")).events
    assert event.uid == "3k9f8d7s6a5q4w3e2r1t0y@google.com"
    assert event.start == dt.datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
    assert event.organizer.address == "rita@northwind.example"
    assert {p.address for p in event.attendees} == {
        "rita@northwind.example",
        "ann.lee@acme.example",
        "victor@northwind.example",
    }
    assert not event.cancelled


def test_outlook_invite_reads_windows_time_zone_and_cancel():
    (request,) = parse_message(fixture_bytes("14_outlook_meeting_request.eml")).events
    (cancel,) = parse_message(fixture_bytes("15_outlook_meeting_cancel.eml")).events
    # "W. Europe Standard Time" in November is UTC+1.
    assert request.start == dt.datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    assert request.key == cancel.key
    assert not request.cancelled and cancel.cancelled
    assert cancel.sequence == 1


def test_the_same_bytes_without_message_id_get_the_same_id():
    raw = fixture_bytes("23_no_message_id.eml")
    assert parse_message(raw).message_id == parse_message(raw).message_id
    assert parse_message(raw).message_id != parse_message(raw + b"\nP.S.").message_id


def test_a_message_over_ten_megabytes_is_refused():
    raw = b"From: a@northwind.example\r\nSubject: big\r\n\r\n" + b"x" * MAX_MESSAGE_BYTES
    with pytest.raises(MailTooLarge):
        parse_message(raw)


def test_bytes_without_headers_are_unreadable():
    with pytest.raises(MailUnreadable):
        parse_message(b"\x00\x01 not mail at all")


def test_html_to_text_keeps_only_visible_text():
    html = (
        "<html><head><style>p{}</style><script>steal()</script></head><body>"
        "<p>Hello &lt;b&gt; &amp; welcome</p><blockquote>older mail</blockquote>"
        "<img src=x onerror=alert(1)></body></html>"
    )
    text = html_to_text(html)
    assert "Hello <b> & welcome" in text
    assert "steal" not in text and "onerror" not in text
    assert "> older mail" in text  # quoted, so the reply stripper removes it
