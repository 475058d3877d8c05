"""A health sweep survives its worker being killed: the task that was running (the sweep
fans out id-range batch tasks onto its queue; with 300 deals that is one) is redelivered
(acks_late, reject_on_worker_lost, a short Redis visibility timeout) and finishes on a new
worker, leaving every deal with exactly one current health and no duplicate active flags.

Needs PostgreSQL (the worker shares the test database) and Redis; skips otherwise.

The sweep of 300 deals is normally one batch in well under a second, too quick to kill
half-way. The worker imports this module (`celery worker -I tests.health.test_worker_faults`),
and, only when FAULT_BATCH_ENV is set in its environment, sweeps in small batches with a
pause after each commit, so the kill lands between committed batches. The sweep's own
code (locking, storing, commits) runs unchanged.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.conf import settings
from django.db import connection

from tests.worker import running_worker

FAULT_BATCH_ENV = "WINWIN_FAULT_SWEEP_BATCH"
FAULT_PAUSE_ENV = "WINWIN_FAULT_SWEEP_PAUSE"
DEALS = 300
VISIBILITY_TIMEOUT = 5
EXPECTED_CODES = {"SELLER_DISCOUNT_OVER_POLICY", "BUYER_OVERSELL", "BUYER_NO_DISCOVERY"}


def _slow_small_batches_in_this_worker() -> None:
    batch_size = os.environ.get(FAULT_BATCH_ENV)
    if not batch_size:
        return  # imported by pytest, or by a normal worker: change nothing
    from deals.health import store

    store.health_sweep.__kwdefaults__["batch_size"] = int(batch_size)
    pause = float(os.environ.get(FAULT_PAUSE_ENV, "0.2"))
    sweep_batch = store.recompute._sweep_batch

    def sweep_batch_then_pause(ids, policies, now, **kwargs):
        done = sweep_batch(ids, policies, now, **kwargs)  # committed when it returns
        time.sleep(pause)
        return done

    store.recompute._sweep_batch = sweep_batch_then_pause


_slow_small_batches_in_this_worker()


def _seed_deals_whose_flags_fire(count: int) -> list[int]:
    """Proposal-stage deals with a 30 %-discounted item that serves no need and no
    discovery call: three rules fire on each."""
    from decimal import Decimal

    from deals.models import Deal, LineItem
    from tests import factories as f

    team = f.TeamFactory(name="Sweep team")
    owner = f.rep(team, username="sweep_rep")
    prospect = f.ProspectFactory(team=team)
    deals = Deal.objects.bulk_create(
        Deal(
            prospect=prospect,
            owner=owner,
            team=team,
            title=f"Sweep deal {i}",
            stage=Deal.Stage.PROPOSAL,
            list_total=Decimal("1000.00"),
            net_total=Decimal("700.00"),
            cost_total=Decimal("200.00"),
        )
        for i in range(count)
    )
    LineItem.objects.bulk_create(
        LineItem(
            deal=deal,
            name="Platform licence",
            quantity=Decimal("10"),
            unit_list_price=Decimal("100.00"),
            unit_price=Decimal("70.00"),
            unit_cost=Decimal("20.00"),
        )
        for deal in deals
    )
    return [deal.pk for deal in deals]


def _broker_state(client, queue: str) -> str:
    with client.connection_for_write() as connection:
        redis = connection.default_channel.client
        unacked = redis.zrange("unacked_index", 0, -1, withscores=True)
        return (
            f"queue {queue}: {redis.llen(queue)} waiting, unacked: {unacked}, "
            f"mutex: {redis.get('unacked_mutex')}, now: {time.time():.0f}"
        )


def _computed(deal_ids) -> int:
    from deals.models import Deal

    return Deal.objects.filter(id__in=deal_ids, health_computed_at__isnull=False).count()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_sweep_killed_mid_run_is_redelivered_and_leaves_one_current_health_per_deal():
    if connection.vendor != "postgresql":
        pytest.skip("a worker shares the test database only on PostgreSQL")
    if not settings.REDIS_URL:
        pytest.skip("set REDIS_URL so the worker and this process share Redis")
    from django.db.models import Count
    from django.utils import timezone

    from deals.health import health_recompute
    from deals.models import Deal, Flag, HealthSnapshot

    deal_ids = _seed_deals_whose_flags_fire(DEALS)
    worker_env = {
        # an unacked task returns to the queue after 5 s
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        FAULT_BATCH_ENV: "10",
        FAULT_PAUSE_ENV: "0.15",
    }
    worker_args = ("-I", __name__)

    with running_worker(needs_database=True, extra_env=worker_env, extra_args=worker_args) as (
        client,
        queue,
        proc,
    ):
        client.send_task("deals.tasks.health_sweep_task", queue=queue)
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline:
            done = _computed(deal_ids)
            if done >= 30:  # a few batches committed, most still to go
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        proc.wait(timeout=10)
        done_at_kill = _computed(deal_ids)
    assert 0 < done_at_kill < DEALS, (
        f"the kill should land mid-sweep; {done_at_kill} of {DEALS} deals were computed"
    )

    # A new worker on the same queue: the unacked sweep comes back after the visibility
    # timeout, with nobody sending it again. kombu looks for expired unacked messages when
    # a worker starts polling (then only every ~100 s), so restart it, as a supervisor
    # would, once the timeout has passed.
    time.sleep(max(0.0, killed_at + VISIBILITY_TIMEOUT + 1 - time.monotonic()))
    with running_worker(
        needs_database=True, extra_env=worker_env, extra_args=worker_args, queue=queue
    ) as (_client, _queue, proc):
        # Its first scan normally restores the task at once; if that scan misses it, the
        # next periodic one (every ~100 s) must.
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and _computed(deal_ids) < DEALS:
            if proc.poll() is not None:
                pytest.fail(f"second worker died:\n{proc.stdout.read()}")
            time.sleep(0.2)
        done_after = _computed(deal_ids)
        broker_state = _broker_state(_client, queue) if done_after < DEALS else ""
    assert done_after == DEALS, (
        f"the killed sweep was not redelivered: {done_after} of {DEALS} deals computed "
        f"({done_at_kill} at the kill); broker: {broker_state}; second worker log:\n"
        f"{proc.stdout.read()}"
    )

    print(f"FAULT: {done_at_kill} computed at the kill, {done_after} after redelivery")
    deals = Deal.objects.filter(id__in=deal_ids)
    assert not deals.filter(buyer_score__isnull=True).exists()
    assert not deals.filter(seller_score__isnull=True).exists()
    assert not deals.filter(balance="").exists()

    today = timezone.localdate()
    snapshots = (
        HealthSnapshot.objects.filter(deal_id__in=deal_ids)
        .values("deal_id", "day")
        .annotate(n=Count("id"))
    )
    assert {row["deal_id"] for row in snapshots} == set(deal_ids)
    assert all(row["n"] == 1 and row["day"] == today for row in snapshots), [
        row for row in snapshots if row["n"] != 1
    ]

    active = Flag.objects.filter(deal_id__in=deal_ids, status__in=Flag.ACTIVE_STATUSES)
    duplicates = active.values("deal_id", "code").annotate(n=Count("id")).filter(n__gt=1)
    assert not duplicates.exists(), list(duplicates[:5])
    codes_by_deal: dict[int, set[str]] = {}
    for deal_id, code in active.values_list("deal_id", "code"):
        codes_by_deal.setdefault(deal_id, set()).add(code)
    assert all(codes_by_deal.get(i, set()) >= EXPECTED_CODES for i in deal_ids)
    counts = dict(deals.values_list("id", "open_flag_count"))
    assert all(counts[i] == len(codes_by_deal[i]) for i in deal_ids)

    # The stored health is the current one: recomputing now changes nothing.
    for deal_id in deal_ids[:: DEALS // 15]:
        before = Deal.objects.get(pk=deal_id)
        flags_before = set(Flag.objects.filter(deal_id=deal_id).values_list("id", "code", "status"))
        result = health_recompute(deal_id=deal_id)
        assert (result.buyer_score, result.seller_score, result.balance) == (
            before.buyer_score,
            before.seller_score,
            before.balance,
        )
        assert (
            set(Flag.objects.filter(deal_id=deal_id).values_list("id", "code", "status"))
            == flags_before
        )
    assert HealthSnapshot.objects.filter(deal_id__in=deal_ids).count() == DEALS
