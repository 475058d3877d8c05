"""Deal health: the policy managers tune, the flags rules raise, and daily score history."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Coalesce

from winwin_crm.accounts.models import Team

from .sales import Deal

DEFAULT_PRESSURE_PHRASES = [
    "sign today",
    "offer expires",
    "last chance",
    "end of quarter",
    "final offer",
    "limited time",
    "act now",
    "price goes up",
    "only today",
    "before it's gone",
]


def default_pressure_phrases():
    return list(DEFAULT_PRESSURE_PHRASES)


# STAGE_STALLED: days a deal may sit in each open stage (DESIGN.md's defaults).
DEFAULT_STAGE_STALLED_DAYS = {
    "discovery": 21,
    "qualification": 30,
    "proposal": 30,
    "negotiation": 21,
}


def default_stage_stalled_days():
    return dict(DEFAULT_STAGE_STALLED_DAYS)


class Side(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"
    RELATIONSHIP = "relationship", "Relationship"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class HealthPolicy(models.Model):
    """Thresholds for the health rules. One global policy (team empty), optionally one per team."""

    team = models.OneToOneField(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="health_policy",
        help_text="Empty for the global policy; a sales team's own policy overrides it.",
    )
    discount_max_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("15.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="SELLER_DISCOUNT_OVER_POLICY fires above this discount (percent).",
    )
    margin_floor_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("20.00"),
        validators=[MinValueValidator(-100), MaxValueValidator(100)],
        help_text="SELLER_MARGIN_BELOW_FLOOR fires below this margin (percent).",
    )
    chasing_count = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1)],
        help_text="PRESSURE_CHASING: this many rep-initiated activities in the window…",
    )
    chasing_window_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1)],
        help_text="…within this many days, with no buyer-initiated activity in it.",
    )
    escalation_window = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1)],
        help_text="PRESSURE_ESCALATION looks at this many most recent rep calls/meetings…",
    )
    escalation_min_senior = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1)],
        help_text="…and fires when a senior person was on at least this many of them.",
    )
    stale_days = models.PositiveSmallIntegerField(
        default=21,
        validators=[MinValueValidator(1)],
        help_text="RELATIONSHIP_STALE: days without buyer-initiated activity on an open deal.",
    )
    handoff_sla_hours = models.PositiveSmallIntegerField(
        default=48,
        validators=[MinValueValidator(1)],
        help_text="HANDOFF_OVERDUE: hours a submitted handoff may wait to be claimed.",
    )
    unmet_need_min_importance = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="BUYER_UNMET_NEED: needs at least this important must be served.",
    )
    buyer_room_link_days = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(1)],
        help_text="Days a buyer-room link stays valid after it is sent.",
    )
    pressure_phrases = models.JSONField(
        default=default_pressure_phrases,
        blank=True,
        help_text="PRESSURE_LANGUAGE: phrases matched as whole words, case-insensitively.",
    )
    weight_info = models.PositiveSmallIntegerField(
        default=5, help_text="Points lost per info flag."
    )
    # 20, not 15: two warnings of pressure (chasing plus deadline language) on an
    # otherwise clean deal must take it below the 70 threshold (DESIGN.md's verdict).
    weight_warning = models.PositiveSmallIntegerField(
        default=20, help_text="Points lost per warning flag."
    )
    weight_critical = models.PositiveSmallIntegerField(
        default=30, help_text="Points lost per critical flag."
    )
    win_win_threshold = models.PositiveSmallIntegerField(
        default=70,
        validators=[MaxValueValidator(100)],
        help_text="A side wins at or above this score with no critical flag against it.",
    )
    stage_stalled_days = models.JSONField(
        default=default_stage_stalled_days,
        blank=True,
        help_text='STAGE_STALLED: days per open stage, e.g. {"discovery": 21, "negotiation": 21}.',
    )
    # The forecast's chance that an open deal in each stage closes won (percent).
    probability_discovery = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(100)],
        help_text="Forecast: percent of a discovery-stage deal's net total counted.",
    )
    probability_qualification = models.PositiveSmallIntegerField(
        default=20,
        validators=[MaxValueValidator(100)],
        help_text="Forecast: percent of a qualification-stage deal's net total counted.",
    )
    probability_proposal = models.PositiveSmallIntegerField(
        default=40,
        validators=[MaxValueValidator(100)],
        help_text="Forecast: percent of a proposal-stage deal's net total counted.",
    )
    probability_negotiation = models.PositiveSmallIntegerField(
        default=60,
        validators=[MaxValueValidator(100)],
        help_text="Forecast: percent of a negotiation-stage deal's net total counted.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name_plural = "health policies"
        constraints = [
            # team is unique already; this makes "no team" (the global policy) unique too.
            models.UniqueConstraint(
                Coalesce("team", Value(0)), name="one_policy_per_team_or_global"
            ),
        ]

    def __str__(self):
        return f"Health policy for {self.team}" if self.team_id else "Global health policy"

    def clean(self) -> None:
        days = self.stage_stalled_days
        if not isinstance(days, dict):
            raise ValidationError({"stage_stalled_days": "Give the days per stage as an object."})
        open_stages = [str(s) for s in Deal.OPEN_STAGES]
        wrong = [k for k in days if k not in open_stages]
        if wrong:
            raise ValidationError(
                {
                    "stage_stalled_days": f"{wrong[0]!r} is not an open stage "
                    f"({', '.join(open_stages)})."
                }
            )
        bad = [k for k, v in days.items() if not isinstance(v, int) or isinstance(v, bool) or v < 1]
        if bad:
            raise ValidationError(
                {"stage_stalled_days": f"Days for {bad[0]} must be a whole number ≥ 1."}
            )


class Flag(models.Model):
    """A reason a deal is less than win-win, with the evidence that raised it.

    One active (open or acknowledged) flag per deal and code, enforced by the database.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    ACTIVE_STATUSES = (Status.OPEN, Status.ACKNOWLEDGED)

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="flags")
    code = models.CharField(max_length=40, db_index=True)
    side = models.CharField(max_length=12, choices=Side.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    message = models.TextField()
    evidence = models.JSONField(default=dict, blank=True)
    evidence_digest = models.CharField(
        max_length=64,
        blank=True,
        help_text="Hash of the evidence; an acknowledgement holds until it changes.",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledge_note = models.TextField(blank=True)
    # Stored so "worst first" lists walk an index instead of sorting every open flag.
    severity_rank = models.GeneratedField(
        expression=Case(
            When(severity="critical", then=Value(0)),
            When(severity="warning", then=Value(1)),
            default=Value(2),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["deal", "code"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="one_active_flag_per_deal_code",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "code"]),
            models.Index(fields=["deal", "status"]),
            models.Index(fields=["status", "first_seen_at"]),
            # The flag review's order (worst first, oldest first): its first page is read
            # off the index instead of sorting every open flag.
            models.Index(
                fields=["status", "severity_rank", "first_seen_at", "id"],
                name="flag_review_order",
            ),
            models.Index(
                fields=["deal"],
                include=["code"],
                condition=Q(status="open"),
                name="flag_open_by_deal",
            ),
        ]

    def __str__(self):
        return f"{self.code} on {self.deal_id} ({self.status})"


class HealthSnapshot(models.Model):
    """A deal's scores on one day: the history behind trends. One row per deal per day."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="health_snapshots")
    day = models.DateField()
    buyer_score = models.PositiveSmallIntegerField()
    seller_score = models.PositiveSmallIntegerField()
    balance = models.CharField(max_length=12, choices=Deal.Balance.choices)
    open_flag_count = models.PositiveSmallIntegerField(default=0)
    pressure_flag_count = models.PositiveSmallIntegerField(default=0)
    net_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "day"], name="one_snapshot_per_deal_day"),
        ]
        # Covering indexes: trends read a team's (or everyone's) history from the index alone.
        indexes = [
            models.Index(
                fields=["team", "day"],
                include=["balance", "pressure_flag_count", "net_total", "deal", "owner"],
                name="snapshot_team_day_covering",
            ),
            models.Index(
                fields=["day"],
                include=["balance", "pressure_flag_count", "net_total", "deal", "owner", "team"],
                name="snapshot_day_covering",
            ),
        ]

    def __str__(self):
        return f"{self.deal_id} on {self.day}: {self.balance}"


class HealthSweep(models.Model):
    """A finished hourly sweep, written once per sweep instead of a timestamp per deal and
    flag: every open deal (and won deal with a handoff) with an id up to `last_deal_id`
    was checked at or after `checked_from`, so its "checked at" and its active flags'
    "last seen" are at least that (deals.health.checked derives them). A sweep writes a
    deal or a flag only when its health changed."""

    checked_from = models.DateTimeField(
        help_text="When the sweep was planned; every batch ran after."
    )
    finished_at = models.DateTimeField()
    last_deal_id = models.BigIntegerField(help_text="Deals created after the plan are not covered.")
    deals = models.PositiveIntegerField(
        default=0, help_text="Deals visited (0 when fanned out to workers: not counted)."
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"Sweep from {self.checked_from:%Y-%m-%d %H:%M} ({self.deals} deals)"
