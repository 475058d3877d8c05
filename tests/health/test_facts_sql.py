"""PostgreSQL's one-statement facts loader reads exactly what the per-kind loader reads.

The sweep and a recompute both use the one-statement loader on PostgreSQL; if it read a
child in another order or type than the per-kind loader, evidence digests would differ
and acknowledged flags would reopen for no reason.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deals.health.facts import load_active_flags, load_deal_rows, load_facts
from deals.health.policy import policies_by_team
from deals.models import Deal, Flag
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement loader is PostgreSQL's")


def rich_deal():
    """A deal with several rows of every kind of child, ties in the orderings included."""
    deal = f.DealFactory()
    now = timezone.now().replace(microsecond=123456)
    needs = [
        f.NeedFactory(deal=deal, importance=3, statement="Reporting"),
        f.NeedFactory(deal=deal, importance=5, statement="SSO", confirmed_by_buyer=False),
        f.NeedFactory(deal=deal, importance=3, statement="Audit trail"),
    ]
    f.LineItemFactory(deal=deal, name="Licence", needs=[needs[2], needs[0]])
    f.LineItemFactory(deal=deal, name="Training")
    f.DiscoveryCallFactory(deal=deal, held_at=now - dt.timedelta(days=3))
    f.DiscoveryCallFactory(deal=deal, held_at=now - dt.timedelta(days=3))
    f.BuyerMilestoneFactory(deal=deal, title="Security review")
    f.BuyerMilestoneFactory(deal=deal, title="Legal", completed_at=now - dt.timedelta(hours=5))
    for hours in (1, 1, 30):
        f.ActivityFactory(
            deal=deal,
            occurred_at=now - dt.timedelta(hours=hours),
            notes="Final offer — sign today",
            close_attempt=hours == 1,
            senior_present=True,
        )
    f.ConcessionFactory(deal=deal, kind="price_cut", amount=Decimal("1234.56"), in_exchange_for="")
    f.ConcessionFactory(deal=deal)
    f.CommitmentFactory(deal=deal, due_date=None)
    f.CommitmentFactory(deal=deal)
    f.DisclosureFactory(deal=deal)
    f.FlagFactory(deal=deal, code="PRESSURE_CHASING")
    f.FlagFactory(deal=deal, code="SELLER_NO_EXCHANGE", status=Flag.Status.ACKNOWLEDGED)
    f.FlagFactory(deal=deal, code="BUYER_NO_NEEDS", status=Flag.Status.RESOLVED)
    # The buyer room: a need the buyer confirmed, and two pulses after a meeting.
    from deals.buyer_room.models import BuyerPulse

    needs[0].confirmed_by_buyer_at = now - dt.timedelta(hours=2)
    needs[0].save()
    meeting = f.ActivityFactory(deal=deal, kind="meeting", occurred_at=now - dt.timedelta(days=1))
    for i, pushed in enumerate((True, False)):
        BuyerPulse.objects.create(
            deal=deal,
            contact=f.ContactFactory(prospect=deal.prospect),
            meeting=meeting,
            got_what_needed=not pushed,
            felt_pushed=pushed,
            next_step_agreed=True,
            answered_at=now - dt.timedelta(hours=i),
        )
    for days in (10, 20):  # two edits of the close date, recorded by simple-history
        deal.refresh_from_db()
        deal.expected_close_date = timezone.localdate() + dt.timedelta(days=days)
        deal.save()
    return deal


def test_one_statement_loader_matches_the_per_kind_loader():
    from deals.health.facts_sql import load_batch_sql

    deal, plain = rich_deal(), f.DealFactory()
    won = f.HandoffFactory(submitted_at=timezone.now()).deal
    ids = [deal.id, plain.id, won.id]
    policies = policies_by_team()

    with transaction.atomic():
        batch = load_batch_sql(ids, policies, skip_locked=False)
    rows = load_deal_rows(Deal.objects.filter(id__in=ids).order_by("id"))
    expected = load_facts(rows, policies)
    flags = load_active_flags(ids)

    assert batch.rows == rows
    for deal_id in ids:
        assert batch.facts[deal_id] == expected[deal_id], deal_id
        assert batch.flags[deal_id] == flags.get(deal_id, {})
    loaded = batch.facts[deal.id]
    assert [n.statement for n in loaded.needs] == ["SSO", "Reporting", "Audit trail"]
    assert loaded.line_items[0].need_ids == tuple(sorted(loaded.line_items[0].need_ids))
    assert loaded.concessions[0].amount == Decimal("1234.56")
    assert loaded.activities[0].occurred_at.microsecond == 123456
    assert len(loaded.close_date_changes) == 2
    assert batch.facts[won.id].handoff is not None
    assert [p.felt_pushed for p in loaded.buyer_pulses] == [True, False]  # newest first
    assert loaded.buyer_pulses[0].answered_at.microsecond == 123456
    assert [n.confirmed_by_buyer_at is not None for n in loaded.needs] == [False, True, False]
    assert set(batch.flags[deal.id]) == {"PRESSURE_CHASING", "SELLER_NO_EXCHANGE"}


def test_one_statement_loader_is_one_query_for_a_whole_batch():
    from deals.health.facts_sql import load_batch_sql

    ids = [rich_deal().id for _ in range(3)]
    policies = policies_by_team()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        batch = load_batch_sql(ids, policies, skip_locked=True)
    assert [row.id for row in batch.rows] == sorted(ids)
    assert len(queries) == 1


def test_a_recompute_after_an_edit_is_five_statements():
    """The Celery task's work after every edit: policy, locked facts, flags, deal scores,
    today's snapshot (inside the test's transaction, plus a savepoint and its release)."""
    from deals.health import health_recompute

    deal = rich_deal()
    health_recompute(deal_id=deal.id)
    with CaptureQueriesContext(connection) as queries:
        result = health_recompute(deal_id=deal.id)
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert statements == ["SAVEPOINT", "SELECT", "SELECT", "UPDATE", "UPDATE", "INSERT", "RELEASE"]
    assert {fl.code for fl in result.flags} == set(
        Flag.objects.filter(deal=deal, status__in=Flag.ACTIVE_STATUSES).values_list(
            "code", flat=True
        )
    )
