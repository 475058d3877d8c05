"""Check-in outcomes: value per need sold, promises kept / missed / not yet due, the deal's
outcome beside its verdict at the close, and missed promises reopening as
COMMITMENT_OVERDUE."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from deals.health import health_recompute
from deals.health.facts import load_deal_rows, load_facts
from deals.health.policy import policies_by_team
from deals.models import Commitment, Deal, Flag, HealthSnapshot
from handoff import services
from handoff.models import CheckInNeedValue, CheckInPromise
from handoff.outcomes import deal_outcome
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def sold(won_deal):
    """The won deal's needs sold and three promises, closed win-win."""
    needs = list(won_deal.needs.order_by("-importance"))
    f.LineItemFactory(deal=won_deal, name="Training", needs=[needs[1]])
    HealthSnapshot.objects.create(
        deal=won_deal,
        day=timezone.localdate(won_deal.closed_at),
        buyer_score=90,
        seller_score=85,
        balance="win_win",
        team_id=won_deal.team_id,
        owner_id=won_deal.owner_id,
    )
    return needs


def _record(check_in, user, **kw):
    kw.setdefault("account_health", "profitable")
    kw.setdefault("customer_value", None)
    return services.check_in_record(check_in=check_in, user=user, **kw)


def test_value_per_need_sets_the_outcome_value_and_the_overall_value(accepted, delivery_user, sold):
    check_in = accepted.check_ins.get(day_offset=90)
    recorded = _record(check_in, delivery_user, need_values={sold[0].pk: 5, sold[1].pk: 4})
    recorded.refresh_from_db()
    assert recorded.outcome_value == Decimal("4.50")
    assert recorded.customer_value == 5  # 4.5 rounded half up when no overall value given
    assert sorted(CheckInNeedValue.objects.values_list("value", flat=True)) == [4, 5]
    # Recording again corrects it: one row per need.
    _record(check_in, delivery_user, need_values={sold[0].pk: 3}, customer_value=4)
    recorded.refresh_from_db()
    assert (recorded.outcome_value, recorded.customer_value) == (Decimal("3.00"), 4)
    assert list(CheckInNeedValue.objects.values_list("need_id", "value")) == [(sold[0].pk, 3)]


def test_promises_kept_close_their_commitment_and_missed_ones_reopen_it(
    accepted, delivery_user, won_deal
):
    open_one = won_deal.commitments.get(status="open")
    done_one = won_deal.commitments.get(status="done")
    _record(
        accepted.check_ins.get(day_offset=30),
        delivery_user,
        customer_value=4,
        promises={open_one.pk: "kept", done_one.pk: "missed"},
    )
    open_one.refresh_from_db()
    done_one.refresh_from_db()
    assert open_one.status == Commitment.Status.DONE and open_one.completed_at is not None
    assert done_one.status == Commitment.Status.OPEN and done_one.completed_at is None
    assert set(CheckInPromise.objects.values_list("status", flat=True)) == {"kept", "missed"}


def test_a_missed_promise_raises_commitment_overdue_until_it_is_done(
    accepted, delivery_user, won_deal
):
    promise = won_deal.commitments.get(status="open")  # due in 20 days: not overdue by date
    health_recompute(deal_id=won_deal.pk)
    assert not Flag.objects.filter(deal=won_deal, code="COMMITMENT_OVERDUE").exists()
    _record(
        accepted.check_ins.get(day_offset=30),
        delivery_user,
        customer_value=3,
        promises={promise.pk: "missed"},
    )
    health_recompute(deal_id=won_deal.pk)
    flag = Flag.objects.get(deal=won_deal, code="COMMITMENT_OVERDUE", status="open")
    assert "missed at a check-in" in flag.message
    assert flag.evidence["commitments"][0]["missed_at_check_in"] is True
    services.handoff_commitment_set_status(commitment=promise, user=delivery_user, status="done")
    health_recompute(deal_id=won_deal.pk)
    flag.refresh_from_db()
    assert flag.status == Flag.Status.RESOLVED


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"need_values": {0: 4}}, "need_values"),  # not a need of this deal
        ({"need_values": {"own": 9}}, "need_values"),  # out of range
        ({"promises": {0: "kept"}}, "promises"),
        ({"promises": {"own": "forgotten"}}, "promises"),
    ],
)
def test_check_in_answers_must_belong_to_the_deal_and_be_in_range(
    accepted, delivery_user, sold, won_deal, kwargs, field
):
    own_need, own_promise = sold[0].pk, won_deal.commitments.first().pk
    for key in ("need_values", "promises"):
        if key in kwargs:
            kwargs[key] = {
                (own_need if key == "need_values" else own_promise) if k == "own" else k: v
                for k, v in kwargs[key].items()
            }
    with pytest.raises(ValidationError) as exc:
        _record(accepted.check_ins.get(day_offset=30), delivery_user, customer_value=4, **kwargs)
    assert field in exc.value.message_dict
    assert not CheckInPromise.objects.exists() and not CheckInNeedValue.objects.exists()


