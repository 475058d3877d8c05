"""The deal health engine: facts → rules → scores → stored flags.

Public names (the cross-area contract): health_recompute, health_sweep,
health_recompute_on_commit, policy_for_team, flag_acknowledge, PRESSURE_CODES, ALL_CODES.
"""

from .policy import policy_for_team
from .queue import health_recompute_on_commit
from .rules import ALL_CODES, PRESSURE_CODES
from .store import (
    BATCH_SIZE,
    HealthResult,
    flag_acknowledge,
    health_recompute,
    health_sweep,
    health_sweep_plan,
    health_sweep_record,
    health_tables_vacuum,
)

__all__ = [
    "ALL_CODES",
    "BATCH_SIZE",
    "PRESSURE_CODES",
    "HealthResult",
    "flag_acknowledge",
    "health_recompute",
    "health_recompute_on_commit",
    "health_sweep",
    "health_sweep_plan",
    "health_sweep_record",
    "health_tables_vacuum",
    "policy_for_team",
]
