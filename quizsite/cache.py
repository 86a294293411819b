"""A Redis cache that degrades instead of failing while Redis is down.

The cache only holds what can be lost: throttle counters and sign-in failure counts. Django's own Redis
backend raises on a connection error, which would turn every throttled request (the token endpoint, quiz
submissions, sign-in) into a 500 during a Redis outage. Here a read finds nothing and a write is dropped,
so those requests go through unthrottled until Redis is back.
"""

import functools
import logging

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)


def _degrades_to(fallback):
    """Run the backend's method; on a Redis error log it and answer `fallback(*args, **kwargs)` instead."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except redis.RedisError as error:
                logger.warning("cache unavailable, %s skipped: %s", method.__name__, error)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _nothing(*args, **kwargs):
    return None


def _no(*args, **kwargs):
    return False


class _ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client builds a new `redis.Redis` around its connection pool for every command, which cost a
    throttled request more than the command itself; one per pool serves every thread (redis-py clients are
    thread-safe and check for a fork on each command)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        if index not in self._clients:
            self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return self._clients[index]


class TolerantRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClientRedisCacheClient

    @_degrades_to(_nothing)
    def count(self, key, timeout, version=None) -> int | None:
        """Add one to the counter `key`, which starts at 0 and lives `timeout` seconds from its first count, and
        answer the new value; one round trip, atomic. None while Redis is down."""
        key = self.make_and_validate_key(key, version=version)
        pipeline = self._cache.get_client(key, write=True).pipeline(transaction=False)
        pipeline.set(key, 0, ex=int(timeout), nx=True)
        pipeline.incr(key)
        return pipeline.execute()[1]

    get = _degrades_to(lambda key, default=None, version=None: default)(RedisCache.get)
    get_many = _degrades_to(lambda *args, **kwargs: {})(RedisCache.get_many)
    has_key = _degrades_to(_no)(RedisCache.has_key)
    add = _degrades_to(_no)(RedisCache.add)
    set = _degrades_to(_nothing)(RedisCache.set)
    # set_many answers the keys it failed to store: all of them.
    set_many = _degrades_to(lambda data, *args, **kwargs: list(data))(RedisCache.set_many)
    touch = _degrades_to(_no)(RedisCache.touch)
    delete = _degrades_to(_no)(RedisCache.delete)
    delete_many = _degrades_to(_nothing)(RedisCache.delete_many)
