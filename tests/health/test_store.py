"""Stored health: flag upsert and dedup, resolve, acknowledge and reopen, scores, sweep."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from deals.health import (
    flag_acknowledge,
    health_recompute,
    health_recompute_on_commit,
    health_sweep,
    store,
)
from deals.health.store import FlagNotActive
from deals.models import Deal, Flag, HealthSnapshot
from tests import factories as f

pytestmark = pytest.mark.django_db


DAY = dt.timedelta(days=1)


def discounted(deal, net="8000.00"):
    Deal.objects.filter(pk=deal.pk).update(
        list_total=Decimal("10000.00"), net_total=Decimal(net), cost_total=Decimal("2000.00")
    )
    return deal


def active(deal):
    return list(Flag.objects.filter(deal=deal, status__in=Flag.ACTIVE_STATUSES).order_by("code"))


def test_recompute_stores_flags_and_scores_without_touching_version_or_history():
    deal = discounted(f.DealFactory())
    history_rows = deal.history.count()

    result = health_recompute(deal_id=deal.id)

    deal.refresh_from_db()
    assert [fl.code for fl in result.flags] == ["SELLER_DISCOUNT_OVER_POLICY"]
    assert (result.buyer_score, result.seller_score, result.balance) == (100, 80, "win_win")
    assert (deal.buyer_score, deal.seller_score, deal.balance) == (100, 80, "win_win")
    assert deal.open_flag_count == 1
    assert deal.health_computed_at == result.computed_at
    assert deal.version == 1
    assert deal.history.count() == history_rows
    stored = active(deal)[0]
    assert stored.evidence["discount_pct"] == "20.00"
    assert stored.evidence_digest == store.evidence_digest(stored.evidence)


def test_recomputing_twice_keeps_one_flag_and_moves_last_seen():
    deal = discounted(f.DealFactory())
    first_at = timezone.now() - DAY
    health_recompute(deal_id=deal.id, now=first_at)
    health_recompute(deal_id=deal.id)

    flags = list(Flag.objects.filter(deal=deal))
    assert len(flags) == 1
    assert flags[0].first_seen_at == first_at
    assert flags[0].last_seen_at > first_at


def test_flag_resolves_when_the_condition_clears_and_a_relapse_opens_a_new_one():
    deal = discounted(f.DealFactory())
    health_recompute(deal_id=deal.id)
    flag = active(deal)[0]

    discounted(deal, net="9000.00")
    result = health_recompute(deal_id=deal.id)

    flag.refresh_from_db()
    assert flag.status == "resolved"
    assert flag.resolved_at == result.computed_at
    assert result.flags == []
    assert result.seller_score == 100

    discounted(deal, net="7000.00")
    health_recompute(deal_id=deal.id)
    assert [fl.id != flag.id for fl in active(deal)] == [True]
    assert Flag.objects.filter(deal=deal).count() == 2


def test_acknowledged_flag_stays_acknowledged_until_its_evidence_changes(manager_user, team):
    deal = discounted(f.DealFactory(team=team))
    health_recompute(deal_id=deal.id)
    flag = active(deal)[0]

    flag_acknowledge(flag=flag, user=manager_user, note="Strategic logo; approved by the VP.")
    health_recompute(deal_id=deal.id)
    flag.refresh_from_db()
    assert flag.status == "acknowledged"
    assert flag.acknowledged_by == manager_user
    assert flag.acknowledge_note == "Strategic logo; approved by the VP."

    discounted(deal, net="7500.00")  # a deeper discount is new evidence
    health_recompute(deal_id=deal.id)
    flag.refresh_from_db()
    assert flag.status == "open"
    assert flag.evidence["discount_pct"] == "25.00"


def test_acknowledged_flags_still_count_against_the_score(manager_user, team):
    deal = discounted(f.DealFactory(team=team))
    health_recompute(deal_id=deal.id)
    flag_acknowledge(flag=active(deal)[0], user=manager_user, note="Accepted.")

    result = health_recompute(deal_id=deal.id)

    assert result.seller_score == 80
    assert [fl.status for fl in result.flags] == ["acknowledged"]


def test_only_a_manager_of_the_deals_team_acknowledges_with_a_note(
    rep_user, other_manager, manager_user, admin_user, team
):
    deal = discounted(f.DealFactory(team=team, owner=rep_user))
    health_recompute(deal_id=deal.id)
    flag = active(deal)[0]

    with pytest.raises(PermissionDenied):
        flag_acknowledge(flag=flag, user=rep_user, note="Fine by me")
    with pytest.raises(PermissionDenied):
        flag_acknowledge(flag=flag, user=other_manager, note="Fine by me")
    with pytest.raises(ValidationError) as err:
        flag_acknowledge(flag=flag, user=manager_user, note="   ")
    assert "note" in err.value.message_dict
    flag.refresh_from_db()
    assert flag.status == "open"

    assert flag_acknowledge(flag=flag, user=admin_user, note="ok").status == "acknowledged"


def test_a_resolved_flag_cannot_be_acknowledged(manager_user, team):
    deal = discounted(f.DealFactory(team=team))
    health_recompute(deal_id=deal.id)
    flag = active(deal)[0]
    discounted(deal, net="10000.00")
    health_recompute(deal_id=deal.id)

    with pytest.raises(FlagNotActive):
        flag_acknowledge(flag=flag, user=manager_user, note="late")


def test_a_recompute_that_loses_the_insert_race_updates_the_winners_flag(monkeypatch):
    """Two recomputes read 'no flag yet'; the second insert hits the unique constraint,
    retries, reads the first one's flag and updates it instead of duplicating it."""
    deal = discounted(f.DealFactory())
    real_load_batch = store.recompute.load_batch
    calls = {"n": 0}

    def stale_read(ids, policies, **kwargs):
        calls["n"] += 1
        batch = real_load_batch(ids, policies, **kwargs)
        if calls["n"] == 1:
            # The other recompute commits its flag after our read.
            monkeypatch.setattr(store.recompute, "load_batch", real_load_batch)
            health_recompute(deal_id=deal.id)
            monkeypatch.setattr(store.recompute, "load_batch", stale_read)
            batch.flags = {deal_id: {} for deal_id in batch.flags}
        return batch

    monkeypatch.setattr(store.recompute, "load_batch", stale_read)
    result = health_recompute(deal_id=deal.id)

    assert [fl.code for fl in result.flags] == ["SELLER_DISCOUNT_OVER_POLICY"]
    assert Flag.objects.filter(deal=deal).count() == 1
    assert calls["n"] == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_recomputes_leave_one_active_flag_per_code():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL row locks")
    deals = [discounted(f.DealFactory()) for _ in range(3)]
    for deal in deals:
        f.BuyerMilestoneFactory(deal=deal)
        f.ActivityFactory(deal=deal, close_attempt=True)
    errors = []
    barrier = threading.Barrier(4)

    def recompute_all():
        try:
            barrier.wait()
            for deal in deals:
                health_recompute(deal_id=deal.id)
            health_sweep()
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=recompute_all) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    for deal in deals:
        assert [fl.code for fl in active(deal)] == [
            "PRESSURE_PREMATURE_CLOSE",
            "SELLER_DISCOUNT_OVER_POLICY",
        ]


