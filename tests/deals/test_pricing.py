"""deals.pricing: one set of formulas, so every path that writes or shows a total agrees.

Run on SQLite (no DATABASE_URL) and on PostgreSQL (DATABASE_URL=postgres://…): SQLite
multiplies decimals as floats, PostgreSQL as exact numerics, and both must store the same
cents as the pure functions compute.
"""

from decimal import Decimal

import pytest
from django.db import connection

from deals import pricing, services
from deals.api.serializers import DealListSerializer, LineItemSerializer
from deals.models import Concession, Deal, LineItem
from handoff.package import package_build
from tests import factories as f

D = Decimal

# (items as (quantity, unit_list_price, unit_price, unit_cost), concessions as
#  (kind, amount, cost_to_seller), expected (list, net, cost) totals)
CASES = [
    # 0.50 × 0.01 = 0.005: half-up gives a cent (the import path used to store 0.00).
    ([("0.50", "0.01", "0.01", "0.01")], [], ("0.01", "0.01", "0.01")),
    # Three fractional lines whose exact sum rounds once, not per line.
    (
        [("0.50", "0.01", "0.01", "0.00"), ("0.50", "0.01", "0.01", "0.00")],
        [],
        ("0.01", "0.01", "0.00"),
    ),
    (
        [("0.33", "3.03", "2.99", "1.01"), ("2.50", "19.99", "17.49", "7.77")],
        [("price", "5.00", "0.00"), ("value_add", "0.00", "12.34")],
        ("50.97", "39.71", "32.10"),
    ),
    (
        [("1.25", "0.10", "0.10", "0.03"), ("0.75", "1000.01", "999.99", "0.01")],
        [("price", "0.01", "0.00"), ("value_add", "0.00", "0.01")],
        ("750.13", "750.11", "0.06"),
    ),
]


class _Item:
    def __init__(self, quantity, unit_list_price, unit_price, unit_cost):
        self.quantity, self.unit_list_price = D(quantity), D(unit_list_price)
        self.unit_price, self.unit_cost = D(unit_price), D(unit_cost)


class _Concession:
    def __init__(self, kind, amount, cost_to_seller):
        self.kind, self.amount, self.cost_to_seller = kind, D(amount), D(cost_to_seller)


def _item_fields(case):
    for quantity, list_price, price, cost in case[0]:
        yield {
            "name": "Line",
            "quantity": D(quantity),
            "unit_list_price": D(list_price),
            "unit_price": D(price),
            "unit_cost": D(cost),
        }


def _concession_fields(case):
    for kind, amount, cost in case[1]:
        yield {"kind": kind, "description": "c", "amount": D(amount), "cost_to_seller": D(cost)}


def _expected(case):
    return pricing.DealTotals(*(D(v) for v in case[2]))


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_pure_totals_round_each_exact_sum_once_half_up(case):
    items, concessions, _ = case
    totals = pricing.deal_totals_of(
        [_Item(*i) for i in items], [_Concession(*c) for c in concessions]
    )
    assert totals == _expected(case)


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_the_service_stores_what_the_pure_functions_compute(case, rep_user, team):
    deal = f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.PROPOSAL)
    for fields in _item_fields(case):
        services.line_item_create(deal=deal, user=rep_user, **fields)
    for fields in _concession_fields(case):
        services.concession_add(deal=deal, user=rep_user, in_exchange_for="A case", **fields)
    stored = Deal.objects.get(pk=deal.pk)
    expected = _expected(case)
    assert (stored.list_total, stored.net_total, stored.cost_total) == (
        expected.list_total,
        expected.net_total,
        expected.cost_total,
    )
    # The deal the service handed back carries the stored totals: no re-read needed.
    assert deal.net_total == expected.net_total


def test_the_bulk_refresh_of_many_deals_stores_what_the_pure_functions_compute(team):
    deals = []
    for case in CASES:
        deal = f.DealFactory(team=team)
        for fields in _item_fields(case):
            LineItem.objects.create(deal=deal, **fields)
        for fields in _concession_fields(case):
            Concession.objects.create(deal=deal, **fields)
        deals.append(deal)
    returned = pricing.pricing_refresh_bulk(deal_ids=[d.id for d in deals])
    for deal, case in zip(deals, CASES, strict=True):
        stored = Deal.objects.get(pk=deal.pk)
        expected = _expected(case)
        assert returned[deal.id] == expected
        assert pricing.DealTotals(stored.list_total, stored.net_total, stored.cost_total) == (
            expected
        ), connection.vendor


def test_line_totals_shown_by_the_api_and_the_package_round_half_up(rep_user, team):
    deal = f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.PROPOSAL)
    item = services.line_item_create(
        deal=deal,
        user=rep_user,
        name="Sample",
        quantity=D("0.50"),
        unit_list_price=D("0.01"),
        unit_price=D("0.01"),
    )
    data = LineItemSerializer(item).data
    assert data["line_list_total"] == data["line_net_total"] == "0.01"
    deal.refresh_from_db()
    assert deal.net_total == D("0.01")
    package = package_build(deal=deal)
    assert package["line_items"][0]["total"] == "0.01"


def test_the_list_and_the_model_show_the_same_percentages(team):
    deal = f.DealFactory(team=team)
    Deal.objects.filter(pk=deal.pk).update(
        list_total=D("300.00"), net_total=D("199.99"), cost_total=D("66.67")
    )
    deal.refresh_from_db()
    row = DealListSerializer.rows(Deal.objects.filter(pk=deal.pk)).get()
    listed = DealListSerializer(row).data
    assert deal.discount_pct == D("33.34")
    assert deal.margin_pct == D("66.66")
    assert listed["discount_pct"] == f"{deal.discount_pct}"
    assert listed["margin_pct"] == f"{deal.margin_pct}"


def test_no_price_means_no_percentages():
    assert pricing.discount_pct(D("0"), D("0")) is None
    assert pricing.margin_pct(D("0"), D("0")) is None
    assert pricing.percent(None) is None
