"""Celery tasks of the import: thin, idempotent wrappers around the services."""

from celery import shared_task


@shared_task(name="deals.imports.tasks.import_commit_task")
def import_commit_task(job_id: int) -> str:
    """Commit one import job. A job already running or done is left alone, so a redelivered
    message (acks_late) does nothing twice."""
    from .services import import_job_commit

    return import_job_commit(job_id=job_id).status
