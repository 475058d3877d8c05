"""The deal and its stage history."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from deals import pricing
from deals.models.sales.common import MONEY, ZERO, TimeStamped
from deals.models.sales.prospects import Prospect
from winwin_crm.accounts.models import Team


class Deal(TimeStamped):
    """An opportunity with one prospect, owned by a rep in a sales team.

    Pricing totals and the current health are stored on the deal (refreshed by services
    and the health engine) so lists and dashboards over 100,000 deals aggregate one table.
    """

    class Stage(models.TextChoices):
        DISCOVERY = "discovery", "Discovery"
        QUALIFICATION = "qualification", "Qualification"
        PROPOSAL = "proposal", "Proposal"
        NEGOTIATION = "negotiation", "Negotiation"
        CLOSED_WON = "closed_won", "Closed won"
        CLOSED_LOST = "closed_lost", "Closed lost"

    class Balance(models.TextChoices):
        WIN_WIN = "win_win", "Win-win"
        BUYER_LOSES = "buyer_loses", "Buyer loses"
        SELLER_LOSES = "seller_loses", "Seller loses"
        LOSE_LOSE = "lose_lose", "Lose-lose"

    OPEN_STAGES = (Stage.DISCOVERY, Stage.QUALIFICATION, Stage.PROPOSAL, Stage.NEGOTIATION)
    CLOSED_STAGES = (Stage.CLOSED_WON, Stage.CLOSED_LOST)
    # Stage order, for rules that apply "from proposal on".
    STAGE_ORDER = {s: i for i, s in enumerate(Stage.values)}

    prospect = models.ForeignKey(Prospect, on_delete=models.PROTECT, related_name="deals")
    # No single-column indexes on owner and team: the composite indexes in Meta lead with
    # them, and every extra index costs each hourly health write.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_deals",
        db_index=False,
        help_text="The rep who owns the deal.",
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="deals",
        db_index=False,
        help_text="The owning sales team.",
    )
    title = models.CharField(max_length=200)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.DISCOVERY)
    currency = models.CharField(
        max_length=3, default="USD", help_text="ISO 4217 code; every amount on the deal uses it."
    )
    language = models.CharField(
        max_length=10,
        choices=[("en", "English"), ("de", "Deutsch")],
        default="en",
        help_text="The buyer's language: the buyer room and its emails use it.",
    )
    expected_close_date = models.DateField(
        null=True, blank=True, help_text="The rep's forecast of when the buyer will decide."
    )
    lost_reason = models.TextField(blank=True, help_text="Required when the deal is closed lost.")
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the deal entered its current stage: the latest StageHistory row's time, kept on
    # the deal so STAGE_STALLED and the deal list's "days in stage" sort read one table.
    stage_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    notes_for_delivery = models.TextField(
        blank=True, help_text="Free text the rep wants the delivery team to read."
    )
    external_id = models.CharField(max_length=100, blank=True, db_index=True)
    imported_from = models.CharField(
        max_length=30,
        blank=True,
        help_text="The CRM an import brought the deal from (profile code, or 'csv'); "
        "blank for deals made here.",
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Optimistic lock: send the version you read; a stale one gets 409."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Pricing, denormalised from line items and concessions (see deals.pricing).
    list_total = models.DecimalField(**MONEY, default=ZERO, editable=False)
    net_total = models.DecimalField(**MONEY, default=ZERO, editable=False)
    cost_total = models.DecimalField(**MONEY, default=ZERO, editable=False)

    # Current health, written only by the health engine.
    buyer_score = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    seller_score = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    balance = models.CharField(
        max_length=12, choices=Balance.choices, blank=True, editable=False, db_index=True
    )
    open_flag_count = models.PositiveSmallIntegerField(default=0, editable=False)
    health_computed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Last buyer-initiated activity, denormalised for the deal list and the stale rule.
    last_buyer_contact_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords(
        excluded_fields=[
            "buyer_score",
            "seller_score",
            "balance",
            "open_flag_count",
            "health_computed_at",
            "last_buyer_contact_at",
            "stage_changed_at",
            "updated_at",
        ]
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "stage"]),
            # Covering index: the dashboard aggregates a team's deals from the index alone
            # (with the id, joins to flags and handoffs need no heap either).
            models.Index(
                fields=["team", "stage"],
                include=[
                    "id",
                    "owner",
                    "balance",
                    "net_total",
                    "list_total",
                    "cost_total",
                    "buyer_score",
                    "seller_score",
                    "closed_at",
                    "created_at",
                ],
                name="deal_team_stage_covering",
            ),
            models.Index(fields=["team", "balance"]),
            models.Index(fields=["stage", "expected_close_date"]),
            models.Index(fields=["-updated_at", "-id"]),
            # The deal list's default order within what a manager (team) or a rep (owner)
            # sees: a page, however deep, is read off the index.
            models.Index(fields=["team", "-updated_at", "-id"], name="deal_team_recent"),
            models.Index(fields=["owner", "-updated_at", "-id"], name="deal_owner_recent"),
            # The outcome pages read live only the deals closed since the outcome rollup
            # was built (deals.dashboard.outcomes): a range of this index, however many
            # deals closed before. The stage is in it so that range is also the won ones;
            # without it PostgreSQL ANDs in the stage index, whose won deals grow.
            models.Index(
                fields=["closed_at", "stage"],
                condition=Q(closed_at__isnull=False),
                name="deal_closed_at",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(list_total__gte=0) & Q(cost_total__gte=0),
                name="deal_totals_non_negative",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.stage in self.OPEN_STAGES

    @property
    def discount_pct(self) -> Decimal | None:
        """1 − net/list, as a percent with two decimals; None when nothing is priced."""
        return pricing.percent(pricing.discount_pct(self.list_total, self.net_total))

    @property
    def margin_pct(self) -> Decimal | None:
        """(net − cost) / net, as a percent with two decimals; None when net is zero."""
        return pricing.percent(pricing.margin_pct(self.net_total, self.cost_total))

    def stage_index(self) -> int:
        return self.STAGE_ORDER[self.stage]

    @property
    def days_in_stage(self) -> int:
        return max((timezone.now() - self.stage_changed_at).days, 0)


class StageHistory(models.Model):
    """One stage change of a deal: from, to, when, by whom and, where the rep had to
    confirm a close over open concerns (or reopened a closed deal), why."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_history")
    from_stage = models.CharField(
        max_length=20, choices=Deal.Stage.choices, blank=True, help_text="Empty: created."
    )
    to_stage = models.CharField(max_length=20, choices=Deal.Stage.choices)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.TextField(blank=True)
    # What the rep confirmed past (labels of the concerns), shown to delivery with the reason.
    concerns = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name_plural = "stage history"
        indexes = [models.Index(fields=["deal", "-changed_at", "-id"])]

    def __str__(self):
        return f"{self.deal_id}: {self.from_stage or 'new'} → {self.to_stage}"
