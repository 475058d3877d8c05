"""The buyer's own check-in answers (buyer room) feed the outcome: their value per need
sold and kept / not kept per promise win over delivery's, the check-in's stored value
follows (so the dashboard reads the same number), and a promise the buyer says was not
kept reopens as COMMITMENT_OVERDUE until delivery handles it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from deals.buyer_room import services as room
from deals.health import health_recompute
from deals.models import Commitment, Flag
from handoff import services
from handoff.outcomes import deal_outcome
from tests import factories as f

from .test_outcomes import _record
from .test_outcomes import sold as _sold

sold = pytest.fixture(_sold._get_wrapped_function(), name="sold")

pytestmark = pytest.mark.django_db


def _buyer_answers(check_in, contact, user, *, values, kept):
    share, _token = room.buyer_share_create(
        deal=check_in.handoff.deal, contact=contact, user=user, check_in=check_in, send_email=False
    )
    return room.buyer_check_in_answer(
        visit=room.BuyerVisit(share=share), need_values=values, promises_kept=kept
    )


@pytest.fixture
def contacts(won_deal):
    return [
        f.ContactFactory(prospect=won_deal.prospect, name=name, email=f"{name.lower()}@acme.test")
        for name in ("Ann", "Bob")
    ]


def test_the_buyers_answers_win_over_deliverys_value_and_promises(
    accepted,
    delivery_user,
    won_deal,
    sold,
    contacts,
):
    open_one = won_deal.commitments.get(status="open")
    done_one = won_deal.commitments.get(status="done")
    day_90 = accepted.check_ins.get(day_offset=90)
    _record(
        day_90,
        delivery_user,
        need_values={sold[0].pk: 5, sold[1].pk: 4},
        promises={open_one.pk: "kept", done_one.pk: "kept"},
    )
    assert deal_outcome(deal=won_deal).summary == (
        "Closed win-win, 90 days later: value 4.5/5, 2 of 2 promises kept — a win-win outcome"
    )
    # Ann rates the first need 3 and says the open promise was not kept; Bob rates it 4
    # and says it was kept. Neither rates the second need: delivery's 4 stands.
    _buyer_answers(
        day_90, contacts[0], delivery_user, values={sold[0].pk: 3}, kept={open_one.pk: False}
    )
    _buyer_answers(
        day_90, contacts[1], delivery_user, values={sold[0].pk: 4}, kept={open_one.pk: True}
    )

    outcome = deal_outcome(deal=won_deal)
    assert outcome.need_values == {sold[0].pk: Decimal("3.50"), sold[1].pk: Decimal("4")}
    assert outcome.value == Decimal("3.75")  # (3.5 + 4) / 2
    assert (outcome.kept, outcome.missed) == (1, 1)  # one buyer's "not kept" is a miss
    assert outcome.win_win is False
    assert outcome.summary == (
        "Closed win-win, 90 days later: value 3.75/5, 1 of 2 promises kept (the buyer's "
        "answers) — not a win-win outcome (value below 4)"
    )
    day_90.refresh_from_db()
    assert day_90.outcome_value == Decimal("3.75")  # what the dashboard's SQL reads

    # Delivery recording the check-in again does not overrule the buyer.
    _record(
        day_90,
        delivery_user,
        need_values={sold[0].pk: 5, sold[1].pk: 4},
        promises={open_one.pk: "kept"},
    )
    day_90.refresh_from_db()
    assert day_90.outcome_value == Decimal("3.75")
    open_one.refresh_from_db()
    assert open_one.status == Commitment.Status.OPEN


def test_a_promise_the_buyer_says_was_not_kept_reopens_as_commitment_overdue(
    accepted, delivery_user, won_deal, contacts
):
    promise = won_deal.commitments.get(status="done")
    health_recompute(deal_id=won_deal.pk)
    assert not Flag.objects.filter(deal=won_deal, code="COMMITMENT_OVERDUE").exists()

    _buyer_answers(
        accepted.check_ins.get(day_offset=30),
        contacts[0],
        delivery_user,
        values={},
        kept={promise.pk: False},
    )
    promise.refresh_from_db()
    assert promise.status == Commitment.Status.OPEN and promise.completed_at is None
    health_recompute(deal_id=won_deal.pk)
    flag = Flag.objects.get(deal=won_deal, code="COMMITMENT_OVERDUE", status="open")
    assert "missed at a check-in" in flag.message
    assert flag.evidence["commitments"][0] == {
        "id": promise.pk,
        "description": promise.description,
        "due_date": promise.due_date.isoformat() if promise.due_date else None,
        "missed_at_check_in": True,
    }
    # Until delivery handles it.
    services.handoff_commitment_set_status(commitment=promise, user=delivery_user, status="done")
    health_recompute(deal_id=won_deal.pk)
    flag.refresh_from_db()
    assert flag.status == Flag.Status.RESOLVED


def test_a_check_in_only_the_buyer_answered_waits_for_deliverys_account_health(
    accepted,
    delivery_user,
    won_deal,
    sold,
    contacts,
):
    day_90 = accepted.check_ins.get(day_offset=90)
    kept = {c.pk: True for c in won_deal.commitments.all()}
    _buyer_answers(
        day_90, contacts[0], delivery_user, values={sold[0].pk: 5, sold[1].pk: 4}, kept=kept
    )
    outcome = deal_outcome(deal=won_deal)
    assert outcome.win_win is None
    assert outcome.summary == (
        "Closed win-win, 90 days later: value 4.5/5, 2 of 2 promises kept (the buyer's "
        "answers) — the outcome waits for delivery to record the account health"
    )
    day_90.refresh_from_db()
    assert day_90.outcome_value is None  # not an outcome the dashboard counts yet

    # Delivery rates the needs 2 and 2; the buyer's 5 and 4 stand, the account is delivery's.
    _record(day_90, delivery_user, need_values={sold[0].pk: 2, sold[1].pk: 2})
    day_90.refresh_from_db()
    assert day_90.outcome_value == Decimal("4.50")
    assert deal_outcome(deal=won_deal).win_win is True


def test_the_deal_and_handoff_pages_show_the_buyers_answers(
    accepted,
    delivery_user,
    won_deal,
    sold,
    contacts,
    rep_user,
    client,
    django_assert_num_queries,
):
    day_90 = accepted.check_ins.get(day_offset=90)
    _record(day_90, delivery_user, need_values={sold[0].pk: 5, sold[1].pk: 5})
    _buyer_answers(day_90, contacts[0], delivery_user, values={sold[0].pk: 2}, kept={})
    sentence = (
        "Closed win-win, 90 days later: value 3.5/5 (the buyer&#x27;s answers) — not a "
        "win-win outcome (value below 4)"
    )
    # The check-ins, their values and promises, the buyer's values and promise answers,
    # and the snapshot at the close: six, however many check-ins and answers.
    with django_assert_num_queries(6):
        deal_outcome(deal=won_deal, handoff=accepted)
    client.force_login(delivery_user)
    assert sentence in client.get(reverse("handoff:detail", args=[accepted.pk])).content.decode()
    client.force_login(rep_user)
    page = client.get(reverse("deals:deal_detail", args=[won_deal.pk])).content.decode()
    assert sentence in page


def test_both_fact_loaders_see_a_promise_the_buyer_says_was_not_kept(
    accepted, delivery_user, won_deal, contacts
):
    from django.db import connection, transaction

    from deals.health.facts import load_deal_rows, load_facts
    from deals.health.policy import policies_by_team
    from deals.models import Deal

    promise = won_deal.commitments.get(status="open")
    kept_one = won_deal.commitments.get(status="done")
    _buyer_answers(
        accepted.check_ins.get(day_offset=30),
        contacts[0],
        delivery_user,
        values={},
        kept={promise.pk: False, kept_one.pk: True},
    )
    policies = policies_by_team()
    facts = load_facts(load_deal_rows(Deal.objects.filter(id=won_deal.id)), policies)[won_deal.id]
    assert {c.id: c.missed for c in facts.commitments} == {promise.pk: True, kept_one.pk: False}
    if connection.vendor == "postgresql":
        from deals.health.facts_sql import load_batch_sql

        with transaction.atomic():
            batch = load_batch_sql([won_deal.id], policies, skip_locked=False)
        assert batch.facts[won_deal.id] == facts
