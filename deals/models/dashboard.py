"""Precomputed history for the manager dashboard (written by deals.dashboard.services)."""

from decimal import Decimal

from django.conf import settings
from django.db import models

from winwin_crm.accounts.models import Team

from .sales import Deal


class DashboardDayRollup(models.Model):
    """One past day's health snapshots summed per team, rep, balance and whether the deal
    was still open at the end of that day.

    The dashboard's history (change since last week and month, 12-week trends) reads a few
    hundred of these rows instead of joining 40,000 snapshots a day to their deals. Past
    days' snapshots do not change (the health store only writes today's), so a day is
    rolled up once; the hourly sweep rolls up the days it has not seen and the last two
    days again. A day is complete when it has rows: every snapshot lands in one row.
    """

    day = models.DateField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    balance = models.CharField(max_length=12, choices=Deal.Balance.choices)
    # Not closed by the end of the day: the dashboard's default "open deals" view.
    open = models.BooleanField()
    deals = models.PositiveIntegerField()
    net_total = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    pressure_flags = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "team", "owner", "balance", "open"],
                name="one_dashboard_rollup_per_group",
            ),
        ]

    def __str__(self):
        return f"{self.day} team {self.team_id} rep {self.owner_id} {self.balance}: {self.deals}"


class DashboardRepDeals(models.Model):
    """Deals per team, rep, stage and balance with what the rep table averages, as of
    `built_at` (deals.dashboard.services.dashboard_rep_rollup)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=20, choices=Deal.Stage.choices)
    balance = models.CharField(max_length=12, choices=Deal.Balance.choices, blank=True)
    deals = models.PositiveIntegerField()
    # Discount is 1 - net/list over deals with a list price; margin 1 - cost/net over deals
    # with a net total: the sums and counts average exactly across any set of rows.
    priced = models.PositiveIntegerField(default=0)
    net_of_list = models.FloatField(default=0.0)
    with_net = models.PositiveIntegerField(default=0)
    cost_of_net = models.FloatField(default=0.0)
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "owner", "stage", "balance"], name="one_rep_deals_row_per_group"
            ),
        ]

    def __str__(self):
        return f"team {self.team_id} rep {self.owner_id} {self.stage} {self.balance}: {self.deals}"


class DashboardRepFlags(models.Model):
    """Open flags per team, rep, deal stage and code, as of `built_at`."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=20, choices=Deal.Stage.choices)
    code = models.CharField(max_length=40)
    flags = models.PositiveIntegerField()
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "owner", "stage", "code"], name="one_rep_flags_row_per_group"
            ),
        ]

    def __str__(self):
        return f"team {self.team_id} rep {self.owner_id} {self.stage} {self.code}: {self.flags}"


