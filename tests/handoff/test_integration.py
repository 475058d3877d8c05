"""The handoff with its neighbours: closing through the deal services, and the health flags
(HANDOFF_OVERDUE, HANDOFF_LEAK, COMMITMENT_OVERDUE) the workflow raises and clears."""

import datetime as dt

import pytest
from django.utils import timezone

from deals.health import health_recompute
from deals.models import Activity, Deal, Flag
from handoff import services
from handoff.models import Handoff
from tests import factories as f

# Real commits: the health recompute is queued on commit, coalesced per transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def active_codes(deal):
    return set(
        Flag.objects.filter(deal=deal, status__in=Flag.ACTIVE_STATUSES).values_list(
            "code", flat=True
        )
    )


def test_closing_won_twice_through_the_deal_services_keeps_one_handoff(
    team, rep_user, delivery_team
):
    from deals import services as deal_services

    deal = f.DealFactory(team=team, owner=rep_user, stage=Deal.Stage.NEGOTIATION)
    f.LineItemFactory(deal=deal)

    f.DisclosureFactory(deal=deal, kind="limitation")  # nothing left to confirm on close
    deal_services.deal_change_stage(deal=deal, user=rep_user, stage=Deal.Stage.CLOSED_WON)
    deal_services.deal_reopen(deal=deal, user=rep_user, confirm=True, reason="New scope")
    deal_services.deal_change_stage(deal=deal, user=rep_user, stage=Deal.Stage.CLOSED_WON)

    handoff = Handoff.objects.get(deal=deal)
    assert handoff.status == Handoff.Status.DRAFT
    assert handoff.delivery_team == delivery_team


def test_a_handoff_unclaimed_past_its_sla_is_flagged_until_claimed(
    submitted, won_deal, delivery_user
):
    late = timezone.now() - dt.timedelta(hours=49)
    Handoff.objects.filter(pk=submitted.pk).update(
        submitted_at=late, sla_due_at=late + dt.timedelta(hours=48)
    )
    health_recompute(deal_id=won_deal.pk)
    assert "HANDOFF_OVERDUE" in active_codes(won_deal)

    services.handoff_claim(handoff=submitted, user=delivery_user)

    assert "HANDOFF_OVERDUE" not in active_codes(won_deal)


def test_a_buyer_support_request_after_acceptance_raises_handoff_leak(accepted, won_deal):
    health_recompute(deal_id=won_deal.pk)
    assert "HANDOFF_LEAK" not in active_codes(won_deal)

    f.ActivityFactory(
        deal=won_deal,
        kind=Activity.Kind.SUPPORT,
        initiated_by=Activity.InitiatedBy.BUYER,
        occurred_at=timezone.now(),
        notes="Our dashboard is empty, can you look?",
    )
    health_recompute(deal_id=won_deal.pk)

    assert "HANDOFF_LEAK" in active_codes(won_deal)


def test_delivery_marking_an_overdue_commitment_done_clears_commitment_overdue(
    accepted, won_deal, delivery_user
):
    commitment = won_deal.commitments.get(status="open")
    commitment.due_date = timezone.localdate() - dt.timedelta(days=3)
    commitment.save()
    health_recompute(deal_id=won_deal.pk)
    assert "COMMITMENT_OVERDUE" in active_codes(won_deal)

    services.handoff_commitment_set_status(commitment=commitment, user=delivery_user, status="done")

    assert "COMMITMENT_OVERDUE" not in active_codes(won_deal)
