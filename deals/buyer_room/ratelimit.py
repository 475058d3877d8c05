"""Rate limits of the buyer room, counted in Django's cache (Redis in production, so all
web processes share the counts; per-process memory in the embedded default)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR: behind a proxy the deployment's proxy middleware sets it from the
    # trusted forwarded header; a client-sent header is never trusted here.
    return request.META.get("REMOTE_ADDR") or "unknown"


def _hit(key: str, window_seconds: int) -> int:
    bucket = f"buyer-room:{key}:{int(time.time() // window_seconds)}"
    if cache.add(bucket, 1, timeout=window_seconds + 5):
        return 1
    try:
        return cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=window_seconds + 5)
        return 1


def _count(key: str, window_seconds: int) -> int:
    return cache.get(f"buyer-room:{key}:{int(time.time() // window_seconds)}", 0)


def request_allowed(request: HttpRequest) -> bool:
    """Counts this request; False once the IP is over its per-minute budget or has
    failed too many token lookups (an enumeration attempt) in the last ten minutes."""
    ip = client_ip(request)
    if _count(f"fail:{ip}", 600) >= settings.BUYER_ROOM_FAILURES_PER_10_MINUTES:
        return False
    return _hit(f"req:{ip}", 60) <= settings.BUYER_ROOM_REQUESTS_PER_MINUTE


def lookup_failed(request: HttpRequest) -> None:
    _hit(f"fail:{client_ip(request)}", 600)
