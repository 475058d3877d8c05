"""History grows with change, not days: a deal gets a snapshot only when its health
changed, and every day's rollup is the sum of each deal's latest snapshot on or before
that day (on SQLite and PostgreSQL alike)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from deals.dashboard.services import dashboard_history_rollup
from deals.health import health_sweep
from deals.health.history import snapshot_as_of, snapshots_as_of
from deals.models import DashboardDayRollup, Deal, HealthSnapshot
from tests import factories as f

pytestmark = pytest.mark.django_db

D = Decimal


def at_noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def priced(deal, net: str) -> None:
    Deal.objects.filter(pk=deal.pk).update(
        list_total=D("10000.00"), net_total=D(net), cost_total=D("1000.00")
    )


@pytest.fixture
def days():
    """Day 1 is tomorrow (deals are created today), day 9 the last one swept."""
    today = timezone.localdate()
    return {n: today + dt.timedelta(days=n) for n in range(1, 11)}


def sweep_days(days, changes):
    """Sweep at noon on days 1..9; `changes[n]()` runs just before day n's sweep."""
    for n in range(1, 10):
        if n in changes:
            changes[n]()
        health_sweep(now=at_noon(days[n]))


def test_a_deal_whose_health_changes_on_day_3_and_7_has_snapshots_only_then(days):
    deal = f.DealFactory()
    priced(deal, "10000.00")
    sweep_days(
        days,
        {
            3: lambda: priced(deal, "8000.00"),  # 20 %: a discount flag, seller score drops
            7: lambda: priced(deal, "9000.00"),  # 10 %: the flag clears, the total moves
        },
    )

    snapshots = list(HealthSnapshot.objects.filter(deal=deal).order_by("day"))
    assert [s.day for s in snapshots] == [days[1], days[3], days[7]]
    assert [s.net_total for s in snapshots] == [D("10000.00"), D("8000.00"), D("9000.00")]
    assert [s.open_flag_count for s in snapshots] == [0, 1, 0]
    # The state on any day is the latest snapshot on or before it.
    assert snapshot_as_of(deal_id=deal.pk, day=days[6]).net_total == D("8000.00")
    assert snapshot_as_of(deal_id=deal.pk, day=days[9]).net_total == D("9000.00")
    assert [s.net_total for s in snapshots_as_of(days[5]).filter(deal=deal)] == [D("8000.00")]


def test_every_days_rollup_equals_the_hand_computed_state_of_that_day(days, team, other_team):
    rita = f.rep(team, username="rita")
    otto = f.rep(other_team, username="otto")
    steady = f.DealFactory(team=team, owner=rita)
    priced(steady, "10000.00")
    moving = f.DealFactory(team=team, owner=rita)
    priced(moving, "5000.00")  # 50 % off: the seller loses from day 1
    lost = f.DealFactory(team=other_team, owner=otto)
    priced(lost, "10000.00")

    def close_lost():
        Deal.objects.filter(pk=lost.pk).update(
            stage=Deal.Stage.CLOSED_LOST, closed_at=at_noon(days[4]), lost_reason="budget"
        )

    sweep_days(
        days,
        {
            4: close_lost,  # swept no more: counted on day 4 (closed), gone from day 5
            6: lambda: priced(moving, "9500.00"),  # 5 % off: win-win from day 6
        },
    )
    # Three deals, three changes (moving on 6; lost's close changes no health).
    assert HealthSnapshot.objects.count() == 4

    dashboard_history_rollup(today=days[10], full=True)
    discounted = HealthSnapshot.objects.get(deal=moving, day=days[1]).balance
    assert discounted != "win_win"

    def expected(n):
        rows = {(team.pk, rita.pk, "win_win", True): (1, D("10000.00"))}
        if n < 6:
            rows[(team.pk, rita.pk, discounted, True)] = (1, D("5000.00"))
        else:
            rows[(team.pk, rita.pk, "win_win", True)] = (2, D("19500.00"))
        if n <= 4:
            rows[(other_team.pk, otto.pk, "win_win", n < 4)] = (1, D("10000.00"))
        return rows

    for n in range(1, 10):
        got = {
            (r.team_id, r.owner_id, r.balance, r.open): (r.deals, r.net_total)
            for r in DashboardDayRollup.objects.filter(day=days[n])
        }
        assert got == expected(n), f"day {n}"
    # Day 0 (today) had no health yet; nothing is invented before the first snapshot.
    assert not DashboardDayRollup.objects.filter(day__lt=days[1]).exists()


def test_compacting_a_history_written_by_day_keeps_every_days_state(days):
    from deals.health.store import health_snapshots_compact

    deal = f.DealFactory()
    nets = ["100.00", "100.00", "200.00", "200.00", "200.00", "100.00"]
    for n, net in enumerate(nets, start=1):
        HealthSnapshot.objects.create(
            deal=deal, day=days[n], buyer_score=90, seller_score=90, balance="win_win",
            net_total=D(net), team_id=deal.team_id, owner_id=deal.owner_id,
        )  # fmt: skip
    before = {n: snapshot_as_of(deal_id=deal.pk, day=days[n]).net_total for n in range(1, 8)}

    assert health_snapshots_compact() == 3

    assert list(HealthSnapshot.objects.order_by("day").values_list("day", flat=True)) == [
        days[1], days[3], days[6]
    ]  # fmt: skip
    after = {n: snapshot_as_of(deal_id=deal.pk, day=days[n]).net_total for n in range(1, 8)}
    assert after == before
