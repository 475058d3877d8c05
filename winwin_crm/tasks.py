"""Project-wide tasks."""

from celery import shared_task


@shared_task(name="winwin_crm.tasks.ping_task")
def ping_task(payload: str = "ping") -> dict:
    """Echo a payload back with the host that ran it: proves the broker and worker work."""
    import socket

    return {"echo": payload, "host": socket.gethostname()}
