"""Dashboard aggregates against the hand-built board (see conftest.py for the numbers)."""

import datetime as dt
from decimal import Decimal

import pytest

from deals.dashboard import selectors as s
from deals.dashboard.selectors import DashboardFilters
from tests import factories as f

from .conftest import make_deal, snapshot

D = Decimal
OPEN = DashboardFilters()


def test_balance_counts_and_money_per_quadrant_for_open_deals(board):
    summary = s.balance_summary(user=board.manager, filters=OPEN)

    assert summary["counts"] == {"win_win": 1, "buyer_loses": 1, "seller_loses": 1, "lose_lose": 1}
    assert summary["money"] == {
        "win_win": D("900.00"),
        "buyer_loses": D("1500.00"),
        "seller_loses": D("800.00"),
        "lose_lose": D("0.00"),
    }
    assert summary["unscored"] == {"count": 1, "money": D("300.00")}
    assert summary["total"] == {"count": 5, "money": D("3500.00")}


def test_balance_change_since_last_week_and_month_comes_from_snapshots(board):
    summary = s.balance_summary(user=board.manager, filters=OPEN)

    week = summary["change"]["week"]
    assert week["as_of"] == board.week_ago
    # then: win_win 1 (d3), buyer_loses 2 (d1, d2); now one deal in each quadrant
    assert week["counts"] == {"win_win": 0, "buyer_loses": -1, "seller_loses": 1, "lose_lose": 1}
    assert week["money"]["buyer_loses"] == D("1500.00") - D("1900.00")
    month = summary["change"]["month"]
    assert month["as_of"] == board.month_ago
    assert month["counts"] == {"win_win": 1, "buyer_loses": 1, "seller_loses": 1, "lose_lose": 0}
    assert month["money"]["lose_lose"] == D("-100.00")


def test_balance_change_is_none_without_history(manager_user, team, rep_user):
    make_deal(team, rep_user, scores=(80, 80, "win_win"), net=10)
    summary = s.balance_summary(user=manager_user, filters=OPEN)
    assert summary["change"] == {"week": None, "month": None}
    assert summary["counts"]["win_win"] == 1


def test_stage_all_includes_closed_deals(board):
    summary = s.balance_summary(user=board.manager, filters=DashboardFilters(stage="all"))
    assert summary["counts"]["win_win"] == 2
    assert summary["money"]["win_win"] == D("5900.00")


def test_rep_and_stage_filters_narrow_every_number(board):
    by_rep = s.balance_summary(user=board.manager, filters=DashboardFilters(rep_id=board.rita.id))
    assert by_rep["counts"] == {"win_win": 1, "buyer_loses": 1, "seller_loses": 0, "lose_lose": 0}
    by_stage = s.balance_summary(user=board.manager, filters=DashboardFilters(stage="proposal"))
    assert by_stage["counts"] == {"win_win": 0, "buyer_loses": 1, "seller_loses": 0, "lose_lose": 0}


def test_period_filter_keeps_recently_created_deals(board):
    from deals.models import Deal

    Deal.objects.filter(pk=board.d1.pk).update(
        created_at=board.d1.created_at - dt.timedelta(days=60)
    )
    recent = s.balance_summary(user=board.manager, filters=DashboardFilters(period="30d"))
    assert recent["counts"]["win_win"] == 0
    assert recent["counts"]["buyer_loses"] == 1


def test_manager_never_counts_another_teams_deals(board):
    beta = s.balance_summary(user=board.other_manager, filters=OPEN)
    assert beta["counts"] == {"win_win": 1, "buyer_loses": 0, "seller_loses": 0, "lose_lose": 0}
    assert beta["money"]["win_win"] == D("99999.00")
    assert beta["change"]["week"]["counts"]["lose_lose"] == -1  # only d7's own history

    # Asking for the other team explicitly finds nothing rather than leaking it.
    alpha_asks_beta = s.balance_summary(
        user=board.manager, filters=DashboardFilters(team_id=board.d7.team_id)
    )
    assert alpha_asks_beta["total"]["count"] == 0
    assert alpha_asks_beta["change"] == {"week": None, "month": None}
    points = s.quadrant(user=board.manager, filters=OPEN)["points"]
    assert board.d7.id not in {p["id"] for p in points}
    reps = s.rep_table(user=board.manager, filters=OPEN)
    assert {r.name for r in reps} == {"Rita Reyes", "Oscar Olsen"}
    weeks = s.trends(user=board.manager, filters=OPEN)["weeks"]
    assert all((w["pressure_flags"] or 0) < 7 for w in weeks)


