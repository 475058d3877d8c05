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


@shared_task(name="deals.tasks.health_sweep_task", bind=True, **RETRY)
def health_sweep_task(self, team_id: int | None = None) -> int:
    """Hourly: time-based rules (stale, chasing, overdue handoffs) change with the clock.

    Fans out one batch task per id range, so every worker process on every host shares
    the sweep; returns how many batches were queued.
    """
    from deals.dashboard.services import dashboard_rollups_refresh
    from deals.health import health_sweep_plan

    # The dashboard's rollups (past days' history, the rep table as of now). They go
    # first, so a failure retries this task before any batch is queued twice; the rep
    # table therefore shows each sweep's outcome from the next hour on.
    dashboard_rollups_refresh()
    plan = health_sweep_plan(team_id=team_id)
    # The batches follow the sweep onto its queue (None, the default, when eager).
    queue = (self.request.delivery_info or {}).get("routing_key")
    for first_id, last_id in plan:
        health_sweep_batch_task.apply_async((first_id, last_id, team_id), queue=queue)
    return len(plan)


@shared_task(name="deals.tasks.health_sweep_batch_task", **RETRY)
def health_sweep_batch_task(first_id: int, last_id: int, team_id: int | None = None) -> int:
    """One slice of the sweep; safe to run twice (SKIP LOCKED, idempotent writes)."""
    from deals.health import health_sweep

    return health_sweep(id_range=(first_id, last_id), team_id=team_id)
