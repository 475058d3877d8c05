"""The rep table from its rollup: the same numbers as the live tables for every scope and
filter the rollup answers, with its age shown, and live where it cannot answer."""

import dataclasses
import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from deals.dashboard import selectors as s
from deals.dashboard.selectors import DashboardFilters
from deals.dashboard.services import dashboard_rep_rollup
from deals.models import DashboardRepDeals, Deal
from handoff.models import CheckIn, Handoff

from .conftest import make_deal, make_flag

OPEN = DashboardFilters()
rep_rows = s._rep_rows.__wrapped__  # past the minute-long live cache


@pytest.fixture
def reps_board(board, other_team):
    """The board plus: oscar also sells for the other team, a won deal of rita's with an
    open pressure flag and a check-in, a lost deal with a flag, and a deal priced at a
    loss (negative margin)."""
    make_deal(
        other_team,
        board.oscar,
        stage="negotiation",
        scores=(75, 75, "win_win"),
        list_total=400,
        net=380,
        cost=100,
    )
    won = make_deal(
        board.d1.team,
        board.rita,
        stage="closed_won",
        scores=(72, 71, "win_win"),
        list_total=3000,
        net=2400,
        cost=2500,
    )
    make_flag(won, "PRESSURE_ESCALATION")
    handoff = Handoff.objects.create(
        deal=won,
        rep=board.rita,
        delivery_team=board.d5.handoff.delivery_team,
        status="accepted",
        sla_due_at=timezone.now() + dt.timedelta(hours=5),
        claimed_at=timezone.now(),
    )
    CheckIn.objects.create(
        handoff=handoff, day_offset=30, due_date=board.today, customer_value=2, completed_at=None
    )
    lost = make_deal(board.d1.team, board.oscar, stage="closed_lost", scores=(20, 60, "lose_lose"))
    make_flag(lost, "SELLER_DISCOUNT_OVER_POLICY", side="seller")
    return board


def _filters(board):
    return [
        OPEN,
        DashboardFilters(stage="all"),
        DashboardFilters(stage="proposal"),
        DashboardFilters(stage="closed_won"),
        DashboardFilters(stage="closed_lost"),
        DashboardFilters(rep_id=board.rita.id),
        DashboardFilters(rep_id=board.oscar.id, stage="all"),
        DashboardFilters(team_id=board.d1.team_id, stage="all"),
        DashboardFilters(team_id=board.d7.team_id),  # someone else's team for the manager
    ]


def _table(user, filters):
    data = rep_rows(user=user, filters=filters)
    return sorted((dataclasses.asdict(r) for r in data["rows"]), key=lambda r: r["rep_id"]), data


def test_rep_rollup_gives_the_same_rep_table_as_the_live_tables_for_every_scope_and_filter(
    reps_board, admin_user
):
    users = [reps_board.manager, reps_board.other_manager, admin_user]
    cases = [(user, filters) for user in users for filters in _filters(reps_board)]
    live = {}
    for i, (user, filters) in enumerate(cases):
        live[i], data = _table(user, filters)
        assert data["as_of"] is None  # no rollup yet

    built_at = dashboard_rep_rollup()

    for i, (user, filters) in enumerate(cases):
        rolled, data = _table(user, filters)
        assert rolled == live[i], (user.username, filters)
        if rolled:
            assert data["as_of"] == built_at


def test_rolled_up_rep_table_has_the_numbers_worked_out_by_hand(reps_board):
    dashboard_rep_rollup()
    rows = {r.name: r for r in s.rep_table(user=reps_board.manager, filters=OPEN)}
    rita, oscar = rows["Rita Reyes"], rows["Oscar Olsen"]
    # The board's numbers (test_selectors) plus nothing open: the additions are closed.
    assert (rita.open_deals, rita.win_win_share) == (3, 50.0)
    assert rita.avg_discount_pct == pytest.approx(11.67, abs=0.01)
    assert rita.pressure_flags_total == 2
    assert (oscar.open_deals, oscar.avg_margin_pct, oscar.pressure_flags_total) == (2, 12.5, 0)
    # Handoff columns ignore the stage: rita's won deal adds a check-in valued 2.
    assert (rita.handoff_sla_misses, rita.check_ins, rita.customer_value_avg) == (1, 1, 2.0)
    assert (oscar.check_ins, oscar.customer_value_avg) == (2, 4.5)

    everything = {
        r.name: r
        for r in s.rep_table(user=reps_board.manager, filters=DashboardFilters(stage="all"))
    }
    # rita's won deal: 20% off, margin (2400 - 2500) / 2400 = -4.17%
    assert everything["Rita Reyes"].avg_margin_pct == pytest.approx(
        (50 + 20 + 50 + (2400 - 2500) / 2400 * 100) / 4, abs=0.01
    )
    assert everything["Rita Reyes"].pressure_flags["PRESSURE_ESCALATION"] == 1
    assert everything["Oscar Olsen"].open_flags == 2  # d5's chasing and the lost deal's flag


def test_rep_table_shows_its_rollup_as_it_was_until_the_next_refresh(reps_board):
    dashboard_rep_rollup()
    before = {
        r.rep_id: r.open_deals for r in rep_rows(user=reps_board.manager, filters=OPEN)["rows"]
    }
    make_deal(reps_board.d1.team, reps_board.rita, stage="proposal", scores=(80, 80, "win_win"))
    unchanged = rep_rows(user=reps_board.manager, filters=OPEN)
    assert {r.rep_id: r.open_deals for r in unchanged["rows"]} == before
    dashboard_rep_rollup()
    after = rep_rows(user=reps_board.manager, filters=OPEN)
    assert after["as_of"] > unchanged["as_of"]
    assert {r.rep_id: r.open_deals for r in after["rows"]}[reps_board.rita.id] == (
        before[reps_board.rita.id] + 1
    )


