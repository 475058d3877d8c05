"""The API throttles: DRF's sliding window, kept in one Redis round trip when the cache is
Redis; the same answers (allowed or not, Retry-After) as DRF's own throttle."""

import secrets

import pytest
from django.core.cache import caches
from rest_framework import throttling as drf
from rest_framework.test import APIRequestFactory

from tests import factories as f
from tests.worker import redis_url_for_tests
from winwin_crm.api import throttling


@pytest.fixture
def redis_cache(settings):
    """The default cache on Redis, under a key prefix of this test's own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url_for_tests(),
            "KEY_PREFIX": f"test-throttle-{secrets.token_hex(4)}",
        }
    }
    yield caches["default"]


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def _answers(throttle_class, user, clock, steps):
    """(allowed, wait) for a request after each step (seconds) of the clock."""
    request = APIRequestFactory().get("/api/v1/deals/")
    request.user = user
    answers = []
    for step in steps:
        clock.now += step
        throttle = throttle_class()
        throttle.timer = clock
        throttle.rate, (throttle.num_requests, throttle.duration) = "3/min", (3, 60)
        allowed = throttle.allow_request(request, None)
        answers.append((allowed, None if allowed else round(throttle.wait(), 6)))
    return answers


# Three in a burst, refused ones (not counted), the window sliding past the first.
STEPS = [0, 1, 1, 10, 5, 43, 0.5, 1, 0, 30, 30, 0.25]


@pytest.mark.django_db
def test_the_redis_window_answers_exactly_as_drfs_throttle(redis_cache, rep_user):
    ours = _answers(throttling.UserRateThrottle, rep_user, Clock(), STEPS)
    # (DRF's own throttle keeps its list under another key of the same cache)
    theirs = _answers(drf.UserRateThrottle, rep_user, Clock(), STEPS)
    assert ours == theirs
    assert [allowed for allowed, _wait in ours].count(False) >= 3  # the test refuses some


@pytest.mark.django_db
def test_on_redis_the_window_is_one_sorted_set_not_drfs_pickled_list(redis_cache, rep_user):
    _answers(throttling.UserRateThrottle, rep_user, Clock(), [0, 1, 1])
    client = throttling._redis_client(redis_url_for_tests())
    ours = redis_cache.make_key(f"sliding:throttle_user_{rep_user.pk}")
    assert client.type(ours) == b"zset" and client.zcard(ours) == 3
    assert 0 < client.pttl(ours) <= 60_000
    assert redis_cache.get(f"throttle_user_{rep_user.pk}") is None


@pytest.mark.django_db
def test_users_have_windows_of_their_own(redis_cache, rep_user, manager_user):
    clock = Clock()
    assert [a for a, _w in _answers(throttling.UserRateThrottle, rep_user, clock, [0] * 4)] == [
        True, True, True, False,
    ]  # fmt: skip
    assert _answers(throttling.UserRateThrottle, manager_user, clock, [0])[0][0] is True


@pytest.mark.django_db
def test_the_api_answers_429_with_retry_after_past_the_user_rate(redis_cache, api_as, rep_user):
    original = drf.UserRateThrottle.THROTTLE_RATES
    drf.UserRateThrottle.THROTTLE_RATES = {**original, "user": "2/min"}
    try:
        client = api_as(rep_user)
        responses = [client.get("/api/v1/deals/") for _ in range(3)]
    finally:
        drf.UserRateThrottle.THROTTLE_RATES = original
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert 55 <= int(responses[2]["Retry-After"]) <= 60


def test_without_redis_drfs_own_code_counts(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    user = f.UserFactory.build(pk=10**6)
    assert [a for a, _w in _answers(throttling.UserRateThrottle, user, Clock(), [0] * 4)] == [
        True, True, True, False,
    ]  # fmt: skip
    assert len(caches["default"].get(f"throttle_user_{user.pk}")) == 3
