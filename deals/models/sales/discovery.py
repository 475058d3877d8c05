"""What discovery finds: calls, the buyer's needs, the buyer's milestones (the mutual plan)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from deals.models.sales.common import TimeStamped
from deals.models.sales.deals import Deal
from deals.models.sales.prospects import Contact, Prospect


class DiscoveryCall(TimeStamped):
    """A conversation that uncovers the buyer's needs and their decision process."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="discovery_calls")
    held_at = models.DateTimeField(help_text="When the call took place.")
    attendees = models.ManyToManyField(Contact, blank=True, related_name="discovery_calls")
    summary = models.TextField(blank=True)
    next_step = models.CharField(
        max_length=300, blank=True, help_text="The next step the buyer said they will take."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-held_at"]
        indexes = [models.Index(fields=["deal", "held_at"])]

    def __str__(self):
        return f"Discovery call {self.held_at:%Y-%m-%d} – {self.deal}"


class Need(TimeStamped):
    """Something the buyer wants, in their words, and how much it matters to them."""

    class Kind(models.TextChoices):
        GOAL = "goal", "Goal"
        PROBLEM = "problem", "Problem"
        INTEREST = "interest", "Interest"
        DREAM = "dream", "Dream"

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="needs")
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="needs"
    )
    discovery_call = models.ForeignKey(
        DiscoveryCall, null=True, blank=True, on_delete=models.SET_NULL, related_name="needs"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    statement = models.TextField(help_text="The need as the buyer put it.")
    importance = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="1 (nice to have) to 5 (critical), as the buyer rates it.",
    )
    confirmed_by_buyer = models.BooleanField(
        default=False, help_text="The buyer confirmed this need in their own words."
    )
    # Set only by the buyer room: the buyer's own confirmation, apart from the rep's tick.
    confirmed_by_buyer_at = models.DateTimeField(null=True, blank=True, editable=False)
    confirmed_by_contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        help_text="The buyer contact who confirmed this need in the buyer room.",
    )

    class Meta:
        ordering = ["-importance", "id"]
        indexes = [models.Index(fields=["deal", "importance"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(importance__gte=1) & Q(importance__lte=5),
                name="need_importance_1_to_5",
            ),
        ]

    def __str__(self):
        return self.statement[:80]

    def clean(self):
        if self.deal_id and self.prospect_id and self.deal.prospect_id != self.prospect_id:
            raise ValidationError({"deal": "This deal belongs to another prospect."})


class BuyerMilestone(TimeStamped):
    """A step in the mutual plan: mostly the buyer's own decision process."""

    class Side(models.TextChoices):
        BUYER = "buyer", "Buyer"
        SELLER = "seller", "Seller"

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="milestones")
    discovery_call = models.ForeignKey(
        DiscoveryCall, null=True, blank=True, on_delete=models.SET_NULL, related_name="milestones"
    )
    title = models.CharField(max_length=200)
    side = models.CharField(max_length=10, choices=Side.choices, default=Side.BUYER)
    required_for_decision = models.BooleanField(
        default=False, help_text="The buyer cannot decide before this is done."
    )
    due_date = models.DateField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["deal", "completed_at"])]

    def __str__(self):
        return self.title
