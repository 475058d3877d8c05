"""Simulated past forecasts of the demo (the forecast page's "past months")."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from deals.models import Deal

from .vocabulary import BULK_BATCH_SIZE, DEMO_PREFIX


def forecast_history_simulate(*, seed: int) -> str:
    """Past forecasts for the forecast page's "past months" (SIMULATED: the demo has no
    past to take them from). For each of the last six months, the forecast as of its
    first day for that month: the generated deals created before it that then closed in
    it (won or lost), weighted as a negotiation deal (60 %) when they closed in the
    month's first half, else as a proposal (40 %), with their balance today. Today's
    forecast is then taken for real (deals.dashboard.services.forecast_snapshot_take)."""
    from deals.dashboard import forecast
    from deals.dashboard.services import forecast_snapshot_take
    from deals.models import DashboardForecastDay

    this_month = forecast.month_start(timezone.localdate())
    built_at = timezone.now()
    rows: dict[tuple, DashboardForecastDay] = {}
    for months_back in range(forecast.PAST_MONTHS, 0, -1):
        month = forecast.add_months(this_month, -months_back)
        start = timezone.make_aware(dt.datetime.combine(month, dt.time()))
        end = timezone.make_aware(dt.datetime.combine(forecast.add_months(month, 1), dt.time()))
        closing = Deal.objects.filter(
            external_id__startswith=f"{DEMO_PREFIX}{seed}:d",
            stage__in=Deal.CLOSED_STAGES,
            created_at__lt=start,
            closed_at__gte=start,
            closed_at__lt=end,
        ).values_list("team_id", "owner_id", "balance", "net_total", "closed_at")
        for team_id, owner_id, balance, net, closed_at in closing:
            key = (month, team_id, owner_id, balance)
            row = rows.get(key)
            if row is None:
                row = rows[key] = DashboardForecastDay(
                    day=month,
                    team_id=team_id,
                    owner_id=owner_id,
                    month=month,
                    balance=balance,
                    deals=0,
                    net_total=Decimal("0"),
                    weighted_total=Decimal("0"),
                    built_at=built_at,
                )
            percent = 60 if timezone.localdate(closed_at).day <= 15 else 40
            row.deals += 1
            row.net_total += net
            row.weighted_total += (net * percent / 100).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
    DashboardForecastDay.objects.filter(
        day__lt=this_month, day__in={key[0] for key in rows}
    ).delete()
    DashboardForecastDay.objects.bulk_create(rows.values(), batch_size=BULK_BATCH_SIZE)
    today_rows = forecast_snapshot_take()
    return f"simulated past forecasts: {len(rows):,} rows; today's forecast: {today_rows:,} rows"
