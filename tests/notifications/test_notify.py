"""notify(): the inbox row, the email as each person chose, and who could not be emailed."""

import pytest
from django.conf import settings
from django.core import mail

from tests import factories as f
from winwin_crm.notifications import services
from winwin_crm.notifications.models import (
    Delivery,
    Kind,
    Notification,
    NotificationPreference,
)

pytestmark = pytest.mark.django_db


def _notify(recipients, **kwargs):
    params = {"kind": Kind.HANDOFF_QUESTION, "title": "Which depot first?", "url": "/handoffs/7/"}
    params.update(kwargs)
    return services.notify(recipients=recipients, **params)


def test_immediate_email_has_an_absolute_link_and_the_inbox_gets_a_row(
    team, django_capture_on_commit_callbacks
):
    rita = f.rep(team, email="rita@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        result = _notify([rita])

    assert result.notified == [rita] and result.emailed == [rita] and result.no_email == []
    [email] = mail.outbox
    assert email.to == ["rita@example.com"]
    assert f"{settings.SITE_URL}/handoffs/7/" in email.body
    row = Notification.objects.get(recipient=rita)
    assert (row.title, row.url, row.email, row.read_at) == (
        "Which depot first?",
        "/handoffs/7/",
        "sent",
        None,
    )


def test_a_person_without_an_email_address_is_named_so_the_sender_can_say_so(
    team, django_capture_on_commit_callbacks
):
    rita = f.rep(team, email="", first_name="Rita", last_name="Reyes")
    with django_capture_on_commit_callbacks(execute=True):
        result = _notify([rita])

    assert mail.outbox == []
    assert result.notified == [rita] and result.no_email == [rita]
    assert result.sentence() == (
        "Rita Reyes was notified. Rita Reyes has no email address, so only their in-app "
        "inbox shows it."
    )
    assert Notification.objects.get(recipient=rita).email == "no_address"


def test_off_keeps_it_in_the_app_and_daily_waits_for_the_digest(
    team, django_capture_on_commit_callbacks
):
    quiet = f.rep(team)
    digest = f.rep(team)
    NotificationPreference.objects.create(user=quiet, kind=Kind.HANDOFF_QUESTION, delivery="off")
    services.preferences_set(user=digest, choices={Kind.HANDOFF_QUESTION: Delivery.DAILY})
    with django_capture_on_commit_callbacks(execute=True):
        result = _notify([quiet, digest])
        _notify([digest], title="A second question")

    assert mail.outbox == []
    assert sorted(u.pk for u in result.notified) == sorted([quiet.pk, digest.pk])
    assert result.emailed == [digest]

    with django_capture_on_commit_callbacks(execute=True):
        assert services.notifications_digest_send() == 1
    [email] = mail.outbox
    assert email.to == [digest.email]
    assert "2 updates" in email.subject
    assert "A second question" in email.body and "Which depot first?" in email.body
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notifications_digest_send() == 0  # a rerun sends nothing twice
    assert len(mail.outbox) == 1


def test_the_actor_is_not_told_and_a_key_makes_a_repeat_a_no_op(team):
    rita, sam = f.rep(team), f.rep(team)
    first = _notify([rita, sam], actor=sam, key="sla:1")
    again = _notify([rita, sam], actor=sam, key="sla:1")

    assert first.notified == [rita]
    assert again.notified == []
    assert Notification.objects.filter(recipient=rita).count() == 1
    assert not Notification.objects.filter(recipient=sam).exists()


def test_flags_are_a_daily_digest_unless_the_rep_chooses_otherwise(team):
    rita = f.rep(team)
    result = _notify([rita], kind=Kind.FLAG_RAISED, title="New flag")
    assert Notification.objects.get(recipient=rita).email == "digest"
    assert result.emailed == [rita]


def test_an_unknown_kind_is_refused(team):
    with pytest.raises(ValueError):
        _notify([f.rep(team)], kind="gossip")


def test_a_sweeps_new_flags_cost_a_fixed_number_of_queries(team, django_assert_num_queries):
    from winwin_crm.notifications.wiring import flags_opened_notify

    deals = [f.DealFactory(owner=f.rep(team), team=team) for _ in range(3)]
    flag_ids = [
        f.FlagFactory(deal=deal, code=code).pk
        for deal in deals
        for code in ("PRESSURE_CHASING", "BUYER_OVERSELL")
    ]
    more = [f.DealFactory(owner=f.rep(team), team=team) for _ in range(5)]
    more_ids = [f.FlagFactory(deal=deal, code="PRESSURE_CHASING").pk for deal in more]
    # flags + owners, keys already sent, preferences, one INSERT: 4 for 3 deals or for 5.
    with django_assert_num_queries(4):
        assert flags_opened_notify(flag_ids=flag_ids) == 3
    with django_assert_num_queries(4):
        assert flags_opened_notify(flag_ids=more_ids) == 5
    titles = sorted(Notification.objects.values_list("title", flat=True))
    assert sum(t.startswith("2 new flags on") for t in titles) == 3
    assert flags_opened_notify(flag_ids=flag_ids) == 0  # each flag is told once
