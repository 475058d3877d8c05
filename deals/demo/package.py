"""The handoff package of a demo deal, in the shape handoff.package.package_build writes."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from deals import pricing
from deals.models import Commitment

if TYPE_CHECKING:
    from .draft import DealDraft


def _package(d: DealDraft, taken_at: dt.datetime) -> dict:
    """The frozen package, in the shape handoff.package.package_build writes."""
    deal = d.deal
    return {
        "version": 1,
        "taken_at": taken_at.isoformat(),
        "deal": {
            "id": deal.pk,
            "title": deal.title,
            "prospect": {"id": deal.prospect_id, "name": deal.prospect.name},
            "owner": {"id": deal.owner_id, "name": str(deal.owner)},
            "stage": deal.stage,
            "closed_at": deal.closed_at.isoformat() if deal.closed_at else None,
        },
        "needs": [
            {
                "id": n.pk,
                "kind": n.kind,
                "importance": n.importance,
                "statement": n.statement,
                "confirmed": n.confirmed_by_buyer,
            }
            for n in sorted(d.needs, key=lambda n: (-n.importance, n.pk))
        ],
        "line_items": [
            {
                "id": i.pk,
                "name": i.name,
                "quantity": str(i.quantity),
                "unit_list_price": str(i.unit_list_price),
                "unit_price": str(i.unit_price),
                "total": str(pricing.line_total(i.quantity, i.unit_price)),
                "needs": [{"id": n.pk, "statement": n.statement} for n in needs],
            }
            for i, needs in d.items
        ],
        "commitments": [
            {
                "id": c.pk,
                "description": c.description,
                "due_date": c.due_date.isoformat() if c.due_date else None,
                "status": c.status,
            }
            for c in d.commitments
            if c.status == Commitment.Status.OPEN
        ],
        "disclosures": [
            {
                "id": x.pk,
                "kind": x.kind,
                "description": x.description,
                "disclosed_at": x.disclosed_at.isoformat() if x.disclosed_at else None,
            }
            for x in d.disclosures
        ],
        "concessions": [
            {
                "id": c.pk,
                "kind": c.kind,
                "description": c.description,
                "amount": str(c.amount),
                "cost_to_seller": str(c.cost_to_seller),
                "in_exchange_for": c.in_exchange_for,
            }
            for c in d.concessions
        ],
        "contacts": [
            {
                "id": c.pk,
                "name": c.name,
                "title": c.title,
                "email": c.email,
                "phone": c.phone,
                "buying_role": c.buying_role,
            }
            for c in sorted(d.contacts, key=lambda c: (c.name, c.pk))
        ],
        "milestones": [
            {
                "id": m.pk,
                "title": m.title,
                "side": m.side,
                "required_for_decision": m.required_for_decision,
                "due_date": m.due_date.isoformat() if m.due_date else None,
                "completed": False,
            }
            for m in d.milestones
            if m.completed_at is None
        ],
        "notes_for_delivery": deal.notes_for_delivery,
        "pricing": {
            "currency": deal.currency,
            "list_total": str(deal.list_total),
            "net_total": str(deal.net_total),
            "cost_total": str(deal.cost_total),
            "discount_pct": str(deal.discount_pct) if deal.discount_pct is not None else None,
            "margin_pct": str(deal.margin_pct) if deal.margin_pct is not None else None,
        },
    }
