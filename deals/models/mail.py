"""Mail and calendar invites captured by the drop address, the API or an upload."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .sales import Activity


class CapturedMail(models.Model):
    """One captured message: what was kept of it, and the activity it became (if any).

    Mail that matched no deal, or several, waits here (status inbox) for its user to
    assign or discard it. Deleting the activity deletes this row and its text (cascade).
    """

    class Status(models.TextChoices):
        INBOX = "inbox", "Waiting in the inbox"
        ASSIGNED = "assigned", "Logged on a deal"
        DISCARDED = "discarded", "Discarded"

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        CALENDAR = "calendar", "Calendar invite"

    class Channel(models.TextChoices):
        SMTP = "smtp", "Drop address"
        API = "api", "API"
        UPLOAD = "upload", "Upload on the deal page"
        IMPORT = "import", "import_mail"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="captured_mail",
        help_text="Whose mail this is: the sender, or the owner of the drop address.",
    )
    activity = models.OneToOneField(
        Activity,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="captured_mail",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INBOX)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.EMAIL)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    message_id = models.CharField(max_length=500)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    to_addresses = models.JSONField(default=list, blank=True)
    cc_addresses = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(help_text="The Date header (the original's, if forwarded).")
    text = models.TextField(
        blank=True, help_text="Plain text without quoted replies, signatures or attachments."
    )
    attachment_names = models.JSONField(default=list, blank=True)
    auto_reply = models.BooleanField(default=False)
    forwarded_by = models.CharField(max_length=320, blank=True)
    calendar_sequence = models.PositiveIntegerField(
        default=0, help_text="An invite's SEQUENCE: a later update replaces an earlier one."
    )
    candidate_deal_ids = models.JSONField(default=list, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "captured mail"
        constraints = [
            # The same mail delivered twice (BCC and forward, an SMTP retry) is one capture.
            models.UniqueConstraint(
                fields=["user", "message_id"], name="captured_mail_one_per_message_id"
            ),
        ]
        indexes = [
            models.Index(
                fields=["user", "received_at"],
                condition=Q(status="inbox"),
                name="captured_mail_inbox",
            ),
            models.Index(fields=["message_id"], name="captured_mail_message_id"),
            # A mail that arrives after its reply adopts it by this.
            models.Index(
                fields=["in_reply_to"],
                condition=~Q(in_reply_to=""),
                name="captured_mail_in_reply_to",
            ),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id
