"""Cache keys and the minute-long cache of the live aggregates."""

from __future__ import annotations

import functools
import hashlib

from deals.visibility import (
    dashboard_team_ids,
)

from .scope import DashboardFilters


def _cache_key(family: str, user, filters: DashboardFilters, *parts) -> str:
    """One cache key per user scope (their teams, or all for admins), filters and parts."""
    team_ids = dashboard_team_ids(user)
    scope = "all" if team_ids is None else ",".join(map(str, sorted(team_ids)))
    raw = "|".join(
        map(str, (scope, filters.team_id, filters.rep_id, filters.stage, filters.period, *parts))
    )
    return f"dashboard:{family}:v2:" + hashlib.sha1(raw.encode()).hexdigest()


# Today's aggregates scan every deal of the scope (hundreds of ms per aggregate for a
# manager of 50,000 deals; bench/RESULTS.md), and health itself is recomputed
# asynchronously, so a dashboard a minute behind tells the same story. Live aggregates are
# cached that long per scope and filters; a manager's own change (acknowledging flags)
# starts a new generation.
LIVE_CACHE_SECONDS = 60
LIVE_GENERATION_KEY = "dashboard:live:generation"


def live_cache_invalidate() -> None:
    """Forget every cached live aggregate (after a manager's own change, e.g. acknowledging
    flags, so their dashboard shows it at once)."""
    from django.core.cache import cache

    try:
        cache.incr(LIVE_GENERATION_KEY)
    except ValueError:  # not set yet
        cache.set(LIVE_GENERATION_KEY, 1, None)


def _live_cache_key(user, filters: DashboardFilters, kind: str) -> str:
    from django.core.cache import cache

    return _cache_key("live", user, filters, kind, cache.get(LIVE_GENERATION_KEY, 0))


def _live_cached(kind: str):
    def decorate(compute):
        @functools.wraps(compute)
        def cached(*, user, filters: DashboardFilters):
            from django.core.cache import cache

            key = _live_cache_key(user, filters, kind)
            value = cache.get(key)
            if value is None:
                value = compute(user=user, filters=filters)
                cache.set(key, value, LIVE_CACHE_SECONDS)
            return value

        return cached

    return decorate
