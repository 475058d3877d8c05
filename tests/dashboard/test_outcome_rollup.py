"""The outcome rollup (DashboardOutcomeRollup): the win-win rates and the calibration read
from it give exactly the live figures, for every period, team and rep filter and every
user's scope; an outcome recorded after the build counts at once; deals closed since the
build are read live; the query counts stay fixed."""

import dataclasses
import datetime as dt

import pytest
from django.utils import timezone

from deals.dashboard import outcomes
from deals.dashboard.outcomes import (
    OUTCOME_ROLLUP_MAX_AGE,
    OutcomeFilters,
    calibration,
    win_win_rates,
)
from deals.dashboard.services import OUTCOME_CUT_MARGIN, outcomes_rollup_rebuild
from deals.models import DashboardOutcomeCut, DashboardOutcomeRollup, Deal
from handoff.models import CheckIn
from handoff.services.check_ins import check_in_record

from .outcome_data import _check_in, _closed, _flag, _handoff, build_outcomes_board

pytestmark = pytest.mark.django_db

# Close times spread over two years: whole months inside a period, the period's first
# day on both sides of its cut-off hour, yesterday and today (before the build's cut: in
# today's rows of the rollup).
DAYS_AGO = [0.01, 0.6, 1.2, 3, 29.4, 29.9, 30.1, 30.6, 45, 60, 89.7, 90.3, 150, 179.8, 200]
DAYS_AGO += [364.6, 365.4, 400, 729.9, 730.2, 800]


@pytest.fixture
def outcomes_board(team, other_team, rita, oscar, manager_user, other_manager, delivery_team):
    board = build_outcomes_board(
        team=team, other_team=other_team, rita=rita, oscar=oscar, delivery_team=delivery_team
    )
    for i, days_ago in enumerate(DAYS_AGO):
        owner = (rita, oscar)[i % 2]
        won = i % 3 != 2
        deal = _closed(
            team if i % 5 else other_team if i % 2 else team,
            owner if i % 5 else board["beta_rep"] if i % 2 else owner,
            "closed_won" if won else "closed_lost",
            net=1000 + 7 * i,
            cost=333 + 11 * i,
            days_ago=days_ago,
            balance=("win_win", "buyer_loses", "seller_loses")[i % 3],
            **({} if won else {"lost_reason": "x"}),
        )
        if won and i % 4 != 3:
            handoff = _handoff(deal, delivery_team)
            value = ("4.50", "3", "5", "4")[i % 4]
            health = ("profitable", "at_risk", "profitable", "profitable")[i % 4]
            _check_in(handoff, 90, value=value, health=health, customer_value=4)
        if i % 3 == 0:
            _flag(deal, "PRESSURE_CHASING", first_before_close=5)
        if i % 4 == 1:
            _flag(
                deal, "SELLER_DISCOUNT_OVER_POLICY", first_before_close=20, resolved_before_close=2
            )
    return board


def _figures(user, filters):
    rates = dataclasses.asdict(win_win_rates(user=user, filters=filters))
    table = calibration(user=user, filters=filters)
    rolled = rates.pop("rolled_up_at"), table.pop("rolled_up_at")
    return (rates, table), rolled


FILTERS = [
    lambda team, rita, oscar: OutcomeFilters(),
    *(
        (lambda team, rita, oscar, p=p: OutcomeFilters(period=p))
        for p in ("30d", "90d", "180d", "365d", "730d")
    ),
    lambda team, rita, oscar: OutcomeFilters(team_id=team.id),
    lambda team, rita, oscar: OutcomeFilters(rep_id=rita.id, period="365d"),
    lambda team, rita, oscar: OutcomeFilters(team_id=team.id, rep_id=oscar.id, period="90d"),
]


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland", "America/Los_Angeles"])
def test_the_rollup_gives_the_live_figures_for_every_filter_and_scope(
    outcomes_board, zone, team, rita, oscar, manager_user, other_manager, admin_user
):
    with timezone.override(zone):
        asked = [
            (user, make(team, rita, oscar))
            for user in (manager_user, other_manager, admin_user)
            for make in FILTERS
        ]
        live = [_figures(user, filters) for user, filters in asked]
        assert all(rolled == (None, None) for _figures_, rolled in live)
        assert outcomes_rollup_rebuild() > 0
        assert DashboardOutcomeRollup.objects.filter(span="month").exists()
        for (user, filters), (expected, _none) in zip(asked, live, strict=True):
            figures, rolled = _figures(user, filters)
            assert figures == expected, (user.username, filters)
            assert None not in rolled  # read from the rollup