class DashboardRepHandoffs(models.Model):
    """Per team and rep: handoffs that missed their SLA (as of `built_at`) and check-ins
    with a customer value, over all of the rep's handed-off deals whatever their stage."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sla_misses = models.PositiveIntegerField(default=0)
    check_ins = models.PositiveIntegerField(default=0)
    customer_value_sum = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "owner"], name="one_rep_handoffs_row_per_rep"),
        ]

    def __str__(self):
        return f"team {self.team_id} rep {self.owner_id}: {self.sla_misses} SLA misses"


class DashboardForecastDay(models.Model):
    """The forecast as it stood on one day: open deals per team, rep, month of expected
    close and balance, with their net total weighted by the stage probabilities of the
    policy in force that day (deals.dashboard.forecast).

    Written for today by the hourly sweep; the forecast page compares a past month's
    forecast (as of the month's first snapshot day) with what actually closed won.
    """

    day = models.DateField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month of expected close.")
    balance = models.CharField(max_length=12, choices=Deal.Balance.choices, blank=True)
    deals = models.PositiveIntegerField()
    net_total = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    weighted_total = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "team", "owner", "month", "balance"],
                name="one_forecast_row_per_group",
            ),
        ]
        # "The forecast for month M as it stood at M's start" reads by month, then day.
        indexes = [models.Index(fields=["month", "day"], name="forecast_month_day")]

    def __str__(self):
        return f"{self.day} forecast for {self.month:%Y-%m} team {self.team_id}: {self.deals}"


class DashboardOutcomeRollup(models.Model):
    """Closed deals' outcomes summed per team, rep, close day (or close month), flag code
    and won-or-lost: what the win-win outcome rates and the calibration table add up
    (deals.dashboard.outcomes), so a page reads a few thousand of these rows however many
    deals closed.

    `code` is "" for every closed deal of the group, else the rule whose flag was active at
    the close or in the 30 days before (the calibration's "with the flag"). Month rows are
    the sums of their day rows, written for complete months only. Every row of a build
    carries the day's full build's `built_at`; the rollup holds the deals that closed
    before DashboardOutcomeCut's `closed_before` (today's so far included, as today's day
    rows), and those closed since are read live. Rebuilt by the hourly sweep
    (deals.dashboard.services.outcomes_rollup_rebuild); one deal's day and month are
    rebuilt when its check-in outcome changes (outcomes_rollup_refresh_deal).
    """

    class Span(models.TextChoices):
        DAY = "day", "Day"
        MONTH = "month", "Month"

    span = models.CharField(max_length=5, choices=Span.choices)
    day = models.DateField(help_text="The close day, or the first day of the close month.")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=40, blank=True)
    won = models.BooleanField()
    deals = models.PositiveIntegerField(default=0)
    # 90-day check-ins recorded, and of those the win-win outcomes and the value's sum.
    checked = models.PositiveIntegerField(default=0)
    win_win = models.PositiveIntegerField(default=0)
    value_sum = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    # Won deals with a net total, and their (net - cost) / net summed (kept exact).
    with_margin = models.PositiveIntegerField(default=0)
    margin_sum = models.DecimalField(max_digits=40, decimal_places=24, default=Decimal("0"))
    # Won deals of the "" rows only: checked ones that closed win-win, their latest promise
    # verdicts, and HANDOFF_LEAK.
    closed_win_win = models.PositiveIntegerField(default=0)
    promises_kept = models.PositiveIntegerField(default=0)
    promises_missed = models.PositiveIntegerField(default=0)
    handoff_leaks = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["span", "day", "team", "owner", "code", "won"],
                name="one_outcome_rollup_row_per_group",
            ),
        ]
        # A manager's pages read their teams' rows of a span of days.
        indexes = [models.Index(fields=["team", "span", "day"], name="outcome_rollup_team_days")]

    def __str__(self):
        return f"{self.span} {self.day} team {self.team_id} rep {self.owner_id} {self.code}"


class DashboardOutcomeCut(models.Model):
    """Where the outcome rollup ends (one row, written with it): it holds every deal that
    closed before `closed_before`, and the outcome pages read the rest live. Each hourly
    run moves it on, so the live part is the last hour's closes, not the whole day's.
    `built_at` is the day's full build, after which the rollup is no longer trusted once
    older than OUTCOME_ROLLUP_MAX_AGE."""

    built_at = models.DateTimeField()
    closed_before = models.DateTimeField()

    def __str__(self):
        return f"outcomes rolled up to {self.closed_before:%Y-%m-%d %H:%M}"


# --- Today's deals, exact on every read (deals.dashboard.live_rollup) ----------------------
#
# The hourly sweep sums the deals per group into the three tables below; from then on a
# PostgreSQL trigger on deals_deal writes every change of a grouped column as a pair of
# rows in DashboardDealDelta (−1 for the old group, +1 for the new one). A read adds the
# deltas to the sums in one statement, so the dashboard's numbers are exact at each request
# while costing a few thousand rows whatever the number of deals. Ids are plain integers:
# the rows are sums, not references, and a delta insert must not wait on a foreign key.


class _DealGroup(models.Model):
    """What every group of deals is keyed and summed by."""

    team_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    stage = models.CharField(max_length=20)
    deals = models.IntegerField()
    net_total = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        abstract = True

    def __str__(self):
        return f"team {self.team_id} rep {self.owner_id} {self.stage}: {self.deals:+d}"


class DashboardDealTotals(_DealGroup):
    """Deals and money (net totals) per team, rep, stage and balance."""

    balance = models.CharField(max_length=12, blank=True)


class DashboardDealCells(_DealGroup):
    """Scored deals and money per team, rep, stage and quadrant cell (score // 5)."""

    buyer_cell = models.SmallIntegerField()
    seller_cell = models.SmallIntegerField()


class DashboardDealMonths(_DealGroup):
    """Deals and money per team, rep, stage, balance and month: the month of expected close
    for an open deal (null: no date), the month it closed in for a closed one."""

    balance = models.CharField(max_length=12, blank=True)
    month = models.DateField(null=True)


class DashboardDealDelta(_DealGroup):
    """One deal leaving (deals = −1) or joining (+1) a group since the last build; written
    by the trigger only, folded into the sums (and deleted) by the next build."""

    balance = models.CharField(max_length=12, blank=True)
    buyer_cell = models.SmallIntegerField(null=True)
    seller_cell = models.SmallIntegerField(null=True)
    month = models.DateField(null=True)


class DashboardDealsBuilt(models.Model):
    """One row while the sums above hold every deal (with the deltas): written by a build,
    deleted when the trigger may have missed changes (a truncate, a bulk load that turned
    the trigger off). No row: the dashboard aggregates the deals table itself."""

    built_at = models.DateTimeField()

    def __str__(self):
        return f"built {self.built_at:%Y-%m-%d %H:%M}"
