"""Scores from flags: 100 per side, minus the policy's weight for each active flag.

Relationship flags (pressure, staleness, a dropped handoff) hurt both sides: a buyer
pushed around and a seller losing the account are the same broken relationship.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from deals.models import Deal, HealthPolicy, Side

FULL_SCORE = 100


@dataclass(slots=True, frozen=True)
class Scores:
    buyer_score: int
    seller_score: int
    balance: str


def severity_weight(policy: HealthPolicy, severity: str) -> int:
    return {
        "info": policy.weight_info,
        "warning": policy.weight_warning,
        "critical": policy.weight_critical,
    }[severity]


def balance_of(buyer_score: int, seller_score: int, threshold: int) -> str:
    buyer_ok, seller_ok = buyer_score >= threshold, seller_score >= threshold
    if buyer_ok and seller_ok:
        return Deal.Balance.WIN_WIN
    if seller_ok:
        return Deal.Balance.BUYER_LOSES
    if buyer_ok:
        return Deal.Balance.SELLER_LOSES
    return Deal.Balance.LOSE_LOSE


def score(flags: Iterable, policy: HealthPolicy) -> Scores:
    """`flags`: anything with `side` and `severity` (FlagResult or an active Flag row)."""
    buyer = seller = FULL_SCORE
    for flag in flags:
        weight = severity_weight(policy, flag.severity)
        if flag.side in (Side.BUYER, Side.RELATIONSHIP):
            buyer -= weight
        if flag.side in (Side.SELLER, Side.RELATIONSHIP):
            seller -= weight
    buyer, seller = max(buyer, 0), max(seller, 0)
    return Scores(buyer, seller, balance_of(buyer, seller, policy.win_win_threshold))
