"""Who sees which handoff, the queue tabs, changes since the snapshot and the leak indicator."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import Http404
from django.utils import timezone

from deals.models import Activity, Deal
from handoff import selectors, services
from handoff.models import Handoff
from tests import factories as f

from .conftest import make_accepted, make_claimed, make_draft, make_submitted

pytestmark = pytest.mark.django_db


def visible_ids(user):
    return set(selectors.handoff_list(user=user).values_list("id", flat=True))


def test_each_role_sees_exactly_its_handoffs(
    submitted,
    rep_user,
    other_rep,
    manager_user,
    other_manager,
    delivery_user,
    outsider_delivery,
    admin_user,
):
    assert visible_ids(rep_user) == {submitted.pk}
    assert visible_ids(manager_user) == {submitted.pk}
    assert visible_ids(delivery_user) == {submitted.pk}
    assert visible_ids(admin_user) == {submitted.pk}
    # Same sales team but not the owner; another team's manager; another delivery team.
    assert visible_ids(other_rep) == set()
    assert visible_ids(other_manager) == set()
    assert visible_ids(outsider_delivery) == set()
    with pytest.raises(Http404):
        selectors.handoff_get(user=outsider_delivery, handoff_id=submitted.pk)


def _second_deal(team, rep_user, **fields):
    return f.DealFactory(team=team, owner=rep_user, stage=Deal.Stage.CLOSED_WON, **fields)


def test_queue_tabs_and_their_counts_come_from_one_query(
    won_deal, team, rep_user, delivery_user, teammate, django_assert_num_queries
):
    make_accepted(won_deal, delivery_user)
    make_draft(_second_deal(team, rep_user))
    make_submitted(_second_deal(team, rep_user))
    late = make_submitted(_second_deal(team, rep_user))
    Handoff.objects.filter(pk=late.pk).update(sla_due_at=timezone.now() - dt.timedelta(hours=1))
    make_claimed(_second_deal(team, rep_user), teammate)
    mine = make_claimed(_second_deal(team, rep_user), delivery_user)
    services.handoff_ask(handoff=mine, user=delivery_user, question="?")

    selectors.handoff_list(user=delivery_user).count()  # warm the role caches on the user
    with django_assert_num_queries(1):
        counts = selectors.handoff_queue_counts(user=delivery_user)

    assert counts == {
        "draft": 1,
        "unclaimed": 2,
        "mine": 1,
        "needs_info": 1,
        "overdue": 1,
        "accepted": 1,
        "leaks": 0,
        "all": 6,
    }
    assert [h.pk for h in selectors.handoff_queue(user=delivery_user, tab="overdue")] == [late.pk]
    assert [h.pk for h in selectors.handoff_queue(user=delivery_user, tab="mine")] == [mine.pk]
    assert selectors.handoff_queue(user=teammate, tab="mine").get().assignee == teammate


def test_a_buyer_support_request_after_acceptance_is_a_leak(accepted, won_deal, delivery_user):
    f.ActivityFactory(
        deal=won_deal,
        kind=Activity.Kind.SUPPORT,
        initiated_by=Activity.InitiatedBy.BUYER,
        occurred_at=accepted.accepted_at - dt.timedelta(days=1),
        notes="Before acceptance: not a leak.",
    )
    f.ActivityFactory(
        deal=won_deal,
        kind=Activity.Kind.SUPPORT,
        initiated_by=Activity.InitiatedBy.REP,
        occurred_at=accepted.accepted_at + dt.timedelta(days=1),
        notes="Rep-initiated: not a leak.",
    )
    assert selectors.handoff_get(user=delivery_user, handoff_id=accepted.pk).has_leak is False

    leak = f.ActivityFactory(
        deal=won_deal,
        kind=Activity.Kind.SUPPORT,
        initiated_by=Activity.InitiatedBy.BUYER,
        occurred_at=accepted.accepted_at + dt.timedelta(hours=2),
        notes="Login is broken, can you help?",
    )

    handoff = selectors.handoff_get(user=delivery_user, handoff_id=accepted.pk)
    assert handoff.has_leak is True
    assert list(selectors.handoff_leak_activities(handoff=handoff)) == [leak]
    assert selectors.handoff_queue_counts(user=delivery_user)["leaks"] == 1


def test_changes_since_the_snapshot_list_what_moved_on_the_deal(submitted, won_deal):
    assert selectors.handoff_changes_since_snapshot(handoff=submitted) == []

    need = won_deal.needs.get(importance=5)
    need.importance = 3
    need.save()
    f.LineItemFactory(deal=won_deal, name="Training days")
    won_deal.disclosures.all().delete()
    won_deal.commitments.filter(status="open").update(status="done")
    won_deal.milestones.filter(completed_at__isnull=True).update(completed_at=timezone.now())
    Deal.objects.filter(pk=won_deal.pk).update(net_total=Decimal("800.00"))

    changes = selectors.handoff_changes_since_snapshot(handoff=Handoff.objects.get(pk=submitted.pk))
    summary = {(c["section"], c["change"], c["label"]) for c in changes}
    assert summary == {
        ("needs", "changed", "Onboard a customer in a week"),
        ("line_items", "added", "Training days"),
        ("disclosures", "removed", "No on-premise deployment."),
        ("commitments", "changed", "Migrate their historical data"),
        ("milestones", "changed", "Kickoff workshop"),
        ("pricing", "changed", "Deal pricing"),
    }
    by_section = {c["section"]: c for c in changes}
    assert by_section["needs"]["fields"] == [{"field": "importance", "before": 5, "after": 3}]
    assert by_section["commitments"]["fields"] == [
        {"field": "status", "before": "open", "after": "done"}
    ]
    assert {"field": "net_total", "before": "900.00", "after": "800.00"} in by_section["pricing"][
        "fields"
    ]


def test_a_draft_has_no_snapshot_and_so_no_changes(draft):
    assert selectors.handoff_changes_since_snapshot(handoff=draft) == []


def test_check_ins_are_scoped_like_their_handoffs(accepted, delivery_user, outsider_delivery):
    assert selectors.check_in_list(user=delivery_user).count() == 3
    assert selectors.check_in_list(user=outsider_delivery).count() == 0
