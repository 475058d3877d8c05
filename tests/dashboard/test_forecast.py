"""The balance-aware forecast against a hand computation.

Alpha (manager_user's team; its own policy counts negotiation at 50 %):
  f1 negotiation net 1000 next month, win-win       -> 500.00
  f2 proposal    net 2000 next month, buyer-loses   -> 800.00 (at risk)
  f3 discovery   net  500 expected 40 days ago, lose-lose -> this month, 50.00 (at risk)
  f4 qualification net 300, no expected close       -> undated
  f5 negotiation net 700 seven months out           -> beyond the horizon
Beta: negotiation net 9999 next month (global 60 %) -> never in Alpha's forecast.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from deals.dashboard import forecast
from deals.dashboard.services import forecast_snapshot_take
from deals.models import DashboardForecastDay, Deal, HealthPolicy
from tests import factories as f

from .conftest import make_deal

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def forecast_board(team, other_team, rita, oscar, manager_user, other_manager):
    today = timezone.localdate()
    this_month = forecast.month_start(today)
    next_month = forecast.add_months(this_month, 1)
    HealthPolicy.objects.get_or_create(team=None)
    HealthPolicy.objects.create(team=team, probability_negotiation=50)

    def deal(stage, net, expected, balance, owner=rita, team_=team):
        scores = (80, 80, balance) if balance else None
        return make_deal(
            team_,
            owner,
            stage=stage,
            scores=scores,
            net=net,
            list_total=net,
            expected_close_date=expected,
        )

    board = {
        "f1": deal("negotiation", 1000, next_month + dt.timedelta(days=4), "win_win"),
        "f2": deal("proposal", 2000, next_month + dt.timedelta(days=20), "buyer_loses", oscar),
        "f3": deal("discovery", 500, today - dt.timedelta(days=40), "lose_lose"),
        "f4": deal("qualification", 300, None, "win_win"),
        "f5": deal("negotiation", 700, forecast.add_months(this_month, 7), "win_win"),
        "beta": deal(
            "negotiation",
            9999,
            next_month,
            "win_win",
            owner=f.rep(other_team, username="bert_rep"),
            team_=other_team,
        ),
    }
    return {"this_month": this_month, "next_month": next_month, **board}


def _month(result, month):
    return next(m for m in result["months"] if m["month"] == month)


def test_forecast_weights_open_deals_by_stage_and_splits_them_by_balance(
    forecast_board, manager_user
):
    result = forecast.forecast(user=manager_user)
    assert [m["month"] for m in result["months"]] == [
        forecast.add_months(forecast_board["this_month"], i) for i in range(6)
    ]
    now = _month(result, forecast_board["this_month"])
    assert (now["deals"], now["net_total"], now["weighted_total"]) == (1, D("500"), D("50.00"))
    assert now["by_balance"]["lose_lose"] == D("50.00")
    assert now["commit_at_risk"] == D("50.00")
    nxt = _month(result, forecast_board["next_month"])
    assert (nxt["deals"], nxt["net_total"], nxt["weighted_total"]) == (2, D("3000"), D("1300.00"))
    assert nxt["by_balance"]["win_win"] == D("500.00")
    assert nxt["by_balance"]["buyer_loses"] == D("800.00")
    assert nxt["commit_at_risk"] == D("800.00")
    assert result["total_weighted"] == D("1350.00")
    assert result["total_commit_at_risk"] == D("850.00")
    assert (result["overdue_deals"], result["undated_deals"]) == (1, 1)
    # The probabilities shown: the global policy's, or the team's when filtered to it.
    assert result["probabilities"]["negotiation"] == 60
    assert (
        forecast.forecast(user=manager_user, team_id=forecast_board["f1"].team_id)["probabilities"][
            "negotiation"
        ]
        == 50
    )


def test_forecast_filters_by_rep_and_never_shows_another_team(
    forecast_board, manager_user, oscar, other_manager
):
    only_oscar = forecast.forecast(user=manager_user, rep_id=oscar.id)
    assert only_oscar["total_weighted"] == D("800.00")
    # A manager asking for another team's id gets nothing from it.
    assert forecast.forecast(user=manager_user, team_id=forecast_board["beta"].team_id)[
        "total_weighted"
    ] == D("0.00")
    beta = forecast.forecast(user=other_manager)
    assert beta["total_weighted"] == D("5999.40")  # 9999 at the global 60 %


def test_past_months_show_the_forecast_made_at_the_months_start_against_closed_won(
    forecast_board, team, other_team, rita, manager_user
):
    last = forecast.add_months(forecast_board["this_month"], -1)
    built = timezone.now()

    def row(day, balance, weighted, team_=team):
        DashboardForecastDay.objects.create(
            day=day,
            team=team_,
            owner=rita,
            month=last,
            balance=balance,
            deals=1,
            net_total=D(weighted) * 2,
            weighted_total=D(weighted),
            built_at=built,
        )

    row(last, "win_win", "900")
    row(last, "buyer_loses", "300")
    row(last + dt.timedelta(days=14), "win_win", "5000")  # later in the month: not the forecast
    row(forecast.add_months(last, -1), "win_win", "111")  # an older forecast for that month
    row(last, "win_win", "7777", team_=other_team)  # another team
    won = make_deal(team, rita, stage="closed_won", net=1200, list_total=1200)
    won.closed_at = timezone.make_aware(
        dt.datetime.combine(last + dt.timedelta(days=9), dt.time(12))
    )
    won.save(update_fields=["closed_at"])

    past = forecast.forecast(user=manager_user)["past"]
    assert len(past) == 6
    entry = past[-1]
    assert entry["month"] == last
    assert entry["forecast_as_of"] == last
    assert entry["forecast_weighted"] == D("1200")
    assert entry["forecast_commit_at_risk"] == D("300")
    assert entry["actual_closed_won"] == D("1200")
    assert past[0]["forecast_weighted"] is None  # no forecast kept that far back


def test_todays_snapshot_holds_the_same_forecast(forecast_board, admin_user):
    forecast_snapshot_take()
    forecast_snapshot_take()  # again: replaces the day's rows
    rows = DashboardForecastDay.objects.filter(day=timezone.localdate())
    total = sum(r.weighted_total for r in rows)
    assert total == forecast.forecast(user=admin_user)["total_weighted"]
    assert total == D("1350.00") + D("5999.40")


def test_empty_forecast(db, manager_user):
    result = forecast.forecast(user=manager_user)
    assert result["total_weighted"] == D("0.00")
    assert all(m["deals"] == 0 for m in result["months"])
    assert all(p["forecast_weighted"] is None for p in result["past"])
    assert result["probabilities"] == forecast.DEFAULT_PROBABILITIES


def test_forecast_selector_runs_a_fixed_number_of_queries(
    forecast_board, manager_user, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        forecast.forecast(user=manager_user)


def test_forecast_api_and_page(
    forecast_board, manager_user, api_as, client, django_assert_max_num_queries
):
    api = api_as(manager_user)
    with django_assert_max_num_queries(10):
        body = api.get(reverse("dashboard-forecast")).json()
    assert body["total_weighted"] == "1350.00"
    assert body["total_commit_at_risk"] == "850.00"
    assert body["months"][1]["by_balance"]["buyer_loses"] == "800.00"
    assert api.get(reverse("dashboard-forecast"), {"team": "x"}).status_code == 400
    client.force_login(manager_user)
    page = client.get(reverse("dashboard:forecast")).content.decode()
    assert "Commit at risk" in page
    assert "1,350" in page


def test_todays_forecast_rows_hold_what_the_forecast_shows_in_four_queries(
    forecast_board, manager_user, django_assert_num_queries
):
    with django_assert_num_queries(4):  # policies, deals per month, snapshot days, past rows
        shown = forecast.forecast(user=manager_user)
    assert shown["months_as_of"] is None  # exact as of the request, not the sweep's rows
    assert shown["total_commit_at_risk"] == D("850.00")
    forecast_snapshot_take()
    rows = DashboardForecastDay.objects.filter(
        day=timezone.localdate(), team=forecast_board["f1"].team
    )
    for month in shown["months"]:
        in_month = [r for r in rows if r.month == month["month"]]
        assert sum((r.weighted_total for r in in_month), D("0")) == month["weighted_total"]
        assert sum(r.deals for r in in_month) == month["deals"]


def test_a_deal_changed_after_the_sweep_shows_in_the_forecast_at_once(forecast_board, manager_user):
    forecast_snapshot_take()
    f2 = forecast_board["f2"]  # proposal, 2,000 next month, buyer-loses: 800 at risk
    Deal.objects.filter(pk=f2.pk).update(stage=Deal.Stage.NEGOTIATION, net_total=D("3000"))
    result = forecast.forecast(user=manager_user)
    assert _month(result, forecast_board["next_month"])["commit_at_risk"] == D("1500.00")
    Deal.objects.filter(pk=f2.pk).delete()
    result = forecast.forecast(user=manager_user)
    assert result["total_commit_at_risk"] == D("50.00")