def test_admin_sees_every_team(board, admin_user):
    summary = s.balance_summary(user=admin_user, filters=OPEN)
    assert summary["counts"]["win_win"] == 2
    assert summary["money"]["win_win"] == D("100899.00")


def test_reps_and_delivery_see_nothing(board, delivery_user):
    assert s.balance_summary(user=board.rita, filters=OPEN)["total"]["count"] == 0
    assert s.balance_summary(user=delivery_user, filters=OPEN)["total"]["count"] == 0


def test_quadrant_points_are_the_scored_open_deals(board):
    data = s.quadrant(user=board.manager, filters=OPEN)
    assert data["mode"] == "points"
    assert data["threshold"] == 70
    assert [
        (p["id"], p["buyer_score"], p["seller_score"], p["net_total"]) for p in data["points"]
    ] == [
        (board.d1.id, 80, 90, D("900.00")),
        (board.d2.id, 50, 85, D("1500.00")),
        (board.d3.id, 75, 40, D("800.00")),
        (board.d4.id, 30, 20, D("0.00")),
    ]


def test_quadrant_switches_to_a_density_grid_above_the_point_limit(board, monkeypatch):
    monkeypatch.setattr(s.headline, "QUADRANT_MAX_POINTS", 3)
    make_deal(board.d1.team, board.rita, scores=(100, 82, "win_win"), net=50)
    data = s.quadrant(user=board.manager, filters=OPEN)
    assert data["mode"] == "grid"
    assert data["points"] == []
    assert data["total"] == 5
    cells = {(c["buyer_min"], c["seller_min"]): (c["count"], c["net_total"]) for c in data["cells"]}
    assert cells == {
        (30, 20): (1, D("0.00")),
        (50, 85): (1, D("1500.00")),
        (75, 40): (1, D("800.00")),
        (80, 90): (1, D("900.00")),
        (95, 80): (1, D("50.00")),  # a perfect 100 falls in the top cell
    }


def test_quadrant_uses_the_team_policy_threshold(board):
    from deals.models import HealthPolicy

    HealthPolicy.objects.create(team=board.d1.team, win_win_threshold=60)
    assert s.quadrant(user=board.manager, filters=OPEN)["threshold"] == 70
    team_view = s.quadrant(user=board.manager, filters=DashboardFilters(team_id=board.d1.team_id))
    assert team_view["threshold"] == 60


def test_trends_reads_weekly_snapshots_and_live_numbers_this_week(board):
    weeks = s.trends(user=board.manager, filters=OPEN)["weeks"]
    assert len(weeks) == 12
    this_monday = board.today - dt.timedelta(days=board.today.weekday())
    assert [w["week_start"] for w in weeks] == [
        this_monday - dt.timedelta(weeks=i) for i in range(11, -1, -1)
    ]
    current = weeks[-1]
    # live: 4 scored open deals, 1 win-win; open pressure flags on open deals: d1, d2
    assert (current["deals"], current["win_win_deals"], current["win_win_share"]) == (4, 1, 25.0)
    assert current["pressure_flags"] == 2
    last_week = weeks[-2]
    # A past week reads every deal's state at the week's last day (history is kept on change).
    assert last_week["as_of"] == this_monday - dt.timedelta(days=1)
    assert (last_week["deals"], last_week["win_win_deals"]) == (3, 1)
    assert last_week["win_win_share"] == 33.3
    assert last_week["pressure_flags"] == 3
    month_monday = board.month_ago - dt.timedelta(days=board.month_ago.weekday())
    carried = [w for w in weeks[:-2] if w["week_start"] >= month_monday]
    # d1's state of a month ago (lose_lose, one pressure flag) stands until a week ago.
    assert carried
    assert all(
        (w["deals"], w["win_win_share"], w["pressure_flags"]) == (1, 0.0, 1) for w in carried
    )
    before = [w for w in weeks if w["week_start"] < month_monday]
    assert all(w["as_of"] is None and w["win_win_share"] is None for w in before)


