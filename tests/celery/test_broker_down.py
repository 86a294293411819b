"""With the broker unreachable the site keeps working: requests that queue tasks succeed quickly, and
/healthz reports the broker as down. The shared Redis is never touched: these tests point the app at a
port of their own (a redis-server they stop, a port nobody listens on, or one that never answers)."""

import datetime
import time
from contextlib import contextmanager

import pytest
import redis
from django.utils import timezone

from sessions.models import GroupSession, SessionStatus
from tests.conftest import token_client

from .conftest import broker_at, free_port, own_redis_server, silent_server

FAST = 2.0  # seconds a request may lose to a dead broker (about 1 s by design, with room for a slow machine)


@contextmanager
def _site_with_broker(settings, url):
    settings.REDIS_URL = url
    with broker_at(url):
        yield


@contextmanager
def _refusing_broker():
    yield f"redis://127.0.0.1:{free_port()}/0"


def _create_scheduled_session(study_group, capture):
    scheduled_at = timezone.now() + datetime.timedelta(minutes=30)
    client = token_client(study_group["owner"])
    started = time.monotonic()
    with capture(execute=True):
        response = client.post(
            f"/api/groups/{study_group['group'].pk}/sessions",
            {
                "title": "Optics",
                "session_type": "scheduled",
                "scheduled_at": scheduled_at.isoformat(),
                "duration_minutes": 20,
                "share_token": study_group["question_set"].token,
            },
            format="json",
        )
    return response, time.monotonic() - started


def _healthz(client):
    started = time.monotonic()
    response = client.get("/healthz")
    return response, time.monotonic() - started


@pytest.mark.django_db
@pytest.mark.parametrize("broker", [_refusing_broker, silent_server], ids=["nothing-listens", "never-answers"])
def test_creating_a_scheduled_session_succeeds_fast_with_the_broker_unreachable(
    broker, study_group, settings, django_capture_on_commit_callbacks, client
):
    with broker() as url, _site_with_broker(settings, url):
        response, elapsed = _create_scheduled_session(study_group, django_capture_on_commit_callbacks)
        health, health_elapsed = _healthz(client)

    assert response.status_code == 201, response.content
    assert elapsed < FAST
    session = GroupSession.objects.get(pk=response.json()["id"])
    assert session.status == SessionStatus.SCHEDULED
    assert health.status_code == 200
    assert health.json() == {"database": "ok", "broker": "down"}
    assert health_elapsed < FAST


@pytest.mark.django_db
def test_when_redis_stops_the_site_keeps_creating_sessions_and_serving_pages(
    study_group, settings, django_capture_on_commit_callbacks, client
):
    with own_redis_server() as (url, server), _site_with_broker(settings, url):
        before, _ = _create_scheduled_session(study_group, django_capture_on_commit_callbacks)
        assert before.status_code == 201
        # The timers reached the broker while it was up (the reminder, the opening and the closing).
        assert redis.Redis.from_url(url).llen("celery") == 3
        assert _healthz(client)[0].json()["broker"] == "ok"

        server.terminate()
        server.wait(5)

        # The pooled broker connection is now dead: the publish fails fast instead of hanging.
        after, elapsed = _create_scheduled_session(study_group, django_capture_on_commit_callbacks)
        health, _ = _healthz(client)
        client.force_login(study_group["owner"])
        page = client.get(f"/groups/{study_group['group'].pk}")

    assert after.status_code == 201, after.content
    assert elapsed < FAST
    assert health.json() == {"database": "ok", "broker": "down"}
    assert page.status_code == 200
    assert GroupSession.objects.filter(group=study_group["group"], status=SessionStatus.SCHEDULED).count() == 2


@pytest.mark.django_db
def test_healthz_says_ok_while_the_broker_answers(client, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: `make test` sets it")
    assert client.get("/healthz").json() == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_says_eager_without_a_broker(client, settings):
    settings.REDIS_URL = ""
    assert client.get("/healthz").json() == {"database": "ok", "broker": "eager"}
