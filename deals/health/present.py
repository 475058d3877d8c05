"""Flags as a person reads them: the label, the advice, and evidence in names, dates and
amounts with links to the activities, milestones and items it is about.

Codes stay in the API and appear on pages only as a small hint; the words come from the
catalog. One lookup per kind of record the flags mention (activities, milestones), so a
page with ten flags costs the same two queries as one with one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format

from deals.models import Activity, BuyerMilestone, Deal

from .catalog import flag_advice, flag_label

# Evidence keys naming activities, and the ones that are bookkeeping rather than evidence.
ACTIVITY_KEYS = {"activity_ids", "close_attempt_activity_ids", "senior_activity_ids"}
HIDDEN_KEYS = {"stage", "window", "threshold", "disclosure_ids", "confirmed_need_ids"}
MONEY_KEYS = {"list_total", "net_total", "cost_total", "amount"}
LABELS = {
    "answers": "The buyer's answer",
    "close_attempt_activity_ids": "Close attempts",
    "latest_close_attempt_at": "Latest close attempt",
    "open_milestones": "Open milestones",
    "activity_ids": "Activities",
    "senior_activity_ids": "With a senior present",
    "first_at": "First",
    "last_at": "Last",
    "window_days": "Window (days)",
    "matches": "Where",
    "phrases": "Phrases",
    "changed_at": "Changed on",
    "from_date": "From",
    "to_date": "To",
    "current_date": "Now",
    "line_items": "Items",
    "needs": "Needs",
    "min_importance": "Importance at least",
    "discovery_call_count": "Discovery calls",
    "discount_pct": "Discount",
    "max_pct": "Policy maximum",
    "margin_pct": "Margin",
    "floor_pct": "Policy floor",
    "untraded": "Untraded price cuts",
    "price_cut_count": "Price cuts",
    "value_add_count": "Value adds",
    "last_buyer_activity_id": "Last buyer contact",
    "last_buyer_contact_at": "Last heard",
    "stale_days": "Quiet after (days)",
    "handoff_id": "Handoff",
    "submitted_at": "Submitted",
    "accepted_at": "Accepted",
    "sla_hours": "SLA (hours)",
    "commitments": "Promises",
    "since": "In this stage since",
    "limit_days": "Policy allows (days)",
}


@dataclass(slots=True)
class Part:
    text: str
    url: str = ""


@dataclass(slots=True)
class EvidenceItem:
    label: str
    parts: list[Part] = field(default_factory=list)


def _when(value: Any) -> str | None:
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-":
        moment = parse_datetime(value) if "T" in value or " " in value else None
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            return date_format(timezone.localtime(moment), "j M Y H:i")
        day = parse_date(value[:10])
        if day is not None:
            return date_format(day, "j M Y")
    return None


def _money(deal: Deal | None, value: Any) -> str:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    currency = f"{deal.currency} " if deal is not None else ""
    return f"{currency}{amount:,.2f}"


class _Lookups:
    """The activities and milestones every flag of a page mentions, read once."""

    def __init__(self, deal: Deal | None, flags: Sequence[Any]):
        self.deal = deal
        activity_ids: set[int] = set()
        milestone_ids: set[int] = set()
        for flag in flags:
            evidence = flag.evidence if isinstance(flag.evidence, dict) else {}
            for key in ACTIVITY_KEYS:
                activity_ids.update(i for i in evidence.get(key) or () if isinstance(i, int))
            for answer in evidence.get("answers") or ():
                if isinstance(answer, dict) and isinstance(answer.get("meeting_activity_id"), int):
                    activity_ids.add(answer["meeting_activity_id"])
            if isinstance(evidence.get("last_buyer_activity_id"), int):
                activity_ids.add(evidence["last_buyer_activity_id"])
            for match in evidence.get("matches") or ():
                if isinstance(match, dict) and isinstance(match.get("activity_id"), int):
                    activity_ids.add(match["activity_id"])
            for m in evidence.get("open_milestones") or ():
                if isinstance(m, dict) and isinstance(m.get("id"), int):
                    milestone_ids.add(m["id"])
        # Without the deal nothing is linked: evidence only ever names the deal's own rows.
        deal_id = deal.pk if deal is not None else 0
        self.activities = (
            {a.pk: a for a in Activity.objects.filter(pk__in=activity_ids, deal_id=deal_id)}
            if activity_ids
            else {}
        )
        self.milestones = (
            {m.pk: m for m in BuyerMilestone.objects.filter(pk__in=milestone_ids, deal_id=deal_id)}
            if milestone_ids
            else {}
        )

    def url(self, anchor: str) -> str:
        if self.deal is None:
            return ""
        return reverse("deals:deal_detail", args=[self.deal.pk]) + f"#{anchor}"

    def activity(self, activity_id: int) -> Part:
        a = self.activities.get(activity_id)
        if a is None:
            return Part("an activity since deleted")
        who = "the buyer" if a.initiated_by == Activity.InitiatedBy.BUYER else "us"
        when = date_format(timezone.localtime(a.occurred_at), "j M Y")
        return Part(f"{a.get_kind_display()} by {who} on {when}", self.url(f"activity-{a.pk}"))


def _record_parts(lookups: _Lookups, key: str, rows: Iterable[Any]) -> list[Part]:
    parts = []
    for row in rows:
        if not isinstance(row, dict):
            parts.append(Part(str(row)))
            continue
        if key == "open_milestones":
            row_id = row.get("id")
            m = lookups.milestones.get(row_id) if isinstance(row_id, int) else None
            due = f" (due {date_format(m.due_date, 'j M Y')})" if m and m.due_date else ""
            anchor = f"milestone-{row.get('id')}"
            parts.append(Part(f"“{row.get('title')}”{due}", lookups.url(anchor)))
        elif key == "needs":
            parts.append(
                Part(
                    f"“{row.get('statement')}” ({row.get('importance')}/5)",
                    lookups.url(f"need-{row.get('id')}"),
                )
            )
        elif key == "line_items":
            parts.append(Part(f"“{row.get('name')}”", lookups.url(f"item-{row.get('id')}")))
        elif key == "commitments":
            due_text = _when(row.get("due_date"))
            parts.append(
                Part(
                    f"“{row.get('description')}”" + (f" due {due_text}" if due_text else ""),
                    lookups.url(f"commitment-{row.get('id')}"),
                )
            )
        elif key == "untraded":
            parts.append(
                Part(
                    f"“{row.get('description')}”, {_money(lookups.deal, row.get('amount'))} off",
                    lookups.url("section-concessions"),
                )
            )
        elif key == "answers":
            # A buyer's pulse answer: what they said, not its ids and booleans.
            said = [
                yes if row[field] else no
                for field, yes, no in (
                    ("felt_pushed", "felt pushed", "did not feel pushed"),
                    ("got_what_needed", "got what they needed", "did not get what they needed"),
                    ("next_step_agreed", "agreed the next step", "did not agree the next step"),
                )
                if field in row
            ]
            meeting = row.get("meeting_activity_id")
            activity = lookups.activity(meeting) if isinstance(meeting, int) else None
            answered = _when(row.get("answered_at"))
            text = (f"answered {answered}" if answered else "answered") + (
                f" about the {activity.text}" if activity else ""
            )
            parts.append(Part(f"{text}: {', '.join(said)}", activity.url if activity else ""))
        elif key == "matches":
            activity = lookups.activity(row["activity_id"]) if "activity_id" in row else Part("")
            parts.append(Part(f"“{row.get('phrase')}” in {activity.text}", activity.url))
        else:
            name = next(
                (row[k] for k in ("title", "statement", "name", "description") if row.get(k)),
                None,
            )
            parts.append(Part(f"“{name}”" if name else ", ".join(f"{v}" for v in row.values())))
    return parts


def _item(lookups: _Lookups, key: str, value: Any) -> EvidenceItem | None:
    if key in HIDDEN_KEYS or value in (None, "", [], {}):
        return None
    label = LABELS.get(key, key.replace("_", " ").capitalize())
    if key in ACTIVITY_KEYS:
        return EvidenceItem(label, [lookups.activity(i) for i in value])
    if key == "last_buyer_activity_id":
        return EvidenceItem(label, [lookups.activity(value)])
    if key == "handoff_id":
        return EvidenceItem(label, [Part("the handoff", reverse("handoff:detail", args=[value]))])
    if isinstance(value, list | tuple):
        if all(isinstance(v, str) for v in value):
            return EvidenceItem(label, [Part(", ".join(f"“{v}”" for v in value))])
        return EvidenceItem(label, _record_parts(lookups, key, value))
    if key in MONEY_KEYS:
        return EvidenceItem(label, [Part(_money(lookups.deal, value))])
    if key.endswith("_pct"):
        return EvidenceItem(label, [Part(f"{value} %")])
    when = _when(value)
    return EvidenceItem(label, [Part(when or str(value))])


def evidence_items(flag: Any, lookups: _Lookups) -> list[EvidenceItem]:
    if not isinstance(flag.evidence, dict):
        return [EvidenceItem("", [Part(str(flag.evidence))])] if flag.evidence else []
    items = (_item(lookups, key, value) for key, value in flag.evidence.items())
    return [item for item in items if item is not None]


def present_flags(flags: Sequence[Any], *, deal: Deal | None) -> list[Any]:
    """Decorate flags (stored or previewed) with `label`, `advice` and `evidence_items`."""
    lookups = _Lookups(deal, flags)
    for flag in flags:
        flag.label = flag_label(flag.code)
        flag.advice = flag_advice(flag.code)
        flag.evidence_items = evidence_items(flag, lookups)
    return list(flags)


def days_between(start: dt.datetime | None, now: dt.datetime | None = None) -> int | None:
    if start is None:
        return None
    return max(((now or timezone.now()) - start).days, 0)
