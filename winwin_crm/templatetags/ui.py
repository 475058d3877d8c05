"""The one place pages format money, percents and dates (a template builtin: no {% load %}).

- `{{ amount|money:deal.currency }}` → "USD 1,900.00"; `|money` alone → "1,900.00".
- `{{ item.quantity|qty }}` → "2.5", "1,200" (a count: no trailing zeros, two decimals at most).
- `{{ value|pct }}` → "12.5 %" (one decimal), `|pct:0` → "40 %"; None → "—".
- `{% when dt %}` → a <time> saying "3 hours ago" (one unit: "1 day ago", not "1 day,
  10 hours ago"; "just now" under a minute) for the last week, "4 Nov 2026" before,
  with the exact moment on hover (app.js rewrites the hover text into the reader's own
  time zone); `{{ date|day }}` → "4 Nov 2026" for calendar dates; `{{ month|month }}` →
  "Nov 2026"; `{{ dt|stamp }}` → "4 Nov 14:05" (a sweep's "as of", in the user's zone).

Templates use no `|date:` or `floatformat` of their own (tests/pages/test_formats.py scans
them); a machine-readable `|date:"Y-m"` in an attribute is the one exception.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

register = template.Library()

DAY_FORMAT = "j M Y"
MOMENT_FORMAT = "j M Y, H:i T"
RECENT = dt.timedelta(days=7)
DASH = "—"


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value, currency: str = "") -> str:
    amount = _decimal(value)
    if amount is None:
        return DASH
    text = f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    return f"{currency} {text}" if currency else text


@register.filter
def qty(value) -> str:
    number = _decimal(value)
    if number is None:
        return DASH
    text = f"{number.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def pct(value, digits: int = 1) -> str:
    number = _decimal(value)
    if number is None:
        return DASH
    digits = int(digits)
    quantum = Decimal(1).scaleb(-digits)
    return f"{number.quantize(quantum, rounding=ROUND_HALF_UP):,.{digits}f} %"


@register.filter
def day(value) -> str:
    if not value:
        return DASH
    if isinstance(value, str):
        from django.utils.dateparse import parse_date

        value = parse_date(value) or value
        if isinstance(value, str):
            return value
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return date_format(value, DAY_FORMAT)


@register.filter
def month(value) -> str:
    if not value:
        return DASH
    return date_format(value, "M Y")


@register.filter
def stamp(value) -> str:
    if not value:
        return DASH
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return date_format(local, "j M H:i")


@register.filter
def plain(value) -> str:
    """A stored value as a person reads it (a package change's before/after): a list of
    rows by their names, yes/no, "none" — never a Python repr."""
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) if value else "none"
    if isinstance(value, dict):
        for key in ("name", "title", "statement", "description", "label"):
            if value.get(key):
                return str(value[key])
        return ", ".join(f"{k.replace('_', ' ')}: {plain(v)}" for k, v in value.items())
    return str(value)


@register.filter
def autofocused(bound_widget) -> str:
    """`{{ radio.tag }}` with autofocus, for a form whose first field is one choice of a
    group (the buyer room has no script to do it: its CSP allows none)."""
    data = {**bound_widget.data, "attrs": {**bound_widget.data["attrs"], "autofocus": True}}
    return bound_widget.parent_widget._render(
        bound_widget.template_name, {"widget": {**data, "wrap_label": False}}, bound_widget.renderer
    )


def _relative(value: dt.datetime, now: dt.datetime) -> str:
    """ "3 hours ago", "1 day ago", "in 2 days": one unit, as people say it."""
    if abs(now - value) < dt.timedelta(minutes=1):
        return "just now"
    if value <= now:
        return f"{timesince(value, now, depth=1)} ago"
    return f"in {timeuntil(value, now, depth=1)}"


@register.simple_tag
def when(value, now: dt.datetime | None = None) -> str:
    if not value:
        return DASH
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        parsed = parse_datetime(value)
        if parsed is None:
            return value
        value = parsed
    if not isinstance(value, dt.datetime):
        return day(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    now = now or timezone.now()
    recent = abs(now - value) < RECENT if timezone.is_aware(value) else False
    shown = _relative(value, now) if recent else date_format(local, DAY_FORMAT)
    return format_html(
        '<time datetime="{}" title="{}" data-when>{}</time>',
        value.isoformat(),
        date_format(local, MOMENT_FORMAT),
        shown,
    )
