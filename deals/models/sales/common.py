"""What the sales models share: created/updated stamps and the money field settings."""

from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models

ZERO = Decimal("0")
MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(ZERO)]


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