def test_a_manager_never_sees_another_teams_outcomes_from_the_rollup(
    outcomes_board, manager_user, other_manager, team, other_team
):
    outcomes_rollup_rebuild()
    rates = win_win_rates(user=manager_user, filters=OutcomeFilters())
    assert rates.rolled_up_at is not None
    assert [t.id for t in rates.teams] == [team.id]
    assert "bert_rep" not in {r.name for r in rates.reps}
    # Asking for the other team by id narrows the manager's own scope: nothing.
    other = win_win_rates(user=manager_user, filters=OutcomeFilters(team_id=other_team.id))
    assert other.overall.won_deals == 0 and other.teams == []
    assert (
        calibration(user=manager_user, filters=OutcomeFilters(team_id=other_team.id))[
            "closed_deals"
        ]
        == 0
    )
    theirs = win_win_rates(user=other_manager, filters=OutcomeFilters())
    assert [t.id for t in theirs.teams] == [other_team.id]


def test_an_outcome_recorded_after_the_build_counts_at_once(
    outcomes_board, manager_user, rita, delivery_user
):
    outcomes_rollup_rebuild()
    before = win_win_rates(user=manager_user, filters=OutcomeFilters())
    rita_before = next(r for r in before.reps if r.id == rita.id)
    # w2 (rita, closed 20 days ago) was at risk with value 3; delivery corrects it.
    w2_day_90 = CheckIn.objects.get(handoff__deal=outcomes_board["w2"], day_offset=90)
    check_in_record(
        check_in=w2_day_90, user=delivery_user, customer_value=5, account_health="profitable"
    )
    after, rolled = _figures(manager_user, OutcomeFilters())
    assert None not in rolled  # still the rollup, refreshed for w2's day and month
    rita_after = next(r for r in after[0]["reps"] if r["id"] == rita.id)
    assert rita_after["win_win_outcomes"] == rita_before.win_win_outcomes + 1
    assert after[0]["overall"]["win_win_outcomes"] == before.overall.win_win_outcomes + 1
    # The refreshed rows are what a full rebuild writes.
    outcomes_rollup_rebuild()
    assert _figures(manager_user, OutcomeFilters())[0] == after
    assert _figures(manager_user, OutcomeFilters(period="30d"))[0] == _live(
        manager_user, OutcomeFilters(period="30d")
    )


def _live(user, filters):
    DashboardOutcomeRollup.objects.all().delete()
    DashboardOutcomeCut.objects.all().delete()
    figures, rolled = _figures(user, filters)
    assert rolled == (None, None)
    return figures


def test_the_rollup_is_what_is_read_and_deals_closed_since_are_read_live(
    outcomes_board, manager_user, team, rita, delivery_team
):
    outcomes_rollup_rebuild()
    before = win_win_rates(user=manager_user, filters=OutcomeFilters())
    last_30 = win_win_rates(user=manager_user, filters=OutcomeFilters(period="30d"))
    # A change behind the rollup's back (no hook) does not show until the next build...
    CheckIn.objects.filter(handoff__deal=outcomes_board["w1"]).delete()
    assert win_win_rates(user=manager_user, filters=OutcomeFilters()).overall == before.overall
    # ...while a deal closed since the build counts at once.
    deal = _closed(team, rita, "closed_won", net=100, cost=10, days_ago=0)
    _check_in(_handoff(deal, delivery_team), 90, value="5", health="profitable")
    now = win_win_rates(user=manager_user, filters=OutcomeFilters(period="30d"))
    assert now.rolled_up_at is not None
    assert now.overall.won_deals == last_30.overall.won_deals + 1
    assert now.overall.win_win_outcomes == last_30.overall.win_win_outcomes + 1
    # A later run of the day sees only deals edited since (the delete above bumped
    # nothing); the next day's full run sees everything.
    stale = win_win_rates(user=manager_user, filters=OutcomeFilters()).overall
    outcomes_rollup_rebuild()
    assert win_win_rates(user=manager_user, filters=OutcomeFilters()).overall == stale
    outcomes_rollup_rebuild(full=True)
    rebuilt = win_win_rates(user=manager_user, filters=OutcomeFilters())
    assert rebuilt.overall.checked_deals == before.overall.checked_deals  # -w1, +the new one
    assert rebuilt.overall.won_deals == before.overall.won_deals + 1


