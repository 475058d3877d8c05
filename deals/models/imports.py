"""A CSV import from another CRM: uploaded, validated (dry run), then committed."""

from django.conf import settings
from django.db import models

from winwin_crm.accounts.models import Team


class ImportJob(models.Model):
    class Kind(models.TextChoices):
        PROSPECTS = "prospects", "Prospects"
        CONTACTS = "contacts", "Contacts"
        DEALS = "deals", "Deals"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        VALIDATED = "validated", "Validated (dry run)"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class OnError(models.TextChoices):
        ABORT = "abort", "Abort if any row fails"
        SKIP = "skip", "Import valid rows only"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imports"
    )
    file_name = models.CharField(max_length=255)
    content = models.TextField(help_text="The decoded CSV text.")
    delimiter = models.CharField(max_length=1, default=",")
    column_mapping = models.JSONField(default=dict, blank=True)
    stage_mapping = models.JSONField(default=dict, blank=True)
    date_format = models.CharField(max_length=20, default="iso")
    on_error = models.CharField(max_length=5, choices=OnError.choices, default=OnError.ABORT)
    update_existing = models.BooleanField(
        default=True,
        help_text="Rows matching an existing record update it; off: they are skipped.",
    )
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Deals import: the rep who owns rows whose owner matches no rep of the team.",
    )
    source = models.CharField(
        max_length=30,
        blank=True,
        help_text="The CRM the file came from (a profile code); blank: a generic file.",
    )
    files = models.JSONField(
        default=dict,
        blank=True,
        help_text="Several files or a zip: the files read and how they were joined.",
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} import {self.file_name}"
