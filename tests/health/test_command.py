"""manage.py recompute_health --all | --deal ID"""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from deals.models import Deal, Flag
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_recompute_one_deal_prints_its_scores_and_flags():
    deal = f.DealFactory()
    Deal.objects.filter(pk=deal.pk).update(list_total=Decimal("100"), net_total=Decimal("50"))
    out = io.StringIO()

    call_command("recompute_health", "--deal", str(deal.id), stdout=out)

    assert out.getvalue().strip() == (
        f"Deal {deal.id}: buyer 100, seller 70, win_win (SELLER_DISCOUNT_OVER_POLICY)"
    )
    assert Flag.objects.filter(deal=deal, status="open").count() == 1


def test_recompute_all_covers_closed_deals_too():
    lost = f.DealFactory(stage="closed_lost")
    open_deal = f.DealFactory()
    out = io.StringIO()

    call_command("recompute_health", "--all", "--batch-size", "1", stdout=out)

    assert "Recomputed 2 deals" in out.getvalue()
    for deal in (lost, open_deal):
        deal.refresh_from_db()
        assert deal.health_computed_at is not None


def test_unknown_deal_is_a_command_error():
    with pytest.raises(CommandError, match="No deal with id 424242"):
        call_command("recompute_health", "--deal", "424242")
