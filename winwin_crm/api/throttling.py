"""The API's rate limits: DRF's throttles, checked in one cache round trip on Redis.

DRF's SimpleRateThrottle keeps, per client, the list of its request times in the last
window and reads and writes the whole list on every request: two round trips to Redis in
production, and a list as long as the requests of the last window (up to 6,000 at the
default user rate) unpickled and pickled again each time. Here the same sliding window (a
request is allowed while fewer than `num_requests` were allowed in the last `duration`
seconds; a refused one is not counted; Retry-After as DRF computes it) is a sorted set
that one Lua script trims, counts and adds to, atomically. Without Redis (the embedded
default's local-memory cache) DRF's own code runs.
"""

from __future__ import annotations

import functools
import secrets
from typing import Any

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling

# KEYS[1]: the client's window; ARGV: now, duration (s), num_requests, a unique member.
# Returns {1} when allowed (and counted), {0, count, oldest} when refused.
SLIDING_WINDOW_LUA = """
local key = KEYS[1]
local now, duration, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - duration)
local count = redis.call('ZCARD', key)
if count >= limit then
  return {0, count, redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, math.ceil(duration * 1000))
return {1}
"""


def _first_server(location: str | list[str]) -> str:
    """The server RedisCache writes to: the first of LOCATION's."""
    servers = location.split(",") if isinstance(location, str) else location
    return servers[0]


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per process and server."""
    return redis.Redis.from_url(url)


class SlidingWindowThrottle(throttling.SimpleRateThrottle):
    """A SimpleRateThrottle whose window is a Redis sorted set when the default cache is
    Redis (under a key of its own: DRF's key holds a pickled list)."""

    num_requests: int  # set by SimpleRateThrottle.__init__ from the rate
    duration: int
    _script: Any = None  # the Lua script, registered once per process
    _refused: tuple[int, float | None] | None = None  # when refused: count, oldest request

    def allow_request(self, request, view) -> bool:
        backend = caches[DEFAULT_CACHE_ALIAS]
        if self.rate is None or not isinstance(backend, RedisCache):
            return super().allow_request(request, view)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.key, self.now = key, self.timer()
        window = backend.make_key(f"sliding:{key}")
        client = _redis_client(_first_server(settings.CACHES[DEFAULT_CACHE_ALIAS]["LOCATION"]))
        if SlidingWindowThrottle._script is None:
            SlidingWindowThrottle._script = client.register_script(SLIDING_WINDOW_LUA)
        member = f"{self.now!r}:{secrets.token_hex(4)}"
        args = [repr(self.now), self.duration, self.num_requests, member]
        answer = SlidingWindowThrottle._script(keys=[window], args=args, client=client)
        if answer[0]:
            self._refused = None
            return True
        # (a rate of 0 refuses everything: no oldest request then)
        self._refused = (int(answer[1]), float(answer[2]) if len(answer) > 2 else None)
        return False

    def wait(self) -> float | None:
        if self._refused is None:
            return super().wait()
        # DRF's formula, with the window's count and oldest request instead of its list.
        count, oldest = self._refused
        remaining = self.duration - (self.now - oldest) if oldest is not None else self.duration
        available = self.num_requests - count + 1
        return remaining / float(available) if available > 0 else None


class UserRateThrottle(SlidingWindowThrottle, throttling.UserRateThrottle):
    """Per user (the "user" rate), as DRF's."""


class AnonRateThrottle(SlidingWindowThrottle, throttling.AnonRateThrottle):
    """Per client address for anonymous requests (the "anon" rate), as DRF's."""
