"""Handoff events reach people through the notification inbox (and email as they chose)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from handoff import reminders, services
from tests import factories as f
from winwin_crm.notifications.models import Kind, Notification

from .conftest import tick_all

pytestmark = pytest.mark.django_db


def test_submit_puts_it_in_every_delivery_members_inbox(draft, rep_user, delivery_user, teammate):
    tick_all(draft)
    handoff = services.handoff_submit(handoff=draft, user=rep_user)
    rows = Notification.objects.filter(kind=Kind.HANDOFF_SUBMITTED)
    assert sorted(rows.values_list("recipient_id", flat=True)) == sorted(
        [delivery_user.pk, teammate.pk]
    )
    assert rows.first().url == f"/handoffs/{handoff.pk}/"
    assert sorted(u.pk for u in handoff.notify_result.notified) == sorted(
        [delivery_user.pk, teammate.pk]
    )


def test_a_question_to_a_rep_without_email_tells_the_sender_so(client, claimed, delivery_user):
    rep = claimed.deal.owner
    rep.email = ""
    rep.save(update_fields=["email"])
    client.force_login(delivery_user)
    response = client.post(
        reverse("handoff:ask", args=[claimed.pk]), {"question": "Who runs IT?"}, follow=True
    )
    [message] = list(response.context["messages"])
    assert message.level_tag == "warning"
    assert str(message) == (
        f"Question sent to the rep. {rep} was notified. {rep} has no email address, so only "
        "their in-app inbox shows it."
    )
    note = Notification.objects.get(recipient=rep, kind=Kind.HANDOFF_QUESTION)
    assert note.email == "no_address" and "Who runs IT?" in note.body


def test_sla_about_to_pass_reminds_the_team_once(submitted, delivery_user, teammate):
    now = timezone.now()
    submitted.sla_due_at = now + dt.timedelta(hours=3)
    submitted.save(update_fields=["sla_due_at"])
    assert reminders.sla_at_risk_notify(now=now) == 2
    assert reminders.sla_at_risk_notify(now=now + dt.timedelta(minutes=15)) == 0
    note = Notification.objects.filter(kind=Kind.SLA_AT_RISK, recipient=delivery_user).get()
    assert note.title.startswith("Claim Acme onboarding platform")


def test_sla_far_away_or_already_claimed_is_not_a_reminder(submitted):
    now = timezone.now()
    assert reminders.sla_at_risk_notify(now=now) == 0  # 48 h left
    submitted.sla_due_at = now + dt.timedelta(hours=1)
    submitted.status = submitted.Status.CLAIMED
    submitted.save(update_fields=["sla_due_at", "status"])
    assert reminders.sla_at_risk_notify(now=now) == 0


def test_a_due_check_in_reminds_its_assignee_once(accepted, delivery_user):
    check_in = accepted.check_ins.order_by("day_offset").first()
    today = check_in.due_date
    assert reminders.check_ins_due_notify(today=today) == 1
    assert reminders.check_ins_due_notify(today=today) == 0
    note = Notification.objects.get(kind=Kind.CHECK_IN_DUE)
    assert note.recipient == delivery_user
    assert note.url.endswith("#check-ins")


def test_a_new_flag_on_my_deal_reaches_me(team, rep_user, django_capture_on_commit_callbacks):
    from deals.health import health_recompute
    from deals.models import Deal

    deal = f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.NEGOTIATION)
    f.BuyerMilestoneFactory(deal=deal, title="Legal review", required_for_decision=True)
    with django_capture_on_commit_callbacks(execute=True):
        health_recompute(deal_id=deal.pk)
    opened = deal.flags.filter(status="open").count()
    notes = Notification.objects.filter(recipient=rep_user, kind=Kind.FLAG_RAISED)
    assert opened > 0
    assert notes.count() == 1
    assert deal.title in notes.get().title
    with django_capture_on_commit_callbacks(execute=True):
        health_recompute(deal_id=deal.pk)  # nothing new: no second notification
    assert notes.count() == 1
