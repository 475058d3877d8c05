"""The buying organisation and the people at it."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from deals.models.sales.common import TimeStamped
from winwin_crm.accounts.models import Team


class Prospect(TimeStamped):
    """A buying organisation."""

    class Size(models.TextChoices):
        SMALL = "small", "1–50 employees"
        MEDIUM = "medium", "51–500 employees"
        LARGE = "large", "501–5,000 employees"
        ENTERPRISE = "enterprise", "5,000+ employees"

    name = models.CharField(max_length=200, help_text="The buying organisation's name.")
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="prospects",
        help_text="The sales team that owns this prospect.",
    )
    industry = models.CharField(max_length=100, blank=True)
    size = models.CharField(max_length=12, choices=Size.choices, blank=True)
    website = models.URLField(blank=True)
    notes = models.TextField(blank=True)
    external_id = models.CharField(
        max_length=100,
        blank=True,
        db_index=True,
        help_text="Id in the CRM this prospect was imported from, if any.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Who changed a prospect or a contact, and from what: several reps' deals share them.
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["team", "name"])]

    def __str__(self):
        return self.name


class Contact(TimeStamped):
    """A person at a prospect, with their role in the buying decision."""

    class BuyingRole(models.TextChoices):
        CHAMPION = "champion", "Champion"
        DECISION_MAKER = "decision_maker", "Decision maker"
        INFLUENCER = "influencer", "Influencer"
        USER = "user", "User"
        BLOCKER = "blocker", "Blocker"

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    title = models.CharField(max_length=200, blank=True, help_text="Job title.")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    buying_role = models.CharField(
        max_length=20, choices=BuyingRole.choices, default=BuyingRole.INFLUENCER
    )
    notes = models.TextField(blank=True)
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["prospect", "name"]), models.Index(fields=["email"])]

    def __str__(self):
        return f"{self.name} ({self.get_buying_role_display()})"
