"""The demo's simulated outcomes: seeded, tied to how each deal was sold."""

import random

import pytest
from django.utils import timezone

from deals import demo
from deals.dashboard.outcomes import OutcomeFilters, calibration
from deals.models import Flag
from handoff.models import CheckIn, CheckInNeedValue, CheckInPromise

pytestmark = pytest.mark.django_db


def _outcomes() -> list[tuple]:
    return list(
        CheckIn.objects.filter(
            completed_at__isnull=False, handoff__deal__external_id__contains=":d"
        )
        .order_by("handoff__deal__external_id", "day_offset")
        .values_list("handoff__deal__external_id", "day_offset", "outcome_value", "account_health")
    )


def test_demo_check_ins_carry_values_per_need_promises_and_flags_dated_to_the_close(admin_user):
    demo.demo_seed(deals=260, seed=11)
    recorded = CheckIn.objects.filter(
        completed_at__isnull=False, handoff__deal__external_id__contains=":d"
    )
    assert recorded.exists()
    assert not recorded.filter(outcome_value__isnull=True).exists()
    assert CheckInNeedValue.objects.exists()
    assert CheckInPromise.objects.exists()
    # Flags the closed deals were sold with are dated before their close, so the
    # calibration counts them.
    closed_with = Flag.objects.filter(deal__stage__in=["closed_won", "closed_lost"]).exclude(
        code__in=demo.OUTCOME_AFTER_CLOSE_CODES
    )
    assert closed_with.exists()
    assert not closed_with.filter(first_seen_at__gt=timezone.now()).exists()
    table = calibration(user=admin_user, filters=OutcomeFilters())
    assert table["closed_deals"] > 0
    assert any(row["with_flag"]["deals"] for row in table["results"])


def test_demo_outcomes_are_the_same_for_the_same_seed():
    demo.demo_seed(deals=120, seed=5)
    first = _outcomes()
    demo.demo_seed(deals=120, seed=5, reset=True)
    assert _outcomes() == first


def test_a_deal_sold_under_pressure_more_often_turns_out_poorly_but_not_always():
    def poor_share(poor_p: float) -> float:
        rng = random.Random(1)
        draws = [demo._check_in_draw(rng, poor_p=poor_p, at_risk_p=0, needs=2) for _ in range(2000)]
        return sum(1 for _v, mean, _h, _r in draws if mean < 4) / len(draws)

    calm = poor_share(demo.OUTCOME_POOR_BASE)
    pressed = poor_share(demo.OUTCOME_POOR_BASE + demo.OUTCOME_POOR_RISK["pressure"])
    assert calm < pressed < 0.9