def test_an_old_rollup_is_not_trusted(outcomes_board, manager_user):
    outcomes_rollup_rebuild()
    DashboardOutcomeCut.objects.update(
        built_at=timezone.now() - OUTCOME_ROLLUP_MAX_AGE - dt.timedelta(minutes=1)
    )
    CheckIn.objects.filter(handoff__deal=outcomes_board["w1"]).delete()
    rates = win_win_rates(user=manager_user, filters=OutcomeFilters())
    assert rates.rolled_up_at is None
    assert (
        rates.overall.checked_deals
        == _live(manager_user, OutcomeFilters())[0]["overall"]["checked_deals"]
    )


def test_rollup_reads_run_a_fixed_number_of_queries(
    outcomes_board, manager_user, team, rita, delivery_team, django_assert_num_queries
):
    outcomes_rollup_rebuild()
    win_win_rates(user=manager_user, filters=OutcomeFilters())  # the managed teams, once
    for filters in (OutcomeFilters(), OutcomeFilters(period="90d", rep_id=rita.id)):
        with django_assert_num_queries(4):  # the cut, figures, team names, rep names
            win_win_rates(user=manager_user, filters=filters)
        with django_assert_num_queries(2):  # the cut, the table
            calibration(user=manager_user, filters=filters)
    for days_ago in (3, 40, 100, 300):
        deal = _closed(team, rita, "closed_won", net=100, cost=10, days_ago=days_ago)
        _check_in(_handoff(deal, delivery_team), 90, value="5", health="profitable")
    outcomes_rollup_rebuild()
    with django_assert_num_queries(4):
        win_win_rates(user=manager_user, filters=OutcomeFilters())
    with django_assert_num_queries(2):
        calibration(user=manager_user, filters=OutcomeFilters())


def test_the_api_says_when_the_outcomes_were_rolled_up(outcomes_board, manager_user, api_as):
    from django.urls import reverse

    client = api_as(manager_user)
    live = client.get(reverse("dashboard-outcomes"), {"period": "90d"}).json()
    live_table = client.get(reverse("dashboard-calibration")).json()
    assert live["rolled_up_at"] is None and live_table["rolled_up_at"] is None
    outcomes_rollup_rebuild()
    outcomes = client.get(reverse("dashboard-outcomes"), {"period": "90d"}).json()
    table = client.get(reverse("dashboard-calibration")).json()
    assert outcomes.pop("rolled_up_at") is not None and table.pop("rolled_up_at") is not None
    live.pop("rolled_up_at"), live_table.pop("rolled_up_at")
    assert (outcomes, table) == (live, live_table)


def test_later_runs_of_the_day_rebuild_the_days_of_deals_edited_since(outcomes_board, manager_user):
    from tests import factories as f

    full = outcomes_rollup_rebuild()
    assert outcomes_rollup_rebuild() == 0  # nothing changed since
    w2 = outcomes_board["w2"]
    w2.cost_total = w2.net_total / 4  # re-priced after the close: its margin changes
    w2.save()
    f.FlagFactory(deal=outcomes_board["w1"], code="HANDOFF_LEAK")  # raised now
    written = outcomes_rollup_rebuild()
    assert 0 < written < full  # w1's and w2's close day and month only
    for filters in (OutcomeFilters(), OutcomeFilters(period="30d")):
        figures, rolled = _figures(manager_user, filters)
        assert None not in rolled
        assert figures == _live(manager_user, filters)
        outcomes_rollup_rebuild(full=True)


def test_the_first_run_of_a_day_rebuilds_everything(outcomes_board, manager_user):
    full = outcomes_rollup_rebuild()
    DashboardOutcomeCut.objects.update(built_at=timezone.now() - dt.timedelta(days=1))
    assert outcomes_rollup_rebuild() == full
    assert DashboardOutcomeRollup.objects.values("built_at").distinct().count() == 1
    cut = DashboardOutcomeCut.objects.get()
    assert timezone.localdate(cut.built_at) == timezone.localdate()


