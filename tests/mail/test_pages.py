"""The inbox page, the captured mail on the deal page, the upload and the delete."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from deals.mail.services import mail_capture
from deals.models import Activity, CapturedMail
from tests import factories as f

from .conftest import fixture_bytes
from .test_services import raw_mail

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def capture(world, raw, user=None):
    (result,) = mail_capture(raw=raw, user=user or world.rita, channel="api")
    return result


def test_inbox_shows_only_the_users_own_waiting_mail(world, django_assert_max_num_queries):
    mine = capture(world, raw_mail(to="x@initech.example", subject="Mine"))
    capture(
        world,
        raw_mail(
            sender="sam@northwind.example",
            to="y@initech.example",
            subject="Sams",
            message_id="<s@x>",
        ),
        user=world.sam,
    )
    for i in range(5):
        capture(world, raw_mail(to="z@initech.example", subject=f"More {i}", message_id=f"<{i}@x>"))
    client = login(world.rita)
    with django_assert_max_num_queries(25):
        response = client.get("/mail/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Mine" in body and "More 4" in body
    assert "Sams" not in body
    assert f'id="mail-{mine.mail.pk}"' in body
    assert "u." + str(world.rita.pk) in body  # the user's own drop address is shown


def test_assign_from_the_inbox_page(world):
    mail = capture(world, raw_mail(to="x@initech.example")).mail
    response = login(world.rita).post(
        f"/mail/{mail.pk}/assign/", {f"m{mail.pk}-deal": world.deal.pk}
    )
    assert response.status_code == 302
    mail.refresh_from_db()
    assert mail.status == "assigned"
    assert mail.activity.deal == world.deal


def test_assigning_another_users_mail_is_a_404(world):
    mail = capture(world, raw_mail(to="x@initech.example")).mail
    response = login(world.sam).post(
        f"/mail/{mail.pk}/assign/", {f"m{mail.pk}-deal": world.deal.pk}
    )
    assert response.status_code == 404
    mail.refresh_from_db()
    assert mail.status == "inbox"


def test_assigning_to_a_deal_not_offered_changes_nothing(world):
    mail = capture(world, raw_mail(to="x@initech.example")).mail
    sams = f.DealFactory(team=world.team, owner=world.sam)
    response = login(world.rita).post(f"/mail/{mail.pk}/assign/", {f"m{mail.pk}-deal": sams.pk})
    assert response.status_code == 302
    mail.refresh_from_db()
    assert mail.status == "inbox"
    assert not Activity.objects.exists()


def test_discard_from_the_inbox_page_deletes_the_text(world):
    mail = capture(world, raw_mail(to="x@initech.example", body="private")).mail
    response = login(world.rita).post(f"/mail/{mail.pk}/discard/")
    assert response.status_code == 302
    assert not CapturedMail.objects.filter(text__contains="private").exists()
    assert "private" not in login(world.rita).get("/mail/").content.decode()


def test_deal_page_shows_from_mail_with_subject_from_to_and_date(world):
    capture(world, fixture_bytes("02_gmail_buyer_reply.eml"))
    response = login(world.rita).get(f"/deals/{world.deal.pk}/")
    body = response.content.decode()
    assert "from mail" in body
    assert "Re: Northwind Analytics proposal" in body
    assert "ann.lee@acme.example" in body
    assert "Rita Reyes &lt;rita@northwind.example&gt;" in body
    assert "4 Nov 2026" in body and "4 Nov 2026, 13:01 UTC" in body  # the hover is exact
    assert "deal+" in body  # the deal's own drop address to BCC


def test_mail_text_is_escaped_on_every_page(world):
    logged = capture(world, raw_mail(subject=XSS, body=f"Hello {XSS}")).activity
    waiting = capture(
        world, raw_mail(subject=XSS, to="x@initech.example", body=XSS, message_id="<w@x>")
    )
    assert waiting.outcome == "inbox"
    client = login(world.rita)
    pages = [
        f"/deals/{world.deal.pk}/",
        f"/mail/activities/{logged.pk}/",
        "/mail/",
    ]
    for url in pages:
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
        assert "<img src=x" not in body, url
        assert "&lt;script&gt;" in body, url


def test_html_mail_is_shown_as_text_never_as_html(world):
    activity = capture(world, fixture_bytes("04_outlook_html_only.eml")).activity
    body = login(world.rita).get(f"/mail/activities/{activity.pk}/").content.decode()
    assert "split the licence" in body
    assert "tracker.example" not in body and "alert(" not in body


def test_the_mail_page_is_a_404_for_who_may_not_see_the_deal(world):
    activity = capture(world, raw_mail()).activity
    stranger = f.rep(f.TeamFactory(), username="stranger")
    assert login(stranger).get(f"/mail/activities/{activity.pk}/").status_code == 404
    assert login(world.rita).get(f"/mail/activities/{activity.pk}/").status_code == 200


def test_delete_removes_the_activity_and_its_stored_text(world):
    activity = capture(world, raw_mail(body="the confidential price")).activity
    response = login(world.rita).post(f"/mail/activities/{activity.pk}/delete/")
    assert response.status_code == 302
    assert not Activity.objects.filter(pk=activity.pk).exists()
    assert not CapturedMail.objects.filter(text__contains="confidential").exists()


def test_a_manager_may_read_but_not_delete(world):
    manager = f.manager(world.team, username="mona")
    activity = capture(world, raw_mail()).activity
    client = login(manager)
    assert client.get(f"/mail/activities/{activity.pk}/").status_code == 200
    assert client.post(f"/mail/activities/{activity.pk}/delete/").status_code == 403
    assert Activity.objects.filter(pk=activity.pk).exists()


@pytest.mark.parametrize(
    "name, kind",
    [
        ("02_gmail_buyer_reply.eml", "email"),
        ("13_google_calendar_invite.ics", "meeting"),
        ("25_thunderbird_export.mbox", "email"),
    ],
)
def test_upload_on_the_deal_page_logs_on_that_deal(world, name, kind):
    other = f.DealFactory(team=world.team, owner=world.rita, title="Chosen deal")
    upload = SimpleUploadedFile(name, fixture_bytes(name))
    response = login(world.rita).post(f"/mail/deals/{other.pk}/upload/", {"file": upload})
    assert response.status_code == 302
    assert Activity.objects.filter(deal=other, kind=kind).exists()
    assert not Activity.objects.filter(deal=world.deal).exists()


def test_upload_refuses_other_files_and_other_peoples_deals(world):
    client = login(world.rita)
    response = client.post(
        f"/mail/deals/{world.deal.pk}/upload/",
        {"file": SimpleUploadedFile("notes.txt", b"hello")},
        follow=True,
    )
    assert "Upload an .eml, .mbox or .ics file." in response.content.decode()
    sams = f.DealFactory(team=world.team, owner=world.sam)
    response = client.post(
        f"/mail/deals/{sams.pk}/upload/",
        {"file": SimpleUploadedFile("a.eml", raw_mail())},
    )
    assert response.status_code == 404
    assert not Activity.objects.exists()
