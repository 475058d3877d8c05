from django.conf import settings
from django.db import models
from django.db.models import Q


class Kind(models.TextChoices):
    HANDOFF_QUESTION = "handoff_question", "A question from delivery"
    HANDOFF_ANSWER = "handoff_answer", "An answer from the rep"
    BUYER_MESSAGE = "buyer_message", "A buyer's question or answer"
    FLAG_RAISED = "flag_raised", "A flag raised on your deal"
    HANDOFF_SUBMITTED = "handoff_submitted", "A handoff submitted to your team"
    SLA_AT_RISK = "sla_at_risk", "A handoff SLA about to be missed"
    CHECK_IN_DUE = "check_in_due", "A check-in due"


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", "Email at once"
    DAILY = "daily", "Daily digest email"
    OFF = "off", "In the app only"


# Flags are many and rarely urgent one by one; everything else asks someone to act.
DEFAULT_DELIVERY: dict[str, str] = {Kind.FLAG_RAISED: Delivery.DAILY}


def default_delivery(kind: str) -> str:
    return DEFAULT_DELIVERY.get(kind, Delivery.IMMEDIATE.value)


class Notification(models.Model):
    class Email(models.TextChoices):
        NONE = "", "No email"
        PENDING_DIGEST = "digest", "Waiting for the daily digest"
        SENT = "sent", "Emailed"
        NO_ADDRESS = "no_address", "No email address"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, help_text="A path inside the app: /handoffs/12/")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Beat tasks run repeatedly; the key makes "SLA at risk for handoff 12" arrive once.
    key = models.CharField(max_length=80, blank=True)
    email = models.CharField(max_length=12, choices=Email.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bell's count on every page: unread rows of one user.
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notif_unread"
            ),
            models.Index(fields=["recipient", "-created_at"], name="notif_inbox"),
            models.Index(
                fields=["recipient"], condition=Q(email="digest"), name="notif_digest_due"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"], condition=~Q(key=""), name="notif_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class NotificationPreference(models.Model):
    """How one user wants one kind emailed; no row means the kind's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    delivery = models.CharField(max_length=12, choices=Delivery.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notif_pref_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.kind}: {self.delivery}"
