"""Win-win rates and rule calibration against hand-built deals (every number by hand).

Alpha (manager_user's team):
  w1 rita  won, net 1000 cost 400 (60 % margin), closed win-win; day-90: needs 5 and 4
           (4.50), profitable -> a win-win outcome; promises c1 c2 c3 kept.
  w2 rita  won, net 2000 cost 1800 (10 %), closed buyer-loses; day-90: value 3, at risk;
           promise c4 missed. PRESSURE_CHASING from 10 days before the close, resolved then.
  w3 oscar won, net 500 cost 250 (50 %); only the day-30 check-in recorded (not checked);
           HANDOFF_LEAK raised after the close.
  l1 oscar lost, PRESSURE_CHASING open since 5 days before the close.
  l2 rita  lost, PRESSURE_CHASING resolved 40 days before the close (outside the window).
Beta: b1 won, day-90 value 5, profitable, PRESSURE_CHASING at the close.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from deals.dashboard.outcomes import (
    OutcomeFilters,
    calibration,
    confidence_hint,
    wilson_interval,
    win_win_rates,
)

from .outcome_data import build_outcomes_board

pytestmark = pytest.mark.django_db


@pytest.fixture
def outcomes_board(team, other_team, rita, oscar, manager_user, other_manager, delivery_team):
    return build_outcomes_board(
        team=team, other_team=other_team, rita=rita, oscar=oscar, delivery_team=delivery_team
    )


def test_win_win_rate_counts_checked_deals_beside_those_that_closed_win_win(
    outcomes_board, manager_user
):
    rates = win_win_rates(user=manager_user, filters=OutcomeFilters())
    o = rates.overall
    assert (o.won_deals, o.checked_deals, o.win_win_outcomes) == (3, 2, 1)
    assert o.win_win_rate == 50.0
    assert o.closed_win_win == 1 and o.closed_win_win_share == 50.0
    assert o.avg_customer_value == 3.75
    assert (o.promises_kept, o.promises_missed, o.promises_kept_pct) == (3, 1, 75.0)
    assert o.handoff_leaks == 1
    assert o.small_sample is True
    assert [t.name for t in rates.teams] == ["Alpha sales"]


def test_win_win_rate_per_rep(outcomes_board, manager_user, rita, oscar):
    reps = {r.id: r for r in win_win_rates(user=manager_user, filters=OutcomeFilters()).reps}
    assert set(reps) == {rita.id, oscar.id}
    assert (reps[rita.id].checked_deals, reps[rita.id].win_win_rate) == (2, 50.0)
    assert reps[rita.id].promises_kept_pct == 75.0
    assert reps[rita.id].avg_customer_value == 3.75
    assert reps[rita.id].handoff_leaks == 0
    assert (reps[oscar.id].won_deals, reps[oscar.id].checked_deals) == (1, 0)
    assert reps[oscar.id].win_win_rate is None
    assert reps[oscar.id].handoff_leaks == 1


def test_another_teams_outcomes_never_reach_a_manager_but_reach_an_admin(
    outcomes_board, other_manager, admin_user
):
    beta = win_win_rates(user=other_manager, filters=OutcomeFilters()).overall
    assert (beta.won_deals, beta.checked_deals, beta.win_win_outcomes) == (1, 1, 1)
    everyone = win_win_rates(user=admin_user, filters=OutcomeFilters()).overall
    assert (everyone.won_deals, everyone.checked_deals, everyone.win_win_outcomes) == (4, 3, 2)


def test_period_filter_keeps_deals_closed_in_the_window(outcomes_board, manager_user):
    w1 = outcomes_board["w1"]
    w1.closed_at = timezone.now() - dt.timedelta(days=200)
    w1.save(update_fields=["closed_at"])
    recent = win_win_rates(user=manager_user, filters=OutcomeFilters(period="90d")).overall
    assert (recent.won_deals, recent.checked_deals, recent.win_win_outcomes) == (2, 1, 0)


def test_empty_scope_has_no_rates(db, manager_user):
    o = win_win_rates(user=manager_user, filters=OutcomeFilters()).overall
    assert (o.won_deals, o.checked_deals) == (0, 0)
    assert o.win_win_rate is None and o.avg_customer_value is None and o.small_sample


def test_calibration_compares_deals_closed_with_a_flag_against_those_without(
    outcomes_board, manager_user
):
    table = calibration(user=manager_user, filters=OutcomeFilters())
    assert (table["closed_deals"], table["checked_deals"]) == (5, 2)
    row = next(r for r in table["results"] if r["code"] == "PRESSURE_CHASING")
    with_, without = row["with_flag"], row["without_flag"]
    # w2 (resolved at the close) and l1 (open at the close); l2's ended 40 days before.
    assert (with_["deals"], with_["won"], with_["win_rate"]) == (2, 1, 50.0)
    assert (with_["checked"], with_["win_win_outcomes"], with_["win_win_outcome_rate"]) == (
        1,
        0,
        0.0,
    )
    assert (with_["avg_customer_value"], with_["avg_margin_pct"]) == (3.0, 10.0)
    assert (without["deals"], without["won"], without["win_rate"]) == (3, 2, 66.7)
    assert (without["checked"], without["win_win_outcome_rate"]) == (1, 100.0)
    assert (without["avg_customer_value"], without["avg_margin_pct"]) == (4.5, 55.0)
    assert row["difference"] == {
        "win_rate": -16.7,
        "win_win_outcome_rate": -100.0,
        "avg_customer_value": -1.5,
        "avg_margin_pct": -45.0,
    }
    assert with_["win_rate_interval"] == wilson_interval(1, 2)
    assert row["win_rate_hint"] == "too few deals to tell"


def test_calibration_ignores_flags_raised_after_the_close(outcomes_board, manager_user):
    table = calibration(user=manager_user, filters=OutcomeFilters())
    leak = next(r for r in table["results"] if r["code"] == "HANDOFF_LEAK")
    assert leak["with_flag"]["deals"] == 0
    assert leak["without_flag"]["deals"] == 5
    assert leak["with_flag"]["win_rate"] is None


def test_calibration_is_scoped_to_the_managers_teams(outcomes_board, other_manager, admin_user):
    beta = calibration(user=other_manager, filters=OutcomeFilters())
    row = next(r for r in beta["results"] if r["code"] == "PRESSURE_CHASING")
    assert beta["closed_deals"] == 1
    assert (row["with_flag"]["deals"], row["without_flag"]["deals"]) == (1, 0)
    everyone = calibration(user=admin_user, filters=OutcomeFilters())
    row = next(r for r in everyone["results"] if r["code"] == "PRESSURE_CHASING")
    assert (everyone["closed_deals"], row["with_flag"]["deals"]) == (6, 3)


def test_calibration_of_an_empty_scope(db, manager_user):
    table = calibration(user=manager_user, filters=OutcomeFilters())
    assert table["closed_deals"] == 0
    assert all(r["with_flag"]["deals"] == 0 for r in table["results"])
    assert all(r["win_rate_hint"] == "too few deals to tell" for r in table["results"])


def test_wilson_interval_matches_the_textbook_value():
    assert wilson_interval(5, 10) == (23.7, 76.3)
    assert wilson_interval(0, 10) == (0.0, 27.8)
    assert wilson_interval(0, 0) is None


def test_confidence_hint_reads_the_intervals():
    assert confidence_hint(20, 2, 40, 36) == "a clear difference"
    assert confidence_hint(20, 10, 40, 22) == "could be chance"
    assert confidence_hint(9, 0, 400, 390) == "too few deals to tell"


def test_selectors_run_a_fixed_number_of_queries(
    outcomes_board, manager_user, django_assert_num_queries
):
    # The outcome rollup's build time is read first (none here: every figure is live).
    with django_assert_num_queries(5):  # managed teams, rollup, figures, team and rep names
        win_win_rates(user=manager_user, filters=OutcomeFilters())
    with django_assert_num_queries(2):  # rollup, table (the managed teams: read once per user)
        calibration(user=manager_user, filters=OutcomeFilters())


def test_outcome_and_calibration_api(
    outcomes_board, manager_user, api_as, django_assert_max_num_queries
):
    client = api_as(manager_user)
    with django_assert_max_num_queries(6):
        body = client.get(reverse("dashboard-calibration")).json()
    assert body["closed_deals"] == 5
    row = next(r for r in body["results"] if r["code"] == "PRESSURE_CHASING")
    assert row["with_flag"]["win_rate"] == 50.0
    with django_assert_max_num_queries(8):
        body = client.get(reverse("dashboard-outcomes"), {"period": "90d"}).json()
    assert body["overall"]["win_win_rate"] == 50.0
    assert body["overall"]["small_sample"] is True
    assert client.get(reverse("dashboard-calibration"), {"period": "nope"}).status_code == 400


def test_reps_and_delivery_may_not_read_outcomes(outcomes_board, rita, delivery_user, api_as):
    for user in (rita, delivery_user):
        assert api_as(user).get(reverse("dashboard-calibration")).status_code == 403
        assert api_as(user).get(reverse("dashboard-outcomes")).status_code == 403


def test_outcome_pages_show_rates_and_the_small_sample_note(outcomes_board, manager_user, client):
    client.force_login(manager_user)
    page = client.get(reverse("dashboard:outcomes")).content.decode()
    assert "50.0 %" in page
    assert "Fewer than 10 checked deals" in page
    page = client.get(reverse("dashboard:calibration")).content.decode()
    assert 'data-code="PRESSURE_CHASING"' in page
    assert "-16.7 pts" in page
    assert "too few deals to tell" in page


# --- The win-win rate on the dashboard page ------------------------------------------------


def _win_win_section(html: str) -> str:
    start = html.index('id="win-win-outcomes"')
    return html[start : html.index("</section>", start)]


def _row(section: str, kind: str, row_id: int) -> str:
    table = section[section.index(f'data-kind="{kind}"') :]
    start = table.index(f'<tr data-id="{row_id}">')
    return table[start : table.index("</tr>", start)]


def test_dashboard_shows_the_win_win_rate_per_team_and_rep_with_the_checked_deals(
    outcomes_board, manager_user, client, team, rita, oscar
):
    client.force_login(manager_user)
    section = _win_win_section(client.get(reverse("dashboard:index")).content.decode())
    # Alpha: w1 (win-win outcome, closed win-win) and w2 checked; w3 won but not checked.
    assert "<strong>50.0 %</strong> win-win outcomes" in section
    assert "2 checked deals of 3 closed won" in section
    assert "<strong>50.0 %</strong> closed as win-win" in section
    assert "Fewer than 10 checked deals stand behind this rate" in section
    assert f"{reverse('dashboard:outcomes')}?period=all" in section
    alpha = _row(section, "team", team.id)
    assert "50.0 %" in alpha and "n=2, too few" in alpha and "2 / 3" in alpha
    rita_row = _row(section, "rep", rita.id)
    assert "50.0 %" in rita_row and "75.0 %" in rita_row and "3.75" in rita_row
    oscar_row = _row(section, "rep", oscar.id)
    assert "0 / 1" in oscar_row and "n=0, too few" in oscar_row
    # Beta's deal (a win-win outcome) is another team's: never in this manager's figures.
    assert "Beta" not in section


def test_dashboard_win_win_rate_follows_the_dashboard_period_and_rep(
    outcomes_board, manager_user, client, rita, oscar
):
    w1 = outcomes_board["w1"]
    w1.closed_at = timezone.now() - dt.timedelta(days=200)
    w1.save(update_fields=["closed_at"])
    client.force_login(manager_user)
    page = client.get(reverse("dashboard:index"), {"period": "90d"}).content.decode()
    section = _win_win_section(page)
    assert "closed in the last 90 days" in section
    assert "1 checked deal of 2 closed won" in section
    assert "<strong>0.0 %</strong> win-win outcomes" in section
    assert "period=90d" in section
    page = client.get(reverse("dashboard:index"), {"rep": oscar.id}).content.decode()
    section = _win_win_section(page)
    assert "No win-win outcome rate yet · 0 checked deals of 1 closed won" in section


def test_dashboard_win_win_rate_for_an_empty_scope(db, manager_user, client):
    client.force_login(manager_user)
    section = _win_win_section(client.get(reverse("dashboard:index")).content.decode())
    assert "No closed-won deals in this scope and period yet" in section


def test_dashboard_win_win_rate_runs_four_queries_whatever_the_deals(
    outcomes_board, manager_user, team, rita, delivery_team, django_assert_num_queries
):
    from django.core.cache import cache

    from deals.dashboard.outcomes import dashboard_win_win_rates
    from deals.dashboard.selectors import DashboardFilters

    from .outcome_data import _check_in, _closed, _handoff

    dashboard_win_win_rates(user=manager_user, filters=DashboardFilters())  # managed teams
    cache.clear()
    # The rollup's build time, the figures, team names, rep names.
    with django_assert_num_queries(4):
        small = dashboard_win_win_rates(user=manager_user, filters=DashboardFilters())
    for _ in range(5):
        deal = _closed(team, rita, "closed_won", net=100, cost=10, days_ago=100)
        _check_in(_handoff(deal, delivery_team), 90, value="5", health="profitable")
    cache.clear()
    with django_assert_num_queries(4):
        large = dashboard_win_win_rates(user=manager_user, filters=DashboardFilters())
    assert (small.overall.checked_deals, large.overall.checked_deals) == (2, 7)
    assert large.overall.win_win_outcomes == 6
    with django_assert_num_queries(0):  # cached for the page's minute
        dashboard_win_win_rates(user=manager_user, filters=DashboardFilters())
