"""Scores: 100 per side, minus the policy's weight per active flag; a side wins at ≥ 70
with no critical flag against it (DESIGN.md's verdict)."""

import pytest

from deals.health.rules import FlagResult
from deals.health.scoring import score
from deals.models import HealthPolicy


def flag(code, severity):
    return FlagResult(code=code, severity=severity, message="", evidence={})


@pytest.fixture
def policy():
    return HealthPolicy()  # the defaults: info 5, warning 20, critical 30, threshold 70


def test_a_deal_without_flags_is_win_win_at_full_marks(policy):
    s = score([], policy)
    assert (s.buyer_score, s.seller_score, s.balance) == (100, 100, "win_win")


def test_buyer_and_seller_flags_only_lower_their_own_side(policy):
    s = score(
        [flag("BUYER_OVERSELL", "warning"), flag("SELLER_MARGIN_BELOW_FLOOR", "info")], policy
    )

    assert (s.buyer_score, s.seller_score) == (80, 95)


def test_a_critical_relationship_flag_is_lose_lose_whatever_the_points(policy):
    s = score([flag("PRESSURE_PREMATURE_CLOSE", "critical")], policy)

    assert (s.buyer_score, s.seller_score) == (70, 70)  # at the threshold, yet…
    assert s.balance == "lose_lose"
    assert s.breakdown["buyer"]["critical"] == ["PRESSURE_PREMATURE_CLOSE"]


def test_a_critical_seller_flag_makes_only_the_seller_lose(policy):
    s = score([flag("SELLER_DISCOUNT_OVER_POLICY", "critical")], policy)

    assert (s.seller_score, s.balance) == (70, "seller_loses")


def test_chasing_plus_pressure_language_on_a_clean_deal_is_not_win_win(policy):
    s = score([flag("PRESSURE_CHASING", "warning"), flag("PRESSURE_LANGUAGE", "warning")], policy)

    assert (s.buyer_score, s.seller_score) == (60, 60)
    assert s.balance == "lose_lose"


def test_one_info_flag_is_still_win_win(policy):
    s = score([flag("BUYER_OVERSELL", "info")], policy)

    assert (s.buyer_score, s.balance) == (95, "win_win")


def test_one_warning_alone_is_still_win_win(policy):
    s = score([flag("PRESSURE_LANGUAGE", "warning")], policy)

    assert (s.buyer_score, s.seller_score, s.balance) == (80, 80, "win_win")


def test_the_breakdown_is_the_sum_with_each_flag_named_beside_its_points(policy):
    s = score([flag("PRESSURE_CHASING", "warning"), flag("BUYER_OVERSELL", "info")], policy)

    buyer = s.breakdown["buyer"]
    assert buyer["start"] == 100
    assert [(i["code"], i["label"], i["points"]) for i in buyer["items"]] == [
        ("PRESSURE_CHASING", "Chasing a buyer who does not answer", -20),
        ("BUYER_OVERSELL", "A proposal item serves no need", -5),
    ]
    assert buyer["score"] == 100 + sum(i["points"] for i in buyer["items"]) == s.buyer_score
    assert [i["code"] for i in s.breakdown["seller"]["items"]] == ["PRESSURE_CHASING"]


def test_scores_never_go_below_zero(policy):
    s = score([flag("PRESSURE_CHASING", "critical")] * 5, policy)

    assert (s.buyer_score, s.seller_score, s.balance) == (0, 0, "lose_lose")


def test_weights_come_from_the_policy(policy):
    policy.weight_warning = 40

    s = score([flag("SELLER_DISCOUNT_OVER_POLICY", "warning")], policy)

    assert (s.seller_score, s.balance) == (60, "seller_loses")


def test_a_side_at_exactly_the_threshold_wins_and_one_point_below_loses(policy):
    policy.weight_warning = 30
    assert score([flag("BUYER_OVERSELL", "warning")], policy).balance == "win_win"
    policy.weight_warning = 31
    assert score([flag("BUYER_OVERSELL", "warning")], policy).balance == "buyer_loses"


def test_a_stricter_threshold_changes_the_balance(policy):
    policy.win_win_threshold = 90

    s = score([flag("BUYER_UNDISCLOSED", "warning")], policy)

    assert (s.buyer_score, s.balance) == (80, "buyer_loses")