def _read_live(user, filters):
    """The deals a read of the outcome pages takes from the deals table, not the rollup."""
    plan = outcomes._plan(filters, outcomes.outcome_rollup_cut())
    return set(
        outcomes._narrowed(
            outcomes._closed(outcomes.CLOSED_STAGES, plan.live),
            filters,
            scope=outcomes.dashboard_scope_q(user),
        ).values_list("pk", flat=True)
    )


def test_todays_closes_are_in_the_rollup_up_to_its_cut(
    outcomes_board, manager_user, team, rita, delivery_team
):
    earlier = _closed(team, rita, "closed_won", net=500, cost=50, days_ago=0)
    earlier.closed_at = timezone.now() - OUTCOME_CUT_MARGIN - dt.timedelta(minutes=3)
    earlier.save(update_fields=["closed_at"])
    just_now = _closed(team, rita, "closed_won", net=700, cost=70, days_ago=0)
    outcomes_rollup_rebuild()
    # Read live: only what closed after the cut, not the whole day's closes.
    assert _read_live(manager_user, OutcomeFilters()) == {just_now.pk}
    assert _read_live(manager_user, OutcomeFilters(period="30d")) == {just_now.pk}
    for filters in (OutcomeFilters(), OutcomeFilters(period="30d", rep_id=rita.id)):
        figures, rolled = _figures(manager_user, filters)
        assert rolled[0] == DashboardOutcomeCut.objects.get().closed_before
        assert figures == _live(manager_user, filters)
        outcomes_rollup_rebuild()


def test_an_hourly_run_moves_the_cut_on_and_counts_each_close_once(
    outcomes_board, manager_user, team, rita
):
    from tests.dashboard.conftest import make_deal

    open_deal = make_deal(team, rita, stage="proposal", scores=(80, 80, "win_win"), net=900)
    outcomes_rollup_rebuild()
    # The last run was an hour ago (same build day); since then one deal closed by an
    # update that left updated_at alone, and one closed normally.
    hour_ago = timezone.now() - dt.timedelta(hours=1)
    DashboardOutcomeCut.objects.update(closed_before=hour_ago)
    Deal.objects.filter(pk=open_deal.pk).update(
        stage="closed_won", closed_at=timezone.now() - dt.timedelta(minutes=20)
    )
    normal = _closed(team, rita, "closed_won", net=300, cost=30, days_ago=0)
    normal.closed_at = timezone.now() - dt.timedelta(minutes=40)
    normal.save(update_fields=["closed_at"])
    assert {open_deal.pk, normal.pk} <= _read_live(manager_user, OutcomeFilters())
    written = outcomes_rollup_rebuild()
    assert written > 0
    assert DashboardOutcomeCut.objects.get().closed_before > hour_ago
    assert _read_live(manager_user, OutcomeFilters()) == set()  # both in today's rows now
    figures, rolled = _figures(manager_user, OutcomeFilters())
    assert None not in rolled
    assert figures == _live(manager_user, OutcomeFilters())  # each close counted once


def test_a_run_committing_between_the_cut_and_the_figures_counts_each_close_once(
    outcomes_board, manager_user, team, rita, delivery_team, monkeypatch
):
    from deals.dashboard import services

    outcomes_rollup_rebuild()
    deal = _closed(team, rita, "closed_won", net=800, cost=80, days_ago=0)
    deal.closed_at = timezone.now() - dt.timedelta(minutes=1)  # after the cut: read live
    deal.save(update_fields=["closed_at"])
    _check_in(_handoff(deal, delivery_team), 90, value="5", health="profitable")
    stale = outcomes.outcome_rollup_cut()  # a page has read the cut...
    monkeypatch.setattr(services, "OUTCOME_CUT_MARGIN", dt.timedelta(0))
    outcomes_rollup_rebuild()  # ...then an hourly run commits: the deal is in today's rows
    assert DashboardOutcomeCut.objects.get().closed_before > deal.closed_at
    monkeypatch.setattr(outcomes, "outcome_rollup_cut", lambda: stale)
    asked = [OutcomeFilters(), OutcomeFilters(period="30d"), OutcomeFilters(rep_id=rita.id)]
    by_stale_cut = [_figures(manager_user, filters) for filters in asked]
    assert all(None not in rolled for _figures_, rolled in by_stale_cut)
    monkeypatch.undo()
    for filters, (figures, _rolled) in zip(asked, by_stale_cut, strict=True):
        assert figures == _live(manager_user, filters)  # the deal counted once
