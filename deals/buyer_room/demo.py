"""Buyer rooms for two demo stories, written through the services (so every action has
its audit event and buyer activity, as in real use):

- "oversold" (Dunmore Clinics): the buyer confirms the need the proposal serves best,
  corrects the importance the rep recorded for "Fewer no-shows" from 3 down to 1 (an
  oversold need), and asks why the ERP connector is in the proposal;
- "security-review" (Acme Logistics): after the meeting with the VP the buyer answers the
  pulse — they felt pushed — which raises BUYER_REPORTED_PRESSURE.

Idempotent: a story deal that already has a share is left alone.
"""

from __future__ import annotations

from django.db import transaction
from django.test.utils import override_settings

from deals.models import Activity, Deal

from . import services
from .models import BuyerShare


def _story(key: str) -> Deal | None:
    from deals.demo import STORY_PREFIX

    return (
        Deal.objects.select_related("owner", "prospect", "team")
        .filter(external_id=f"{STORY_PREFIX}{key}")
        .first()
    )


def demo_buyer_rooms_ensure() -> list[int]:
    """Write the demo rooms that are missing; returns the deal ids it touched."""
    touched: list[int] = []
    # The demo's buyers and reps have example addresses: nothing is mailed while seeding.
    quiet = override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
    with quiet, transaction.atomic():
        oversold = _story("oversold")
        if oversold and not BuyerShare.objects.filter(deal=oversold).exists():
            _oversold_room(oversold)
            touched.append(oversold.pk)
        pushed = _story("security-review")
        if pushed and not BuyerShare.objects.filter(deal=pushed).exists():
            _pushed_room(pushed)
            touched.append(pushed.pk)
    return touched


def _visit(deal: Deal, contact_name: str) -> services.BuyerVisit:
    contact = deal.prospect.contacts.get(name=contact_name)
    share, _token = services.buyer_share_create(
        deal=deal, contact=contact, user=deal.owner, send_email=False
    )
    visit = services.BuyerVisit(share=share, ip="192.0.2.10", user_agent="Demo phone browser")
    services.buyer_room_open(visit=visit)
    return visit


def _oversold_room(deal: Deal) -> None:
    visit = _visit(deal, "Helen Cho")
    hold = deal.needs.get(statement__startswith="Patients wait on hold")
    services.buyer_need_confirm(visit=visit, need_id=hold.pk)
    no_shows = deal.needs.get(statement="Fewer no-shows")
    services.buyer_need_change(
        visit=visit, need_id=no_shows.pk, statement=no_shows.statement, importance=1
    )
    services.buyer_question_ask(
        visit=visit,
        question="Why are the analytics and the ERP connector in the proposal? We have no ERP.",
    )


def _pushed_room(deal: Deal) -> None:
    visit = _visit(deal, "Victor Hale")
    meeting = deal.activities.filter(kind=Activity.Kind.MEETING).order_by("-occurred_at").first()
    if meeting is None:
        return
    services.buyer_pulse_answer(
        visit=visit,
        meeting_id=meeting.pk,
        got_what_needed=False,
        felt_pushed=True,
        next_step_agreed=False,
    )
    services.buyer_question_ask(
        visit=visit, question="Can we finish the security review before we talk about signing?"
    )
