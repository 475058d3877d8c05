"""Item 8 (money): a price cut that would make the net total negative is refused, and the
API's percent fields always match their own schema pattern."""

import re
from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator

from deals import services
from deals.models import Deal
from tests import factories as f


@pytest.fixture
def deal(rep_user, team):
    deal = f.DealFactory(owner=rep_user, team=team, stage=Deal.Stage.PROPOSAL)
    services.line_item_create(
        deal=deal, user=rep_user, need_ids=[], name="Seat", quantity=Decimal("1"),
        unit_list_price=Decimal("100"), unit_price=Decimal("100"), unit_cost=Decimal("10"),
    )  # fmt: skip
    return deal


@pytest.mark.django_db
def test_a_price_cut_beyond_the_price_is_a_400_and_changes_nothing(api_as, rep_user, deal):
    response = api_as(rep_user).post(
        "/api/v1/concessions/",
        {"deal": deal.id, "kind": "price", "description": "Too generous", "amount": "150.00"},
    )
    assert response.status_code == 400
    assert "negative" in str(response.json())
    deal.refresh_from_db()
    assert deal.net_total == Decimal("100.00") and not deal.concessions.exists()


def _pattern(field: str) -> str:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema["components"]["schemas"]["Deal"]["properties"][field]["pattern"]


@pytest.mark.django_db
def test_percent_fields_match_their_pattern_however_far_below_cost_or_above_list(
    api_as, rep_user, deal
):
    # Sold at 1 against a cost of 1,000: a margin of −99,900 %; and far above list.
    item = deal.line_items.get()
    services.line_item_update(
        line_item=item, user=rep_user, unit_price=Decimal("1"), unit_cost=Decimal("1000")
    )
    body = api_as(rep_user).get(f"/api/v1/deals/{deal.id}/").json()
    assert body["margin_pct"] == "-99900.00"
    assert re.fullmatch(_pattern("margin_pct"), body["margin_pct"])
    services.line_item_update(line_item=item, user=rep_user, unit_price=Decimal("5000"))
    body = api_as(rep_user).get(f"/api/v1/deals/{deal.id}/").json()
    assert body["discount_pct"] == "-4900.00"
    assert re.fullmatch(_pattern("discount_pct"), body["discount_pct"])
