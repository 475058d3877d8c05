"""The inbox, the bell's count, mark read and the settings page."""

import pytest
from django.urls import reverse

from tests import factories as f
from winwin_crm.notifications import services
from winwin_crm.notifications.models import Kind, Notification, NotificationPreference

pytestmark = pytest.mark.django_db


@pytest.fixture
def rita(team):
    return f.rep(team)


def _note(user, title="New flag on Dispatch", url="/deals/1/"):
    services.notify(recipients=[user], kind=Kind.FLAG_RAISED, title=title, url=url)
    return Notification.objects.filter(recipient=user).latest("id")


def test_bell_counts_only_my_unread_notifications(client, rita, other_rep):
    _note(rita)
    _note(rita, title="Second")
    _note(other_rep)
    client.force_login(rita)
    html = client.get(reverse("notifications:bell")).content.decode()
    assert ">2<" in html and "2 unread" in html


def test_every_page_has_the_bell_without_a_query_for_it(client, rita):
    client.force_login(rita)
    html = client.get(reverse("deals:deal_list")).content.decode()
    assert 'hx-get="/notifications/bell/"' in html  # the count loads after the page


def test_inbox_lists_mine_and_opening_one_marks_it_read(
    client, rita, other_rep, django_assert_max_num_queries
):
    mine = _note(rita)
    _note(other_rep, title="Not for Rita")
    client.force_login(rita)
    with django_assert_max_num_queries(8):
        html = client.get(reverse("notifications:inbox")).content.decode()
    assert "New flag on Dispatch" in html and "Not for Rita" not in html
    assert "1 unread" in html

    response = client.get(reverse("notifications:open", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == "/deals/1/"
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_someone_elses_notification_is_404(client, rita, other_rep):
    theirs = _note(other_rep)
    client.force_login(rita)
    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:mark_read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_with_htmx_swaps_the_item_and_refreshes_the_bell(client, rita):
    note = _note(rita)
    client.force_login(rita)
    response = client.post(
        reverse("notifications:mark_read", args=[note.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "notifications-changed"
    assert "Mark read" not in response.content.decode()


def test_mark_all_read(client, rita):
    _note(rita)
    _note(rita, title="Two")
    client.force_login(rita)
    client.post(reverse("notifications:mark_all_read"))
    assert not Notification.objects.filter(recipient=rita, read_at__isnull=True).exists()


def test_an_external_url_is_never_followed(client, rita):
    note = _note(rita, url="https://evil.example.com/")
    client.force_login(rita)
    response = client.get(reverse("notifications:open", args=[note.pk]))
    assert response["Location"] == "/notifications/"


def test_settings_save_per_kind_and_refuse_unknown_values(client, rita):
    client.force_login(rita)
    url = reverse("notifications:preferences")
    choices = {f"kind-{kind}": "immediate" for kind in Kind.values}
    choices[f"kind-{Kind.FLAG_RAISED}"] = "off"
    assert client.post(url, choices).status_code == 302
    assert NotificationPreference.objects.get(user=rita, kind=Kind.FLAG_RAISED).delivery == "off"

    choices[f"kind-{Kind.FLAG_RAISED}"] = "hourly"
    assert client.post(url, choices).status_code == 400
    assert NotificationPreference.objects.get(user=rita, kind=Kind.FLAG_RAISED).delivery == "off"


def test_settings_warn_a_user_without_an_email_address(client, team):
    nobody = f.rep(team, email="")
    client.force_login(nobody)
    html = client.get(reverse("notifications:preferences")).content.decode()
    assert "You have no email address" in html
