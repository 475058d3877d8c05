"""What the import services share: batch sizes, the progress key, the result counts."""

from __future__ import annotations

from decimal import Decimal

from deals.imports.validation import ImportPlan

# Rows per INSERT/UPDATE statement: big enough that 100,000 rows take ~50 round trips,
# small enough to stay far below PostgreSQL's 65,535 parameters (a deal has ~20 columns).
BATCH_SIZE = 2000
# Up to this many imported deals get one queued recompute each; beyond it one health
# sweep is queued instead, so a large import does not flood the broker with tasks.
HEALTH_PER_DEAL_LIMIT = 200
CHANGE_REASON = "CSV import"
ZERO = Decimal("0.00")


def progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


def in_batches(items: list, size: int = BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def result_counts(plan: ImportPlan, **extra) -> dict:
    return {
        "created": plan.count("create"),
        "updated": plan.count("update"),
        "skipped": plan.count("skip"),
        "failed": plan.error_rows,
        **extra,
    }