def test_a_creation_period_or_an_old_rollup_is_computed_live(reps_board):
    dashboard_rep_rollup()
    recent = DashboardFilters(period="30d")
    assert rep_rows(user=reps_board.manager, filters=recent)["as_of"] is None
    assert rep_rows(user=reps_board.manager, filters=OPEN)["as_of"] is not None

    DashboardRepDeals.objects.update(built_at=timezone.now() - s.REP_ROLLUP_MAX_AGE)
    Deal.objects.filter(pk=reps_board.d4.pk).update(stage="proposal")  # after the rollup
    stale = rep_rows(user=reps_board.manager, filters=DashboardFilters(stage="proposal"))
    assert stale["as_of"] is None  # the sweep has stopped: live numbers
    assert {r.name: r.open_deals for r in stale["rows"]}["Oscar Olsen"] == 1


def test_acknowledging_a_flag_shows_in_the_rep_table_at_once(reps_board, client):
    dashboard_rep_rollup()
    client.force_login(reps_board.manager)
    chasing = lambda: {  # noqa: E731
        r.name: r.pressure_flags["PRESSURE_CHASING"]
        for r in s.rep_table(user=reps_board.manager, filters=OPEN)
    }["Rita Reyes"]
    assert chasing() == 1
    flag = reps_board.flags.d1_chasing
    response = client.post(
        reverse("dashboard:flag_acknowledge", args=[flag.pk]), {"note": "Agreed with rita"}
    )
    assert response.status_code in (200, 302)
    assert chasing() == 0


def test_refreshing_some_teams_before_the_sweep_built_the_rollup_changes_nothing(reps_board):
    assert dashboard_rep_rollup(team_ids=[reps_board.d1.team_id]) is None
    assert not DashboardRepDeals.objects.exists()
    assert rep_rows(user=reps_board.manager, filters=OPEN)["as_of"] is None


def test_reps_endpoint_and_partial_say_how_old_the_numbers_are(reps_board, api_as, client):
    dashboard_rep_rollup()
    body = api_as(reps_board.manager).get("/api/v1/dashboard/reps/").json()
    assert body["as_of"] is not None
    assert {r["name"] for r in body["results"]} == {"Rita Reyes", "Oscar Olsen"}
    cache.clear()
    client.force_login(reps_board.manager)
    html = client.get(reverse("dashboard:reps"), HTTP_HX_REQUEST="true").content.decode()
    assert re.search(r"as of \d\d:\d\d", html)

    live = api_as(reps_board.manager).get("/api/v1/dashboard/reps/", {"period": "90d"}).json()
    assert live["as_of"] is None


def test_rolled_up_rep_table_runs_a_fixed_number_of_queries(
    reps_board, team, oscar, api_as, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(client):
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/dashboard/reps/", {"stage": "all"}).status_code == 200
        return len(ctx.captured_queries)

    def fresh_client():  # a fresh user per request, as in real life
        return api_as(type(reps_board.manager).objects.get(pk=reps_board.manager.pk))

    dashboard_rep_rollup()
    client = fresh_client()
    # roles, managed teams, rollup age, rolled-up deals, flags, handoffs, names
    with django_assert_max_num_queries(7):
        small = count(client)
    for i in range(40):
        deal = make_deal(team, oscar, stage="proposal", scores=(80, 60 + i % 30, "win_win"))
        make_flag(deal, "PRESSURE_CHASING")
    dashboard_rep_rollup()
    client = fresh_client()
    with django_assert_max_num_queries(7):
        assert count(client) == small


def test_trends_current_week_from_the_rep_rollup_equals_the_live_one_for_every_filter(
    reps_board, admin_user, django_assert_num_queries
):
    trends = s.trends.__wrapped__
    users = [reps_board.manager, reps_board.other_manager, admin_user]
    cases = [(user, filters) for user in users for filters in _filters(reps_board)]
    live = {}
    for i, (user, filters) in enumerate(cases):
        data = trends(user=user, filters=filters)
        assert data["current_week_as_of"] is None  # no rollup yet
        live[i] = data["weeks"][-1]
    built_at = dashboard_rep_rollup()
    for i, (user, filters) in enumerate(cases):
        data = trends(user=user, filters=filters)
        assert data["weeks"][-1] == live[i], (user.username, filters)
    assert trends(user=reps_board.manager, filters=OPEN)["current_week_as_of"] == built_at
    # From the rollup: its age and two small sums, whatever the number of deals.
    with django_assert_num_queries(3):
        small, _ = s.headline._current_week(reps_board.manager, OPEN)
    for _ in range(20):
        make_deal(reps_board.d1.team, reps_board.rita, scores=(80, 80, "win_win"))
    dashboard_rep_rollup()
    with django_assert_num_queries(3):
        large, _ = s.headline._current_week(reps_board.manager, OPEN)
    assert (large["total"], large["win_win"]) == (small["total"] + 20, small["win_win"] + 20)
    # A creation-period filter is always live (the rollup has no creation date).
    period = trends(user=reps_board.manager, filters=DashboardFilters(period="30d"))
    assert period["current_week_as_of"] is None
