"""The handoff of a closed-won deal to its delivery team, and what happens after."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from deals.models import Deal
from winwin_crm.accounts.models import Team

if TYPE_CHECKING:
    from winwin_crm.notifications.services import NotifyResult


class Handoff(models.Model):
    """One per deal. Holds the frozen package delivery works from."""

    # Not a field: set by the services that notify someone, so the page can say who.
    notify_result: "NotifyResult | None" = None

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        CLAIMED = "claimed", "Claimed"
        NEEDS_INFO = "needs_info", "Needs info"
        ACCEPTED = "accepted", "Accepted"
        # A deal won in the CRM the team left: no sales handoff happened here, so delivery
        # takes it as it is instead of a package that pretends one did.
        IMPORTED = "imported", "Imported: accepted as is"

    deal = models.OneToOneField(Deal, on_delete=models.PROTECT, related_name="handoff")
    delivery_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handoffs",
        limit_choices_to={"kind": Team.Kind.DELIVERY},
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handoffs_as_rep"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handoffs_assigned",
        help_text="The delivery member who claimed it.",
    )
    notes_for_delivery = models.TextField(blank=True)
    package = models.JSONField(
        default=dict, blank=True, help_text="The frozen snapshot taken on submit."
    )
    package_version = models.PositiveIntegerField(default=0)
    snapshot_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    sla_due_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["delivery_team", "status"]),
            models.Index(fields=["status", "sla_due_at"]),
            models.Index(
                fields=["deal"],
                include=["sla_due_at", "claimed_at"],
                name="handoff_deal_sla_covering",
            ),
        ]

    def __str__(self):
        return f"Handoff of {self.deal}"


class ChecklistTemplateItem(models.Model):
    """A checklist item every new handoff starts with; admins configure the list."""

    key = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=200)
    required = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.label


class HandoffChecklistItem(models.Model):
    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="checklist")
    key = models.SlugField(max_length=50)
    label = models.CharField(max_length=200)
    required = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["handoff", "key"], name="one_checklist_item_per_key"),
        ]

    def __str__(self):
        return self.label


class HandoffEvent(models.Model):
    """A transition of the handoff: who moved it, from what, to what, when."""

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_status or 'new'} → {self.to_status}"


class HandoffMessage(models.Model):
    """The question-and-answer thread between delivery and the rep."""

    class Kind(models.TextChoices):
        QUESTION = "question", "Question"
        ANSWER = "answer", "Answer"

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.body[:60]}"


class CheckIn(models.Model):
    """A post-close check: is the customer getting the value they bought, and is the
    account healthy for the seller? The after-the-fact win-win outcome."""

    class AccountHealth(models.TextChoices):
        PROFITABLE = "profitable", "Profitable"
        AT_RISK = "at_risk", "At risk"
        CHURNED = "churned", "Churned"

    handoff = models.ForeignKey(Handoff, on_delete=models.CASCADE, related_name="check_ins")
    day_offset = models.PositiveSmallIntegerField(help_text="Days after acceptance: 30, 90, 180.")
    due_date = models.DateField()
    completed_at = models.DateTimeField(null=True, blank=True)
    customer_value = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="1–5: is the customer getting the value they bought?",
    )
    account_health = models.CharField(max_length=12, choices=AccountHealth.choices, blank=True)
    referrals = models.PositiveSmallIntegerField(default=0)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["handoff", "day_offset"], name="one_check_in_per_offset"
            ),
            models.CheckConstraint(
                condition=Q(customer_value__isnull=True)
                | (Q(customer_value__gte=1) & Q(customer_value__lte=5)),
                name="check_in_value_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["due_date", "completed_at"]),
            models.Index(
                fields=["handoff"],
                include=["customer_value"],
                condition=Q(customer_value__isnull=False),
                name="check_in_value_by_handoff",
            ),
        ]

    def __str__(self):
        return f"Day-{self.day_offset} check-in for {self.handoff.deal}"
