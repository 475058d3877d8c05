"""Touchpoints with the buyer."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from deals.models.sales.common import TimeStamped
from deals.models.sales.deals import Deal


class Activity(TimeStamped):
    """A touchpoint with the buyer, who started it, and signs of pressure."""

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        MEETING = "meeting", "Meeting"
        NOTE = "note", "Note"
        SUPPORT = "support", "Support request"
        BUYER_ROOM = "buyer_room", "Buyer room"

    class InitiatedBy(models.TextChoices):
        REP = "rep", "Rep"
        BUYER = "buyer", "Buyer"

    class Source(models.TextChoices):
        MANUAL = "manual", "Typed by hand"
        EMAIL = "email", "From mail"
        CALENDAR = "calendar", "From a calendar invite"
        BUYER_ROOM = "buyer_room", "From the buyer room"
        IMPORT = "import", "Imported"

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    initiated_by = models.CharField(max_length=5, choices=InitiatedBy.choices)
    occurred_at = models.DateTimeField()
    notes = models.TextField(blank=True)
    close_attempt = models.BooleanField(
        default=False, help_text="The rep asked the buyer to commit (sign, buy, decide)."
    )
    senior_present = models.BooleanField(
        default=False, help_text="A senior person from the seller (VP, exec) was on it."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Captured mail and calendar (deals/mail/): where the activity came from, the mail's
    # Message-ID (or "ics:<UID>") so a second delivery is the same activity, the first
    # mail of its thread, and whether it was an auto-reply (never the buyer answering).
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    message_id = models.CharField(
        max_length=500,
        blank=True,
        default="",
        help_text="The captured mail's Message-ID (or ics:<UID> of an invite).",
    )
    thread = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="thread_replies",
        help_text="The first captured mail of this mail's thread (In-Reply-To/References).",
    )
    auto_reply = models.BooleanField(
        default=False, help_text="An out-of-office or other automatic reply."
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["deal", "occurred_at"]),
            models.Index(fields=["deal", "initiated_by", "occurred_at"]),
            # Threading looks a reply's In-Reply-To/References up by Message-ID.
            models.Index(
                fields=["message_id"], condition=~Q(message_id=""), name="activity_message_id"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["deal", "message_id"],
                condition=~Q(message_id=""),
                name="activity_one_per_message_id",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.initiated_by} on {self.occurred_at:%Y-%m-%d}"
