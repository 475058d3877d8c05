"""The demo's simulated outcomes: seeded, tied to how each deal was sold."""

import random

import pytest
from django.utils import timezone

from deals import demo
from deals.dashboard.outcomes import SMALL_SAMPLE, OutcomeFilters, calibration
from deals.models import Flag
from handoff.models import CheckIn, CheckInNeedValue, CheckInPromise
from winwin_crm.accounts.models import User

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


def test_the_default_demo_calibration_shows_computed_figures_for_mona():
    """The past customers (deals/demo/cohort.py) give the demo manager enough deals checked
    at 90 days on both sides of a pressure flag, and the seeded outcomes differ."""
    demo.demo_seed()
    mona = User.objects.get(username="mona")
    table = calibration(user=mona, filters=OutcomeFilters())
    rows = {row["code"]: row for row in table["results"]}
    for code in ("PRESSURE_PREMATURE_CLOSE", "BUYER_OVERSELL"):
        row = rows[code]
        assert row["with_flag"]["checked"] >= SMALL_SAMPLE
        assert row["without_flag"]["checked"] >= SMALL_SAMPLE
        assert row["win_win_outcome_hint"] != "too few deals to tell"
        assert row["win_rate_hint"] != "too few deals to tell"
    pressed = rows["PRESSURE_PREMATURE_CLOSE"]
    # Sold under pressure, fewer of them turned out win-win (not none of them).
    assert pressed["difference"]["win_win_outcome_rate"] < 0
    assert 0 < pressed["with_flag"]["win_win_outcomes"] < pressed["with_flag"]["checked"]
