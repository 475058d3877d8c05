"""Scores from flags: 100 per side, minus the policy's weight for each active flag.

Relationship flags (pressure, staleness, a dropped handoff) hurt both sides: a buyer
pushed around and a seller losing the account are the same broken relationship.

The verdict reads as a fair person would: a side wins only with its score at or above
the policy's threshold AND no critical flag against it. Points alone would let a close
attempt before the buyer's security review read "win-win" on an otherwise clean deal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from deals.models import Deal, Side

from .catalog import flag_label, flag_sort_key

FULL_SCORE = 100


class _Weights(Protocol):
    weight_info: int
    weight_warning: int
    weight_critical: int
    win_win_threshold: int


class _Scored(Protocol):
    # Read-only members, so frozen dataclasses (FlagResult) match as well as Flag rows.
    @property
    def code(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def severity(self) -> str: ...


@dataclass(slots=True, frozen=True)
class Scores:
    buyer_score: int
    seller_score: int
    balance: str
    # Per side: {"start": 100, "items": [{code, label, severity, points}], "score", "wins",
    # "critical": [codes]}; what the health API returns as `breakdown`.
    breakdown: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def severity_weight(policy: _Weights, severity: str) -> int:
    return {
        "info": policy.weight_info,
        "warning": policy.weight_warning,
        "critical": policy.weight_critical,
    }[severity]


def balance_of(buyer_wins: bool, seller_wins: bool) -> str:
    if buyer_wins and seller_wins:
        return Deal.Balance.WIN_WIN
    if seller_wins:
        return Deal.Balance.BUYER_LOSES
    if buyer_wins:
        return Deal.Balance.SELLER_LOSES
    return Deal.Balance.LOSE_LOSE


def _against(side: str, flag_side: str) -> bool:
    return flag_side == side or flag_side == Side.RELATIONSHIP


def score(flags: Iterable[_Scored], policy: _Weights) -> Scores:
    """`flags`: anything with `code`, `side` and `severity` (FlagResult or a Flag row)."""
    ordered = sorted(flags, key=flag_sort_key)
    sides: dict[str, dict[str, Any]] = {}
    for side in (Side.BUYER, Side.SELLER):
        items: list[dict[str, Any]] = [
            {
                "code": f.code,
                "label": flag_label(f.code),
                "severity": f.severity,
                "points": -severity_weight(policy, f.severity),
            }
            for f in ordered
            if _against(side, f.side)
        ]
        total = max(FULL_SCORE + sum(int(item["points"]) for item in items), 0)
        critical = [item["code"] for item in items if item["severity"] == "critical"]
        sides[str(side)] = {
            "start": FULL_SCORE,
            "items": items,
            "score": total,
            "threshold": policy.win_win_threshold,
            "critical": critical,
            "wins": total >= policy.win_win_threshold and not critical,
        }
    buyer, seller = sides["buyer"], sides["seller"]
    return Scores(
        buyer["score"],
        seller["score"],
        balance_of(buyer["wins"], seller["wins"]),
        breakdown=sides,
    )
