"""The sales side: prospects, contacts, needs, discovery calls, deals and their facts."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from deals import pricing
from winwin_crm.accounts.models import Team

ZERO = Decimal("0")
MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(ZERO)]


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


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


class LineItem(TimeStamped):
    """A proposal item: what is sold, at what price and cost, and which needs it serves."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="line_items")
    name = models.CharField(max_length=200)
    quantity = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    unit_list_price = models.DecimalField(**MONEY, validators=NON_NEGATIVE)
    unit_price = models.DecimalField(
        **MONEY, validators=NON_NEGATIVE, help_text="The price offered, per unit."
    )
    unit_cost = models.DecimalField(
        **MONEY, default=ZERO, validators=NON_NEGATIVE, help_text="The seller's cost, per unit."
    )
    needs = models.ManyToManyField(Need, blank=True, related_name="line_items")
    # The one "Imported value" item an import writes: it carries the old CRM's amount and
    # serves no need by design, so the oversell rule skips it.
    imported = models.BooleanField(default=False, editable=False)
    history = HistoricalRecords(m2m_fields=[needs])

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_item_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_list_price__gte=0) & Q(unit_price__gte=0) & Q(unit_cost__gte=0),
                name="line_item_money_non_negative",
            ),
        ]

    def __str__(self):
        return self.name


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


class Concession(TimeStamped):
    """Something the seller gives: a price cut, or added value (support months, training)."""

    class Kind(models.TextChoices):
        PRICE = "price", "Price cut"
        VALUE_ADD = "value_add", "Value add"

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="concessions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.CharField(max_length=300)
    amount = models.DecimalField(
        **MONEY,
        validators=NON_NEGATIVE,
        help_text="Price cut: money off the total. Value add: its value to the buyer.",
    )
    cost_to_seller = models.DecimalField(
        **MONEY,
        default=ZERO,
        validators=NON_NEGATIVE,
        help_text="What the concession costs the seller (value adds count in cost_total).",
    )
    in_exchange_for = models.CharField(
        max_length=300, blank=True, help_text="What the buyer gave back, if anything."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(cost_to_seller__gte=0),
                name="concession_money_non_negative",
            ),
        ]

    def __str__(self):
        return self.description


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
