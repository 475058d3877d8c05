"""The hourly sweep over deals whose health is unchanged sends no write and takes no row
lock: it reads, compares with what is stored, and moves on. A deal that changed is
still locked and written."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deals.health import health_sweep
from deals.models import Deal, Flag, HealthSnapshot
from tests import factories as f

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
WRITTEN = re.compile(
    r"^\s*(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+\"?(deals_deal|deals_healthsnapshot|deals_flag)\b",
    re.IGNORECASE,
)


def flagged_deal():
    """An open deal whose 20 % discount raises SELLER_DISCOUNT_OVER_POLICY."""
    deal = f.DealFactory()
    Deal.objects.filter(pk=deal.pk).update(
        list_total=Decimal("10000.00"), net_total=Decimal("8000.00"), cost_total=Decimal("2000.00")
    )
    f.ActivityFactory(deal=deal, notes="last chance")
    return deal


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if WRITTEN.match(q["sql"])]


def locks(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]


def test_a_sweep_over_unchanged_deals_sends_no_write_and_takes_no_lock():
    for _ in range(3):
        flagged_deal()
    now = timezone.now()
    health_sweep(now=now)

    with CaptureQueriesContext(connection) as queries:
        processed = health_sweep(now=now + HOUR)

    assert processed == 3
    assert writes(queries) == []
    if connection.vendor == "postgresql":
        assert locks(queries) == []


def test_a_changed_deal_is_still_locked_and_written_and_only_it():
    quiet, changed = flagged_deal(), flagged_deal()
    first = timezone.now()
    health_sweep(now=first)
    Deal.objects.filter(pk=changed.pk).update(net_total=Decimal("10000.00"))  # no discount

    with CaptureQueriesContext(connection) as queries:
        processed = health_sweep(now=first + HOUR)

    assert processed == 2
    written = writes(queries)
    assert any(re.search(r"deals_deal\b", sql) for sql in written)
    assert any("deals_healthsnapshot" in sql for sql in written)
    if connection.vendor == "postgresql":
        assert len(locks(queries)) == 1
    changed.refresh_from_db()
    quiet.refresh_from_db()
    assert (changed.open_flag_count, changed.health_computed_at) == (1, first + HOUR)
    assert quiet.health_computed_at == first
    assert not Flag.objects.filter(
        deal=changed, code="SELLER_DISCOUNT_OVER_POLICY", status__in=Flag.ACTIVE_STATUSES
    ).exists()
    today = timezone.localdate(first + HOUR)
    snapshot = HealthSnapshot.objects.get(deal=changed, day=today)
    assert snapshot.net_total == Decimal("10000.00")
    assert snapshot.open_flag_count == 1


def test_a_deal_whose_latest_snapshot_differs_is_written_though_its_scores_are_not():
    """The snapshot carries the deal's value and owner too: a change there alone (an edit
    that skipped its recompute) is caught by the sweep's comparison."""
    deal = flagged_deal()
    now = timezone.now()
    health_sweep(now=now)
    HealthSnapshot.objects.filter(deal=deal).update(net_total=Decimal("1.00"))

    with CaptureQueriesContext(connection) as queries:
        health_sweep(now=now + HOUR)

    assert any("deals_healthsnapshot" in sql for sql in writes(queries))
    latest = HealthSnapshot.objects.filter(deal=deal).order_by("-day").first()
    assert latest.net_total == Decimal("8000.00")


def test_a_never_computed_deal_is_written_by_the_sweep():
    deal = flagged_deal()
    health_sweep()
    Deal.objects.filter(pk=deal.pk).update(health_computed_at=None)

    health_sweep()

    deal.refresh_from_db()
    assert deal.health_computed_at is not None


def test_a_first_sweep_reads_each_never_computed_deal_once():
    """Deals never computed all change: the sweep locks and reads them once, without a
    first look that would find every one of them changed."""
    for _ in range(3):
        flagged_deal()

    with CaptureQueriesContext(connection) as queries:
        processed = health_sweep()

    assert processed == 3
    activity_reads = [
        q["sql"]
        for q in queries.captured_queries
        if re.search(r'FROM "?deals_activity"?', q["sql"])
    ]
    assert len(activity_reads) == 1
    assert Deal.objects.filter(health_computed_at__isnull=True).count() == 0
