"""Celery tasks of the deals app: thin wrappers that load ids and call a service.

Both tasks are idempotent (a recompute writes the same flags and scores for the same
facts), so acks_late redelivery after a lost worker and retries are harmless.
"""

from celery import shared_task
from django.db import DatabaseError, OperationalError

# A dropped connection, a deadlock or a serialisation failure is worth another try;
# backoff spreads the retries of many tasks that failed together.
TRANSIENT_DB_ERRORS = (OperationalError, DatabaseError)
RETRY = {
    "autoretry_for": TRANSIENT_DB_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(name="deals.tasks.health_recompute_task", **RETRY)
def health_recompute_task(deal_id: int) -> None:
    from deals.health import health_recompute

    health_recompute(deal_id=deal_id)


@shared_task(name="deals.tasks.health_sweep_task", **RETRY)
def health_sweep_task(team_id: int | None = None) -> int:
    """Hourly: time-based rules (stale, chasing, overdue handoffs) change with the clock."""
    from deals.health import health_sweep

    return health_sweep(team_id=team_id)
