"""The dashboard's JSON endpoints: contract shape, permissions, scoping, export, query counts."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f

from .conftest import make_deal, make_flag

ENDPOINTS = ["balance/", "quadrant/", "trends/", "reps/", "export.csv"]
BASE = "/api/v1/dashboard/"


def test_balance_endpoint_matches_the_design_contract(board, api_as):
    response = api_as(board.manager).get(BASE + "balance/")
    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {"win_win": 1, "buyer_loses": 1, "seller_loses": 1, "lose_lose": 1}
    assert body["money"] == {
        "win_win": "900.00",
        "buyer_loses": "1500.00",
        "seller_loses": "800.00",
        "lose_lose": "0.00",
    }
    assert body["change"]["week"]["counts"]["buyer_loses"] == -1
    assert body["unscored"] == {"count": 1, "money": "300.00"}


def test_history_says_when_the_sweep_rolled_it_up(board, api_as):
    from django.core.cache import cache

    from deals.dashboard.services import dashboard_history_rollup

    client = api_as(board.manager)
    before = client.get(BASE + "balance/").json()
    assert before["history_rolled_up_at"] is None  # read from the snapshots
    dashboard_history_rollup()
    cache.clear()  # the minute-long live cache
    balance = client.get(BASE + "balance/").json()
    assert balance["history_rolled_up_at"] is not None
    assert balance["change"] == before["change"]
    assert client.get(BASE + "trends/").json()["history_rolled_up_at"] is not None


def test_balance_has_all_four_keys_when_nothing_is_visible(manager_user, api_as):
    body = api_as(manager_user).get(BASE + "balance/").json()
    assert body["counts"] == {"win_win": 0, "buyer_loses": 0, "seller_loses": 0, "lose_lose": 0}
    assert set(body["money"]) == {"win_win", "buyer_loses", "seller_loses", "lose_lose"}
    assert body["change"] == {"week": None, "month": None}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_reps_and_delivery_get_403_and_anonymous_401(
    board, endpoint, api_as, api_client, delivery_user
):
    assert api_as(board.rita).get(BASE + endpoint).status_code == 403
    assert api_as(delivery_user).get(BASE + endpoint).status_code == 403
    assert api_client.get(BASE + endpoint).status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bad_filters_answer_400_with_field_errors(board, endpoint, api_as):
    response = api_as(board.manager).get(BASE + endpoint, {"stage": "bogus", "team": "x"})
    assert response.status_code == 400
    assert set(response.json()) == {"stage", "team"}


def test_quadrant_endpoint_links_each_point_to_its_deal(board, api_as):
    body = api_as(board.manager).get(BASE + "quadrant/").json()
    assert body["mode"] == "points"
    first = body["points"][0]
    assert first == {
        "id": board.d1.id,
        "title": "Acme rollout",
        "buyer_score": 80,
        "seller_score": 90,
        "net_total": "900.00",
        "balance": "win_win",
        "url": f"/deals/{board.d1.id}/",
    }
    assert board.d7.id not in {p["id"] for p in body["points"]}


def test_trends_endpoint_has_twelve_weeks(board, api_as):
    weeks = api_as(board.manager).get(BASE + "trends/").json()["weeks"]
    assert len(weeks) == 12
    assert weeks[-1]["win_win_share"] == 25.0
    assert weeks[-1]["pressure_flags"] == 2


def test_reps_endpoint_sorts_and_counts_pressure_by_code(board, api_as):
    body = api_as(board.manager).get(BASE + "reps/", {"sort": "-pressure_flags_total"}).json()
    assert body["sort"] == "-pressure_flags_total"
    first = body["results"][0]
    assert first["name"] == "Rita Reyes"
    assert first["pressure_flags"]["PRESSURE_LANGUAGE"] == 1
    assert first["pressure_flags_total"] == 2
    assert [r["name"] for r in body["results"]] == ["Rita Reyes", "Oscar Olsen"]


def test_admin_can_filter_by_any_team(board, admin_user, api_as):
    body = api_as(admin_user).get(BASE + "balance/", {"team": board.d7.team_id}).json()
    assert body["counts"]["win_win"] == 1
    assert body["money"]["win_win"] == "99999.00"


def _csv_rows(response):
    content = b"".join(response.streaming_content).decode()
    return [_Row(r) for r in csv.DictReader(io.StringIO(content))]


class _Row(dict):
    """A row of deals.exports' CSV, read by the short names these tests use."""

    NAMES = {
        "id": "ID",
        "title": "Title",
        "buyer_score": "Buyer score",
        "seller_score": "Seller score",
        "balance": "Balance",
        "open_flag_codes": "Open flags",
        "discount_pct": "Discount %",
        "margin_pct": "Margin %",
    }

    def __getitem__(self, key):
        return dict.__getitem__(self, self.NAMES.get(key, key))


