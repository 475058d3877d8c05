"""Reads behind the manager's deal-balance dashboard, every number aggregated in SQL.

Split by job (each module's docstring says more):

- `scope`: the filters, the user's scope, the filtered deals and open flags;
- `cache`: cache keys and the minute-long cache of the live aggregates;
- `history`: past days per balance, from the day rollup or the health snapshots;
- `headline`: balance summary, quadrant and trends;
- `reps`: the per-rep table (rollup or live);
- `flags`: the flag review list;
- `live`: today's deals per group from the sums and deltas (and the deal list's count).

Each selector runs a fixed number of queries whatever the number of deals; the dashboard
tests pin the counts. The names below are the package's public surface (and the private
ones tests and sibling modules reach for), importable from `deals.dashboard.selectors`.
"""

from deals.visibility import dashboard_scope_q
from deals.visibility import dashboard_team_scope_q as _team_scope_q

from .cache import (
    LIVE_CACHE_SECONDS,
    LIVE_GENERATION_KEY,
    _cache_key,
    _live_cache_key,
    _live_cached,
    live_cache_invalidate,
)
from .flags import (
    FLAG_AGE_CHOICES,
    FLAG_COUNT_LIMIT,
    FLAG_STATUS_CHOICES,
    FlagFilters,
    FlagTotal,
    flag_get_for_review,
    flag_review_list,
    flag_review_total,
    open_flag_count,
)
from .headline import (
    DEFAULT_WIN_WIN_THRESHOLD,
    QUADRANT_CELL,
    QUADRANT_MAX_POINTS,
    TREND_WEEKS,
    _day_totals,
    balance_summary,
    quadrant,
    trends,
    win_win_threshold,
)
from .history import (
    HISTORY_CACHE_SECONDS,
    History,
    _by_day,
    _cached_history,
    _history,
    _history_cache_key,
    _history_from_rollup,
    _history_from_snapshots,
    _rollup_answers,
    _snapshots,
)
from .live import live_deal_count
from .reps import (
    REP_ROLLUP_MAX_AGE,
    REP_SORT_KEYS,
    RepRow,
    RepTable,
    _flag_counts,
    _named_rep_rows,
    _rep_rows,
    _rep_rows_from_rollup,
    _rep_rows_live,
    rep_table,
    sort_rep_rows,
)
from .scope import (
    BALANCES,
    PERIOD_CHOICES,
    PERIOD_DAYS,
    STAGE_ALL,
    STAGE_CHOICES,
    STAGE_OPEN,
    ZERO,
    DashboardFilters,
    _apply_deal_filters,
    _open_flags,
    _pct,
    _period_start,
    _round,
    dashboard_deals,
    dashboard_reps,
    dashboard_teams,
    pressure_codes,
)

__all__ = [
    "BALANCES",
    "DEFAULT_WIN_WIN_THRESHOLD",
    "FLAG_AGE_CHOICES",
    "FLAG_COUNT_LIMIT",
    "FLAG_STATUS_CHOICES",
    "HISTORY_CACHE_SECONDS",
    "LIVE_CACHE_SECONDS",
    "LIVE_GENERATION_KEY",
    "PERIOD_CHOICES",
    "PERIOD_DAYS",
    "QUADRANT_CELL",
    "QUADRANT_MAX_POINTS",
    "REP_ROLLUP_MAX_AGE",
    "REP_SORT_KEYS",
    "STAGE_ALL",
    "STAGE_CHOICES",
    "STAGE_OPEN",
    "TREND_WEEKS",
    "ZERO",
    "DashboardFilters",
    "FlagFilters",
    "FlagTotal",
    "History",
    "RepRow",
    "RepTable",
    "_apply_deal_filters",
    "_by_day",
    "_cache_key",
    "_cached_history",
    "_day_totals",
    "_flag_counts",
    "_history",
    "_history_cache_key",
    "_history_from_rollup",
    "_history_from_snapshots",
    "_live_cache_key",
    "_live_cached",
    "_named_rep_rows",
    "_open_flags",
    "_pct",
    "_period_start",
    "_rep_rows",
    "_rep_rows_from_rollup",
    "_rep_rows_live",
    "_rollup_answers",
    "_round",
    "_snapshots",
    "_team_scope_q",
    "balance_summary",
    "dashboard_deals",
    "dashboard_reps",
    "dashboard_scope_q",
    "dashboard_teams",
    "flag_get_for_review",
    "flag_review_list",
    "flag_review_total",
    "live_cache_invalidate",
    "live_deal_count",
    "open_flag_count",
    "pressure_codes",
    "quadrant",
    "rep_table",
    "sort_rep_rows",
    "trends",
    "win_win_threshold",
]
