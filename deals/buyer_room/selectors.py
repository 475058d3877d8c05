"""Reads of the buyer room.

`buyer_room_content` builds what the buyer sees as plain dicts of whitelisted fields,
never model instances: a template cannot reach `unit_cost`, a flag or a note through an
attribute it was never given. The staff reads are scoped by the deal the caller fetched
through `deals.selectors` (so visibility is decided there).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deals.models import Activity, BuyerMilestone, Deal, DiscoveryCall, LineItem, Need

from .forms import NEED_KINDS
from .models import (
    BuyerCheckInAnswer,
    BuyerPulse,
    BuyerRoomEvent,
    BuyerShare,
    MilestoneDateProposal,
)
from .services import room_is_read_only, share_is_live
from .tokens import token_hash, token_matches, token_well_formed

# The buyer's words for the kinds, translated (the models' labels are the staff's English).
DISCLOSURE_KINDS = {
    "limitation": _("Limitation"),
    "risk": _("Risk"),
    "alternative": _("Cheaper alternative"),
    "pricing": _("Pricing"),
}
# A pulse is asked for meetings of the last two weeks: later, memory of it is too vague.
PULSE_WINDOW = dt.timedelta(days=14)
PANEL_EVENTS = 30
# Stands in for a malformed token so every lookup costs the same hash and query.
_DECOY = "0" * 43


def buyer_share_for_token(token: str) -> BuyerShare | None:
    """The live share a token opens, else None — for an unknown, malformed, expired or
    revoked token alike, by the same path (one hash, one indexed query), so neither the
    answer nor its timing tells them apart."""
    well_formed = token_well_formed(token)
    candidate = token if well_formed else _DECOY
    share = (
        BuyerShare.objects.select_related(
            "deal", "deal__team", "deal__owner", "deal__prospect", "contact", "check_in"
        )
        .filter(token_hash=token_hash(candidate))
        .first()
    )
    if share is None or not token_matches(candidate, share.token_hash):
        return None
    return share if well_formed and share_is_live(share) else None


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def pulse_meeting(share: BuyerShare, now: dt.datetime | None = None) -> Activity | None:
    """The latest meeting of the last two weeks this contact has not answered about."""
    now = now or timezone.now()
    return (
        Activity.objects.filter(
            deal_id=share.deal_id,
            kind=Activity.Kind.MEETING,
            occurred_at__lte=now,
            occurred_at__gte=now - PULSE_WINDOW,
        )
        .exclude(buyer_pulses__contact_id=share.contact_id)
        .order_by("-occurred_at", "-id")
        .first()
    )


def buyer_room_content(share: BuyerShare) -> dict[str, Any]:
    """Everything the buyer sees, and nothing else."""
    deal = share.deal
    needs: list[dict[str, Any]] = [
        {
            "id": need_id,
            "kind_label": NEED_KINDS.get(kind, ""),
            "statement": statement,
            "importance": importance,
            "confirmed": confirmed_at is not None,
        }
        for need_id, kind, statement, importance, confirmed_at in Need.objects.filter(
            deal_id=deal.pk
        )
        .order_by("-importance", "id")
        .values_list("id", "kind", "statement", "importance", "confirmed_by_buyer_at")
    ]
    statement_of = {n["id"]: n["statement"] for n in needs}

    items = []
    for item in LineItem.objects.filter(deal_id=deal.pk).prefetch_related(
        Prefetch("needs", queryset=Need.objects.only("id"))
    ):
        items.append(
            {
                "name": item.name,
                "quantity": item.quantity.normalize(),
                "unit_price": _money(item.unit_price),
                "total": _money(item.quantity * item.unit_price),
                "serves": [statement_of[n.id] for n in item.needs.all() if n.id in statement_of],
            }
        )
    discount = deal.list_total - deal.net_total if deal.list_total else Decimal("0")

    milestones = []
    for m in BuyerMilestone.objects.filter(deal_id=deal.pk).prefetch_related("date_proposals"):
        proposals = [p for p in m.date_proposals.all() if p.contact_id == share.contact_id]
        milestones.append(
            {
                "id": m.id,
                "title": m.title,
                "yours": m.side == BuyerMilestone.Side.BUYER,
                "required_for_decision": m.required_for_decision,
                "due_date": m.due_date,
                "done": m.completed_at is not None,
                "proposed_date": proposals[0].proposed_date if proposals else None,
            }
        )
    call = DiscoveryCall.objects.filter(deal_id=deal.pk).exclude(next_step="").first()
    meeting = None if room_is_read_only(deal) else pulse_meeting(share)
    content: dict[str, Any] = {
        "deal_title": deal.title,
        "team_name": deal.team.name,
        "rep_name": deal.owner.get_full_name() or deal.owner.get_username(),
        "contact_name": share.contact.name,
        "prospect_name": deal.prospect.name,
        "currency": deal.currency,
        "read_only": room_is_read_only(deal),
        "expires_at": share.expires_at,
        "needs": needs,
        "items": items,
        "net_total": _money(deal.net_total),
        "discount": _money(discount) if discount > 0 else None,
        "milestones": milestones,
        "disclosures": [
            {"kind": DISCLOSURE_KINDS.get(d.kind, ""), "description": d.description}
            for d in deal.disclosures.all()
        ],
        "commitments": [
            {"description": c.description, "due_date": c.due_date, "status": c.status}
            for c in deal.commitments.all()
        ],
        "next_step": call.next_step if call else "",
        "pulse_meeting": {"id": meeting.id, "occurred_at": meeting.occurred_at}
        if meeting
        else None,
        "check_in": None,
    }
    if share.check_in_id:
        content["check_in"] = _check_in_content(share, needs)
    return content


def _check_in_content(share: BuyerShare, needs: list[dict[str, Any]]) -> dict[str, Any]:
    assert share.check_in is not None
    sold_ids = set(
        Need.objects.filter(deal_id=share.deal_id, line_items__isnull=False).values_list(
            "id", flat=True
        )
    )
    answer = (
        BuyerCheckInAnswer.objects.filter(check_in_id=share.check_in_id, contact=share.contact)
        .prefetch_related("need_values", "promises")
        .first()
    )
    values = {v.need_id: v.value for v in answer.need_values.all()} if answer else {}
    kept = {p.commitment_id: p.kept for p in answer.promises.all()} if answer else {}
    return {
        "id": share.check_in_id,
        "day_offset": share.check_in.day_offset,
        "answered_at": answer.answered_at if answer else None,
        "comment": answer.comment if answer else "",
        "needs": [
            {"id": n["id"], "statement": n["statement"], "value": values.get(n["id"])}
            for n in needs
            if n["id"] in sold_ids
        ],
        "promises": [
            {"id": c.id, "description": c.description, "kept": kept.get(c.id)}
            for c in share.deal.commitments.all()
        ],
    }


# --- staff side ----------------------------------------------------------------------------


def buyer_share_list(*, deal: Deal) -> QuerySet[BuyerShare]:
    return BuyerShare.objects.filter(deal=deal).select_related("contact", "created_by")


def buyer_room_panel(*, deal: Deal, with_contacts: bool = True) -> dict[str, Any]:
    """The deal page's buyer-room card: shares, the audit trail, the buyer's pulses and
    proposed dates. A fixed number of queries whatever the deal holds (two when the room
    was never shared: nothing a buyer did can exist without a share)."""
    now = timezone.now()
    every_share = list(buyer_share_list(deal=deal))
    shares = [s for s in every_share if s.check_in_id is None]
    for share in shares:
        # For the template: the state of each link at this moment.
        share.live = share_is_live(share, now)  # type: ignore[attr-defined]
        share.expired = share.revoked_at is None and share.expires_at <= now  # type: ignore[attr-defined]
    panel: dict[str, Any] = {
        "shares": shares,
        "events": [],
        "pulses": [],
        "proposals": [],
        "contacts": list(deal.prospect.contacts.all()) if with_contacts else [],
    }
    if every_share:
        panel["events"] = list(
            BuyerRoomEvent.objects.filter(deal=deal).select_related("share__contact", "user")[
                :PANEL_EVENTS
            ]
        )
        panel["pulses"] = list(
            BuyerPulse.objects.filter(deal=deal).select_related("contact", "meeting")
        )
        panel["proposals"] = list(
            MilestoneDateProposal.objects.filter(milestone__deal=deal)
            .select_related("milestone", "contact")
            .order_by("-at")[:10]
        )
    return panel


def buyer_check_in_answers(*, check_in_ids: list[int]) -> dict[int, list[BuyerCheckInAnswer]]:
    """The customers' own answers per check-in, for the handoff page."""
    found: dict[int, list[BuyerCheckInAnswer]] = {}
    for answer in (
        BuyerCheckInAnswer.objects.filter(check_in_id__in=check_in_ids)
        .select_related("contact")
        .prefetch_related("need_values__need", "promises__commitment")
    ):
        found.setdefault(answer.check_in_id, []).append(answer)
    return found
