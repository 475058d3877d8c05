"""Celery tasks of the deals app: thin wrappers that load ids and call a service."""

from celery import shared_task


@shared_task(name="deals.tasks.health_recompute_task")
def health_recompute_task(deal_id: int) -> None:
    from deals.health import health_recompute

    health_recompute(deal_id=deal_id)


@shared_task(name="deals.tasks.health_sweep_task")
def health_sweep_task() -> None:
    from deals.health import health_sweep

    health_sweep()
