"""Promises made to the buyer, and what was disclosed to them."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from deals.models.sales.common import TimeStamped
from deals.models.sales.deals import Deal


class Commitment(TimeStamped):
    """A promise made to the buyer. Open ones travel into the handoff."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        BROKEN = "broken", "Broken"

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="commitments")
    description = models.CharField(max_length=300)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commitments",
        help_text="Who keeps it: the rep before the handoff, delivery after acceptance.",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self):
        return self.description


class Disclosure(TimeStamped):
    """What the seller told the buyer openly: a limitation, risk, cheaper alternative, pricing."""

    class Kind(models.TextChoices):
        LIMITATION = "limitation", "Limitation"
        RISK = "risk", "Risk"
        ALTERNATIVE = "alternative", "Cheaper alternative"
        PRICING = "pricing", "Pricing"

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="disclosures")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.TextField()
    disclosed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.description[:60]}"
