"""Every money formula of a deal (DESIGN.md "Money"), in one place.

- list_total = Σ quantity·unit_list_price
- net_total  = Σ quantity·unit_price − Σ price-concession amounts
- cost_total = Σ quantity·unit_cost + Σ value-add cost_to_seller
- discount_pct = (1 − net_total / list_total) · 100; margin_pct = (net − cost) / net · 100

Each sum is taken exactly (a quantity·price product has four decimals) and rounded once,
half-up to cents, by `money()`, so a total never drifts by a cent per item and the service,
the import, the demo, the rules, the serializers and the handoff package cannot disagree.

The pure functions take Decimals; `sum_expressions()` is the one ORM builder of the exact
sums, and `pricing_refresh_bulk()` stores the totals of many deals (one deal is a list of
one id).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ValidationError
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce

if TYPE_CHECKING:
    from deals.models import Concession, LineItem

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")
# Deal totals are stored as DECIMAL(14, 2); an imported amount is bounded by the same.
MAX_DEAL_TOTAL = Decimal("999999999999.99")
# quantity (2 decimals) × price (2 decimals): sums are exact at four decimals.
_EXACT: DecimalField[Decimal, Decimal] = DecimalField(max_digits=28, decimal_places=4)
# Deals per SELECT + UPDATE pair: a batch's ids and its CASE branches stay well under
# SQLite's 32,766 bound parameters and PostgreSQL's comfortable statement size.
REFRESH_BATCH_SIZE = 1_000


class PricedItem(Protocol):
    quantity: Decimal
    unit_list_price: Decimal
    unit_price: Decimal
    unit_cost: Decimal


class PricedConcession(Protocol):
    kind: str
    amount: Decimal
    cost_to_seller: Decimal


@dataclass(frozen=True)
class DealTotals:
    list_total: Decimal
    net_total: Decimal
    cost_total: Decimal

    def as_dict(self) -> dict[str, Decimal]:
        return {
            "list_total": self.list_total,
            "net_total": self.net_total,
            "cost_total": self.cost_total,
        }


# --- pure Decimal functions ----------------------------------------------------------------


def money(value: Decimal | int | str) -> Decimal:
    """The one rounding of the app: half-up to cents (DESIGN.md)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_total(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """What one proposal line costs at `unit_price`, rounded to cents."""
    return money(quantity * unit_price)


def deal_totals(
    *,
    list_sum: Decimal,
    gross_sum: Decimal,
    item_cost_sum: Decimal,
    price_cuts: Decimal,
    value_add_cost: Decimal,
) -> DealTotals:
    """The stored totals from the exact sums of a deal's items and concessions."""
    return DealTotals(
        list_total=money(list_sum),
        net_total=money(gross_sum) - money(price_cuts),
        cost_total=money(item_cost_sum) + money(value_add_cost),
    )


def deal_totals_of(
    items: Iterable[PricedItem], concessions: Iterable[PricedConcession]
) -> DealTotals:
    """The same totals from items and concessions held in memory (the demo's drafts)."""
    items = list(items)
    concessions = list(concessions)
    return deal_totals(
        list_sum=sum((i.quantity * i.unit_list_price for i in items), ZERO),
        gross_sum=sum((i.quantity * i.unit_price for i in items), ZERO),
        item_cost_sum=sum((i.quantity * i.unit_cost for i in items), ZERO),
        price_cuts=sum((c.amount for c in concessions if c.kind == "price"), ZERO),
        value_add_cost=sum((c.cost_to_seller for c in concessions if c.kind == "value_add"), ZERO),
    )


def discount_pct(list_total: Decimal, net_total: Decimal) -> Decimal | None:
    """Exact (unrounded) discount percent, so 15.004 % is above a 15 % limit; None when
    nothing is priced."""
    if not list_total:
        return None
    return (1 - net_total / list_total) * HUNDRED


def margin_pct(net_total: Decimal, cost_total: Decimal) -> Decimal | None:
    """Exact (unrounded) margin percent; None when the net total is zero."""
    if not net_total:
        return None
    return (net_total - cost_total) / net_total * HUNDRED


def percent(value: Decimal | None) -> Decimal | None:
    """A percent as shown and stored in the API: two decimals, half-up."""
    return None if value is None else money(value)


def ensure_within_limit(totals: DealTotals) -> None:
    """Refuse totals the database cannot hold, with a message a rep can act on."""
    for name, value in totals.as_dict().items():
        if abs(value) > MAX_DEAL_TOTAL:
            raise ValidationError(
                f"This would make the deal's {name.replace('_', ' ')} larger than "
                f"{MAX_DEAL_TOTAL:,}; check the quantity and prices."
            )


# --- SQL -----------------------------------------------------------------------------------

SUM_NAMES = ("list_sum", "gross_sum", "item_cost_sum", "price_cuts", "value_add_cost")


def _subquery_sum(
    model: type[LineItem | Concession], expression: Combinable | str, **filters: str
) -> Coalesce:
    total = (
        model.objects.filter(deal=OuterRef("pk"), **filters)
        .order_by()
        .values("deal")
        .annotate(s=Sum(expression, output_field=_EXACT))
        .values("s")
    )
    return Coalesce(Subquery(total, output_field=_EXACT), Value(ZERO), output_field=_EXACT)


def sum_expressions() -> dict[str, Coalesce]:
    """Annotations of a Deal queryset with the exact sums `deal_totals()` takes."""
    from deals.models import Concession, LineItem  # deals.models imports this module

    def product(price_field: str) -> ExpressionWrapper:
        return ExpressionWrapper(F("quantity") * F(price_field), output_field=_EXACT)

    return {
        "list_sum": _subquery_sum(LineItem, product("unit_list_price")),
        "gross_sum": _subquery_sum(LineItem, product("unit_price")),
        "item_cost_sum": _subquery_sum(LineItem, product("unit_cost")),
        "price_cuts": _subquery_sum(Concession, "amount", kind="price"),
        "value_add_cost": _subquery_sum(Concession, "cost_to_seller", kind="value_add"),
    }


def pricing_refresh_bulk(*, deal_ids: Sequence[int]) -> dict[int, DealTotals]:
    """Store list/net/cost totals of the deals from their items and concessions: one
    SELECT of the exact sums and one UPDATE per batch. Raises ValidationError (nothing
    stored) when a total would not fit; the caller's transaction rolls back the item or
    concession that caused it."""
    from deals.models import Deal

    stored: dict[int, DealTotals] = {}
    ids = list(dict.fromkeys(deal_ids))
    for start in range(0, len(ids), REFRESH_BATCH_SIZE):
        batch = ids[start : start + REFRESH_BATCH_SIZE]
        rows = (
            Deal.objects.filter(id__in=batch)
            .order_by()
            .annotate(**sum_expressions())
            .values_list("id", *SUM_NAMES)
        )
        totals = {row[0]: deal_totals(**dict(zip(SUM_NAMES, row[1:], strict=True))) for row in rows}
        for value in totals.values():
            ensure_within_limit(value)
        if not totals:
            continue
        deals = [Deal(id=deal_id, **value.as_dict()) for deal_id, value in totals.items()]
        Deal.objects.bulk_update(deals, ["list_total", "net_total", "cost_total"])
        stored.update(totals)
    return stored
