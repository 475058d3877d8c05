"""Celery tasks of captured mail."""

from celery import shared_task


@shared_task(name="deals.mail.tasks.mail_purge_task")
def mail_purge_task() -> int:
    """Daily: unassigned and discarded mail past its retention is deleted."""
    from .services import mail_purge_expired

    return mail_purge_expired()
