"""GET /healthz: the database must answer; a down broker is reported but does not make the site unhealthy."""

import functools

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any driver error means the database is not usable right now
        return "down"
    return "ok"


@functools.cache
def _broker_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)


def broker_status() -> str:
    if not settings.REDIS_URL:
        return "eager"
    import redis

    try:
        _broker_client(settings.REDIS_URL).ping()
    except redis.RedisError:
        return "down"
    return "ok"


def healthz(request):
    payload = {"database": database_status(), "broker": broker_status()}
    return JsonResponse(payload, status=200 if payload["database"] == "ok" else 503)
