"""Faults: PostgreSQL connections killed under a running server, and Redis stopped and started again.

Each test brings up its own victims and only harms those: a gunicorn of its own whose database
connections (those of the TEST database, found by `pg_stat_activity.datname`) it terminates, and a
redis-server of its own on a spare port. The machine's shared PostgreSQL and Redis are never touched.
"""

import datetime
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from groups.models import Role
from questions.models import QuestionSet
from quizsite.celery import app
from sessions import tasks
from sessions.models import GroupSession, NotificationKind, Participant, SessionNotification, SessionStatus
from tests.celery.conftest import broker_at, free_port, wait_until
from tests.factories import PASSWORD, GroupFactory, MembershipFactory, QuestionSetFactory, UserFactory
from tests.security.clients import browser_client, extension_client
from tests.sessions.helpers import active_session

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(settings.BASE_DIR)
QUESTION = {"prompt": "Two plus two?", "choices": ["3", "4"], "answer": 1}


@pytest.fixture
def study_group():
    owner = UserFactory(username="olga_owner")
    group = GroupFactory(name="Physics", created_by=owner)
    MembershipFactory(group=group, user=owner, role=Role.OWNER)
    members = [MembershipFactory(group=group, role=Role.MEMBER).user for _ in range(2)]
    return {
        "group": group,
        "owner": owner,
        "members": members,
        "session": active_session(group=group, created_by=owner, duration_minutes=None, ends_at=None),
        "question_set": QuestionSetFactory(created_by=owner),
    }


# --- PostgreSQL connections killed ----------------------------------------------------------------


@contextmanager
def own_gunicorn():
    """A gunicorn of this test's own, on the test database, keeping its connection as production does."""
    port = free_port()
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": "",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--config", str(BASE_DIR / "gunicorn.conf.py")]
        # Production's settings, on one connection: one process with one thread.
        + [
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "1",
            "--timeout",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url) or server.poll() is not None, timeout=20)
        assert server.poll() is None, server.stderr.read().decode()
        yield url
    finally:
        server.terminate()
        server.wait(10)


def _answers(url) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=0.2):
            return True
    except OSError:
        return False


