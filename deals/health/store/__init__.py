"""Stored health, by job:

- `recompute`: the services (recompute one deal, sweep many, plan a sweep);
- `writes`: persistence of what the rules found (flags, the deal's scores, snapshots);
- `acknowledge`: a manager's acknowledgement of a flag;
- `maintenance`: vacuuming the tables the sweep writes.

The names below are the module's old public surface, kept importable from here.
"""

from .acknowledge import FlagAcknowledgedMeanwhile, FlagNotActive, flag_acknowledge
from .maintenance import health_snapshots_compact, health_tables_vacuum
from .recompute import (
    ATTEMPTS,
    BATCH_SIZE,
    HealthResult,
    health_recompute,
    health_sweep,
    health_sweep_plan,
    health_sweep_record,
    sweep_queryset,
)
from .writes import SNAPSHOT_FIELDS, evidence_canonical, evidence_digest, sort_flags

__all__ = [
    "ATTEMPTS",
    "BATCH_SIZE",
    "SNAPSHOT_FIELDS",
    "FlagAcknowledgedMeanwhile",
    "FlagNotActive",
    "HealthResult",
    "evidence_canonical",
    "evidence_digest",
    "flag_acknowledge",
    "health_recompute",
    "health_snapshots_compact",
    "health_sweep",
    "health_sweep_plan",
    "health_sweep_record",
    "health_tables_vacuum",
    "sort_flags",
    "sweep_queryset",
]
