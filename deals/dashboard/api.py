"""JSON endpoints behind the dashboard's charts and tables (/api/v1/dashboard/...).

Managers (their teams) and admins (everything) only: a rep or delivery member gets 403,
an anonymous caller 401. Each endpoint runs a fixed number of queries.
"""

from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from deals import visibility
from deals.exports import stream_deals_csv
from deals.models import Deal

from . import forecast, outcomes, selectors
from .forms import SORT_CHOICES, DashboardFilterForm, ForecastFilterForm, OutcomeFilterForm

TAG = ["dashboard"]


class IsDashboardViewer(BasePermission):
    message = "The dashboard is for sales managers and admins."

    def has_permission(self, request, view):
        return visibility.user_can_view_dashboard(request.user)


FILTER_PARAMETERS = [
    OpenApiParameter("team", OpenApiTypes.INT, description="Only this sales team (one of yours)."),
    OpenApiParameter("rep", OpenApiTypes.INT, description="Only deals owned by this rep."),
    OpenApiParameter(
        "stage",
        OpenApiTypes.STR,
        enum=[value for value, _label in selectors.STAGE_CHOICES],
        description='"open" (default): the open stages; "all": every stage; or one stage.',
    ),
    OpenApiParameter(
        "period",
        OpenApiTypes.STR,
        enum=[value for value, _label in selectors.PERIOD_CHOICES],
        description="Only deals created in this window (default: any time).",
    ),
]


class DashboardAPIView(APIView):
    permission_classes = [IsDashboardViewer]

    def filter_form(self, request) -> DashboardFilterForm:
        form = DashboardFilterForm(request.query_params)
        if not form.is_valid():
            errors = form.errors.get_json_data()
            raise ValidationError(
                {name: [error["message"] for error in errs] for name, errs in errors.items()}
            )
        return form


# --- Serializers (responses) ------------------------------------------------------------

HISTORY_ROLLED_UP_AT_HELP = (
    "When the hourly sweep summed up the past days shown; null when they were read from "
    "the health snapshots directly (one stage, a creation period, or a day not summed yet)."
)


def _per_balance(field_factory, name):
    return type(
        name,
        (serializers.Serializer,),
        {balance: field_factory() for balance in selectors.BALANCES},
    )


def _money():
    return serializers.DecimalField(max_digits=16, decimal_places=2)


BalanceCountsSerializer = _per_balance(serializers.IntegerField, "BalanceCountsSerializer")
BalanceMoneySerializer = _per_balance(_money, "BalanceMoneySerializer")


class CountMoneySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    money = _money()


class BalanceChangeSerializer(serializers.Serializer):
    as_of = serializers.DateField(help_text="The snapshot day compared with now.")
    counts = BalanceCountsSerializer(help_text="Now minus then, per balance.")
    money = BalanceMoneySerializer(help_text="Now minus then, per balance.")


class BalanceChangesSerializer(serializers.Serializer):
    week = BalanceChangeSerializer(allow_null=True)
    month = BalanceChangeSerializer(allow_null=True)


class BalanceSerializer(serializers.Serializer):
    counts = BalanceCountsSerializer(help_text="Deals per balance; all four keys always.")
    money = BalanceMoneySerializer(help_text="Sum of net totals per balance.")
    unscored = CountMoneySerializer(help_text="Deals whose health was not computed yet.")
    total = CountMoneySerializer()
    change = BalanceChangesSerializer(
        help_text="Change since a week / a month ago (null without history)."
    )
    as_of = serializers.DateField()
    history_rolled_up_at = serializers.DateTimeField(
        allow_null=True, help_text=HISTORY_ROLLED_UP_AT_HELP
    )


class QuadrantPointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    buyer_score = serializers.IntegerField()
    seller_score = serializers.IntegerField()
    net_total = _money()
    balance = serializers.ChoiceField(choices=Deal.Balance.choices)
    url = serializers.SerializerMethodField()

    def get_url(self, point) -> str:
        return reverse("deals:deal_detail", args=[point["id"]])


class QuadrantCellSerializer(serializers.Serializer):
    buyer_min = serializers.IntegerField(help_text="Lowest buyer score in the cell.")
    seller_min = serializers.IntegerField(help_text="Lowest seller score in the cell.")
    count = serializers.IntegerField()
    net_total = _money()


class QuadrantSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=["points", "grid"],
        help_text=f"points up to {selectors.QUADRANT_MAX_POINTS} deals, else a density grid.",
    )
    total = serializers.IntegerField(help_text="Scored deals plotted.")
    threshold = serializers.IntegerField(help_text="Win-win line on both axes.")
    cell_size = serializers.IntegerField(allow_null=True)
    points = QuadrantPointSerializer(many=True)
    cells = QuadrantCellSerializer(many=True)


class TrendWeekSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    as_of = serializers.DateField(allow_null=True, help_text="Day the numbers describe.")
    deals = serializers.IntegerField()
    win_win_deals = serializers.IntegerField()
    win_win_share = serializers.FloatField(allow_null=True, help_text="Percent, 0–100.")
    pressure_flags = serializers.IntegerField(allow_null=True)


class TrendsSerializer(serializers.Serializer):
    weeks = TrendWeekSerializer(many=True)
    history_rolled_up_at = serializers.DateTimeField(
        allow_null=True, help_text=HISTORY_ROLLED_UP_AT_HELP
    )


class RepRowSerializer(serializers.Serializer):
    rep_id = serializers.IntegerField()
    name = serializers.CharField()
    open_deals = serializers.IntegerField()
    scored_deals = serializers.IntegerField()
    win_win_deals = serializers.IntegerField()
    win_win_share = serializers.FloatField(allow_null=True, help_text="Percent of scored deals.")
    pressure_flags = serializers.DictField(
        child=serializers.IntegerField(), help_text="Open pressure flags per code."
    )
    pressure_flags_total = serializers.IntegerField()
    open_flags = serializers.IntegerField(help_text="Open flags of any code.")
    avg_discount_pct = serializers.FloatField(allow_null=True)
    avg_margin_pct = serializers.FloatField(allow_null=True)
    handoff_sla_misses = serializers.IntegerField(
        help_text="Handoffs claimed after their SLA, or still unclaimed past it."
    )
    customer_value_avg = serializers.FloatField(
        allow_null=True, help_text="Average 1–5 customer value from post-close check-ins."
    )
    check_ins = serializers.IntegerField(help_text="Check-ins with a customer value recorded.")


class RepsSerializer(serializers.Serializer):
    sort = serializers.CharField()
    results = RepRowSerializer(many=True)
    as_of = serializers.DateTimeField(
        allow_null=True,
        help_text="When the hourly sweep summed these numbers up (SLA misses counted then); "
        "null when computed just now (a creation-period filter, or no recent rollup).",
    )


# --- Views ------------------------------------------------------------------------------


class BalanceView(DashboardAPIView):
    @extend_schema(
        tags=TAG,
        operation_id="dashboard_balance",
        parameters=FILTER_PARAMETERS,
        responses=BalanceSerializer,
        summary="Counts and money per balance, with the change since last week and month",
    )
    def get(self, request):
        filters = self.filter_form(request).filters()
        data = selectors.balance_summary(user=request.user, filters=filters)
        return Response(BalanceSerializer(data).data)


class QuadrantView(DashboardAPIView):
    @extend_schema(
        tags=TAG,
        operation_id="dashboard_quadrant",
        parameters=FILTER_PARAMETERS,
        responses=QuadrantSerializer,
        summary="Buyer score vs seller score of scored deals (or a density grid)",
    )
    def get(self, request):
        filters = self.filter_form(request).filters()
        data = selectors.quadrant(user=request.user, filters=filters)
        return Response(QuadrantSerializer(data).data)


class TrendsView(DashboardAPIView):
    @extend_schema(
        tags=TAG,
        operation_id="dashboard_trends",
        parameters=FILTER_PARAMETERS,
        responses=TrendsSerializer,
        summary="Win-win share and open pressure flags per week, last 12 weeks",
    )
    def get(self, request):
        filters = self.filter_form(request).filters()
        data = selectors.trends(user=request.user, filters=filters)
        return Response(TrendsSerializer(data).data)


