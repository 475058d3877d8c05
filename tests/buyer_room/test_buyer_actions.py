"""What the buyer does in the room, and what the rep then sees."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from deals.buyer_room.models import BuyerNeedChange, BuyerRoomEvent, BuyerShare
from deals.health import health_recompute
from deals.models import Activity, BuyerMilestone, Deal, Flag, Need
from tests.buyer_room.conftest import room_url

pytestmark = pytest.mark.django_db


def buyer_activities(deal):
    return list(deal.activities.filter(kind=Activity.Kind.BUYER_ROOM))


def test_sharing_emails_the_contact_an_absolute_link_that_opens_the_room(
    committed, client, room_deal, buyer, rep_user, settings
):
    settings.SITE_URL = "https://crm.example.com"
    from deals.buyer_room import services

    with committed():
        share, token = services.buyer_share_create(deal=room_deal, contact=buyer, user=rep_user)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["bea@buyer.example.com"]
    link = f"https://crm.example.com/buyer/{token}/"
    assert link in mail.outbox[0].body
    # only the hash is stored
    assert token not in str(BuyerShare.objects.filter(pk=share.pk).values().get())
    response = client.get(f"/buyer/{token}/")
    assert response.status_code == 200
    assert "Onboard a customer in a week" in response.content.decode()
    share.refresh_from_db()
    assert share.opens == 1
    opened = BuyerRoomEvent.objects.get(share=share, action="opened")
    assert opened.ip == "127.0.0.1"


def test_the_link_expires_after_the_policy_days(room_deal, buyer, rep_user):
    from deals.buyer_room import services
    from deals.health.policy import policy_for_team

    policy = policy_for_team(room_deal.team_id)
    policy.buyer_room_link_days = 7
    policy.save()
    share, _ = services.buyer_share_create(deal=room_deal, contact=buyer, user=rep_user)
    assert (share.expires_at - share.sent_at) == dt.timedelta(days=7)


def test_buyer_confirms_a_need_which_is_marked_as_theirs_and_logged_as_buyer_activity(
    post, client, room_deal, buyer, token
):
    need = room_deal.needs.get(statement="Fewer tickets")
    response = post(room_url(token, "need_confirm", need.pk))
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.confirmed_by_buyer_at is not None
    assert need.confirmed_by_contact == buyer
    (activity,) = buyer_activities(room_deal)
    assert activity.initiated_by == Activity.InitiatedBy.BUYER
    assert "Bea Buyer" in activity.notes
    room_deal.refresh_from_db()
    assert room_deal.last_buyer_contact_at == activity.occurred_at
    assert room_deal.health_computed_at is not None  # the recompute ran on commit


def test_buyer_corrects_importance_and_the_rep_sees_changed_by_the_buyer(
    post, client, room_deal, token, rep_user
):
    need = room_deal.needs.get(statement="Onboard a customer in a week")
    response = post(
        room_url(token, "need_change", need.pk),
        {"statement": "Onboard a customer in two weeks", "importance": "3"},
    )
    assert response.status_code == 302
    need.refresh_from_db()
    assert (need.statement, need.importance) == ("Onboard a customer in two weeks", 3)
    change = BuyerNeedChange.objects.get(need=need)
    assert (change.importance_before, change.importance_after) == (5, 3)
    assert change.statement_before == "Onboard a customer in a week"
    assert any("importance from 5/5 to 3/5" in m.body for m in mail.outbox)

    client.force_login(rep_user)
    page = client.get(reverse("deals:deal_detail", args=[room_deal.pk])).content.decode()
    assert "Changed by the buyer" in page
    assert "Onboard a customer in a week</del>" in page
    assert "5/5 → <strong>3/5</strong>" in page
    assert "Confirmed by the buyer" in page


def test_buyer_adds_a_need_and_invalid_input_is_a_400_with_the_message(
    post, client, room_deal, token
):
    response = post(room_url(token, "need_add"), {"statement": "", "importance": "9"})
    assert response.status_code == 400
    assert room_deal.needs.count() == 2
    response = post(
        room_url(token, "need_add"),
        {"statement": "Reports in German", "importance": "4", "kind": "goal"},
    )
    assert response.status_code == 302
    need = room_deal.needs.get(statement="Reports in German")
    assert need.confirmed_by_buyer_at is not None
    assert BuyerNeedChange.objects.get(need=need).added


def test_buyer_ticks_their_own_milestone_but_not_the_sellers(post, client, room_deal, token):
    mine = room_deal.milestones.get(side=BuyerMilestone.Side.BUYER)
    theirs = room_deal.milestones.get(side=BuyerMilestone.Side.SELLER)
    assert post(room_url(token, "milestone_tick", mine.pk), {"done": "yes"}).status_code == 302
    mine.refresh_from_db()
    assert mine.completed_at is not None
    response = post(room_url(token, "milestone_tick", theirs.pk), {"done": "yes"})
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.completed_at is None


def test_buyer_proposes_a_date_and_the_rep_is_told(post, client, room_deal, token, rep_user):
    milestone = room_deal.milestones.get(side=BuyerMilestone.Side.BUYER)
    day = timezone.localdate() + dt.timedelta(days=40)
    response = post(
        room_url(token, "milestone_date", milestone.pk), {"proposed_date": day.isoformat()}
    )
    assert response.status_code == 302
    assert milestone.date_proposals.get().proposed_date == day
    assert mail.outbox[-1].to == [rep_user.email]
    client.force_login(rep_user)
    page = client.get(reverse("deals:deal_detail", args=[room_deal.pk])).content.decode()
    assert "Dates the buyer proposed" in page


def test_a_question_lands_as_an_activity_and_an_email_to_the_rep(
    post, client, room_deal, token, rep_user
):
    mail.outbox.clear()
    response = post(room_url(token, "question"), {"question": "Is SSO included?"})
    assert response.status_code == 302
    (activity,) = buyer_activities(room_deal)
    assert "Is SSO included?" in activity.notes
    (message,) = mail.outbox
    assert message.to == [rep_user.email]
    assert "Is SSO included?" in message.body
    assert f"/deals/{room_deal.pk}/" in message.body


def test_feeling_pushed_raises_buyer_reported_pressure_with_answer_and_date(
    post, client, room_deal, token, meeting, buyer
):
    page = client.get(room_url(token)).content.decode()
    assert "Did you feel pushed?" in page
    response = post(
        room_url(token, "pulse", meeting.pk),
        {"got_what_needed": "no", "felt_pushed": "yes", "next_step_agreed": "no"},
    )
    assert response.status_code == 302
    flag = Flag.objects.get(deal=room_deal, code="BUYER_REPORTED_PRESSURE", status="open")
    assert flag.severity == "critical"
    assert flag.side == "relationship"
    (answer,) = flag.evidence["answers"]
    assert answer["felt_pushed"] is True
    assert answer["contact_id"] == buyer.pk
    assert answer["meeting_activity_id"] == meeting.pk
    assert answer["answered_at"][:10] == timezone.now().date().isoformat()
    # the pulse is not asked again for the same meeting
    assert "Did you feel pushed?" not in client.get(room_url(token)).content.decode()

    # correcting the answer (not pushed after all) clears the flag
    post(
        room_url(token, "pulse", meeting.pk),
        {"got_what_needed": "yes", "felt_pushed": "no", "next_step_agreed": "yes"},
    )
    flag.refresh_from_db()
    assert flag.status == "resolved"


def test_a_closed_deal_room_is_read_only(post, client, room_deal, token):
    Deal.objects.filter(pk=room_deal.pk).update(stage=Deal.Stage.CLOSED_LOST)
    page = client.get(room_url(token)).content.decode()
    assert "read-only" in page
    assert "Yes, that&#x27;s right" not in page
    need = room_deal.needs.first()
    assert post(room_url(token, "need_confirm", need.pk)).status_code == 403
    need.refresh_from_db()
    assert need.confirmed_by_buyer_at is None


def test_the_room_speaks_the_deals_language(client, room_deal, token, rep_user):
    Deal.objects.filter(pk=room_deal.pk).update(language="de")
    page = client.get(room_url(token)).content.decode()
    assert '<html lang="de">' in page
    assert "Ihr Bedarf, so wie wir ihn verstanden haben" in page
    assert "Unser gemeinsamer Plan" in page
    # the rep's page, in the same process right after, stays in English
    client.force_login(rep_user)
    staff = client.get(reverse("deals:deal_detail", args=[room_deal.pk])).content.decode()
    assert "Buyer room" in staff and "Unser gemeinsamer Plan" not in staff


def test_buyer_confirmation_is_what_buyer_no_discovery_reports(post, room_deal, client, token):
    Need.objects.filter(deal=room_deal).update(confirmed_by_buyer=False)
    result = health_recompute(deal_id=room_deal.pk)
    flag = next(f for f in result.flags if f.code == "BUYER_NO_DISCOVERY")
    assert flag.evidence["confirmed_by"] is None

    Need.objects.filter(deal=room_deal, statement="Fewer tickets").update(confirmed_by_buyer=True)
    facts_flags = {f.code for f in health_recompute(deal_id=room_deal.pk).flags}
    assert "BUYER_NO_DISCOVERY" not in facts_flags

    from deals.health.facts import load_facts_for_deal
    from deals.health.rules import buyer_no_discovery

    room_deal.discovery_calls.all().delete()
    facts = load_facts_for_deal(room_deal.pk)
    assert buyer_no_discovery(facts, facts.policy, timezone.now()).evidence["confirmed_by"] == "rep"
    need = room_deal.needs.get(statement="Onboard a customer in a week")
    post(room_url(token, "need_confirm", need.pk))
    facts = load_facts_for_deal(room_deal.pk)
    evidence = buyer_no_discovery(facts, facts.policy, timezone.now()).evidence
    assert evidence["confirmed_by"] == "buyer"
    assert evidence["confirmed_need_ids"] == [need.pk]


def test_the_rep_rewording_a_need_the_buyer_confirmed_clears_the_buyers_confirmation(
    post, room_deal, token, rep_user
):
    from deals.services import need_update

    need = room_deal.needs.get(statement="Fewer tickets")
    post(room_url(token, "need_confirm", need.pk))
    need.refresh_from_db()
    need_update(need=need, user=rep_user, kind=need.kind)  # nothing the buyer said changed
    need.refresh_from_db()
    assert need.confirmed_by_buyer_at is not None
    need_update(need=need, user=rep_user, importance=5)
    need.refresh_from_db()
    assert need.confirmed_by_buyer_at is None and need.confirmed_by_contact is None
    assert need.confirmed_by_buyer  # the rep's own tick stays theirs to change
