"""Today's deals summed per group and kept exact by the trigger's deltas (PostgreSQL).

Every figure is compared with the same selector answered from the deals table itself
(the branch a database without a build takes), after the kinds of change a day brings:
new deals, a stage moved, a health recompute, a price change, a close, a deletion.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from deals.dashboard import forecast
from deals.dashboard import selectors as s
from deals.dashboard.live_rollup import (
    live_rollup_pause,
    live_rollup_rebuild,
    live_rollup_resume,
)
from deals.models import (
    DashboardDealCells,
    DashboardDealDelta,
    DashboardDealMonths,
    DashboardDealsBuilt,
    DashboardDealTotals,
    Deal,
)

from .conftest import make_deal

D = Decimal
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the deltas come from a PostgreSQL trigger"
    ),
]
FILTERS = [
    s.DashboardFilters(),
    s.DashboardFilters(stage=s.STAGE_ALL),
    s.DashboardFilters(stage=Deal.Stage.PROPOSAL),
]


def _figures(user, rep_id=None) -> dict:
    s.live_cache_invalidate()
    out: dict[object, object] = {}
    for filters in [*FILTERS, s.DashboardFilters(rep_id=rep_id)]:
        summary = s.balance_summary(user=user, filters=filters)
        out[filters] = (
            summary["counts"],
            summary["money"],
            summary["unscored"],
            s.quadrant(user=user, filters=filters),
        )
    result = forecast.forecast(user=user)
    out["forecast"] = (result["months"], result["overdue_deals"], result["undated_deals"])
    out["past"] = [m["actual_closed_won"] for m in result["past"]]
    return out


def _from_the_deals_table(user, rep_id=None) -> dict:
    """The same figures with the sums out of the picture (no build marker)."""
    built = list(DashboardDealsBuilt.objects.values_list("built_at", flat=True))
    DashboardDealsBuilt.objects.all().delete()
    try:
        return _figures(user, rep_id)
    finally:
        DashboardDealsBuilt.objects.bulk_create(DashboardDealsBuilt(built_at=b) for b in built)


@pytest.fixture
def built(board):
    assert live_rollup_rebuild() is not None
    return board


def test_a_build_sums_every_deal_and_folds_the_deltas_in(built):
    assert DashboardDealDelta.objects.count() == 0
    assert sum(DashboardDealTotals.objects.values_list("deals", flat=True)) == Deal.objects.count()
    assert sum(DashboardDealMonths.objects.values_list("deals", flat=True)) == Deal.objects.count()
    scored = Deal.objects.filter(buyer_score__isnull=False, seller_score__isnull=False).count()
    assert sum(DashboardDealCells.objects.values_list("deals", flat=True)) == scored
    assert DashboardDealsBuilt.objects.count() == 1


def test_every_figure_stays_exact_through_a_days_changes(built):
    board = built
    manager, team = board.manager, board.d1.team
    next_month = forecast.add_months(forecast.month_start(timezone.localdate()), 1)
    before = _figures(manager, board.rita.id)
    assert before == _from_the_deals_table(manager, board.rita.id)

    # New deals, one scored 100/100 (the last quadrant cell), one unscored and undated.
    make_deal(
        team,
        board.rita,
        stage="proposal",
        scores=(100, 100, "win_win"),
        net=900,
        expected_close_date=next_month,
    )
    make_deal(team, board.oscar, stage="discovery", net=40)
    # A stage moved, a health recompute, a price change, an expected close moved.
    Deal.objects.filter(pk=board.d2.pk).update(stage=Deal.Stage.NEGOTIATION)
    Deal.objects.filter(pk=board.d4.pk).update(
        buyer_score=20, seller_score=95, balance=Deal.Balance.BUYER_LOSES
    )
    Deal.objects.filter(pk=board.d1.pk).update(
        net_total=D("1234.56"), expected_close_date=next_month + dt.timedelta(days=3)
    )
    # A close, and a deletion.
    Deal.objects.filter(pk=board.d5.pk).update(
        stage=Deal.Stage.CLOSED_WON, closed_at=timezone.now() - dt.timedelta(days=35)
    )
    Deal.objects.filter(pk=board.d3.pk).delete()

    after = _figures(manager, board.rita.id)
    assert after != before  # the changes show...
    assert after == _from_the_deals_table(manager, board.rita.id)  # ...exactly
    assert DashboardDealDelta.objects.exists()
    # The next build gives the same figures from the sums alone.
    live_rollup_rebuild()
    assert DashboardDealDelta.objects.count() == 0
    assert _figures(manager, board.rita.id) == after


def test_an_update_that_moves_no_group_writes_no_delta(built):
    Deal.objects.filter(pk=built.d1.pk).update(title="Renamed", notes_for_delivery="x")
    assert not DashboardDealDelta.objects.exists()


def test_a_manager_never_counts_another_teams_deltas(built):
    mine = _figures(built.manager)
    other = Deal.objects.exclude(team=built.d1.team).first()
    Deal.objects.filter(pk=other.pk).update(net_total=D("99999"), stage=Deal.Stage.NEGOTIATION)
    assert DashboardDealDelta.objects.filter(team_id=other.team_id).count() == 2
    assert _figures(built.manager) == mine


def test_a_truncate_or_a_paused_load_falls_back_to_the_deals_table(built):
    manager = built.manager
    expected = _figures(manager)
    live_rollup_pause()
    try:
        assert not DashboardDealsBuilt.objects.exists()
        make_deal(built.d1.team, built.rita, scores=(60, 60, "seller_loses"), net=70)
        assert not DashboardDealDelta.objects.exists()  # the load writes no deltas...
        paused = _figures(manager)
        assert paused != expected
        assert paused == _from_the_deals_table(manager)  # ...and the reads stay exact
    finally:
        live_rollup_resume()
    live_rollup_rebuild()
    assert _figures(manager) == paused
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending
        cursor.execute("TRUNCATE deals_deal CASCADE")
    assert not DashboardDealsBuilt.objects.exists()
    s.live_cache_invalidate()
    assert s.balance_summary(user=manager, filters=s.DashboardFilters())["total"]["count"] == 0


@override_settings(TIME_ZONE="America/New_York")
def test_a_deal_closed_late_on_a_months_last_day_counts_in_that_local_month(built):
    live_rollup_rebuild()  # the trigger follows the site's time zone
    this_month = forecast.month_start(timezone.localdate())
    # 03:30 UTC on a month's first day is 22:30 or 23:30 the evening before in New York.
    first_day = forecast.add_months(this_month, -2)
    deal = make_deal(built.d1.team, built.rita, stage="closed_won", net=321)
    Deal.objects.filter(pk=deal.pk).update(
        closed_at=dt.datetime.combine(first_day, dt.time(3, 30), tzinfo=dt.UTC)
    )
    local_month = forecast.add_months(this_month, -3)
    assert DashboardDealDelta.objects.filter(deals=1, net_total=D("321")).latest("id").month == (
        local_month
    )
    past = {
        m["month"]: m["actual_closed_won"] for m in forecast.forecast(user=built.manager)["past"]
    }
    assert past[local_month] >= D("321")
    assert _figures(built.manager) == _from_the_deals_table(built.manager)
