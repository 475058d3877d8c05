"""The rule calibration page in a real browser: a manager reads a flag's outcomes against
the deals without it, narrows the period, and moves on to the win-win rate."""

import pytest

from .outcome_data import build_outcomes_board

pytestmark = pytest.mark.browser


def test_manager_reads_the_calibration_table_and_the_win_win_rate(
    page, login, screenshot, team, other_team, rita, oscar, manager_user, delivery_team
):
    build_outcomes_board(
        team=team, other_team=other_team, rita=rita, oscar=oscar, delivery_team=delivery_team
    )
    login(page, manager_user)
    page.goto("/dashboard/")
    page.get_by_role("link", name="Rule calibration").click()
    page.wait_for_url("**/dashboard/calibration/**")
    assert page.locator("#calibration-scope").inner_text().startswith("5 closed deals")

    row = page.locator('tbody[data-code="PRESSURE_CHASING"]')
    assert row.locator('[data-field="with-deals"]').inner_text() == "2"
    assert row.locator('[data-field="without-deals"]').inner_text() == "3"
    assert row.locator('[data-field="with-win-rate"]').inner_text().startswith("50.0 %")
    assert row.locator('[data-field="diff-win-rate"]').inner_text() == "-16.7 pts"
    assert "too few deals to tell" in row.locator('[data-field="hint"]').inner_text()
    # Another team's deal (Beta, with the same flag) is not behind any number.
    assert page.locator("text=b1").count() == 0
    screenshot(page, "calibration")

    page.select_option("#f-period", "90d")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**period=90d**")
    assert page.locator('tbody[data-code="PRESSURE_CHASING"]').count() == 1

    page.get_by_role("link", name="Win-win rate").first.click()
    page.wait_for_url("**/dashboard/outcomes/**")
    assert page.locator("#overall-rate .value").inner_text() == "50.0 %"
    assert page.get_by_role("note").inner_text().startswith("Fewer than 10 checked deals")
    assert not page.js_errors
