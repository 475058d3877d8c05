"""The daily history rollup gives exactly the numbers the snapshots give, for every scope
and filter it answers, and steps aside for what it cannot answer."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from deals.dashboard import selectors as s
from deals.dashboard.selectors import DashboardFilters
from deals.dashboard.services import ROLLUP_DAYS, dashboard_history_rollup
from deals.models import DashboardDayRollup, Deal, HealthSnapshot

from .conftest import make_deal, snapshot

D = Decimal
OPEN = DashboardFilters()

# Past the minute-long live cache: every call computes.
balance_summary = s.balance_summary
trends = s.trends.__wrapped__


@pytest.fixture
def history(board):
    """The board's history and then some: a deal closed before a snapshot day, a deal whose
    snapshot was taken while another rep owned it, two snapshot days in one week (rita's
    deals only on the later one), and a week where only the other team has snapshots. The
    extra weeks (seven and nine back) never meet the board's days (one, and four or five,
    weeks back)."""
    today = board.today
    this_monday = today - dt.timedelta(days=today.weekday())
    # d2 closed two days before last week's snapshot day: open a month ago, not a week ago.
    Deal.objects.filter(pk=board.d2.pk).update(
        stage="closed_lost",
        closed_at=dt.datetime.combine(
            board.week_ago - dt.timedelta(days=2), dt.time(12), tzinfo=dt.UTC
        ),
    )
    snapshot(board.d2, board.month_ago, "seller_loses", net=1500, pressure=2)
    # d4 (oscar's today) belonged to rita a week ago.
    HealthSnapshot.objects.create(
        deal=board.d4,
        day=board.week_ago,
        buyer_score=10,
        seller_score=10,
        balance="lose_lose",
        net_total=D("42.50"),
        pressure_flag_count=4,
        team_id=board.d4.team_id,
        owner_id=board.rita.id,
    )
    # Seven weeks back: oscar's deal on Tuesday, rita's deals on Thursday.
    tuesday = this_monday - dt.timedelta(weeks=7) + dt.timedelta(days=1)
    thursday = tuesday + dt.timedelta(days=2)
    snapshot(board.d3, tuesday, "lose_lose", net=800, pressure=1)
    snapshot(board.d1, thursday, "win_win", net=900)
    snapshot(board.d6, thursday, "buyer_loses", net=300, pressure=3)
    # Nine weeks back only the other team has history.
    snapshot(board.d7, this_monday - dt.timedelta(weeks=9), "win_win", net=99999, pressure=5)
    board.tuesday, board.thursday = tuesday, thursday
    return board


def _without_rollup_stamp(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "history_rolled_up_at"}


def _filters(board):
    return [
        OPEN,
        DashboardFilters(stage="all"),
        DashboardFilters(rep_id=board.rita.id),
        DashboardFilters(rep_id=board.oscar.id, stage="all"),
        DashboardFilters(team_id=board.d1.team_id),
        DashboardFilters(team_id=board.d7.team_id),  # someone else's team for the manager
    ]


def test_rollup_gives_the_same_history_as_the_snapshots_for_every_scope_and_filter(
    history, admin_user
):
    users = [history.manager, history.other_manager, admin_user]
    cases = [(user, filters) for user in users for filters in _filters(history)]
    from_snapshots = {
        i: (balance_summary(user=u, filters=fl), trends(user=u, filters=fl))
        for i, (u, fl) in enumerate(cases)
    }
    assert all(b["history_rolled_up_at"] is None for b, _t in from_snapshots.values())

    dashboard_history_rollup()

    for i, (user, filters) in enumerate(cases):
        balance, weekly = (
            balance_summary(user=user, filters=filters),
            trends(user=user, filters=filters),
        )
        expected_balance, expected_weekly = from_snapshots[i]
        assert _without_rollup_stamp(balance) == _without_rollup_stamp(expected_balance), (
            user.username,
            filters,
        )
        assert weekly["weeks"] == expected_weekly["weeks"], (user.username, filters)
        if balance["change"]["week"] or balance["change"]["month"]:
            assert balance["history_rolled_up_at"] is not None


@pytest.mark.parametrize(
    "filters", [DashboardFilters(stage="proposal"), DashboardFilters(period="30d")]
)
def test_one_stage_or_a_creation_period_reads_the_snapshots(history, filters):
    expected = balance_summary(user=history.manager, filters=filters)
    dashboard_history_rollup()
    summary = balance_summary(user=history.manager, filters=filters)
    assert summary["history_rolled_up_at"] is None
    assert summary == expected


def _rollup_rows():
    return sorted(
        DashboardDayRollup.objects.values_list(
            "day", "team", "owner", "balance", "open", "deals", "net_total", "pressure_flags"
        )
    )


def test_a_deals_state_carries_to_every_later_day_until_it_changes(history):
    """Snapshots are written on change: d1's row a month ago (lose_lose, 100) stands for
    every day up to its next row a week ago (buyer_loses, 900)."""
    dashboard_history_rollup()
    between = history.month_ago + dt.timedelta(days=3)
    assert between < history.week_ago
    rows = {
        (r.balance, r.open): (r.deals, r.net_total)
        for r in DashboardDayRollup.objects.filter(
            day=between, team_id=history.d1.team_id, owner_id=history.rita.id
        )
    }
    assert rows[("lose_lose", True)] == (1, D("100.00"))
    on_week = DashboardDayRollup.objects.filter(
        day=history.week_ago, owner_id=history.rita.id, balance="buyer_loses", open=True
    ).values_list("deals", "net_total")
    # d1's new row (buyer_loses 900) and d6's row of seven weeks back (buyer_loses 300),
    # which still stands: 2 deals, 1,200.
    assert list(on_week) == [(2, D("1200.00"))]


def test_rollup_runs_are_idempotent_and_redo_only_the_recent_days(history):
    today = history.today
    first = dashboard_history_rollup(today=today)
    assert history.week_ago in first and history.month_ago in first
    rows = _rollup_rows()
    again = dashboard_history_rollup(today=today)
    # Within the day only the last ROLLUP_REDO_DAYS days are rolled up again, to the same rows.
    assert again == [today - dt.timedelta(days=2), today - dt.timedelta(days=1)]
    assert _rollup_rows() == rows
    yesterday = today - dt.timedelta(days=1)
    snapshot(history.d1, yesterday, "win_win", net=900, pressure=6)
    assert yesterday in dashboard_history_rollup(today=today)
    assert DashboardDayRollup.objects.filter(
        day=yesterday, owner_id=history.rita.id, balance="win_win", pressure_flags__gte=6
    ).exists()
    # Days before yesterday did not change.
    assert [r for r in _rollup_rows() if r[0] < yesterday] == [r for r in rows if r[0] < yesterday]


def test_first_run_of_a_day_rolls_up_the_whole_window_again(history):
    dashboard_history_rollup()
    # A change to a past day after it was rolled up: d1 closed before a month ago.
    Deal.objects.filter(pk=history.d1.pk).update(
        stage="closed_lost",
        closed_at=dt.datetime.combine(
            history.month_ago - dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC
        ),
    )
    assert DashboardDayRollup.objects.filter(day=history.month_ago, balance="lose_lose").exists()
    DashboardDayRollup.objects.update(built_at=timezone.now() - dt.timedelta(days=1))
    rebuilt = dashboard_history_rollup()
    assert history.week_ago in rebuilt and history.month_ago in rebuilt
    # d1 (lose_lose a month ago) was lost the day before: it no longer counts on any later day.
    assert not DashboardDayRollup.objects.filter(
        day__gte=history.month_ago,
        owner_id=history.rita.id,
        balance="lose_lose",
        open=True,
        net_total=D("100.00"),
    ).exists()


def test_rollup_forgets_days_outside_the_window(history):
    dashboard_history_rollup()
    old = history.today - dt.timedelta(days=ROLLUP_DAYS + 5)
    DashboardDayRollup.objects.create(
        day=old,
        team_id=history.d1.team_id,
        owner_id=history.rita.id,
        balance="win_win",
        open=True,
        deals=1,
        built_at=timezone.now(),
    )
    dashboard_history_rollup(full=False)
    days = set(DashboardDayRollup.objects.values_list("day", flat=True))
    assert old not in days
    assert {history.week_ago, history.month_ago} <= days


def test_the_hourly_sweep_rolls_up_the_history(history):
    from deals.tasks import health_sweep_task

    health_sweep_task.apply().get()
    days = set(DashboardDayRollup.objects.values_list("day", flat=True))
    assert {history.week_ago, history.month_ago, history.tuesday, history.thursday} <= days


def test_rolled_up_history_runs_a_fixed_number_of_queries(
    history, django_assert_num_queries, team, oscar
):
    dashboard_history_rollup()
    balance_summary(user=history.manager, filters=OPEN)  # the manager's roles and teams
    with django_assert_num_queries(3):  # live deals, days missing from the rollup, rollup
        balance_summary(user=history.manager, filters=OPEN)
    # + the rep rollup's age (none yet: the current week is live), live pressure flags
    with django_assert_num_queries(5):
        trends(user=history.manager, filters=OPEN)
    for i in range(30):
        deal = make_deal(team, oscar, scores=(80, 80, "win_win"), net=10)
        snapshot(deal, history.week_ago - dt.timedelta(days=i % 5), "win_win", net=10)
    dashboard_history_rollup(full=True)
    with django_assert_num_queries(3):
        balance_summary(user=history.manager, filters=OPEN)


def _rows(rollups) -> list[tuple]:
    return sorted(
        (r.day, r.team_id, r.owner_id, r.balance, r.open, r.deals, r.net_total, r.pressure_flags)
        for r in rollups
    )


@pytest.mark.skipif(
    "postgresql" not in __import__("django.db").db.connection.vendor,
    reason="the one-pass rollup is PostgreSQL's",
)
def test_one_pass_rollup_gives_every_day_the_rows_of_the_day_by_day_rollup(history):
    """Closed before, on and after a snapshot day, lost or won with a handoff, a rep
    change, days without snapshots: the one statement sums what each day's GROUP BY sums."""
    from deals.dashboard.rollup_sql import rollup_rows_many
    from deals.dashboard.services import _rollup_rows, rollup_window
    from deals.health.history import first_snapshot_day

    first, last = rollup_window(history.today)
    begin = max(first, first_snapshot_day())
    days = [begin + dt.timedelta(days=i) for i in range((last - begin).days + 1)]
    now = timezone.now()
    by_day = [row for day in days for row in _rollup_rows(day, now)]
    assert len({r.day for r in by_day}) > 20
    assert _rows(rollup_rows_many(days, begin, now)) == _rows(by_day)
    # A few days only (the hourly run's), and a window starting later than the history.
    some = days[-5:]
    assert _rows(rollup_rows_many(some, some[0], now)) == _rows(
        [row for day in some for row in _rollup_rows(day, now)]
    )