def test_outcome_reads_the_90_day_check_in_beside_the_verdict_at_close(
    accepted, delivery_user, won_deal, sold
):
    f.CommitmentFactory(deal=won_deal, description="Train their admins", status="open")
    promises = {c.pk: "kept" for c in won_deal.commitments.all()}
    assert deal_outcome(deal=won_deal).summary.startswith(
        "Closed win-win; no check-in recorded yet (the 90-day check-in is due"
    )
    _record(accepted.check_ins.get(day_offset=30), delivery_user, customer_value=5)
    early = deal_outcome(deal=won_deal)
    assert early.win_win is None
    assert "30 days later: value 5/5" in early.summary
    assert "the 90-day check-in decides the outcome" in early.summary
    _record(
        accepted.check_ins.get(day_offset=90),
        delivery_user,
        need_values={sold[0].pk: 5, sold[1].pk: 4},
        promises=promises,
        referrals=1,
    )
    outcome = deal_outcome(deal=won_deal)
    assert outcome.summary == (
        "Closed win-win, 90 days later: value 4.5/5, 3 of 3 promises kept — a win-win outcome"
    )
    assert outcome.win_win is True and outcome.referrals == 1


def test_an_unprofitable_account_is_not_a_win_win_outcome(accepted, delivery_user, won_deal):
    _record(
        accepted.check_ins.get(day_offset=90),
        delivery_user,
        customer_value=5,
        account_health="at_risk",
    )
    outcome = deal_outcome(deal=won_deal)
    assert outcome.win_win is False
    assert outcome.summary.endswith("— not a win-win outcome (account at risk)")


def test_an_open_or_lost_deal_has_no_outcome(db):
    assert deal_outcome(deal=f.DealFactory()) is None
    assert deal_outcome(deal=f.DealFactory(stage=Deal.Stage.CLOSED_LOST)) is None


def test_handoff_and_deal_pages_show_the_outcome(
    accepted, delivery_user, won_deal, sold, rep_user, client, django_assert_max_num_queries
):
    promises = {c.pk: "kept" for c in won_deal.commitments.all()}
    _record(
        accepted.check_ins.get(day_offset=90),
        delivery_user,
        need_values={sold[0].pk: 5, sold[1].pk: 4},
        promises=promises,
    )
    sentence = (
        "Closed win-win, 90 days later: value 4.5/5, 2 of 2 promises kept — a win-win outcome"
    )
    client.force_login(delivery_user)
    page = client.get(reverse("handoff:detail", args=[accepted.pk])).content.decode()
    assert sentence in page
    client.force_login(rep_user)
    page = client.get(reverse("deals:deal_detail", args=[won_deal.pk])).content.decode()
    assert sentence in page


def test_delivery_records_values_and_promises_from_the_handoff_page(
    accepted, delivery_user, won_deal, sold, client
):
    check_in = accepted.check_ins.get(day_offset=30)
    promise = won_deal.commitments.get(status="open")
    prefix = f"checkin-{check_in.pk}"
    client.force_login(delivery_user)
    response = client.post(
        reverse("handoff:check_in_record", args=[accepted.pk, check_in.pk]),
        {
            f"{prefix}-customer_value": "",
            f"{prefix}-account_health": "profitable",
            f"{prefix}-referrals": "0",
            f"{prefix}-need_{sold[0].pk}": "4",
            f"{prefix}-need_{sold[1].pk}": "3",
            f"{prefix}-promise_{promise.pk}": "missed",
        },
    )
    assert response.status_code == 302
    check_in.refresh_from_db()
    assert check_in.outcome_value == Decimal("3.50")
    promise.refresh_from_db()
    assert promise.status == "open"
    assert CheckInPromise.objects.get().status == "missed"


def test_check_in_api_takes_need_values_and_promises(
    accepted, delivery_user, won_deal, sold, api_as
):
    check_in = accepted.check_ins.get(day_offset=90)
    promise = won_deal.commitments.get(status="open")
    api = api_as(delivery_user)
    url = reverse("check-in-detail", args=[check_in.pk])
    body = api.patch(
        url,
        {
            "account_health": "profitable",
            "need_values": [{"need": sold[0].pk, "value": 5}, {"need": sold[1].pk, "value": 4}],
            "promises": [{"commitment": promise.pk, "status": "not_due"}],
        },
        format="json",
    ).json()
    assert body["outcome_value"] == "4.50"
    assert body["customer_value"] == 5
    assert body["promises"] == [{"commitment": promise.pk, "status": "not_due"}]
    bad = api.patch(url, {"need_values": [{"need": sold[0].pk, "value": 7}]}, format="json")
    assert bad.status_code == 400 and "need_values" in bad.json()


def test_both_fact_loaders_see_a_missed_promise(accepted, delivery_user, won_deal):
    promise = won_deal.commitments.get(status="open")
    _record(
        accepted.check_ins.get(day_offset=30),
        delivery_user,
        customer_value=3,
        promises={promise.pk: "missed"},
    )
    policies = policies_by_team()
    rows = load_deal_rows(Deal.objects.filter(id=won_deal.id))
    facts = load_facts(rows, policies)[won_deal.id]
    assert {c.id: c.missed for c in facts.commitments}[promise.pk] is True
    if connection.vendor == "postgresql":
        from deals.health.facts_sql import load_batch_sql

        with transaction.atomic():
            batch = load_batch_sql([won_deal.id], policies, skip_locked=False)
        assert batch.facts[won_deal.id] == facts
