"""The handoff workflow's services: every transition allowed and refused."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from deals.models import Commitment, Deal, HealthPolicy
from handoff import services
from handoff.models import CheckIn, ChecklistTemplateItem, Handoff, HandoffEvent, HandoffMessage
from tests import factories as f

from .conftest import make_draft, make_submitted, tick_all

Status = Handoff.Status
pytestmark = pytest.mark.django_db


# --- creation ---------------------------------------------------------------------------


def test_closing_a_deal_as_won_creates_a_draft_for_the_teams_delivery_team(
    won_deal, delivery_team, rep_user
):
    handoff = services.handoff_create_for_deal(deal=won_deal, user=rep_user)

    assert handoff.status == Status.DRAFT
    assert handoff.delivery_team == delivery_team
    assert handoff.rep == rep_user
    assert handoff.notes_for_delivery == "Their champion prefers calls on Tuesdays."
    assert [i.label for i in handoff.checklist.all()] == [
        "Kickoff contact confirmed",
        "Needs reviewed with buyer",
        "Commitments listed",
        "Limitations disclosed",
        "Success criteria agreed",
    ]
    assert all(i.required and i.checked_at is None for i in handoff.checklist.all())
    event = handoff.events.get()
    assert (event.from_status, event.to_status, event.actor) == ("", "draft", rep_user)


def test_closing_twice_or_reopening_and_reclosing_keeps_exactly_one_handoff(won_deal, rep_user):
    first = services.handoff_create_for_deal(deal=won_deal, user=rep_user)
    second = services.handoff_create_for_deal(deal=won_deal, user=rep_user)
    won_deal.stage = Deal.Stage.NEGOTIATION
    won_deal.save()
    won_deal.stage = Deal.Stage.CLOSED_WON
    won_deal.save()
    third = services.handoff_create_for_deal(deal=won_deal, user=rep_user)

    assert first.pk == second.pk == third.pk
    assert Handoff.objects.filter(deal=won_deal).count() == 1
    assert first.checklist.count() == 5
    assert HandoffEvent.objects.filter(handoff=first).count() == 1


def test_a_concurrent_insert_that_wins_the_race_is_returned_not_duplicated(won_deal, rep_user):
    winner = make_draft(won_deal)
    # Simulate the race: our first read saw no handoff, then another close inserted one.
    with mock.patch.object(Handoff.objects, "filter") as filter_:
        filter_.return_value.first.return_value = None
        loser = services.handoff_create_for_deal(deal=won_deal, user=rep_user)
    assert loser.pk == winner.pk
    assert Handoff.objects.count() == 1


def test_configured_checklist_template_replaces_the_defaults(won_deal, rep_user):
    ChecklistTemplateItem.objects.create(key="sow", label="SOW attached", position=2)
    ChecklistTemplateItem.objects.create(
        key="intro", label="Intro call booked", position=1, required=False
    )
    ChecklistTemplateItem.objects.create(key="old", label="Retired item", active=False)

    handoff = services.handoff_create_for_deal(deal=won_deal, user=rep_user)

    assert [(i.key, i.label, i.required) for i in handoff.checklist.all()] == [
        ("intro", "Intro call booked", False),
        ("sow", "SOW attached", True),
    ]


def test_an_open_deal_is_not_handed_off(team, rep_user):
    deal = f.DealFactory(team=team, owner=rep_user, stage=Deal.Stage.NEGOTIATION)
    with pytest.raises(services.HandoffTransitionError, match="closed-won"):
        services.handoff_create_for_deal(deal=deal, user=rep_user)
    assert not Handoff.objects.exists()


def test_without_a_default_delivery_team_the_draft_waits_for_an_admin(rep_user, team):
    deal = f.DealFactory(team=team, owner=rep_user, stage=Deal.Stage.CLOSED_WON)
    handoff = services.handoff_create_for_deal(deal=deal, user=rep_user)
    tick_all(handoff)

    assert handoff.delivery_team is None
    with pytest.raises(ValidationError) as exc:
        services.handoff_submit(handoff=handoff, user=rep_user)
    assert "no delivery team" in exc.value.message_dict["delivery_team"][0]


# --- submit ------------------------------------------------------------------------------


def test_submit_names_every_unchecked_required_item_and_changes_nothing(draft, rep_user):
    first = draft.checklist.get(key="kickoff_contact_confirmed")
    services.checklist_item_set(item=first, user=rep_user, checked=True)
    optional = draft.checklist.get(key="success_criteria_agreed")
    optional.required = False
    optional.save()

    with pytest.raises(ValidationError) as exc:
        services.handoff_submit(handoff=draft, user=rep_user)

    message = exc.value.message_dict["checklist"][0]
    assert "Needs reviewed with buyer" in message
    assert "Commitments listed" in message
    assert "Limitations disclosed" in message
    assert "Kickoff contact confirmed" not in message
    assert "Success criteria agreed" not in message
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert draft.package == {} and draft.submitted_at is None


def test_submit_freezes_the_full_package(draft, rep_user, won_deal):
    tick_all(draft)
    handoff = services.handoff_submit(
        handoff=draft, user=rep_user, notes_for_delivery="Kick off with Jo."
    )
    package = Handoff.objects.get(pk=handoff.pk).package

    assert package["version"] == 2 and handoff.package_version == 2
    assert package["deal"]["title"] == "Acme onboarding platform"
    assert [
        (n["kind"], n["importance"], n["statement"], n["confirmed"]) for n in package["needs"]
    ] == [
        ("goal", 5, "Onboard a customer in a week", True),
        ("problem", 2, "Fewer support tickets", False),
    ]
    [item] = package["line_items"]
    assert item["name"] == "Platform licence"
    assert item["total"] == "1000.00"
    assert [n["statement"] for n in item["needs"]] == ["Onboard a customer in a week"]
    assert [(c["description"], c["due_date"]) for c in package["commitments"]] == [
        (
            "Migrate their historical data",
            (timezone.localdate() + dt.timedelta(days=20)).isoformat(),
        )
    ]
    assert [(d["kind"], d["description"]) for d in package["disclosures"]] == [
        ("limitation", "No on-premise deployment.")
    ]
    assert [(c["description"], c["in_exchange_for"]) for c in package["concessions"]] == [
        ("6 extra months of support", "Two-year term")
    ]
    assert ("Jo Buyer", "decision_maker") in [
        (c["name"], c["buying_role"]) for c in package["contacts"]
    ]
    assert [m["title"] for m in package["milestones"]] == ["Kickoff workshop"]
    assert package["notes_for_delivery"] == "Kick off with Jo."
    assert package["pricing"] == {
        "currency": "USD",
        "list_total": "1000.00",
        "net_total": "900.00",
        "cost_total": "400.00",
        "discount_pct": "10.00",
        "margin_pct": "55.56",
    }


def test_submit_sets_the_sla_from_the_default_48_hours_and_emails_the_delivery_team(
    draft, rep_user, delivery_user, teammate, outsider_delivery, django_capture_on_commit_callbacks
):
    tick_all(draft)
    with django_capture_on_commit_callbacks(execute=True):
        handoff = services.handoff_submit(handoff=draft, user=rep_user)

    assert handoff.status == Status.SUBMITTED
    assert handoff.snapshot_at == handoff.submitted_at
    assert handoff.sla_due_at - handoff.submitted_at == dt.timedelta(hours=48)
    # One email each, so members never see one another's addresses.
    assert sorted(to for email in mail.outbox for to in email.to) == sorted(
        [delivery_user.email, teammate.email]
    )
    email = mail.outbox[0]
    assert "Acme onboarding platform" in email.subject
    assert f"{settings.SITE_URL}/handoffs/{handoff.pk}/" in email.body  # absolute


def test_sla_follows_the_teams_health_policy(draft, rep_user, team):
    HealthPolicy.objects.create(team=None, handoff_sla_hours=24)
    HealthPolicy.objects.create(team=team, handoff_sla_hours=8)
    tick_all(draft)

    handoff = services.handoff_submit(handoff=draft, user=rep_user)

    assert handoff.sla_due_at - handoff.submitted_at == dt.timedelta(hours=8)


def test_no_email_is_sent_when_the_submit_rolls_back(
    draft, rep_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.handoff_submit(handoff=draft, user=rep_user)
    assert mail.outbox == []


@pytest.mark.parametrize("who", ["delivery_user", "manager_user", "other_rep", "admin_user"])
def test_only_the_deals_rep_submits(draft, who, request):
    tick_all(draft)
    with pytest.raises(PermissionDenied):
        services.handoff_submit(handoff=draft, user=request.getfixturevalue(who))
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_submitting_twice_is_refused_with_the_state(submitted, rep_user):
    with pytest.raises(services.HandoffTransitionError, match="it is submitted"):
        services.handoff_submit(handoff=submitted, user=rep_user)


def test_later_deal_edits_do_not_change_the_frozen_package(submitted, won_deal):
    frozen = Handoff.objects.get(pk=submitted.pk).package
    need = won_deal.needs.get(importance=5)
    need.importance = 3
    need.save()
    f.LineItemFactory(deal=won_deal, name="Training days")
    Deal.objects.filter(pk=won_deal.pk).update(net_total=Decimal("700.00"))
    won_deal.commitments.filter(status="open").update(status="done")

    handoff = Handoff.objects.get(pk=submitted.pk)
    assert handoff.package == frozen
    assert handoff.package["needs"][0]["importance"] == 5
    assert [i["name"] for i in handoff.package["line_items"]] == ["Platform licence"]


# --- checklist and notes -----------------------------------------------------------------


def test_rep_ticks_and_unticks_checklist_items(draft, rep_user):
    item = draft.checklist.first()
    ticked = services.checklist_item_set(item=item, user=rep_user, checked=True)
    assert ticked.checked_at is not None and ticked.checked_by == rep_user
    unticked = services.checklist_item_set(item=item, user=rep_user, checked=False)
    assert unticked.checked_at is None and unticked.checked_by is None


def test_nobody_but_the_rep_ticks_the_checklist(draft, delivery_user, manager_user):
    item = draft.checklist.first()
    for user in (delivery_user, manager_user):
        with pytest.raises(PermissionDenied):
            services.checklist_item_set(item=item, user=user, checked=True)


def test_the_checklist_is_frozen_after_submit(submitted, rep_user):
    with pytest.raises(services.HandoffTransitionError):
        services.checklist_item_set(item=submitted.checklist.first(), user=rep_user, checked=False)


def test_rep_edits_notes_only_while_draft(draft, rep_user):
    handoff = services.handoff_notes_update(
        handoff=draft, user=rep_user, notes_for_delivery="  Call Jo.  "
    )
    assert handoff.notes_for_delivery == "Call Jo."
    tick_all(handoff)
    services.handoff_submit(handoff=handoff, user=rep_user)
    with pytest.raises(services.HandoffTransitionError):
        services.handoff_notes_update(handoff=handoff, user=rep_user, notes_for_delivery="x")


# --- claim -------------------------------------------------------------------------------


def test_a_delivery_member_claims_a_submitted_handoff(submitted, delivery_user):
    handoff = services.handoff_claim(handoff=submitted, user=delivery_user)
    assert handoff.status == Status.CLAIMED
    assert handoff.assignee == delivery_user
    assert handoff.claimed_at is not None
    event = handoff.events.last()
    assert (event.from_status, event.to_status, event.actor) == (
        "submitted",
        "claimed",
        delivery_user,
    )


@pytest.mark.parametrize("who", ["rep_user", "manager_user", "outsider_delivery", "admin_user"])
def test_only_the_handoffs_delivery_team_claims(submitted, who, request):
    with pytest.raises(PermissionDenied):
        services.handoff_claim(handoff=submitted, user=request.getfixturevalue(who))


def test_a_draft_cannot_be_claimed(draft, delivery_user):
    with pytest.raises(services.HandoffTransitionError, match="it is draft"):
        services.handoff_claim(handoff=draft, user=delivery_user)


def test_a_claimed_handoff_cannot_be_claimed_again_by_a_teammate(claimed, teammate, delivery_user):
    with pytest.raises(services.HandoffTransitionError, match="it is claimed"):
        services.handoff_claim(handoff=claimed, user=teammate)
    claimed.refresh_from_db()
    assert claimed.assignee == delivery_user


# --- ask and answer ----------------------------------------------------------------------


def test_the_assignee_asks_and_the_rep_is_emailed(
    claimed, delivery_user, rep_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        handoff = services.handoff_ask(
            handoff=claimed, user=delivery_user, question="Who signs off on go-live?"
        )
    assert handoff.status == Status.NEEDS_INFO
    message = handoff.messages.get()
    assert (message.kind, message.author, message.body) == (
        "question",
        delivery_user,
        "Who signs off on go-live?",
    )
    assert handoff.events.last().note == "Who signs off on go-live?"
    [email] = mail.outbox
    assert email.to == [rep_user.email]
    assert "Who signs off on go-live?" in email.body


def test_a_teammate_who_did_not_claim_it_cannot_ask(claimed, teammate):
    with pytest.raises(PermissionDenied):
        services.handoff_ask(handoff=claimed, user=teammate, question="?")


def test_the_rep_cannot_ask_delivery_questions(claimed, rep_user):
    with pytest.raises(PermissionDenied):
        services.handoff_ask(handoff=claimed, user=rep_user, question="?")


def test_an_empty_question_is_a_field_error(claimed, delivery_user):
    with pytest.raises(ValidationError) as exc:
        services.handoff_ask(handoff=claimed, user=delivery_user, question="   ")
    assert "question" in exc.value.message_dict
    assert not HandoffMessage.objects.exists()


def test_asking_while_waiting_for_an_answer_is_refused(needs_info, delivery_user):
    with pytest.raises(services.HandoffTransitionError, match="needs info"):
        services.handoff_ask(handoff=needs_info, user=delivery_user, question="And?")


def test_the_rep_answers_and_the_handoff_goes_back_to_the_assignee(
    needs_info, rep_user, delivery_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        handoff = services.handoff_answer(handoff=needs_info, user=rep_user, answer="Jo Buyer.")
    assert handoff.status == Status.CLAIMED
    assert handoff.assignee == delivery_user
    assert [m.kind for m in handoff.messages.all()] == ["question", "answer"]
    assert mail.outbox[-1].to == [delivery_user.email]


@pytest.mark.parametrize("who", ["delivery_user", "manager_user", "other_rep"])
def test_only_the_rep_answers(needs_info, who, request):
    with pytest.raises(PermissionDenied):
        services.handoff_answer(handoff=needs_info, user=request.getfixturevalue(who), answer="x")


def test_answering_without_a_question_is_refused(claimed, rep_user):
    with pytest.raises(services.HandoffTransitionError, match="it is claimed"):
        services.handoff_answer(handoff=claimed, user=rep_user, answer="x")


def test_an_empty_answer_is_a_field_error(needs_info, rep_user):
    with pytest.raises(ValidationError) as exc:
        services.handoff_answer(handoff=needs_info, user=rep_user, answer="")
    assert "answer" in exc.value.message_dict


# --- accept ------------------------------------------------------------------------------


def test_accepting_hands_over_open_commitments_and_schedules_check_ins(
    claimed, delivery_user, rep_user, won_deal
):
    handoff = services.handoff_accept(handoff=claimed, user=delivery_user)

    assert handoff.status == Status.ACCEPTED and handoff.accepted_at is not None
    open_commitment = won_deal.commitments.get(status="open")
    done_commitment = won_deal.commitments.get(status="done")
    assert open_commitment.owner == delivery_user
    assert done_commitment.owner is None
    today = timezone.localdate(handoff.accepted_at)
    assert [(c.day_offset, c.due_date) for c in CheckIn.objects.filter(handoff=handoff)] == [
        (30, today + dt.timedelta(days=30)),
        (90, today + dt.timedelta(days=90)),
        (180, today + dt.timedelta(days=180)),
    ]


def test_accepting_with_an_unanswered_question_is_refused(needs_info, delivery_user):
    with pytest.raises(services.HandoffTransitionError, match="needs info"):
        services.handoff_accept(handoff=needs_info, user=delivery_user)


@pytest.mark.parametrize("who", ["rep_user", "teammate", "outsider_delivery", "manager_user"])
def test_only_the_assignee_accepts(claimed, who, request):
    with pytest.raises(PermissionDenied):
        services.handoff_accept(handoff=claimed, user=request.getfixturevalue(who))


def test_accepting_twice_is_refused_and_schedules_nothing_more(accepted, delivery_user):
    with pytest.raises(services.HandoffTransitionError, match="it is accepted"):
        services.handoff_accept(handoff=accepted, user=delivery_user)
    assert CheckIn.objects.filter(handoff=accepted).count() == 3


def test_a_submitted_handoff_cannot_be_accepted_before_it_is_claimed(submitted, delivery_user):
    with pytest.raises(PermissionDenied):  # nobody is its assignee yet
        services.handoff_accept(handoff=submitted, user=delivery_user)


def test_the_whole_flow_is_recorded_with_who_and_when(needs_info, rep_user, delivery_user):
    handoff = services.handoff_answer(handoff=needs_info, user=rep_user, answer="Jo.")
    handoff = services.handoff_accept(handoff=handoff, user=delivery_user)

    assert [(e.from_status, e.to_status, e.actor) for e in handoff.events.all()] == [
        ("", "draft", rep_user),
        ("draft", "submitted", rep_user),
        ("submitted", "claimed", delivery_user),
        ("claimed", "needs_info", delivery_user),
        ("needs_info", "claimed", rep_user),
        ("claimed", "accepted", delivery_user),
    ]
    assert all(e.at is not None for e in handoff.events.all())


def test_every_transition_queues_a_health_recompute_of_the_deal(won_deal, delivery_user, rep_user):
    with mock.patch("handoff.services.common.health_recompute_on_commit") as queued:
        handoff = make_submitted(won_deal)
        handoff = services.handoff_claim(handoff=handoff, user=delivery_user)
        handoff = services.handoff_ask(handoff=handoff, user=delivery_user, question="?")
        handoff = services.handoff_answer(handoff=handoff, user=rep_user, answer="!")
        services.handoff_accept(handoff=handoff, user=delivery_user)
    # create, submit, claim, ask, answer, accept
    assert queued.call_args_list == [mock.call(deal_id=won_deal.pk)] * 6


# --- check-ins ---------------------------------------------------------------------------


def test_delivery_records_a_check_in(accepted, teammate):
    check_in = accepted.check_ins.get(day_offset=30)
    recorded = services.check_in_record(
        check_in=check_in,
        user=teammate,
        customer_value=4,
        account_health="profitable",
        referrals=2,
        notes="Using it daily.",
    )
    recorded.refresh_from_db()
    assert (recorded.customer_value, recorded.account_health, recorded.referrals) == (
        4,
        "profitable",
        2,
    )
    assert recorded.notes == "Using it daily."
    assert recorded.recorded_by == teammate and recorded.completed_at is not None


@pytest.mark.parametrize(
    ("value", "health", "field"),
    [
        (0, "profitable", "customer_value"),
        (6, "profitable", "customer_value"),
        (None, "profitable", "customer_value"),
        (3, "great", "account_health"),
    ],
)
def test_a_check_in_needs_a_value_from_1_to_5_and_a_known_account_health(
    accepted, delivery_user, value, health, field
):
    check_in = accepted.check_ins.get(day_offset=30)
    with pytest.raises(ValidationError) as exc:
        services.check_in_record(
            check_in=check_in, user=delivery_user, customer_value=value, account_health=health
        )
    assert field in exc.value.message_dict
    check_in.refresh_from_db()
    assert check_in.completed_at is None


@pytest.mark.parametrize("who", ["rep_user", "manager_user", "outsider_delivery"])
def test_only_delivery_records_check_ins(accepted, who, request):
    with pytest.raises(PermissionDenied):
        services.check_in_record(
            check_in=accepted.check_ins.first(),
            user=request.getfixturevalue(who),
            customer_value=3,
            account_health="at_risk",
        )


# --- commitments travel ------------------------------------------------------------------


def test_delivery_marks_a_commitment_done_after_acceptance(accepted, delivery_user, won_deal):
    commitment = won_deal.commitments.get(status="open")
    done = services.handoff_commitment_set_status(
        commitment=commitment, user=delivery_user, status="done"
    )
    commitment.refresh_from_db()
    assert done.status == commitment.status == Commitment.Status.DONE
    assert commitment.completed_at is not None


def test_delivery_cannot_change_commitments_before_acceptance(claimed, delivery_user, won_deal):
    commitment = won_deal.commitments.get(status="open")
    with pytest.raises(services.HandoffTransitionError):
        services.handoff_commitment_set_status(
            commitment=commitment, user=delivery_user, status="done"
        )


def test_another_delivery_team_cannot_change_the_commitments(accepted, outsider_delivery, won_deal):
    with pytest.raises(PermissionDenied):
        services.handoff_commitment_set_status(
            commitment=won_deal.commitments.get(status="open"),
            user=outsider_delivery,
            status="done",
        )


# --- admin reassignment ------------------------------------------------------------------


def test_an_admin_reassigning_the_team_puts_a_claimed_handoff_back_in_the_new_queue(
    claimed, admin_user, outsider_delivery
):
    new_team = outsider_delivery.teams.get()
    handoff = services.handoff_reassign_delivery_team(
        handoff=claimed, user=admin_user, delivery_team=new_team
    )
    assert handoff.delivery_team == new_team
    assert handoff.status == Status.SUBMITTED and handoff.assignee is None
    assert "Gamma delivery" in handoff.events.last().note
    claimed_again = services.handoff_claim(handoff=handoff, user=outsider_delivery)
    assert claimed_again.assignee == outsider_delivery


def test_only_an_admin_reassigns_the_delivery_team(claimed, manager_user, outsider_delivery):
    with pytest.raises(PermissionDenied):
        services.handoff_reassign_delivery_team(
            handoff=claimed, user=manager_user, delivery_team=outsider_delivery.teams.get()
        )


def test_a_handoff_cannot_be_reassigned_to_a_sales_team(submitted, admin_user, team):
    with pytest.raises(ValidationError):
        services.handoff_reassign_delivery_team(
            handoff=submitted, user=admin_user, delivery_team=team
        )
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
