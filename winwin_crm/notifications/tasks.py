"""Beat tasks of notifications: the daily digest and the reminders that come with the clock."""

from celery import shared_task

from deals.tasks import RETRY


@shared_task(name="winwin_crm.notifications.tasks.notifications_digest_task", **RETRY)
def notifications_digest_task() -> int:
    from .services import notifications_digest_send

    return notifications_digest_send()


@shared_task(name="winwin_crm.notifications.tasks.handoff_reminders_task", **RETRY)
def handoff_reminders_task() -> dict:
    from handoff.reminders import check_ins_due_notify, sla_at_risk_notify

    return {"sla_at_risk": sla_at_risk_notify(), "check_ins_due": check_ins_due_notify()}


@shared_task(name="winwin_crm.notifications.tasks.flags_opened_notify_task", **RETRY)
def flags_opened_notify_task(flag_ids: list[int]) -> int:
    from .wiring import flags_opened_notify

    return flags_opened_notify(flag_ids=flag_ids)
