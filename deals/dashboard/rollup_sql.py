"""The day rollup of many days in one PostgreSQL statement.

Rolling up day by day asks, for every day, for each deal's latest snapshot on or before it:
84 days over a million deals' snapshots took minutes. Here every snapshot is read once. A
snapshot holds from its day until the deal's next snapshot; within that span the deal
counts as open before the day it closed and as closed from then on, for as long as it is
in view (deals.health.history: a lost deal, or a won one without a handoff, drops out
after its close day). Each span adds its numbers on its first day and takes them away on
the day after its last; a running sum per group over the days gives every day's totals —
the same rows `_rollup_rows(day)` builds one day at a time (tests/dashboard pin both to the
same figures).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from deals.models import DashboardDayRollup, Deal

_ROLLUP_SQL = """
WITH s AS (
    SELECT s.team_id, s.owner_id, s.balance,
           coalesce(s.net_total, 0) AS money, coalesce(s.pressure_flag_count, 0) AS pressure,
           s.day AS a,
           lead(s.day) OVER (PARTITION BY s.deal_id ORDER BY s.day) AS b,
           (d.closed_at AT TIME ZONE %(tz)s)::date AS c,
           (d.stage = %(won)s AND EXISTS (
               SELECT 1 FROM handoff_handoff h WHERE h.deal_id = d.id)) AS kept
    FROM deals_healthsnapshot s JOIN deals_deal d ON d.id = s.deal_id
    WHERE s.day <= %(last)s
),
spans AS (
    SELECT team_id, owner_id, balance, true AS open, money, pressure,
           a AS start, least(b, c) AS stop
    FROM s
    UNION ALL
    SELECT team_id, owner_id, balance, false, money, pressure,
           greatest(a, c), CASE WHEN kept THEN b ELSE least(b, c + 1) END
    FROM s WHERE c IS NOT NULL
),
held AS (
    SELECT * FROM spans
    WHERE (stop IS NULL OR (stop > start AND stop > %(first)s)) AND start <= %(last)s
),
changes AS (
    SELECT greatest(start, %(first)s) AS day, team_id, owner_id, balance, open,
           1 AS deals, money, pressure
    FROM held
    UNION ALL
    SELECT stop, team_id, owner_id, balance, open, -1, -money, -pressure
    FROM held WHERE stop IS NOT NULL AND stop <= %(last)s
),
daily AS (
    SELECT day, team_id, owner_id, balance, open,
           sum(deals) AS deals, sum(money) AS money, sum(pressure) AS pressure
    FROM changes GROUP BY day, team_id, owner_id, balance, open
),
groups AS (SELECT DISTINCT team_id, owner_id, balance, open FROM daily),
grid AS (
    SELECT g.day::date AS day, k.team_id, k.owner_id, k.balance, k.open
    FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS g(day)
    CROSS JOIN groups k
),
totals AS (
    SELECT grid.day, grid.team_id, grid.owner_id, grid.balance, grid.open,
           sum(coalesce(daily.deals, 0)) OVER w AS deals,
           sum(coalesce(daily.money, 0)) OVER w AS money,
           sum(coalesce(daily.pressure, 0)) OVER w AS pressure
    FROM grid LEFT JOIN daily
      ON daily.day = grid.day AND daily.team_id = grid.team_id
     AND daily.owner_id = grid.owner_id AND daily.balance = grid.balance
     AND daily.open = grid.open
    WINDOW w AS (PARTITION BY grid.team_id, grid.owner_id, grid.balance, grid.open
                 ORDER BY grid.day)
)
SELECT day, team_id, owner_id, balance, open, deals, money, pressure
FROM totals WHERE deals > 0 AND day = ANY(%(days)s)
"""


def rollup_rows_many(
    days: list[dt.date], first: dt.date, built_at: dt.datetime
) -> list[DashboardDayRollup]:
    """The rollup rows of `days` (each on or after `first`, the first day with history
    in the window), from one pass over the snapshots. PostgreSQL only."""
    if not days:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            _ROLLUP_SQL,
            {
                "tz": timezone.get_current_timezone_name(),
                "won": Deal.Stage.CLOSED_WON,
                "first": first,
                "last": max(days),
                "days": sorted(days),
            },
        )
        return [
            DashboardDayRollup(
                day=day,
                team_id=team_id,
                owner_id=owner_id,
                balance=balance,
                open=open_,
                deals=int(deals),
                net_total=Decimal(money).quantize(Decimal("0.01")),
                pressure_flags=int(pressure),
                built_at=built_at,
            )
            for day, team_id, owner_id, balance, open_, deals, money, pressure in cursor
        ]