def test_trends_read_a_week_at_its_last_day(board):
    # Two days of history in last week: the later change describes the week.
    earlier = board.week_ago - dt.timedelta(days=1)
    if earlier.weekday() == 6:  # keep both days in the same week
        earlier = board.week_ago + dt.timedelta(days=1)
    later, first = max(earlier, board.week_ago), min(earlier, board.week_ago)
    for deal in (board.d1, board.d2, board.d3):
        deal.health_snapshots.filter(day=board.week_ago).delete()
        snapshot(deal, first, "lose_lose")
        snapshot(deal, later, "win_win")
    last_week = s.trends(user=board.manager, filters=OPEN)["weeks"][-2]
    assert later <= last_week["as_of"] == board.today - dt.timedelta(days=board.today.weekday() + 1)
    assert last_week["win_win_share"] == 100.0


def test_trends_leave_out_deals_closed_before_the_snapshot_day(board):
    from deals.models import Deal

    Deal.objects.filter(pk=board.d2.pk).update(
        stage="closed_lost",
        closed_at=dt.datetime.combine(
            board.week_ago - dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC
        ),
    )
    last_week = s.trends(user=board.manager, filters=OPEN)["weeks"][-2]
    assert last_week["deals"] == 2  # d2 was already closed that day
    everything = s.trends(user=board.manager, filters=DashboardFilters(stage="all"))["weeks"][-2]
    # A lost deal leaves the history the day after it closed (the sweep stops keeping it).
    assert everything["deals"] == 2


def test_rep_table_numbers(board):
    rows = {r.name: r for r in s.rep_table(user=board.manager, filters=OPEN)}
    rita, oscar = rows["Rita Reyes"], rows["Oscar Olsen"]

    assert (rita.open_deals, rita.scored_deals, rita.win_win_deals, rita.win_win_share) == (
        3,
        2,
        1,
        50.0,
    )
    assert rita.avg_discount_pct == pytest.approx(11.67, abs=0.01)  # (10 + 25 + 0) / 3
    assert rita.avg_margin_pct == pytest.approx(40.0)  # (50 + 20 + 50) / 3
    assert rita.pressure_flags["PRESSURE_CHASING"] == 1
    assert rita.pressure_flags["PRESSURE_LANGUAGE"] == 1
    assert rita.pressure_flags["PRESSURE_ESCALATION"] == 0
    assert rita.pressure_flags_total == 2
    assert rita.handoff_sla_misses == 1  # d9: unclaimed past its SLA
    assert rita.customer_value_avg is None

    assert (oscar.open_deals, oscar.win_win_share) == (2, 0.0)
    assert oscar.avg_discount_pct == 20.0  # d4 has nothing priced
    assert oscar.avg_margin_pct == 12.5
    assert oscar.pressure_flags_total == 0  # d3's flag is acknowledged, d5 is closed
    assert oscar.handoff_sla_misses == 1  # d5: claimed four hours late
    assert (oscar.customer_value_avg, oscar.check_ins) == (4.5, 2)


def test_rep_table_sorts_by_any_column_with_empty_values_last(board):
    names = lambda rows: [r.name for r in rows]  # noqa: E731
    assert names(s.rep_table(user=board.manager, filters=OPEN, sort="-open_deals")) == [
        "Rita Reyes",
        "Oscar Olsen",
    ]
    assert names(s.rep_table(user=board.manager, filters=OPEN, sort="open_deals")) == [
        "Oscar Olsen",
        "Rita Reyes",
    ]
    assert names(s.rep_table(user=board.manager, filters=OPEN, sort="-customer_value_avg")) == [
        "Oscar Olsen",
        "Rita Reyes",
    ]
    assert names(s.rep_table(user=board.manager, filters=OPEN, sort="customer_value_avg")) == [
        "Oscar Olsen",
        "Rita Reyes",
    ]