def test_export_streams_the_filtered_deals_with_scores_and_open_flag_codes(board, api_as):
    response = api_as(board.manager).get(BASE + "export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = {int(r["id"]): r for r in _csv_rows(response)}
    assert set(rows) == {board.d1.id, board.d2.id, board.d3.id, board.d4.id, board.d6.id}
    d2 = rows[board.d2.id]
    assert (d2["buyer_score"], d2["seller_score"], d2["balance"]) == ("50", "85", "buyer_loses")
    assert d2["open_flag_codes"] == "BUYER_OVERSELL PRESSURE_LANGUAGE"
    assert (d2["discount_pct"], d2["margin_pct"]) == ("25.00", "20.00")
    assert rows[board.d3.id]["open_flag_codes"] == ""  # acknowledged is not open
    assert rows[board.d3.id]["title"] == "'=HYPERLINK(evil)"  # formula neutralised
    assert rows[board.d6.id]["buyer_score"] == ""


def test_export_respects_filters_and_team_scope(board, api_as):
    response = api_as(board.manager).get(
        BASE + "export.csv", {"stage": "all", "rep": board.oscar.id}
    )
    ids = {int(r["id"]) for r in _csv_rows(response)}
    assert ids == {board.d3.id, board.d4.id, board.d5.id}
    beta = api_as(board.other_manager).get(BASE + "export.csv")
    assert {int(r["id"]) for r in _csv_rows(beta)} == {board.d7.id}


def _grow(team, reps, n):
    for i in range(n):
        deal = make_deal(
            team,
            reps[i % len(reps)],
            scores=(60 + i % 40, 50 + i % 50, "win_win"),
            list_total=100,
            net=90,
            cost=30,
        )
        make_flag(deal, "PRESSURE_CHASING")


def _count_queries(client, url, **params):
    from django.core.cache import cache

    cache.clear()  # measure the uncached path: live aggregates are cached for a minute
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Pinned: the caller's roles and managed teams (2), then each endpoint's own queries.
# The same with 5 and with 50 deals.
MAX_QUERIES = {
    "balance/": 5,  # deals per balance, days missing from the history rollup, rollup rows
    "quadrant/": 5,  # policy, density grid, points (not read above the point limit)
    "trends/": 6,  # days missing from the rollup, rollup rows, live deals, live pressure
    # no rollup yet: rollup probe, deal columns, flags, SLA misses, check-ins, names
    "reps/": 8,
    "export.csv": 5,  # the deals with their open flag codes, in one query
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_each_endpoint_runs_a_fixed_number_of_queries(
    team, manager_user, api_as, endpoint, django_assert_max_num_queries
):
    reps = [f.rep(team, username=f"q_rep{i}") for i in range(3)]
    _grow(team, reps, 5)
    # A fresh user object per request, as in real life (roles are cached on the user).
    client = api_as(type(manager_user).objects.get(pk=manager_user.pk))
    with django_assert_max_num_queries(MAX_QUERIES[endpoint]):
        small = _count_queries(client, BASE + endpoint, stage="all")
    _grow(team, reps, 45)
    client = api_as(type(manager_user).objects.get(pk=manager_user.pk))
    with django_assert_max_num_queries(MAX_QUERIES[endpoint]):
        large = _count_queries(client, BASE + endpoint, stage="all")
    assert small == large