class RepsView(DashboardAPIView):
    @extend_schema(
        tags=TAG,
        operation_id="dashboard_reps",
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter(
                "sort",
                OpenApiTypes.STR,
                enum=[v for v, _ in SORT_CHOICES],
                description='A column; prefix "-" for descending. Default: name.',
            ),
        ],
        responses=RepsSerializer,
        summary="Per-rep table: open deals, win-win share, pressure, discount, margin, handoffs",
    )
    def get(self, request):
        form = self.filter_form(request)
        rows = selectors.rep_table(user=request.user, filters=form.filters(), sort=form.sort_key())
        return Response(
            RepsSerializer({"sort": form.sort_key(), "results": rows, "as_of": rows.as_of}).data
        )


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes | str) else str(data)


class ExportView(DashboardAPIView):
    # JSON first so errors (400/401/403) stay JSON; a success is a streamed CSV either way.
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        tags=TAG,
        operation_id="dashboard_export_csv",
        parameters=FILTER_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.STR},
        summary="Streamed CSV of the filtered deals with scores and open flag codes",
    )
    def get(self, request):
        filters = self.filter_form(request).filters()
        deals = selectors.dashboard_deals(user=request.user, filters=filters)
        response = StreamingHttpResponse(
            stream_deals_csv(deals), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="deals-{stamp}.csv"'
        return response


# --- Outcomes, calibration and forecast ---------------------------------------------------

OUTCOME_PARAMETERS = [
    OpenApiParameter("team", OpenApiTypes.INT, description="Only this sales team (one of yours)."),
    OpenApiParameter("rep", OpenApiTypes.INT, description="Only deals owned by this rep."),
    OpenApiParameter(
        "period",
        OpenApiTypes.STR,
        enum=[value for value, _label in outcomes.OUTCOME_PERIOD_CHOICES],
        description="Only deals closed in this window (default: any time).",
    ),
]


def _validated(form) -> dict:
    if not form.is_valid():
        errors = form.errors.get_json_data()
        raise ValidationError(
            {name: [error["message"] for error in errs] for name, errs in errors.items()}
        )
    return form.cleaned_data


class OutcomeRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Team or rep id; null for all.")
    name = serializers.CharField()
    won_deals = serializers.IntegerField(help_text="Closed-won deals in the period.")
    checked_deals = serializers.IntegerField(
        help_text="Of those, deals whose 90-day check-in is recorded: the n behind the rates."
    )
    win_win_outcomes = serializers.IntegerField()
    win_win_rate = serializers.FloatField(
        allow_null=True, help_text="Percent of checked deals that are win-win outcomes."
    )
    closed_win_win = serializers.IntegerField()
    closed_win_win_share = serializers.FloatField(
        allow_null=True, help_text="Percent of checked deals whose verdict at close was win-win."
    )
    avg_customer_value = serializers.FloatField(
        allow_null=True, help_text="Mean value (1–5) at the 90-day check-in."
    )
    promises_kept = serializers.IntegerField()
    promises_missed = serializers.IntegerField()
    promises_kept_pct = serializers.FloatField(allow_null=True)
    handoff_leaks = serializers.IntegerField(help_text="Won deals that raised HANDOFF_LEAK.")
    small_sample = serializers.BooleanField(
        help_text=f"Fewer than {outcomes.SMALL_SAMPLE} checked deals: too few to read a rate."
    )


OUTCOMES_ROLLED_UP_AT_HELP = (
    "The rollup's cut: the hourly sweep summed up the deals closed before this time (deals "
    "closed since, and check-ins recorded since, are counted as of now); null when every "
    "deal was read live (no rollup yet, or the sweep has stopped)."
)


class OutcomesSerializer(serializers.Serializer):
    overall = OutcomeRowSerializer()
    teams = OutcomeRowSerializer(many=True)
    reps = OutcomeRowSerializer(many=True)
    rolled_up_at = serializers.DateTimeField(allow_null=True, help_text=OUTCOMES_ROLLED_UP_AT_HELP)


class CalibrationGroupSerializer(serializers.Serializer):
    deals = serializers.IntegerField(help_text="Closed deals (won and lost).")
    won = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True, help_text="Percent won of closed.")
    win_rate_interval = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="95 % Wilson interval."
    )
    checked = serializers.IntegerField(help_text="Won deals with a recorded 90-day check-in.")
    win_win_outcomes = serializers.IntegerField()
    win_win_outcome_rate = serializers.FloatField(allow_null=True)
    win_win_outcome_rate_interval = serializers.ListField(
        child=serializers.FloatField(), allow_null=True
    )
    avg_customer_value = serializers.FloatField(allow_null=True)
    avg_margin_pct = serializers.FloatField(allow_null=True, help_text="Of the won deals.")


