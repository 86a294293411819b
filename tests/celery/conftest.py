"""A real Celery worker against the real Redis at REDIS_URL, for the tests marked `worker`.

The worker runs in a thread of the test process (Celery's own `start_worker`), so it shares the test
database settings and Django's locmem `mail.outbox`. Each test gets a queue of its own: several
checkouts test against the same Redis at once, and a worker must never take another run's messages.
Everywhere else tasks run inline (tests/conftest.py), so nothing else ever reaches Redis.
"""

import datetime
import socket
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager

import kombu.pools
import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import connections
from django.utils import timezone

from groups.models import Role
from quizsite.celery import app
from sessions import services
from tests.factories import GroupFactory, MembershipFactory, QuestionSetFactory, UserFactory


def _close_thread_connections(task, **kwargs):
    # Worker threads would otherwise keep their connections (CONN_MAX_AGE) until the test database is
    # dropped, which PostgreSQL refuses while anyone is connected. A task run in the test's own thread
    # (`apply()`, eager) shares the test's connection and transaction: leave that one alone.
    if not task.request.is_eager:
        connections.close_all()


task_postrun.connect(_close_thread_connections, weak=False)


@contextmanager
def _queue_of_its_own():
    name = f"quizsite-test-{uuid.uuid4().hex[:12]}"
    previous = (app.conf.task_default_queue, app.conf.task_always_eager)
    app.conf.task_default_queue = name
    app.conf.task_always_eager = False
    try:
        yield name
    finally:
        app.conf.task_default_queue, app.conf.task_always_eager = previous
        import redis

        # Timers still waiting when the worker stopped went back to the queue: drop them with it, and
        # the queue's routing keys, so test runs leave nothing behind in the shared Redis.
        redis.Redis.from_url(settings.REDIS_URL).delete(
            name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}"
        )


@pytest.fixture
def celery_worker(request, transactional_db):
    """A running worker (4 threads, so two copies of a task can really run at once) on a private queue."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: `make test` sets it")
    if not request.node.get_closest_marker("worker"):
        raise pytest.UsageError("tests that use celery_worker must be marked @pytest.mark.worker")
    with _queue_of_its_own() as queue:
        with start_worker(
            app, pool="threads", concurrency=4, queues=[queue], perform_ping_check=False, shutdown_timeout=20
        ) as worker:
            yield worker


def wait_until(condition, *, timeout: float, interval: float = 0.05):
    """Poll `condition` until it returns something truthy; return it, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Each factory user hashes a password; the production hasher costs about half a second apiece.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def study_group(db):
    """A group with an owner and two members (all with email addresses) and a question set to quiz on."""
    owner = UserFactory(username="olga_owner")
    group = GroupFactory(name="Physics", created_by=owner)
    owner_membership = MembershipFactory(group=group, user=owner, role=Role.OWNER)
    members = [MembershipFactory(group=group, role=Role.MEMBER).user for _ in range(2)]
    return {
        "group": group,
        "owner": owner,
        "membership": owner_membership,
        "members": [owner, *members],
        "question_set": QuestionSetFactory(created_by=owner, questions=3),
    }


def create_scheduled_session(study_group, *, starts_in: float, duration_minutes=None, capture):
    """Create a scheduled session through the service, with its after-commit hooks run."""
    scheduled_at = timezone.now() + datetime.timedelta(seconds=starts_in)
    with capture(execute=True):
        session = services.create_session(
            membership=study_group["membership"],
            title="Mechanics quiz",
            session_type="scheduled",
            question_set=study_group["question_set"],
            scheduled_at=scheduled_at,
            duration_minutes=duration_minutes,
        )
    return session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def own_redis_server():
    """A throwaway redis-server on a spare port, to stop at will (never the shared one on 6379)."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        import redis

        wait_until(lambda: _answers(redis.Redis.from_url(url)), timeout=5)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(5)


def _answers(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.RedisError:
        return False


@contextmanager
def silent_server():
    """A TCP port that accepts connections and never answers: a broker that hangs rather than refuses."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted = []
    stop = threading.Event()

    def accept_forever():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join(2)
        for connection in accepted:
            connection.close()
        listener.close()


@contextmanager
def broker_at(url: str):
    """Point the app's producers at `url`, as a process started with REDIS_URL=url would be."""
    previous = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    _forget_broker_connections()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = previous
        _forget_broker_connections()


def _forget_broker_connections():
    # The app and kombu cache connection and producer pools by URL on first use: close them all, so the
    # next publish builds fresh ones for whatever URL is configured now.
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
