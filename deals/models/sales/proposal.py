"""What is offered: proposal items and concessions."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from deals.models.sales.common import MONEY, NON_NEGATIVE, ZERO, TimeStamped
from deals.models.sales.deals import Deal
from deals.models.sales.discovery import Need


class LineItem(TimeStamped):
    """A proposal item: what is sold, at what price and cost, and which needs it serves."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="line_items")
    name = models.CharField(max_length=200)
    quantity = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    unit_list_price = models.DecimalField(**MONEY, validators=NON_NEGATIVE)
    unit_price = models.DecimalField(
        **MONEY, validators=NON_NEGATIVE, help_text="The price offered, per unit."
    )
    unit_cost = models.DecimalField(
        **MONEY, default=ZERO, validators=NON_NEGATIVE, help_text="The seller's cost, per unit."
    )
    needs = models.ManyToManyField(Need, blank=True, related_name="line_items")
    # The one "Imported value" item an import writes: it carries the old CRM's amount and
    # serves no need by design, so the oversell rule skips it.
    imported = models.BooleanField(default=False, editable=False)
    history = HistoricalRecords(m2m_fields=[needs])

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_item_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_list_price__gte=0) & Q(unit_price__gte=0) & Q(unit_cost__gte=0),
                name="line_item_money_non_negative",
            ),
        ]

    def __str__(self):
        return self.name


class Concession(TimeStamped):
    """Something the seller gives: a price cut, or added value (support months, training)."""

    class Kind(models.TextChoices):
        PRICE = "price", "Price cut"
        VALUE_ADD = "value_add", "Value add"

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="concessions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.CharField(max_length=300)
    amount = models.DecimalField(
        **MONEY,
        validators=NON_NEGATIVE,
        help_text="Price cut: money off the total. Value add: its value to the buyer.",
    )
    cost_to_seller = models.DecimalField(
        **MONEY,
        default=ZERO,
        validators=NON_NEGATIVE,
        help_text="What the concession costs the seller (value adds count in cost_total).",
    )
    in_exchange_for = models.CharField(
        max_length=300, blank=True, help_text="What the buyer gave back, if anything."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(cost_to_seller__gte=0),
                name="concession_money_non_negative",
            ),
        ]

    def __str__(self):
        return self.description
