"""The hourly sweep writes only what changed; "checked at" and "last seen" come from its
one HealthSweep row (deals.health.checked)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from deals.health import health_recompute, health_sweep
from deals.models import Deal, Flag, HealthSnapshot, HealthSweep
from tests import factories as f

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
TABLES = [model._meta.db_table for model in (Deal, Flag, HealthSnapshot)]


def flagged_deal(**kwargs):
    """An open deal whose 20 % discount raises SELLER_DISCOUNT_OVER_POLICY."""
    deal = f.DealFactory(**kwargs)
    Deal.objects.filter(pk=deal.pk).update(
        list_total=Decimal("10000.00"), net_total=Decimal("8000.00"), cost_total=Decimal("2000.00")
    )
    f.ActivityFactory(deal=deal, notes="last chance")
    return deal


def rows_written() -> dict[str, int]:
    """Row versions this transaction wrote per table (PostgreSQL's own counters)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE relname = ANY(%s)",
            [TABLES],
        )
        return dict.fromkeys(TABLES, 0) | dict(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL's row writes")
def test_a_second_sweep_over_unchanged_deals_writes_no_deal_flag_or_snapshot_row():
    for _ in range(5):
        flagged_deal()
    now = timezone.now()
    health_sweep(now=now)
    assert Flag.objects.filter(status=Flag.Status.OPEN).count() == 10  # discount + language
    before = rows_written()

    health_sweep(now=now + HOUR)

    after = rows_written()
    assert {t: after[t] - before[t] for t in TABLES} == dict.fromkeys(TABLES, 0)
    assert HealthSweep.objects.count() == 2


def test_a_second_sweep_writes_only_the_deal_that_changed():
    quiet, changed = flagged_deal(), flagged_deal()
    first = timezone.now()
    health_sweep(now=first)
    Deal.objects.filter(pk=changed.pk).update(net_total=Decimal("10000.00"))  # no discount

    health_sweep(now=first + HOUR)

    quiet.refresh_from_db()
    changed.refresh_from_db()
    assert quiet.health_computed_at == first  # stored: unchanged since the first sweep
    assert changed.health_computed_at == first + HOUR
    assert changed.open_flag_count == 1
    stored = Flag.objects.get(deal=quiet, code="SELLER_DISCOUNT_OVER_POLICY")
    assert stored.last_seen_at == first


def test_the_api_shows_the_newest_sweep_as_checked_at_and_last_seen(api_as, manager_user, team):
    deal = flagged_deal(team=team)
    first = timezone.now() - 2 * HOUR
    health_sweep(now=first)
    health_sweep(now=first + HOUR)
    client = api_as(manager_user)

    detail = client.get(f"/api/v1/deals/{deal.pk}/").json()
    listed = next(d for d in client.get("/api/v1/deals/").json()["results"] if d["id"] == deal.pk)
    health = client.get(f"/api/v1/deals/{deal.pk}/health/").json()
    flags = client.get("/api/v1/flags/", {"deal": deal.pk}).json()["results"]

    expected = first + HOUR
    for when in (detail["health_computed_at"], listed["health_computed_at"], health["computed_at"]):
        assert dt.datetime.fromisoformat(when) == expected
    assert {dt.datetime.fromisoformat(fl["last_seen_at"]) for fl in flags} == {expected}
    assert {dt.datetime.fromisoformat(fl["last_seen_at"]) for fl in health["flags"]} == {expected}


def test_a_deal_the_sweep_no_longer_visits_keeps_its_own_checked_at(api_as, manager_user, team):
    lost = flagged_deal(team=team)
    health_recompute(deal_id=lost.pk)
    Deal.objects.filter(pk=lost.pk).update(
        stage=Deal.Stage.CLOSED_LOST, closed_at=timezone.now(), lost_reason="price"
    )
    computed = Deal.objects.get(pk=lost.pk).health_computed_at
    health_sweep(now=timezone.now() + HOUR)

    detail = api_as(manager_user).get(f"/api/v1/deals/{lost.pk}/").json()
    assert dt.datetime.fromisoformat(detail["health_computed_at"]) == computed


def test_a_deal_created_after_the_sweep_is_not_claimed_checked(api_as, manager_user, team):
    flagged_deal(team=team)
    health_sweep(now=timezone.now())
    late = flagged_deal(team=team)
    detail = api_as(manager_user).get(f"/api/v1/deals/{late.pk}/").json()
    assert detail["health_computed_at"] is None
