"""Shares (the private links), their audit trail, and what buyers wrote through them."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from deals.models import Activity, BuyerMilestone, Commitment, Contact, Deal, Need


class BuyerShare(models.Model):
    """One deal's room opened for one contact. Only the token's SHA-256 is stored: the
    link itself exists in the email (and the API answer) that carried it."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="buyer_shares")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="buyer_shares")
    # A share for a post-close check-in opens the room on that check-in's questions.
    check_in = models.ForeignKey(
        "handoff.CheckIn",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="buyer_shares",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(help_text="When the current link was issued (re-send).")
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opens = models.PositiveIntegerField(default=0)
    last_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["deal", "contact"])]

    def __str__(self) -> str:
        return f"Buyer room of {self.deal} for {self.contact}"


class BuyerRoomEvent(models.Model):
    """Audit trail: every open and action through a share (who, when, IP, user agent)."""

    class Action(models.TextChoices):
        SHARED = "shared", "Shared"
        RESENT = "resent", "Link re-sent"
        REVOKED = "revoked", "Revoked"
        OPENED = "opened", "Opened"
        NEED_CONFIRMED = "need_confirmed", "Confirmed a need"
        NEED_CHANGED = "need_changed", "Changed a need"
        NEED_ADDED = "need_added", "Added a need"
        MILESTONE_TICKED = "milestone_ticked", "Ticked a milestone"
        DATE_PROPOSED = "date_proposed", "Proposed a date"
        QUESTION = "question", "Asked a question"
        PULSE = "pulse", "Answered the pulse"
        CHECK_IN = "check_in", "Answered a check-in"

    share = models.ForeignKey(BuyerShare, on_delete=models.CASCADE, related_name="events")
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="buyer_room_events")
    action = models.CharField(max_length=20, choices=Action.choices)
    at = models.DateTimeField()
    # Staff actions (shared, re-sent, revoked) carry the user; buyer actions the share's contact.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["deal", "-at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"


class BuyerNeedChange(models.Model):
    """The buyer corrected a need: before and after, so the rep sees what they changed."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="buyer_changes")
    contact = models.ForeignKey(Contact, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    statement_before = models.TextField(blank=True)
    statement_after = models.TextField(blank=True)
    importance_before = models.PositiveSmallIntegerField(null=True, blank=True)
    importance_after = models.PositiveSmallIntegerField(null=True, blank=True)
    added = models.BooleanField(default=False, help_text="The buyer added this need.")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"Buyer change of need {self.need_id}"


class MilestoneDateProposal(models.Model):
    """The buyer proposed a new date for a step of the mutual plan."""

    milestone = models.ForeignKey(
        BuyerMilestone, on_delete=models.CASCADE, related_name="date_proposals"
    )
    contact = models.ForeignKey(Contact, null=True, on_delete=models.SET_NULL, related_name="+")
    proposed_date = models.DateField()
    previous_date = models.DateField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.milestone} → {self.proposed_date}"


class BuyerPulse(models.Model):
    """The buyer's three answers after a logged meeting; `felt_pushed` raises
    BUYER_REPORTED_PRESSURE."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="buyer_pulses")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="buyer_pulses")
    meeting = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="buyer_pulses")
    got_what_needed = models.BooleanField()
    felt_pushed = models.BooleanField()
    next_step_agreed = models.BooleanField()
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["-answered_at", "-id"]
        indexes = [models.Index(fields=["deal", "answered_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "contact"], name="one_buyer_pulse_per_meeting_and_contact"
            )
        ]

    def __str__(self) -> str:
        return f"Pulse of {self.contact} after meeting {self.meeting_id}"


class BuyerCheckInAnswer(models.Model):
    """The customer's own answers to a post-close check-in, kept beside delivery's."""

    check_in = models.ForeignKey(
        "handoff.CheckIn", on_delete=models.CASCADE, related_name="buyer_answers"
    )
    contact = models.ForeignKey(Contact, null=True, on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField()
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-answered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["check_in", "contact"], name="one_buyer_answer_per_check_in_and_contact"
            )
        ]

    def __str__(self) -> str:
        return f"Buyer answer to check-in {self.check_in_id}"


class BuyerNeedValue(models.Model):
    """Value received for one need that was sold, 1–5, as the customer rates it."""

    answer = models.ForeignKey(
        BuyerCheckInAnswer, on_delete=models.CASCADE, related_name="need_values"
    )
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="+")
    value = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "need"], name="one_value_per_need"),
            models.CheckConstraint(
                condition=Q(value__gte=1) & Q(value__lte=5), name="buyer_need_value_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"Need {self.need_id}: {self.value}/5"


class BuyerPromiseAnswer(models.Model):
    """Was a promise kept, as the customer sees it."""

    answer = models.ForeignKey(
        BuyerCheckInAnswer, on_delete=models.CASCADE, related_name="promises"
    )
    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="+")
    kept = models.BooleanField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "commitment"], name="one_answer_per_promise")
        ]

    def __str__(self) -> str:
        return f"Promise {self.commitment_id}: {'kept' if self.kept else 'not kept'}"
