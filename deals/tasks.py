"""Celery tasks of the deals app: thin wrappers that load ids and call a service.

Both tasks are idempotent (a recompute writes the same flags and scores for the same
facts), so acks_late redelivery after a lost worker and retries are harmless.
"""

from typing import Any

from celery import chord, shared_task
from django.db import DatabaseError, OperationalError

# A dropped connection, a deadlock or a serialisation failure is worth another try;
# backoff spreads the retries of many tasks that failed together.
TRANSIENT_DB_ERRORS = (OperationalError, DatabaseError)
RETRY: dict[str, Any] = {
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
    the sweep, with health_sweep_finished_task as the chord's callback once every batch
    is done; returns how many batches were queued.
    """
    from django.utils import timezone

    from deals.health import health_sweep_plan

    # Planned before any batch runs: every deal of the plan is checked at or after this.
    checked_from = timezone.now()
    plan = health_sweep_plan(team_id=team_id)
    # The batches follow the sweep onto its queue (None, the default, when eager).
    queue = (self.request.delivery_info or {}).get("routing_key")
    # The hourly sweep (every team) is recorded once it finished: its batches wrote only
    # what changed, and the record is what "checked at" is read from.
    record = (
        {
            "checked_from": checked_from.isoformat(),
            "last_deal_id": plan[-1][1],
            "deals": 0,
        }
        if plan and team_id is None
        else {}
    )
    finished = health_sweep_finished_task.si(**record).set(queue=queue)
    batches = [
        health_sweep_batch_task.si(first_id, last_id, team_id).set(queue=queue)
        for first_id, last_id in plan
    ]
    if batches:
        chord(batches)(finished)
    else:
        finished.apply_async()
    return len(plan)


@shared_task(name="deals.tasks.health_sweep_finished_task", **RETRY)
def health_sweep_finished_task(
    checked_from: str | None = None, last_deal_id: int | None = None, deals: int = 0
) -> None:
    """After a sweep: record it (the hourly one: every batch succeeded, or the chord would
    not call this), tidy the tables it wrote, then rebuild the dashboard's rollups so the
    rep table shows this sweep's outcome. All idempotent enough to run twice (a second
    record of the same sweep says the same)."""
    import datetime as dt

    from deals.dashboard.services import dashboard_rollups_refresh
    from deals.health import health_sweep_record, health_tables_vacuum

    if checked_from is not None and last_deal_id is not None:
        health_sweep_record(
            checked_from=dt.datetime.fromisoformat(checked_from),
            last_deal_id=last_deal_id,
            deals=deals,
        )
    health_tables_vacuum()
    dashboard_rollups_refresh()


@shared_task(name="deals.tasks.health_sweep_batch_task", **RETRY)
def health_sweep_batch_task(first_id: int, last_id: int, team_id: int | None = None) -> int:
    """One slice of the sweep; safe to run twice (SKIP LOCKED, idempotent writes)."""
    from deals.health import health_sweep

    return health_sweep(id_range=(first_id, last_id), team_id=team_id)
