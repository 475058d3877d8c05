"""The handoff package: everything delivery needs to keep the promises made in the sale.

`package_build` reads a deal into a plain JSON document. On submit the document is frozen
on the handoff; later the page diffs the frozen copy against a fresh build to show what
changed on the deal since (`package_diff`). Bump PACKAGE_VERSION when the shape changes,
so readers of old snapshots know what they hold.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from deals.models import (
    BuyerMilestone,
    Commitment,
    Concession,
    Contact,
    Deal,
    Disclosure,
    LineItem,
    Need,
)
from deals.pricing import line_total

PACKAGE_VERSION = 1

# Sections that are lists of records keyed by id, and the field that names a record.
LIST_SECTIONS = {
    "needs": "statement",
    "line_items": "name",
    "commitments": "description",
    "disclosures": "description",
    "concessions": "description",
    "contacts": "name",
    "milestones": "title",
}
SECTION_LABELS = {
    "needs": "Need",
    "line_items": "Line item",
    "commitments": "Commitment",
    "disclosures": "Disclosure",
    "concessions": "Concession",
    "contacts": "Contact",
    "milestones": "Milestone",
    "pricing": "Pricing",
}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _date(value) -> str | None:
    return value.isoformat() if value else None


def package_build(
    *, deal: Deal, notes_for_delivery: str = "", keep_ids: dict[str, set[int]] | None = None
) -> dict[str, Any]:
    """Read `deal` into a package document (JSON-serialisable; money as strings).

    Open commitments and incomplete milestones only; `keep_ids` keeps records of those
    sections that a frozen package holds even after they were done, so a diff reports them
    as changed rather than removed.
    """
    keep_ids = keep_ids or {}
    deal = (
        Deal.objects.select_related("prospect", "owner")
        .prefetch_related(
            Prefetch("needs", queryset=Need.objects.order_by("-importance", "id")),
            Prefetch(
                "line_items",
                queryset=LineItem.objects.order_by("id").prefetch_related(
                    Prefetch("needs", queryset=Need.objects.order_by("id"))
                ),
            ),
            Prefetch("commitments", queryset=Commitment.objects.order_by("due_date", "id")),
            Prefetch("disclosures", queryset=Disclosure.objects.order_by("id")),
            Prefetch("concessions", queryset=Concession.objects.order_by("id")),
            Prefetch("milestones", queryset=BuyerMilestone.objects.order_by("due_date", "id")),
        )
        .get(pk=deal.pk)
    )
    contacts = Contact.objects.filter(prospect_id=deal.prospect_id).order_by("name", "id")

    needs = [
        {
            "id": need.id,
            "kind": need.kind,
            "importance": need.importance,
            "statement": need.statement,
            "confirmed": need.confirmed_by_buyer,
        }
        for need in deal.needs.all()
    ]
    line_items = [
        {
            "id": item.id,
            "name": item.name,
            "quantity": _money(item.quantity),
            "unit_list_price": _money(item.unit_list_price),
            "unit_price": _money(item.unit_price),
            "total": _money(line_total(item.quantity, item.unit_price)),
            "needs": [{"id": n.id, "statement": n.statement} for n in item.needs.all()],
        }
        for item in deal.line_items.all()
    ]
    kept_commitments = keep_ids.get("commitments", set())
    commitments = [
        {
            "id": c.id,
            "description": c.description,
            "due_date": _date(c.due_date),
            "status": c.status,
        }
        for c in deal.commitments.all()
        if c.status == Commitment.Status.OPEN or c.id in kept_commitments
    ]
    disclosures = [
        {
            "id": d.id,
            "kind": d.kind,
            "description": d.description,
            "disclosed_at": _date(d.disclosed_at),
        }
        for d in deal.disclosures.all()
    ]
    concessions = [
        {
            "id": c.id,
            "kind": c.kind,
            "description": c.description,
            "amount": _money(c.amount),
            "cost_to_seller": _money(c.cost_to_seller),
            "in_exchange_for": c.in_exchange_for,
        }
        for c in deal.concessions.all()
    ]
    contact_rows = [
        {
            "id": c.id,
            "name": c.name,
            "title": c.title,
            "email": c.email,
            "phone": c.phone,
            "buying_role": c.buying_role,
        }
        for c in contacts
    ]
    kept_milestones = keep_ids.get("milestones", set())
    milestones = [
        {
            "id": m.id,
            "title": m.title,
            "side": m.side,
            "required_for_decision": m.required_for_decision,
            "due_date": _date(m.due_date),
            "completed": m.completed_at is not None,
        }
        for m in deal.milestones.all()
        if m.completed_at is None or m.id in kept_milestones
    ]
    return {
        "version": PACKAGE_VERSION,
        "taken_at": timezone.now().isoformat(),
        "deal": {
            "id": deal.id,
            "title": deal.title,
            "prospect": {"id": deal.prospect_id, "name": deal.prospect.name},
            "owner": {"id": deal.owner_id, "name": str(deal.owner)},
            "stage": deal.stage,
            "closed_at": _date(deal.closed_at),
        },
        "needs": needs,
        "line_items": line_items,
        "commitments": commitments,
        "disclosures": disclosures,
        "concessions": concessions,
        "contacts": contact_rows,
        "milestones": milestones,
        "notes_for_delivery": notes_for_delivery,
        "pricing": {
            "currency": deal.currency,
            "list_total": _money(deal.list_total),
            "net_total": _money(deal.net_total),
            "cost_total": _money(deal.cost_total),
            "discount_pct": _money(deal.discount_pct),
            "margin_pct": _money(deal.margin_pct),
        },
    }


def package_diff(*, frozen: dict[str, Any], current: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between the frozen package and a fresh one, as a list of changes:
    `{"section", "section_label", "change": added|removed|changed, "id", "label", "fields"}`
    with `fields` a list of `{"field", "before", "after"}` for changed records.
    """
    changes: list[dict[str, Any]] = []
    for section, label_field in LIST_SECTIONS.items():
        before = {row["id"]: row for row in frozen.get(section, [])}
        after = {row["id"]: row for row in current.get(section, [])}
        for row_id, row in after.items():
            if row_id not in before:
                changes.append(_change(section, "added", row_id, row.get(label_field), []))
        for row_id, old in before.items():
            new = after.get(row_id)
            if new is None:
                changes.append(_change(section, "removed", row_id, old.get(label_field), []))
                continue
            fields = [
                {"field": key, "before": old.get(key), "after": new.get(key)}
                for key in sorted(set(old) | set(new))
                if key != "id" and not _same(old.get(key), new.get(key))
            ]
            if fields:
                changes.append(_change(section, "changed", row_id, new.get(label_field), fields))
    old_pricing, new_pricing = frozen.get("pricing", {}), current.get("pricing", {})
    pricing_fields = [
        {"field": key, "before": old_pricing.get(key), "after": new_pricing.get(key)}
        for key in sorted(set(old_pricing) | set(new_pricing))
        if not _same(old_pricing.get(key), new_pricing.get(key))
    ]
    if pricing_fields:
        changes.append(_change("pricing", "changed", None, "Deal pricing", pricing_fields))
    return changes


def _same(before: Any, after: Any) -> bool:
    """Equal values are equal however they were written: "80" and "80.00" are one amount
    (a package frozen by an older format must not show a change that did not happen)."""
    if before == after:
        return True
    scalar = (str, int, float, Decimal)
    if isinstance(before, scalar) and isinstance(after, scalar):
        try:
            return Decimal(str(before)) == Decimal(str(after))
        except (InvalidOperation, ValueError):
            return False
    return False


def _change(section, change, row_id, label, fields):
    return {
        "section": section,
        "section_label": SECTION_LABELS[section],
        "change": change,
        "id": row_id,
        "label": label or "",
        "fields": fields,
    }


def keep_ids_of(frozen: dict[str, Any]) -> dict[str, set[int]]:
    """Ids of commitments and milestones in a frozen package (see `package_build`)."""
    return {
        section: {row["id"] for row in frozen.get(section, [])}
        for section in ("commitments", "milestones")
    }