def call(url, method="GET", body=None, token=None) -> tuple[int, dict | None]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode() if body is not None else None, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def kill_test_database_connections() -> int:
    """Terminate every other backend of the test database (this process's own connection excepted)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_killed_database_connections_are_replaced_and_the_next_requests_succeed(study_group):
    owner, member = study_group["owner"], study_group["members"][0]
    group, session = study_group["group"], study_group["session"]
    owner_token, member_token = (Token.objects.create(user=user).key for user in (owner, member))

    with own_gunicorn() as server:
        shared = []
        for round_number in range(3):
            # The server holds a connection from the last request: it is the one that dies.
            assert call(f"{server}/api/user/groups", token=owner_token)[0] == 200
            assert kill_test_database_connections() >= 1

            # Every request after the kill is answered, reads and writes alike.
            status, body = call(
                f"{server}/api/question-sets",
                "POST",
                {"title": f"Round {round_number}", "questions": [QUESTION]},
                owner_token,
            )
            assert status == 201
            shared.append(body["token"])
            assert call(f"{server}/api/groups/{group.pk}/sessions", token=owner_token)[0] == 200
            assert call(f"{server}/healthz")[1] == {"database": "ok", "broker": "eager"}

        kill_test_database_connections()
        status, result = call(
            f"{server}{session.join_url.replace('/questions/', '/api/questions/', 1).replace('?', '/submit?')}",
            "POST",
            {"answers": [{"question_id": q["id"], "choice": q["answer"]} for q in session.questions_data]},
            member_token,
        )
        assert (status, result["score"]) == (200, 3)

    # Nothing written before or after a kill was lost.
    assert set(QuestionSet.objects.filter(token__in=shared).values_list("title", flat=True)) == {
        "Round 0",
        "Round 1",
        "Round 2",
    }
    assert Participant.objects.get(session=session, user=member).score == 3


# --- Redis stopped and started again ----------------------------------------------------------------


@contextmanager
def redis_server_on(port: int):
    import redis

    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port, socket_connect_timeout=0.2)
        wait_until(lambda: _pings(client), timeout=5)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(5)


def _pings(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.RedisError:
        return False


@contextmanager
def site_on_redis(settings, url: str):
    """The site's cache and broker on `url`, as a process started with REDIS_URL=url would have them."""
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "BACKEND": "quizsite.cache.TolerantRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"faults-{uuid.uuid4().hex[:8]}",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    queue = f"quizsite-faults-{uuid.uuid4().hex[:12]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        with broker_at(url):
            yield queue
    finally:
        app.conf.task_default_queue = previous_queue


def _health(client) -> dict:
    response = client.get("/healthz")
    assert response.status_code == 200
    return response.json()


def _create_scheduled(client, group, seconds_ahead: float):
    started = time.monotonic()
    response = client.post(
        f"/api/groups/{group.pk}/sessions",
        {
            "title": "Optics",
            "session_type": "scheduled",
            "scheduled_at": (timezone.now() + datetime.timedelta(seconds=seconds_ahead)).isoformat(),
            "questions": [QUESTION],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert time.monotonic() - started < 3
    return GroupSession.objects.get(pk=response.json()["id"])


def test_with_redis_stopped_pages_and_api_serve_and_tasks_catch_up_when_it_returns(study_group, settings):
    group, owner, member = study_group["group"], study_group["owner"], study_group["members"][0]
    port = free_port()
    api, pages, anonymous = extension_client(owner), browser_client(owner), browser_client()

    with site_on_redis(settings, f"redis://127.0.0.1:{port}/0") as queue:
        with redis_server_on(port) as server:
            assert _health(anonymous) == {"database": "ok", "broker": "ok"}
            before_outage = _create_scheduled(api, group, seconds_ahead=3)
            server.terminate()
            server.wait(5)

        # Redis is down: everything still answers, the throttled endpoints included.
        assert _health(anonymous) == {"database": "ok", "broker": "down"}
        during_outage = _create_scheduled(api, group, seconds_ahead=2)
        assert pages.get(f"/groups/{group.pk}").status_code == 200
        assert pages.get(f"/groups/{group.pk}/sessions/{during_outage.pk}").status_code == 200
        assert api.get(f"/api/groups/{group.pk}/sessions").json()["count"] == 3
        submitted = extension_client(member).post(
            study_group["session"].join_url.replace("/questions/", "/api/questions/", 1).replace("?", "/submit?"),
            {"answers": []},
            format="json",
        )
        assert submitted.status_code == 200
        token = extension_client().post(
            "/api/auth/token", {"username": owner.username, "password": PASSWORD}, format="json"
        )
        assert token.status_code == 200
        assert browser_client().post("/account/login", {"username": owner.username, "password": "x"}).status_code == 200
        assert (
            browser_client().post("/account/login", {"username": owner.username, "password": PASSWORD}).status_code
            == 302
        )

        # The timers queued before the outage died with it (no persistence); both sessions are due by now.
        wait_until(lambda: timezone.now() > max(before_outage.scheduled_at, during_outage.scheduled_at), timeout=5)
        with redis_server_on(port):
            wait_until(lambda: _health(anonymous)["broker"] == "ok", timeout=5)
            with start_worker(app, pool="threads", concurrency=2, queues=[queue], perform_ping_check=False):
                tasks.sweep_sessions_task.delay()
                wait_until(
                    lambda: (
                        set(
                            GroupSession.objects.filter(pk__in=[before_outage.pk, during_outage.pk]).values_list(
                                "status", flat=True
                            )
                        )
                        == {SessionStatus.ACTIVE}
                    ),
                    timeout=10,
                )
                opened = SessionNotification.objects.filter(kind=NotificationKind.OPENED)
                wait_until(lambda: opened.count() == 2 * 3, timeout=10)

    # No data lost: every session made, before and during the outage, and the submission.
    assert GroupSession.objects.filter(group=group).count() == 3
    assert Participant.objects.get(session=study_group["session"], user=member).completed_at is not None
