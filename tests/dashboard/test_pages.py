"""The dashboard and flag review pages, and acknowledging flags from them."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deals.models import Flag
from tests import factories as f

from .conftest import flag_status, make_deal, make_flag

DASHBOARD = reverse("dashboard:index")
REPS = reverse("dashboard:reps")
FLAGS = reverse("dashboard:flags")


def ack_url(flag):
    return reverse("dashboard:flag_acknowledge", args=[flag.pk])


def card_numbers(html):
    return dict(re.findall(r'data-balance="(\w+)".*?<span class="count">(\d+)</span>', html, re.S))


def test_dashboard_says_when_the_past_days_it_compares_with_were_rolled_up(board, client):
    from django.core.cache import cache

    from deals.dashboard.services import dashboard_history_rollup

    client.force_login(board.manager)
    assert "past days as of" not in client.get(DASHBOARD).content.decode()
    dashboard_history_rollup()
    cache.clear()  # the minute-long live cache
    html = client.get(DASHBOARD).content.decode()
    assert re.search(r"past days as of \d\d:\d\d", html)

    # Rolled up on an earlier day (today's first sweep has not run yet): with its date.
    from django.utils import timezone

    from deals.models import DashboardDayRollup

    DashboardDayRollup.objects.update(built_at=timezone.now() - timedelta(days=1))
    cache.clear()
    html = client.get(DASHBOARD).content.decode()
    assert re.search(r"past days as of \d{1,2} \w{3} \d\d:\d\d", html)


def test_dashboard_shows_counts_per_quadrant_with_changes_and_reps(board, client):
    client.force_login(board.manager)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert response.context["nav"] == "dashboard"
    html = response.content.decode()
    assert card_numbers(html) == {
        "win_win": "1",
        "buyer_loses": "1",
        "seller_loses": "1",
        "lose_lose": "1",
    }
    assert "Buyer loses" in html and "Seller loses" in html and "Lose-lose" in html
    assert "-1 vs last week" in html  # buyer loses fell from 2 to 1
    assert "Beta secret deal" not in html and "bert_rep" not in html
    assert f'hx-get="{REPS}?stage=open&amp;period=all"' in html  # the rep table loads next
    assert 'id="quadrant-chart"' in html and 'id="trends-chart"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    # The flag review page's own count: d1, d2 twice and closed d5; d3 is acknowledged.
    assert response.context["open_flags"] == 4
    review = client.get(reverse("dashboard:flags"))
    assert review.context["page"].paginator.count == response.context["open_flags"]


def test_rep_table_partial_links_each_number_to_the_flag_list(board, client):
    client.force_login(board.manager)
    response = client.get(REPS, {"stage": "open"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html  # a partial for htmx
    assert "Rita Reyes" in html and "Oscar Olsen" in html and "bert_rep" not in html
    assert f"{FLAGS}?rep={board.rita.id}&amp;code=PRESSURE_LANGUAGE" in html
    assert f"{FLAGS}?rep={board.oscar.id}&amp;code=HANDOFF_OVERDUE" in html
    assert "4.5 / 5" in html  # oscar's post-close customer value
    full = client.get(REPS).content.decode()
    assert "<html" in full and "Rita Reyes" in full  # also a page of its own


def test_dashboard_filters_apply_to_cards(board, client):
    client.force_login(board.manager)
    html = client.get(DASHBOARD, {"rep": board.oscar.id}).content.decode()
    assert card_numbers(html) == {
        "win_win": "0",
        "buyer_loses": "0",
        "seller_loses": "1",
        "lose_lose": "1",
    }
    assert f"rep={board.oscar.id}" in html  # chart endpoints get the same filters


def test_bad_dashboard_filters_show_errors_not_500(board, client):
    client.force_login(board.manager)
    response = client.get(DASHBOARD, {"stage": "nope"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_dashboard_sorts_the_rep_table(board, client):
    client.force_login(board.manager)

    def table(params):
        html = client.get(REPS, params, HTTP_HX_REQUEST="true").content.decode()
        return html[html.index('class="rep-table"') :]

    html = table({"sort": "-open_deals"})
    assert html.index("Rita Reyes") < html.index("Oscar Olsen")
    html = table({"sort": "open_deals"})
    assert html.index("Oscar Olsen") < html.index("Rita Reyes")


def test_reps_get_403_and_anonymous_users_go_to_login(board, client):
    client.force_login(board.rita)
    assert client.get(DASHBOARD).status_code == 403
    assert client.get(FLAGS).status_code == 403
    assert client.get(REPS).status_code == 403
    assert client.post(ack_url(board.flags.d1_chasing), {"note": "x"}).status_code == 403
    assert flag_status(board.flags.d1_chasing) == "open"
    client.logout()
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_admin_sees_the_dashboard(board, admin_user, client):
    client.force_login(admin_user)
    html = client.get(DASHBOARD).content.decode()
    assert card_numbers(html)["win_win"] == "2"


def _page_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# session, user, roles, managed teams, teams, reps, balance (3), open flags, win-win
# outcomes (figures, team names, rep names)
PAGE_MAX_QUERIES = 13
# session, user, roles, managed teams, rep table (before the sweep's rollup: probe + 5)
REPS_MAX_QUERIES = 10
FLAGS_PAGE_MAX_QUERIES = 8  # session, user, roles, managed teams, teams, reps, count, page


@pytest.mark.parametrize(
    ("url", "limit"),
    [(DASHBOARD, PAGE_MAX_QUERIES), (REPS, REPS_MAX_QUERIES), (FLAGS, FLAGS_PAGE_MAX_QUERIES)],
)
def test_pages_run_a_fixed_number_of_queries(
    team, manager_user, client, url, limit, django_assert_max_num_queries
):
    reps = [f.rep(team, username=f"p_rep{i}") for i in range(3)]

    def grow(n):
        for i in range(n):
            deal = make_deal(team, reps[i % 3], scores=(70, 40, "seller_loses"), net=10)
            make_flag(deal, "PRESSURE_CHASING")
            make_flag(deal, "SELLER_MARGIN_BELOW_FLOOR", side="seller")

    from django.core.cache import cache

    client.force_login(manager_user)
    grow(5)
    with django_assert_max_num_queries(limit):
        small = _page_queries(client, url)
    grow(45)
    cache.clear()  # the uncached path: live aggregates are cached for a minute
    with django_assert_max_num_queries(limit):
        large = _page_queries(client, url)
    assert small == large


def test_flag_review_lists_open_flags_with_filters(board, client):
    client.force_login(board.manager)
    html = client.get(FLAGS).content.decode()
    assert html.count('class="flag-row open"') == 4
    assert "Beta secret deal" not in html
    html = client.get(FLAGS, {"code": "PRESSURE_CHASING", "rep": board.rita.id}).content.decode()
    assert html.count('class="flag-row open"') == 1
    assert "Acme rollout" in html
    html = client.get(FLAGS, {"age": "7"}).content.decode()
    assert html.count('class="flag-row open"') == 1
    html = client.get(FLAGS, {"severity": "critical", "side": "relationship"}).content.decode()
    assert html.count('class="flag-row open"') == 1 and "PRESSURE_LANGUAGE" in html


def test_acknowledge_one_flag_with_htmx_keeps_it_for_audit(board, client):
    client.force_login(board.manager)
    flag = board.flags.d1_chasing
    response = client.post(
        ack_url(flag), {"note": "Buyer asked for daily updates"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="flag-{flag.pk}"')
    assert "Acknowledged" in html and "Buyer asked for daily updates" in html
    flag.refresh_from_db()
    assert flag.status == "acknowledged"
    assert flag.acknowledged_by == board.manager
    assert flag.acknowledge_note == "Buyer asked for daily updates"

    open_list = client.get(FLAGS).content.decode()
    assert f'id="flag-{flag.pk}"' not in open_list
    audit = client.get(FLAGS, {"status": "acknowledged"}).content.decode()
    assert f'id="flag-{flag.pk}"' in audit and "Buyer asked for daily updates" in audit


def test_acknowledge_without_a_note_shows_the_error_and_changes_nothing(board, client):
    client.force_login(board.manager)
    flag = board.flags.d1_chasing
    response = client.post(ack_url(flag), {"note": "  "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert flag_status(flag) == "open"


def test_acknowledge_without_htmx_redirects_back_with_a_message(board, client):
    client.force_login(board.manager)
    flag = board.flags.d2_language
    response = client.post(
        ack_url(flag), {"note": "Quoting their own deadline", "next": FLAGS}, follow=True
    )
    assert response.redirect_chain[-1][0] == FLAGS
    assert "Acknowledged PRESSURE_LANGUAGE" in response.content.decode()
    assert flag_status(flag) == "acknowledged"


def test_another_teams_flag_is_404_for_a_manager(board, client):
    client.force_login(board.manager)
    response = client.post(ack_url(board.flags.d7_chasing), {"note": "not mine"})
    assert response.status_code == 404
    assert flag_status(board.flags.d7_chasing) == "open"


def test_bulk_acknowledge_skips_flags_outside_the_team(board, client):
    client.force_login(board.manager)
    ids = [board.flags.d1_chasing.pk, board.flags.d2_oversell.pk, board.flags.d7_chasing.pk]
    response = client.post(
        reverse("dashboard:flag_bulk_acknowledge"),
        {"flags": ids, "note": "Reviewed in the pipeline meeting", "next": FLAGS},
        follow=True,
    )
    html = response.content.decode()
    assert "Acknowledged 2 flags." in html
    assert "1 flag(s) were no longer open" in html
    acknowledged = Flag.objects.filter(
        status="acknowledged", acknowledge_note__startswith="Reviewed"
    )
    assert set(acknowledged.values_list("pk", flat=True)) == set(ids[:2])
    assert flag_status(board.flags.d7_chasing) == "open"


def test_bulk_acknowledge_needs_a_selection_and_a_note(board, client):
    client.force_login(board.manager)
    response = client.post(reverse("dashboard:flag_bulk_acknowledge"), {"note": "x"}, follow=True)
    assert "Tick at least one flag" in response.content.decode()
    response = client.post(
        reverse("dashboard:flag_bulk_acknowledge"),
        {"flags": [board.flags.d1_chasing.pk]},
        follow=True,
    )
    assert "This field is required." in response.content.decode()
    assert flag_status(board.flags.d1_chasing) == "open"


def test_unsafe_next_url_is_ignored(board, client):
    client.force_login(board.manager)
    response = client.post(
        ack_url(board.flags.d1_chasing), {"note": "ok", "next": "https://evil.example.com/"}
    )
    assert response["Location"] == FLAGS
