"""Every health rule firing and not firing at the edges of its threshold."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from deals.health import rules
from deals.health.facts import load_deal_rows, load_facts, load_facts_for_deal
from deals.health.policy import policies_by_team, policy_for_team
from deals.models import Deal, Severity
from handoff.models import Handoff
from tests import factories as f

pytestmark = pytest.mark.django_db


DAY = dt.timedelta(days=1)


@pytest.fixture
def now():
    return timezone.now()


def run(rule, deal, now, **policy_fields):
    facts = load_facts_for_deal(deal.id)
    policy = policy_for_team(deal.team)
    for name, value in policy_fields.items():
        setattr(policy, name, value)
    return rule(facts, policy, now)


def priced(deal, *, list_total, net_total, cost_total="0"):
    Deal.objects.filter(pk=deal.pk).update(
        list_total=Decimal(list_total), net_total=Decimal(net_total), cost_total=Decimal(cost_total)
    )
    return deal


# --- PRESSURE_PREMATURE_CLOSE ------------------------------------------------------------


def test_close_attempt_with_open_security_review_raises_premature_close(now):
    deal = f.DealFactory(stage="negotiation")
    review = f.BuyerMilestoneFactory(deal=deal, title="Security review", required_for_decision=True)
    attempt = f.ActivityFactory(deal=deal, close_attempt=True, occurred_at=now - DAY)

    flag = run(rules.pressure_premature_close, deal, now)

    assert flag.code == "PRESSURE_PREMATURE_CLOSE"
    assert flag.side == "relationship"
    assert flag.severity == Severity.CRITICAL
    assert "'Security review' is still open" in flag.message
    assert flag.evidence["close_attempt_activity_ids"] == [attempt.id]
    assert flag.evidence["open_milestones"] == [{"id": review.id, "title": "Security review"}]


def test_close_attempt_after_the_buyer_finished_their_milestones_is_fine(now):
    deal = f.DealFactory(stage="negotiation")
    f.BuyerMilestoneFactory(deal=deal, required_for_decision=True, completed_at=now - 2 * DAY)
    f.BuyerMilestoneFactory(deal=deal, title="Nice to have", required_for_decision=False)
    f.ActivityFactory(deal=deal, close_attempt=True, occurred_at=now - DAY)

    assert run(rules.pressure_premature_close, deal, now) is None


def test_open_required_milestone_without_a_close_attempt_is_no_pressure(now):
    deal = f.DealFactory(stage="negotiation")
    f.BuyerMilestoneFactory(deal=deal, required_for_decision=True)
    f.ActivityFactory(deal=deal, close_attempt=False)

    assert run(rules.pressure_premature_close, deal, now) is None


# --- PRESSURE_CHASING --------------------------------------------------------------------


def _rep_touches(deal, now, count, *, start_days_ago=6):
    return [
        f.ActivityFactory(
            deal=deal,
            kind="email",
            initiated_by="rep",
            occurred_at=now - (start_days_ago - i) * DAY,
        )
        for i in range(count)
    ]


def test_four_unanswered_follow_ups_in_a_week_is_chasing(now):
    deal = f.DealFactory()
    touches = _rep_touches(deal, now, 4)

    flag = run(rules.pressure_chasing, deal, now)

    assert flag.code == "PRESSURE_CHASING"
    assert flag.evidence["count"] == 4
    assert sorted(flag.evidence["activity_ids"]) == sorted(a.id for a in touches)
    assert "4 follow-ups in 7 days" in flag.message


def test_three_follow_ups_in_a_week_is_not_chasing(now):
    deal = f.DealFactory()
    _rep_touches(deal, now, 3)

    assert run(rules.pressure_chasing, deal, now) is None


def test_a_buyer_reply_in_the_window_means_no_chasing(now):
    deal = f.DealFactory()
    _rep_touches(deal, now, 5)
    f.ActivityFactory(deal=deal, kind="email", initiated_by="buyer", occurred_at=now - 3 * DAY)

    assert run(rules.pressure_chasing, deal, now) is None


def test_follow_ups_older_than_the_window_do_not_count(now):
    deal = f.DealFactory()
    _rep_touches(deal, now, 3)
    f.ActivityFactory(
        deal=deal, initiated_by="rep", occurred_at=now - 7 * DAY - dt.timedelta(minutes=1)
    )

    assert run(rules.pressure_chasing, deal, now) is None
    assert run(rules.pressure_chasing, deal, now, chasing_window_days=8) is not None


# --- PRESSURE_ESCALATION -----------------------------------------------------------------


def test_vp_on_two_of_the_last_three_calls_is_escalation(now):
    deal = f.DealFactory()
    calls = [
        f.ActivityFactory(deal=deal, kind=kind, occurred_at=now - days * DAY, senior_present=senior)
        for kind, days, senior in [("call", 3, True), ("meeting", 2, False), ("call", 1, True)]
    ]

    flag = run(rules.pressure_escalation, deal, now)

    assert flag.code == "PRESSURE_ESCALATION"
    assert flag.evidence["senior_activity_ids"] == [calls[2].id, calls[0].id]
    assert "2 of the last 3" in flag.message


def test_vp_on_one_of_the_last_three_calls_is_not_escalation(now):
    deal = f.DealFactory()
    # An old call with a VP falls outside the last three.
    f.ActivityFactory(deal=deal, kind="call", occurred_at=now - 9 * DAY, senior_present=True)
    f.ActivityFactory(deal=deal, kind="call", occurred_at=now - 3 * DAY, senior_present=True)
    f.ActivityFactory(deal=deal, kind="call", occurred_at=now - 2 * DAY)
    f.ActivityFactory(deal=deal, kind="meeting", occurred_at=now - 1 * DAY)
    # Emails are not calls or meetings, whoever was copied.
    f.ActivityFactory(deal=deal, kind="email", occurred_at=now - DAY / 2, senior_present=True)

    assert run(rules.pressure_escalation, deal, now) is None


# --- PRESSURE_LANGUAGE -------------------------------------------------------------------


def test_rep_note_with_sign_today_raises_pressure_language_naming_the_phrase(now):
    deal = f.DealFactory()
    note = f.ActivityFactory(deal=deal, initiated_by="rep", notes="Told them: SIGN  today, please!")

    flag = run(rules.pressure_language, deal, now)

    assert flag.code == "PRESSURE_LANGUAGE"
    assert flag.evidence["matches"] == [
        {
            "activity_id": note.id,
            "phrase": "sign today",
            "occurred_at": note.occurred_at.isoformat(),
        }
    ]
    assert "'sign today'" in flag.message


def test_buyer_writing_end_of_quarter_is_not_pressure(now):
    deal = f.DealFactory()
    f.ActivityFactory(deal=deal, initiated_by="buyer", notes="We decide at the end of quarter.")

    assert run(rules.pressure_language, deal, now) is None


@pytest.mark.parametrize(
    "notes",
    ["The design today went well", "Final offers are due from all vendors", "lastchance", ""],
)
def test_pressure_phrases_match_whole_words_only(now, notes):
    deal = f.DealFactory()
    f.ActivityFactory(deal=deal, initiated_by="rep", notes=notes)

    assert run(rules.pressure_language, deal, now) is None


def test_a_phrase_the_manager_added_to_the_policy_is_matched(now):
    deal = f.DealFactory()
    f.ActivityFactory(deal=deal, initiated_by="rep", notes="Reminded them the board meets Friday.")

    assert run(rules.pressure_language, deal, now) is None
    flag = run(rules.pressure_language, deal, now, pressure_phrases=["Board meets Friday"])
    assert flag.evidence["phrases"] == ["board meets friday"]


# --- PRESSURE_CLOSE_DATE_PULLED ----------------------------------------------------------


def test_pulling_the_close_date_earlier_without_buyer_progress_raises_a_flag():
    deal = f.DealFactory(expected_close_date=dt.date(2030, 6, 30))
    deal.expected_close_date = dt.date(2030, 5, 31)
    deal.save()

    flag = run(rules.pressure_close_date_pulled, deal, timezone.now())

    assert flag.code == "PRESSURE_CLOSE_DATE_PULLED"
    assert flag.evidence["from_date"] == "2030-06-30"
    assert flag.evidence["to_date"] == "2030-05-31"
    assert "from 30 Jun 2030 to 31 May 2030" in flag.message


def test_pulling_the_close_date_after_the_buyer_completed_a_milestone_is_fine():
    deal = f.DealFactory(expected_close_date=dt.date(2030, 6, 30))
    deal.expected_close_date = dt.date(2030, 5, 31)
    deal.save()
    f.BuyerMilestoneFactory(deal=deal, completed_at=timezone.now())

    assert run(rules.pressure_close_date_pulled, deal, timezone.now()) is None


def test_moving_the_close_date_later_is_not_pressure():
    deal = f.DealFactory(expected_close_date=dt.date(2030, 6, 30))
    deal.expected_close_date = dt.date(2030, 5, 31)
    deal.save()
    deal.expected_close_date = dt.date(2030, 7, 31)
    deal.save()

    assert run(rules.pressure_close_date_pulled, deal, timezone.now()) is None


# --- BUYER_OVERSELL, BUYER_UNMET_NEED ----------------------------------------------------


def test_line_item_serving_no_need_is_an_oversell(now):
    deal = f.DealFactory(stage="proposal")
    need = f.NeedFactory(deal=deal)
    f.LineItemFactory(deal=deal, name="Platform licence", needs=[need])
    extra = f.LineItemFactory(deal=deal, name="Premium analytics")

    flag = run(rules.buyer_oversell, deal, now)

    assert flag.side == "buyer"
    assert flag.evidence["line_items"] == [{"id": extra.id, "name": "Premium analytics"}]
    assert "'Premium analytics' serves no need" in flag.message


def test_every_item_serving_a_need_is_no_oversell(now):
    deal = f.DealFactory(stage="proposal")
    f.LineItemFactory(deal=deal, needs=[f.NeedFactory(deal=deal)])

    assert run(rules.buyer_oversell, deal, now) is None


def test_important_need_nothing_serves_is_unmet_from_proposal_on(now):
    deal = f.DealFactory(stage="proposal")
    need = f.NeedFactory(deal=deal, importance=4, statement="Cut onboarding to a week")
    f.NeedFactory(deal=deal, importance=3, statement="Nicer reports")

    flag = run(rules.buyer_unmet_need, deal, now)

    assert [n["id"] for n in flag.evidence["needs"]] == [need.id]
    assert flag.evidence["needs"][0]["importance"] == 4


def test_need_of_importance_three_or_served_need_is_not_unmet(now):
    deal = f.DealFactory(stage="negotiation")
    served = f.NeedFactory(deal=deal, importance=5)
    f.NeedFactory(deal=deal, importance=3)
    f.LineItemFactory(deal=deal, needs=[served])

    assert run(rules.buyer_unmet_need, deal, now) is None


def test_unmet_need_waits_until_there_is_a_proposal(now):
    deal = f.DealFactory(stage="qualification")
    f.NeedFactory(deal=deal, importance=5)

    assert run(rules.buyer_unmet_need, deal, now) is None


# --- BUYER_NO_DISCOVERY, BUYER_UNDISCLOSED -----------------------------------------------


def test_proposal_without_discovery_call_raises_no_discovery(now):
    deal = f.DealFactory(stage="proposal")
    f.NeedFactory(deal=deal, confirmed_by_buyer=True)

    flag = run(rules.buyer_no_discovery, deal, now)

    assert flag.evidence["discovery_call_count"] == 0
    assert "without a discovery call" in flag.message


def test_proposal_with_call_but_no_confirmed_need_raises_no_discovery(now):
    deal = f.DealFactory(stage="proposal")
    f.DiscoveryCallFactory(deal=deal)
    f.NeedFactory(deal=deal, confirmed_by_buyer=False)

    flag = run(rules.buyer_no_discovery, deal, now)

    assert flag.evidence["confirmed_need_ids"] == []
    assert "without a need the buyer confirmed" in flag.message


def test_discovery_with_a_confirmed_need_or_before_proposal_is_fine(now):
    deal = f.DealFactory(stage="proposal")
    f.DiscoveryCallFactory(deal=deal)
    f.NeedFactory(deal=deal, confirmed_by_buyer=True)
    early = f.DealFactory(stage="qualification")

    assert run(rules.buyer_no_discovery, deal, now) is None
    assert run(rules.buyer_no_discovery, early, now) is None


def test_negotiating_with_only_a_price_sheet_disclosed_is_undisclosed(now):
    deal = f.DealFactory(stage="negotiation")
    pricing = f.DisclosureFactory(deal=deal, kind="pricing")

    flag = run(rules.buyer_undisclosed, deal, now)

    assert flag.evidence == {"stage": "negotiation", "disclosure_ids": [pricing.id]}


def test_a_disclosed_limitation_or_an_earlier_stage_is_fine(now):
    deal = f.DealFactory(stage="negotiation")
    f.DisclosureFactory(deal=deal, kind="limitation")

    assert run(rules.buyer_undisclosed, deal, now) is None
    assert run(rules.buyer_undisclosed, f.DealFactory(stage="proposal"), now) is None


# --- SELLER_DISCOUNT_OVER_POLICY, SELLER_MARGIN_BELOW_FLOOR ------------------------------


def test_discount_of_exactly_fifteen_percent_does_not_fire(now):
    deal = priced(f.DealFactory(), list_total="10000.00", net_total="8500.00")

    assert run(rules.seller_discount_over_policy, deal, now) is None


def test_discount_of_fifteen_point_zero_one_percent_fires(now):
    deal = priced(f.DealFactory(), list_total="10000.00", net_total="8499.00")

    flag = run(rules.seller_discount_over_policy, deal, now)

    assert flag.side == "seller"
    assert flag.severity == Severity.WARNING
    assert flag.evidence["discount_pct"] == "15.01"
    assert flag.evidence["max_pct"] == "15.00"
    assert "15.01 %" in flag.message


def test_discount_over_twice_the_policy_is_critical(now):
    deal = priced(f.DealFactory(), list_total="10000.00", net_total="6000.00")

    assert run(rules.seller_discount_over_policy, deal, now).severity == Severity.CRITICAL


def test_unpriced_deal_has_no_discount_flag(now):
    assert run(rules.seller_discount_over_policy, f.DealFactory(), now) is None


def test_margin_of_exactly_twenty_percent_does_not_fire(now):
    deal = priced(f.DealFactory(), list_total="10000", net_total="10000", cost_total="8000")

    assert run(rules.seller_margin_below_floor, deal, now) is None


def test_margin_of_nineteen_point_nine_nine_percent_fires(now):
    deal = priced(f.DealFactory(), list_total="10000", net_total="10000", cost_total="8001")

    flag = run(rules.seller_margin_below_floor, deal, now)

    assert flag.evidence["margin_pct"] == "19.99"
    assert flag.severity == Severity.WARNING


def test_giving_the_whole_deal_away_is_a_critical_margin_flag(now):
    deal = priced(f.DealFactory(), list_total="10000", net_total="0", cost_total="500")

    flag = run(rules.seller_margin_below_floor, deal, now)

    assert flag.severity == Severity.CRITICAL
    assert flag.evidence["margin_pct"] is None


# --- SELLER_UNTRADED_PRICE_CUT -----------------------------------------------------------


def test_price_cut_with_nothing_in_exchange_is_untraded(now):
    deal = f.DealFactory()
    cut = f.ConcessionFactory(
        deal=deal, kind="price", description="10% off", amount=Decimal("1000"), in_exchange_for=""
    )
    f.ConcessionFactory(deal=deal, kind="value_add")

    flag = run(rules.seller_untraded_price_cut, deal, now)

    assert flag.evidence["untraded"] == [
        {"id": cut.id, "description": "10% off", "amount": "1000.00"}
    ]
    assert "'10% off' was given with nothing in return" in flag.message


def test_traded_price_cut_balanced_by_value_adds_is_fine(now):
    deal = f.DealFactory()
    f.ConcessionFactory(deal=deal, kind="price", in_exchange_for="Three-year term")
    f.ConcessionFactory(deal=deal, kind="value_add")

    assert run(rules.seller_untraded_price_cut, deal, now) is None


def test_price_cuts_outnumbering_value_adds_fire_even_when_traded(now):
    deal = f.DealFactory()
    f.ConcessionFactory(deal=deal, kind="price", in_exchange_for="Case study")
    f.ConcessionFactory(deal=deal, kind="price", in_exchange_for="Upfront payment")
    f.ConcessionFactory(deal=deal, kind="value_add")

    flag = run(rules.seller_untraded_price_cut, deal, now)

    assert flag.evidence["price_cut_count"] == 2
    assert flag.evidence["value_add_count"] == 1


# --- RELATIONSHIP_STALE ------------------------------------------------------------------


def test_no_buyer_contact_for_twenty_one_days_is_stale(now):
    deal = f.DealFactory()
    last = f.ActivityFactory(deal=deal, initiated_by="buyer", occurred_at=now - 21 * DAY)
    f.ActivityFactory(deal=deal, initiated_by="rep", occurred_at=now - DAY)

    flag = run(rules.relationship_stale, deal, now)

    assert flag.evidence["last_buyer_activity_id"] == last.id
    assert "21 days" in flag.message


def test_buyer_contact_twenty_days_and_23_hours_ago_is_not_stale(now):
    deal = f.DealFactory()
    f.ActivityFactory(
        deal=deal, initiated_by="buyer", occurred_at=now - 21 * DAY + dt.timedelta(hours=1)
    )

    assert run(rules.relationship_stale, deal, now) is None


def test_new_deal_without_activity_is_not_stale_and_closed_deals_never_are(now):
    deal = f.DealFactory()
    closed = f.DealFactory(stage="closed_won")
    f.ActivityFactory(deal=closed, initiated_by="buyer", occurred_at=now - 90 * DAY)

    assert run(rules.relationship_stale, deal, now) is None
    assert run(rules.relationship_stale, deal, now + 22 * DAY) is not None
    assert run(rules.relationship_stale, closed, now) is None


# --- HANDOFF_OVERDUE, HANDOFF_LEAK -------------------------------------------------------


def test_handoff_unclaimed_past_48_hours_is_overdue(now):
    handoff = f.HandoffFactory(
        status="submitted", submitted_at=now - dt.timedelta(hours=48, minutes=1)
    )

    flag = run(rules.handoff_overdue, handoff.deal, now)

    assert flag.code == "HANDOFF_OVERDUE"
    assert flag.evidence["handoff_id"] == handoff.id
    assert flag.severity == Severity.WARNING


def test_handoff_submitted_exactly_48_hours_ago_or_claimed_is_not_overdue(now):
    waiting = f.HandoffFactory(status="submitted", submitted_at=now - dt.timedelta(hours=48))
    claimed = f.HandoffFactory(
        status="claimed", submitted_at=now - 5 * DAY, claimed_at=now - 4 * DAY
    )

    assert run(rules.handoff_overdue, waiting.deal, now) is None
    assert run(rules.handoff_overdue, claimed.deal, now) is None


def test_buyer_support_request_to_the_rep_after_acceptance_is_a_leak(now):
    handoff = f.HandoffFactory(status=Handoff.Status.ACCEPTED, accepted_at=now - 10 * DAY)
    deal = handoff.deal
    f.ActivityFactory(deal=deal, kind="support", initiated_by="buyer", occurred_at=now - 11 * DAY)
    f.ActivityFactory(deal=deal, kind="support", initiated_by="rep", occurred_at=now - 2 * DAY)
    assert run(rules.handoff_leak, deal, now) is None

    leak = f.ActivityFactory(deal=deal, kind="support", initiated_by="buyer", occurred_at=now - DAY)
    flag = run(rules.handoff_leak, deal, now)

    assert flag.evidence["activity_ids"] == [leak.id]


# --- COMMITMENT_OVERDUE ------------------------------------------------------------------


def test_open_commitment_past_its_due_date_is_overdue(now):
    deal = f.DealFactory()
    today = timezone.localdate(now)
    late = f.CommitmentFactory(deal=deal, description="Data migration", due_date=today - DAY)
    f.CommitmentFactory(deal=deal, due_date=today)
    f.CommitmentFactory(deal=deal, due_date=today - 5 * DAY, status="done")

    flag = run(rules.commitment_overdue, deal, now)

    assert flag.side == "buyer"
    assert flag.evidence["commitments"] == [
        {"id": late.id, "description": "Data migration", "due_date": (today - DAY).isoformat()}
    ]


def test_commitment_due_today_is_not_overdue(now):
    deal = f.DealFactory()
    f.CommitmentFactory(deal=deal, due_date=timezone.localdate(now))

    assert run(rules.commitment_overdue, deal, now) is None


# --- Engine properties -------------------------------------------------------------------


def test_rules_run_without_touching_the_database(now, django_assert_num_queries):
    deal = priced(f.DealFactory(stage="negotiation"), list_total="100", net_total="50")
    f.ActivityFactory(deal=deal, close_attempt=True, notes="final offer")
    f.BuyerMilestoneFactory(deal=deal)
    facts = load_facts_for_deal(deal.id)

    with django_assert_num_queries(0):
        flags = rules.evaluate(facts, now)

    assert {fl.code for fl in flags} >= {
        "PRESSURE_PREMATURE_CLOSE",
        "PRESSURE_LANGUAGE",
        "SELLER_DISCOUNT_OVER_POLICY",
        "BUYER_NO_DISCOVERY",
        "BUYER_UNDISCLOSED",
    }


def test_facts_for_many_deals_load_in_the_same_number_of_queries_as_for_one(
    django_assert_num_queries,
):
    def make_deal():
        deal = f.DealFactory()
        need = f.NeedFactory(deal=deal)
        f.LineItemFactory(deal=deal, needs=[need])
        f.ActivityFactory(deal=deal)
        f.BuyerMilestoneFactory(deal=deal)
        f.ConcessionFactory(deal=deal)
        f.CommitmentFactory(deal=deal)
        f.DisclosureFactory(deal=deal)
        f.DiscoveryCallFactory(deal=deal)
        return deal

    one = [make_deal()]
    many = one + [make_deal() for _ in range(5)]
    policies = policies_by_team()

    def count(deals):
        rows = load_deal_rows(Deal.objects.filter(id__in=[d.id for d in deals]))
        with django_assert_num_queries(12) as captured:
            facts = load_facts(rows, policies)
        return facts, len(captured)

    facts_one, n_one = count(one)
    facts_many, n_many = count(many)
    assert n_one == n_many == 12  # eleven kinds of child + buyer pulses
    assert len(facts_many) == 6
    assert all(len(fa.line_items) == 1 and fa.line_items[0].need_ids for fa in facts_many.values())


def test_every_code_in_the_design_has_a_rule():
    assert tuple(rules.RULES) == rules.ALL_CODES
    assert len(rules.ALL_CODES) == 17
    assert tuple(c for c in rules.ALL_CODES if c.startswith("PRESSURE_")) == rules.PRESSURE_CODES
