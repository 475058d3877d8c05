"""Read iCalendar (RFC 5545) invites with the `icalendar` library: the events, their
start, organizer and attendees, and whether the invite cancels them (METHOD:CANCEL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from .types import MailUnreadable, Person


@dataclass
class ParsedEvent:
    uid: str
    sequence: int
    start: dt.datetime
    summary: str
    description: str
    organizer: Person | None
    attendees: list[Person] = field(default_factory=list)
    cancelled: bool = False
    recurrence_id: str = ""

    @property
    def key(self) -> str:
        """The activity's message_id: one meeting per event (and per occurrence)."""
        suffix = f"/{self.recurrence_id}" if self.recurrence_id else ""
        return f"ics:{self.uid}{suffix}"[:500]


def _person(value) -> Person | None:
    if value is None:
        return None
    address = str(value)
    if address.lower().startswith("mailto:"):
        address = address[7:]
    if "@" not in address:
        return None
    params = getattr(value, "params", {}) or {}
    name = str(params.get("CN", "")).strip('"')
    return Person(name, address.strip().lower())


def _as_datetime(value) -> dt.datetime | None:
    if value is None:
        return None
    moment = getattr(value, "dt", value)
    if isinstance(moment, dt.datetime):
        if timezone.is_naive(moment):  # "floating" time: read as the server's zone
            moment = timezone.make_aware(moment)
        return moment
    if isinstance(moment, dt.date):  # an all-day event starts at local midnight
        return timezone.make_aware(dt.datetime.combine(moment, dt.time()))
    return None


def _recurrence_text(value) -> str:
    moment = _as_datetime(value) if value is not None else None
    return moment.isoformat() if moment is not None else ""


def parse_ics(data: bytes | str) -> tuple[str, list[ParsedEvent]]:
    """(METHOD, events) of an iCalendar stream."""
    from icalendar import Calendar

    try:
        calendar = Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and friends on bad input
        raise MailUnreadable(f"Not a readable calendar file: {exc}") from exc
    method = str(calendar.get("METHOD", "")).upper()
    events = []
    for component in calendar.walk("VEVENT"):
        start = _as_datetime(component.get("DTSTART"))
        uid = str(component.get("UID", "")).strip()
        if start is None or not uid:
            continue
        attendees = component.get("ATTENDEE") or []
        if not isinstance(attendees, list):
            attendees = [attendees]
        people = [p for p in (_person(a) for a in attendees) if p is not None]
        recurrence = component.get("RECURRENCE-ID")
        status = str(component.get("STATUS", "")).upper()
        try:
            sequence = int(component.get("SEQUENCE", 0))
        except (TypeError, ValueError):
            sequence = 0
        events.append(
            ParsedEvent(
                uid=uid,
                sequence=sequence,
                start=start,
                summary=" ".join(str(component.get("SUMMARY", "")).split())[:500],
                description=str(component.get("DESCRIPTION", "")).strip(),
                organizer=_person(component.get("ORGANIZER")),
                attendees=people,
                cancelled=method == "CANCEL" or status == "CANCELLED",
                recurrence_id=_recurrence_text(recurrence),
            )
        )
    return method, events
