"""API throttles counted with one atomic increment per request.

DRF's SimpleRateThrottle keeps a pickled list of request times per caller and rewrites it on every request:
two cache round trips, and two requests at the same moment can both take the last free slot. Quiz
submissions are throttled and arrive all at once when a group finishes, so here each caller has a counter
per fixed window of the rate's period (at most the rate per window), incremented in one round trip.
"""

from django.core.cache import caches
from rest_framework.throttling import ScopedRateThrottle

from quizsite.cache import TolerantRedisCache


def count_in_window(key: str, seconds: int) -> int | None:
    """One more request for `key` in a window of `seconds`; the count so far (None: nothing counts now)."""
    cache = caches["default"]
    if isinstance(cache, TolerantRedisCache):
        return cache.count(key, seconds)
    cache.add(key, 0, timeout=seconds)  # development's in-memory cache: one process, no race worth a lock
    return cache.incr(key)


class ScopedWindowThrottle(ScopedRateThrottle):
    """ScopedRateThrottle's scopes (`throttle_scope` on the view), rates and caller keys; 429 with
    Retry-After until the caller's window ends."""

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        count = count_in_window(f"{self.key}:{window}", self.duration)
        self.retry_at = (window + 1) * self.duration
        return count is None or count <= self.num_requests

    def wait(self):
        return max(self.retry_at - self.now, 0)
