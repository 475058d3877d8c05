"""The seed stories of the product, end to end through the health engine."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from deals.health import health_recompute
from deals.models import Deal
from tests import factories as f

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def healthy_negotiation(*, list_total="10000.00", net_total="10000.00", cost_total="4000.00"):
    """A deal done right: discovery held, the buyer's needs served, limits disclosed,
    and the buyer in touch recently."""
    now = timezone.now()
    deal = f.DealFactory(stage="negotiation", title="Onboarding platform for Acme")
    f.DiscoveryCallFactory(deal=deal)
    need = f.NeedFactory(deal=deal, importance=5, statement="Onboard customers in a week")
    f.LineItemFactory(deal=deal, name="Platform licence", needs=[need])
    f.DisclosureFactory(deal=deal, kind="limitation", description="No on-premise deployment.")
    f.ActivityFactory(deal=deal, initiated_by="buyer", kind="email", occurred_at=now - 2 * DAY)
    Deal.objects.filter(pk=deal.pk).update(
        list_total=Decimal(list_total), net_total=Decimal(net_total), cost_total=Decimal(cost_total)
    )
    return deal


def test_the_healthy_baseline_is_win_win_without_flags():
    result = health_recompute(deal_id=healthy_negotiation().id)

    assert result.flags == []
    assert (result.buyer_score, result.seller_score, result.balance) == (100, 100, "win_win")


def test_rep_pushing_for_close_during_security_review_with_a_vp_on_every_call_hurts_both_sides():
    now = timezone.now()
    deal = healthy_negotiation()
    f.BuyerMilestoneFactory(deal=deal, title="Security review", required_for_decision=True)
    for days_ago in (6, 4, 2):
        f.ActivityFactory(
            deal=deal,
            kind="call",
            initiated_by="rep",
            occurred_at=now - days_ago * DAY,
            senior_present=True,
            close_attempt=days_ago == 2,
            notes="VP joined to walk through the contract.",
        )

    result = health_recompute(deal_id=deal.id)

    by_code = {fl.code: fl for fl in result.flags}
    assert set(by_code) == {"PRESSURE_PREMATURE_CLOSE", "PRESSURE_ESCALATION"}
    assert all(fl.side == "relationship" for fl in result.flags)
    assert "'Security review' is still open" in by_code["PRESSURE_PREMATURE_CLOSE"].message
    assert len(by_code["PRESSURE_ESCALATION"].evidence["senior_activity_ids"]) == 3
    # critical 30 + warning 15 off both sides
    assert (result.buyer_score, result.seller_score, result.balance) == (55, 55, "lose_lose")
    assert result.flags[0].code == "PRESSURE_PREMATURE_CLOSE"  # critical first


def test_trading_six_extra_months_of_support_instead_of_a_price_cut_raises_no_seller_flag():
    deal = healthy_negotiation(cost_total="4600.00")  # licence cost plus the support months
    f.ConcessionFactory(
        deal=deal,
        kind="value_add",
        description="6 extra months of support",
        amount=Decimal("3000.00"),
        cost_to_seller=Decimal("600.00"),
        in_exchange_for="Two-year term",
    )

    result = health_recompute(deal_id=deal.id)

    assert [fl.code for fl in result.flags if fl.side == "seller"] == []
    assert (result.seller_score, result.balance) == (100, "win_win")


def test_the_same_concession_as_a_bare_price_cut_is_flagged_for_the_seller():
    deal = healthy_negotiation(net_total="7000.00")
    f.ConcessionFactory(
        deal=deal, kind="price", description="30% off", amount=Decimal("3000"), in_exchange_for=""
    )

    result = health_recompute(deal_id=deal.id)

    assert {fl.code for fl in result.flags} == {
        "SELLER_DISCOUNT_OVER_POLICY",
        "SELLER_UNTRADED_PRICE_CUT",
    }


def test_forty_percent_discount_at_five_percent_margin_is_seller_loses():
    deal = healthy_negotiation(net_total="6000.00", cost_total="5700.00")

    result = health_recompute(deal_id=deal.id)

    by_code = {fl.code: fl for fl in result.flags}
    assert set(by_code) == {"SELLER_DISCOUNT_OVER_POLICY", "SELLER_MARGIN_BELOW_FLOOR"}
    assert by_code["SELLER_DISCOUNT_OVER_POLICY"].evidence["discount_pct"] == "40.00"
    assert by_code["SELLER_MARGIN_BELOW_FLOOR"].evidence["margin_pct"] == "5.00"
    assert (result.buyer_score, result.seller_score, result.balance) == (100, 40, "seller_loses")
    deal.refresh_from_db()
    assert deal.balance == "seller_loses"