def test_one_snapshot_per_deal_per_day_holds_the_latest_scores():
    deal = discounted(f.DealFactory())
    yesterday = timezone.now() - DAY
    health_recompute(deal_id=deal.id, now=yesterday)
    health_recompute(deal_id=deal.id)
    discounted(deal, net="5000.00")
    health_recompute(deal_id=deal.id)

    snapshots = list(HealthSnapshot.objects.filter(deal=deal).order_by("day"))
    assert [s.day for s in snapshots] == [
        timezone.localdate(yesterday),
        timezone.localdate(),
    ]
    assert snapshots[0].seller_score == 80
    # 50 % discount (critical, 30) and 60 % margin is fine.
    assert (snapshots[1].seller_score, snapshots[1].balance) == (70, "seller_loses")
    assert snapshots[1].net_total == Decimal("5000.00")
    assert snapshots[1].team_id == deal.team_id


def test_pressure_flags_are_counted_on_the_snapshot():
    deal = f.DealFactory()
    f.ActivityFactory(deal=deal, notes="This is our final offer, sign today.")
    health_recompute(deal_id=deal.id)

    snap = HealthSnapshot.objects.get(deal=deal)
    assert (snap.pressure_flag_count, snap.open_flag_count) == (1, 1)


def test_recompute_of_a_deleted_deal_is_a_no_op():
    assert health_recompute(deal_id=987654) is None


def test_edit_committed_with_on_commit_queues_one_recompute(django_capture_on_commit_callbacks):
    deal = f.DealFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        discounted(deal)
        health_recompute_on_commit(deal_id=deal.id)
        health_recompute_on_commit(deal_id=deal.id)

    # One recompute; the new flag's notification to the owner is queued after it.
    assert [type(cb).__name__ for cb in callbacks][:1] == ["_RecomputeBatch"]
    assert sum(type(cb).__name__ == "_RecomputeBatch" for cb in callbacks) == 1
    deal.refresh_from_db()
    assert deal.seller_score == 80
    assert [fl.code for fl in active(deal)] == ["SELLER_DISCOUNT_OVER_POLICY"]