class CalibrationDifferenceSerializer(serializers.Serializer):
    win_rate = serializers.FloatField(allow_null=True)
    win_win_outcome_rate = serializers.FloatField(allow_null=True)
    avg_customer_value = serializers.FloatField(allow_null=True)
    avg_margin_pct = serializers.FloatField(allow_null=True)


class CalibrationRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    with_flag = CalibrationGroupSerializer()
    without_flag = CalibrationGroupSerializer()
    difference = CalibrationDifferenceSerializer(help_text="With minus without.")
    win_rate_hint = serializers.CharField(
        help_text='"a clear difference" (95 % intervals apart), "could be chance", or '
        '"too few deals to tell".'
    )
    win_win_outcome_hint = serializers.CharField()


class CalibrationSerializer(serializers.Serializer):
    closed_deals = serializers.IntegerField()
    checked_deals = serializers.IntegerField()
    window_days = serializers.IntegerField(
        help_text="A flag active at the close or at any time this many days before counts."
    )
    small_sample = serializers.IntegerField()
    results = CalibrationRowSerializer(many=True)
    rolled_up_at = serializers.DateTimeField(allow_null=True, help_text=OUTCOMES_ROLLED_UP_AT_HELP)


def _per_forecast_balance(name):
    return type(
        name,
        (serializers.Serializer,),
        {b: _money() for b in (*Deal.Balance.values, "unscored")},
    )


class ForecastMonthSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="First day of the month of expected close.")
    deals = serializers.IntegerField()
    net_total = _money()
    weighted_total = _money()
    by_balance = _per_forecast_balance("ForecastByBalance")()
    commit_at_risk = _money()


class ForecastPastMonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    forecast_as_of = serializers.DateField(
        allow_null=True, help_text="The day whose forecast is shown; null: none was taken."
    )
    forecast_weighted = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text="Null: no forecast kept."
    )
    forecast_commit_at_risk = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True
    )
    actual_closed_won = _money()


class ForecastProbabilitiesSerializer(serializers.Serializer):
    discovery = serializers.IntegerField()
    qualification = serializers.IntegerField()
    proposal = serializers.IntegerField()
    negotiation = serializers.IntegerField()


class ForecastSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    probabilities = ForecastProbabilitiesSerializer(help_text="Percent counted per stage.")
    months = ForecastMonthSerializer(many=True)
    total_weighted = _money()
    total_commit_at_risk = _money()
    overdue_deals = serializers.IntegerField(
        help_text="Open deals whose expected close has passed (counted in this month)."
    )
    undated_deals = serializers.IntegerField(help_text="Open deals without an expected close.")
    past = ForecastPastMonthSerializer(many=True)


class OutcomesView(DashboardAPIView):
    @extend_schema(
        tags=TAG,
        operation_id="dashboard_outcomes",
        parameters=OUTCOME_PARAMETERS,
        responses=OutcomesSerializer,
        summary="Win-win outcome rate per team and rep, beside the share that closed win-win",
    )
    def get(self, request):
        form = OutcomeFilterForm(request.query_params)
        _validated(form)
        data = outcomes.win_win_rates(user=request.user, filters=form.filters())
        return Response(OutcomesSerializer(data).data)


class CalibrationView(DashboardAPIView):
    @extend_schema(
        tags=TAG,
        operation_id="dashboard_calibration",
        parameters=OUTCOME_PARAMETERS,
        responses=CalibrationSerializer,
        summary="Per flag code: outcomes of deals closed with it against those without",
    )
    def get(self, request):
        form = OutcomeFilterForm(request.query_params)
        _validated(form)
        data = outcomes.calibration(user=request.user, filters=form.filters())
        return Response(CalibrationSerializer(data).data)


class ForecastView(DashboardAPIView):
    @extend_schema(
        tags=TAG,
        operation_id="dashboard_forecast",
        parameters=OUTCOME_PARAMETERS[:2],
        responses=ForecastSerializer,
        summary="Next 6 months of open deals weighted by stage, split by balance; past months",
    )
    def get(self, request):
        data = _validated(ForecastFilterForm(request.query_params))
        result = forecast.forecast(
            user=request.user, team_id=data.get("team"), rep_id=data.get("rep")
        )
        return Response(ForecastSerializer(result).data)
