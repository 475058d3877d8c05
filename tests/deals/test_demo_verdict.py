"""The demo stories still tell their stories under the fair verdict (issue 22)."""

import pytest

from deals import demo
from deals.models import Deal, StageHistory

pytestmark = pytest.mark.django_db


def _story(key):
    return Deal.objects.get(external_id=f"{demo.STORY_PREFIX}{key}")


def test_the_pushy_close_reads_lose_lose_and_the_value_add_deal_win_win():
    demo.demo_seed(deals=0, seed=1, with_health=True)

    pushy = _story("security-review")
    assert pushy.balance == "lose_lose"
    codes = set(pushy.flags.filter(status="open").values_list("code", flat=True))
    assert "PRESSURE_PREMATURE_CLOSE" in codes

    value_add = _story("support-months")
    assert value_add.balance == "win_win"
    assert not value_add.flags.filter(status="open").exists()


def test_every_demo_deal_has_its_stage_history_row():
    demo.demo_seed(deals=10, seed=3, with_health=False)
    deals = Deal.objects.filter(external_id__startswith=demo.DEMO_PREFIX)
    assert StageHistory.objects.filter(deal__in=deals).count() == deals.count()
    for deal in deals:
        assert deal.stage_history.get().to_stage == deal.stage