def test_flag_review_list_filters_and_scope(board):
    def codes(**kw):
        flags = s.flag_review_list(user=board.manager, filters=s.FlagFilters(**kw))
        return [(fl.deal_id, fl.code) for fl in flags]

    assert codes() == [
        (board.d2.id, "PRESSURE_LANGUAGE"),  # critical first
        (board.d1.id, "PRESSURE_CHASING"),  # then warnings, oldest first
        (board.d5.id, "PRESSURE_CHASING"),
        (board.d2.id, "BUYER_OVERSELL"),
    ]
    assert codes(code="PRESSURE_CHASING", rep_id=board.rita.id) == [
        (board.d1.id, "PRESSURE_CHASING")
    ]
    assert codes(side="buyer") == [(board.d2.id, "BUYER_OVERSELL")]
    assert codes(severity="critical") == [(board.d2.id, "PRESSURE_LANGUAGE")]
    assert codes(min_age_days=7) == [(board.d1.id, "PRESSURE_CHASING")]
    assert codes(status="acknowledged") == [(board.d3.id, "PRESSURE_CHASING")]
    other = s.flag_review_list(user=board.other_manager, filters=s.FlagFilters())
    assert [fl.deal_id for fl in other] == [board.d7.id]


def test_dashboard_teams_and_reps_are_the_managers_own(board):
    assert [t.name for t in s.dashboard_teams(user=board.manager)] == ["Alpha sales"]
    reps = {u.username for u in s.dashboard_reps(user=board.manager)}
    assert reps == {"rita_rep", "oscar_rep"}


def test_manager_of_two_teams_sees_both(board, other_team):
    boss = f.manager(board.d1.team, username="two_team_boss")
    other_team.members.add(boss)
    summary = s.balance_summary(user=boss, filters=OPEN)
    assert summary["counts"]["win_win"] == 2


def test_history_read_from_snapshots_is_cached_until_new_history_arrives(
    board, django_assert_num_queries
):
    # No rollup yet (the sweep has not run): the history comes from the snapshots.
    uncached_live = s.balance_summary  # not cached: exact at each request
    uncached_live(user=board.manager, filters=OPEN)  # warms the history cache
    # live deals + days missing from the rollup + history version; history from cache
    with django_assert_num_queries(3):
        uncached_live(user=board.manager, filters=OPEN)
    snapshot(board.d4, board.week_ago, "lose_lose")  # a backfilled day changes the key
    week = uncached_live(user=board.manager, filters=OPEN)["change"]["week"]
    assert week["counts"]["lose_lose"] == 0  # 1 now, 1 then


def test_live_aggregates_are_reused_for_a_minute_then_recomputed(board, django_assert_num_queries):
    from django.core.cache import cache

    first = s.rep_table(user=board.manager, filters=OPEN)
    with django_assert_num_queries(0):
        again = s.rep_table(user=board.manager, filters=OPEN, sort="-open_deals")
    assert {r.rep_id for r in again} == {r.rep_id for r in first}
    make_deal(board.d1.team, board.rita, scores=(90, 90, "win_win"), net=5)
    stale = {r.rep_id: r.open_deals for r in s.rep_table(user=board.manager, filters=OPEN)}
    cache.clear()  # what the minute's expiry does
    fresh = {r.rep_id: r.open_deals for r in s.rep_table(user=board.manager, filters=OPEN)}
    assert fresh[board.rita.id] == stale[board.rita.id] + 1


def test_acknowledging_a_flag_refreshes_the_managers_cached_numbers(board, client):
    before = s.open_flag_count(user=board.manager, filters=OPEN)
    client.force_login(board.manager)
    flag = board.d2.flags.filter(status="open").first()
    response = client.post(f"/dashboard/flags/{flag.pk}/acknowledge/", {"note": "Agreed with rep"})
    assert response.status_code in (200, 302)
    assert s.open_flag_count(user=board.manager, filters=OPEN) == before - 1
