"""Scores: 100 per side, minus the policy's weight per active flag; balance at 70."""

import pytest

from deals.health.rules import FlagResult
from deals.health.scoring import balance_of, score
from deals.models import HealthPolicy


def flag(code, severity):
    return FlagResult(code=code, severity=severity, message="", evidence={})


@pytest.fixture
def policy():
    return HealthPolicy()  # the defaults: info 5, warning 15, critical 30, threshold 70


def test_a_deal_without_flags_is_win_win_at_full_marks(policy):
    s = score([], policy)
    assert (s.buyer_score, s.seller_score, s.balance) == (100, 100, "win_win")


def test_buyer_and_seller_flags_only_lower_their_own_side(policy):
    s = score(
        [flag("BUYER_OVERSELL", "warning"), flag("SELLER_MARGIN_BELOW_FLOOR", "info")], policy
    )

    assert (s.buyer_score, s.seller_score) == (85, 95)


def test_relationship_flags_lower_both_sides(policy):
    s = score([flag("PRESSURE_PREMATURE_CLOSE", "critical")], policy)

    assert (s.buyer_score, s.seller_score, s.balance) == (70, 70, "win_win")


def test_scores_never_go_below_zero(policy):
    s = score([flag("PRESSURE_CHASING", "critical")] * 5, policy)

    assert (s.buyer_score, s.seller_score, s.balance) == (0, 0, "lose_lose")


def test_weights_come_from_the_policy(policy):
    policy.weight_warning = 40

    s = score([flag("SELLER_DISCOUNT_OVER_POLICY", "warning")], policy)

    assert (s.seller_score, s.balance) == (60, "seller_loses")


@pytest.mark.parametrize(
    ("buyer", "seller", "balance"),
    [
        (70, 70, "win_win"),
        (69, 70, "buyer_loses"),
        (70, 69, "seller_loses"),
        (69, 69, "lose_lose"),
        (100, 0, "seller_loses"),
    ],
)
def test_balance_uses_seventy_as_the_win_win_threshold(buyer, seller, balance):
    assert balance_of(buyer, seller, 70) == balance


def test_a_stricter_threshold_changes_the_balance(policy):
    policy.win_win_threshold = 90

    s = score([flag("BUYER_UNDISCLOSED", "warning")], policy)

    assert (s.buyer_score, s.balance) == (85, "buyer_loses")