def test_sweep_visits_open_deals_and_won_deals_with_a_handoff_only():
    now = timezone.now()
    stale = f.DealFactory()
    f.ActivityFactory(deal=stale, initiated_by="buyer", occurred_at=now - 30 * DAY)
    waiting = f.HandoffFactory(status="submitted", submitted_at=now - 3 * DAY).deal
    lost = f.DealFactory(stage="closed_lost")
    won_without_handoff = f.DealFactory(stage="closed_won")

    processed = health_sweep(now=now)

    assert processed == 2
    assert [fl.code for fl in active(stale)] == ["RELATIONSHIP_STALE"]
    assert "HANDOFF_OVERDUE" in [fl.code for fl in active(waiting)]
    for untouched in (lost, won_without_handoff):
        untouched.refresh_from_db()
        assert untouched.health_computed_at is None


def test_sweep_twice_is_idempotent_and_resolves_what_time_cleared():
    now = timezone.now()
    deal = f.DealFactory()
    touches = [
        f.ActivityFactory(deal=deal, initiated_by="rep", occurred_at=now - i * DAY)
        for i in range(1, 5)
    ]
    assert health_sweep(now=now, batch_size=2) == 1
    assert health_sweep(now=now, batch_size=2) == 1
    flags = list(Flag.objects.filter(deal=deal))
    assert [(fl.code, fl.status) for fl in flags] == [("PRESSURE_CHASING", "open")]
    assert len(flags[0].evidence["activity_ids"]) == len(touches)

    health_sweep(now=now + 5 * DAY)  # the oldest follow-ups leave the 7-day window
    flags[0].refresh_from_db()
    assert flags[0].status == "resolved"


def test_sweep_queries_do_not_grow_with_the_number_of_deals(django_assert_max_num_queries):
    def make(n):
        deals = []
        for _ in range(n):
            deal = discounted(f.DealFactory())
            f.LineItemFactory(deal=deal)
            f.ActivityFactory(deal=deal, notes="last chance")
            deals.append(deal)
        return deals

    make(2)
    health_sweep()
    with django_assert_max_num_queries(40) as small:
        health_sweep()
    make(10)
    health_sweep()  # raises the new deals' flags
    with django_assert_max_num_queries(40) as large:
        health_sweep()
    assert len(large) == len(small)


def test_sweep_plan_cuts_the_sweep_into_ranges_that_cover_every_deal_once(db):
    from deals.health import health_sweep_plan

    deals = [f.DealFactory() for _ in range(7)]
    plan = health_sweep_plan(batch_size=3)
    assert len(plan) == 3
    covered = [d.id for d in deals if any(lo <= d.id <= hi for lo, hi in plan)]
    assert sorted(covered) == sorted(d.id for d in deals)
    assert all(a[1] < b[0] for a, b in zip(plan, plan[1:], strict=False))


def test_sweep_task_fans_out_batches_that_score_every_open_deal(db):
    from deals.models import Deal
    from deals.tasks import health_sweep_task

    for _ in range(5):
        f.DealFactory()
    batches = health_sweep_task.apply().get()
    assert batches == 1
    assert not Deal.objects.filter(health_computed_at__isnull=True).exists()


def test_after_every_batch_the_sweep_tidies_the_tables_once(db, monkeypatch):
    """The chord's callback runs once, after the last batch has scored its deals."""
    from deals import health
    from deals.models import Deal
    from deals.tasks import health_sweep_task

    for _ in range(7):
        f.DealFactory()
    monkeypatch.setitem(store.health_sweep_plan.__kwdefaults__, "batch_size", 3)
    unscored_at_tidy = []
    monkeypatch.setattr(
        health,
        "health_tables_vacuum",
        lambda: unscored_at_tidy.append(
            Deal.objects.filter(health_computed_at__isnull=True).count()
        ),
    )
    assert health_sweep_task.apply().get() == 3
    assert unscored_at_tidy == [0]


@pytest.mark.django_db(transaction=True)
def test_vacuum_after_a_sweep_runs_on_postgresql_outside_a_transaction():
    if connection.vendor != "postgresql":
        assert store.health_tables_vacuum() is False
        return
    with transaction.atomic():
        assert store.health_tables_vacuum() is False  # VACUUM cannot run in a transaction
    assert store.health_tables_vacuum() is True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_user_tables "
            "WHERE relname IN ('deals_deal', 'deals_flag', 'deals_healthsnapshot') "
            "AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL"
        )
        assert cursor.fetchone()[0] == 3
