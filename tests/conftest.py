import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from groups.models import Role
from tests.factories import GroupFactory, MembershipFactory, UserFactory


@pytest.fixture
def api_client():
    return APIClient()


def token_client(user) -> APIClient:
    """An API client that authenticates the way the extension does: `Authorization: Token <key>`."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def run_at_once(calls):
    """Run every call in its own thread, released together; each thread closes its own connection."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def group_with_roles(db):
    """A group with an owner, an admin and two members, plus an outsider who owns another group."""
    owner = UserFactory(username="olivia_owner")
    group = GroupFactory(name="Biology 101", created_by=owner)
    MembershipFactory(group=group, user=owner, role=Role.OWNER)
    admin = MembershipFactory(group=group, role=Role.ADMIN, user=UserFactory(username="adam_admin")).user
    member = MembershipFactory(group=group, role=Role.MEMBER, user=UserFactory(username="mia_member")).user
    other_member = MembershipFactory(group=group, role=Role.MEMBER, user=UserFactory(username="otto_member")).user
    outsider = UserFactory(username="oscar_outsider")
    other_group = GroupFactory(name="Chemistry", created_by=outsider)
    MembershipFactory(group=other_group, user=outsider, role=Role.OWNER)
    return {
        "group": group,
        "other_group": other_group,
        "owner": owner,
        "admin": admin,
        "member": member,
        "other_member": other_member,
        "outsider": outsider,
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the cache (Redis under `make test`): each test starts from zero."""
    from django.conf import settings
    from django.core.cache import cache

    if settings.REDIS_URL:
        # Only this checkout's keys: clear() would FLUSHDB and wipe the broker's queues too.
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _celery_tasks_run_inline(request):
    """Outside tests marked `worker`, queued tasks run in-process as in `make run`: no message reaches the
    shared Redis, where another checkout's worker could pick it up (see tests/celery/conftest.py)."""
    from quizsite.celery import app

    if request.node.get_closest_marker("worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 at production strength costs ~0.5 s per factory user; tests need no such strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _trusted_test_code(request):
    """Test code builds its rows (factories) and calls services directly, like a management command: under
    the audited row-level security bypass. Every request it makes (test client, live_server, gunicorn)
    still runs as that request's user with the bypass off: quizsite.rls suspends it for the request.
    Tests marked `rls` opt out and choose their own context (tests/rls)."""
    marker = request.node.get_closest_marker("django_db")
    if request.node.get_closest_marker("rls") or not (marker or "_django_db_helper" in request.fixturenames):
        yield
        return
    from django.db.backends.signals import connection_created

    from quizsite import rls

    request.getfixturevalue("_django_db_helper")  # the database (and the test's transaction) first
    test_thread = threading.get_ident()

    def keep_trusted(sender, connection, **kwargs):
        # Something closed this thread's connection (a Celery worker starting up closes them all): the new
        # one is test code's again, unless it was opened inside a request the test made.
        if threading.get_ident() == test_thread and not rls.in_scope():
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.rls_bypass', 'on', false)")
            rls._state().bypass = 1

    with rls.rls_bypass("test code"):
        connection_created.connect(keep_trusted)
        try:
            yield
        finally:
            connection_created.disconnect(keep_trusted)
