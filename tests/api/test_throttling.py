"""Throttled endpoints (sign-in for a token, quiz submissions) count each caller's requests per window of the
rate's period with one atomic Redis increment (quizsite.throttling), on the suite's real Redis."""

import uuid

import pytest
from django.core.cache import caches

from quizsite.cache import TolerantRedisCache
from quizsite.throttling import ScopedWindowThrottle, count_in_window
from tests.conftest import run_at_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_cache():
    cache = caches["default"]
    assert isinstance(cache, TolerantRedisCache), "make test runs on Redis"
    return cache


def _sign_in(api_client):
    return api_client.post("/api/auth/token", {"username": "nobody", "password": "wrong"}, format="json")


def test_the_rate_passes_then_429_until_the_window_ends_then_passes_again(api_client, monkeypatch):
    monkeypatch.setattr(
        ScopedWindowThrottle, "THROTTLE_RATES", {**ScopedWindowThrottle.THROTTLE_RATES, "token": "3/min"}
    )
    start = 1_800_000_000 + 7  # 7 s into a minute
    monkeypatch.setattr(ScopedWindowThrottle, "timer", lambda self: start)

    statuses = [_sign_in(api_client).status_code for _ in range(4)]
    refused = _sign_in(api_client)
    monkeypatch.setattr(ScopedWindowThrottle, "timer", lambda self: start + 53)  # the next minute
    next_window = _sign_in(api_client)

    assert statuses == [400, 400, 400, 429]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "53"
    assert next_window.status_code == 400


def test_concurrent_requests_each_get_their_own_count(redis_cache):
    key = f"test-concurrent-{uuid.uuid4()}"

    counts = run_at_once([lambda: count_in_window(key, 60)] * 40)

    assert sorted(counts) == list(range(1, 41))


def test_a_counter_lives_as_long_as_its_window_from_the_first_request(redis_cache):
    key = f"test-expiry-{uuid.uuid4()}"
    count_in_window(key, 60)
    count_in_window(key, 60)

    stored = redis_cache.make_and_validate_key(key)
    client = redis_cache._cache.get_client(stored)
    assert int(client.get(stored)) == 2
    assert 55 <= client.ttl(stored) <= 60


def test_every_command_reuses_one_redis_client(redis_cache):
    assert redis_cache._cache.get_client("a") is redis_cache._cache.get_client("b", write=True)
