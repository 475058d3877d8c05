"""BUYER_REPORTED_PRESSURE over loaded facts (a pure rule: no database)."""

import datetime as dt

import pytest
from django.utils import timezone

from deals.health.facts import DealFacts, DealRow, PulseFact
from deals.health.rules import BUYER_REPORTED_PRESSURE, buyer_reported_pressure, evaluate
from deals.models import HealthPolicy

NOW = timezone.now()


def facts(stage="negotiation", pulses=()):
    row = DealRow(1, stage, 1, 1, NOW - dt.timedelta(days=30), None, 0, 0, 0)
    return DealFacts(deal=row, policy=HealthPolicy(), buyer_pulses=list(pulses))


def pulse(pid, contact, pushed, hours_ago):
    return PulseFact(pid, contact, 7, True, pushed, True, NOW - dt.timedelta(hours=hours_ago))


def test_a_pushed_answer_is_critical_relationship_with_the_answer_and_date():
    flag = buyer_reported_pressure(facts(pulses=[pulse(3, 10, True, 1)]), HealthPolicy(), NOW)
    assert (flag.code, flag.severity, flag.side) == (
        BUYER_REPORTED_PRESSURE,
        "critical",
        "relationship",
    )
    (answer,) = flag.evidence["answers"]
    assert answer == {
        "pulse_id": 3,
        "contact_id": 10,
        "meeting_activity_id": 7,
        "answered_at": (NOW - dt.timedelta(hours=1)).isoformat(),
        "felt_pushed": True,
        "got_what_needed": True,
        "next_step_agreed": True,
    }
    assert "felt pushed" in flag.message


def test_each_contacts_latest_answer_stands():
    later_fine = [pulse(4, 10, False, 1), pulse(3, 10, True, 5)]
    assert buyer_reported_pressure(facts(pulses=later_fine), HealthPolicy(), NOW) is None
    other_still_pushed = [pulse(4, 10, False, 1), pulse(3, 11, True, 5)]
    flag = buyer_reported_pressure(facts(pulses=other_still_pushed), HealthPolicy(), NOW)
    assert [a["contact_id"] for a in flag.evidence["answers"]] == [11]


@pytest.mark.parametrize(
    ("stage", "raised"), [("discovery", True), ("closed_won", True), ("closed_lost", False)]
)
def test_it_stands_after_a_won_close_but_not_on_a_lost_deal(stage, raised):
    result = buyer_reported_pressure(facts(stage, [pulse(3, 10, True, 1)]), HealthPolicy(), NOW)
    assert (result is not None) is raised


def test_no_pulse_no_flag_and_the_engine_runs_the_rule():
    assert buyer_reported_pressure(facts(), HealthPolicy(), NOW) is None
    codes = [f.code for f in evaluate(facts(pulses=[pulse(3, 10, True, 1)]), NOW)]
    assert BUYER_REPORTED_PRESSURE in codes
