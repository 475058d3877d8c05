"""Small display helpers for handoff pages: the SLA countdown and status badges."""

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_date

register = template.Library()

STATUS_BADGE = {
    "draft": "neutral",
    "submitted": "warning",
    "claimed": "stage",
    "needs_info": "info",
    "accepted": "ok",
}


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    days, rem = divmod(minutes, 60 * 24)
    hours, mins = divmod(rem, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


@register.simple_tag
def sla_countdown(handoff, now=None):
    """{"text", "overdue"} for a submitted handoff's SLA; None when no SLA is running."""
    if handoff.status != "submitted" or not handoff.sla_due_at:
        return None
    left = (handoff.sla_due_at - (now or timezone.now())).total_seconds()
    if left < 0:
        return {"text": f"Overdue by {_span(left)}", "overdue": True}
    return {"text": f"Claim within {_span(left)}", "overdue": False}


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGE.get(status, "neutral")


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def code_label(value) -> str:
    """'decision_maker' → 'Decision maker' for codes stored in the package."""
    if value in (None, ""):
        return "—"
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


@register.filter
def iso_date(value):
    """The package stores dates as ISO strings; turn one back into a date for `|date`."""
    if isinstance(value, str):
        return parse_date(value) or value
    return value
