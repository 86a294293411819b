"""One group seen by every kind of caller, for the access-control, CSRF and hostile-input tests.

Callers: the group's owner, an admin, a plain member, the creator (a plain member who created the
sessions), the owner of another group (who has sessions of their own), and an anonymous visitor.
"""

import pytest
from django.db import transaction
from django.test import Client, override_settings
from rest_framework.test import APIClient

from groups.models import Role
from questions.models import Attempt
from quizsite.rls import rls_bypass
from tests.factories import (
    GroupFactory,
    MembershipFactory,
    ParticipantFactory,
    QuestionSetFactory,
    UserFactory,
)
from tests.sessions.helpers import active_session, scheduled_session

from .clients import browser_client, extension_client

ROLES = ("owner", "admin", "member", "creator", "outsider", "anonymous")


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker):
    """Built once per module inside a transaction that is rolled back at the end; each test's own `db`
    transaction nests inside it, so whatever a test changes is gone before the next one."""
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), transaction.atomic():
        # Module-scoped, so outside each test's own bypass (tests/conftest.py): set up as trusted code.
        with fast, rls_bypass("test setup: the security world"):
            built = _build_world()
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def world(_module_world, db):
    return _module_world


def _build_world():
    owner = UserFactory(username="olivia_owner")
    group = GroupFactory(name="Biology 101", created_by=owner)
    MembershipFactory(group=group, user=owner, role=Role.OWNER)
    admin = MembershipFactory(group=group, role=Role.ADMIN, user=UserFactory(username="adam_admin")).user
    member = MembershipFactory(group=group, role=Role.MEMBER, user=UserFactory(username="mia_member")).user
    creator = MembershipFactory(group=group, role=Role.MEMBER, user=UserFactory(username="cleo_creator")).user
    outsider = UserFactory(username="oscar_outsider")
    other_group = GroupFactory(name="Chemistry", created_by=outsider)
    MembershipFactory(group=other_group, user=outsider, role=Role.OWNER)

    session = active_session(group=group, created_by=creator, title="Cells")
    ParticipantFactory(session=session, user=member)
    ParticipantFactory(session=session, user=creator)
    upcoming = scheduled_session(group=group, created_by=creator, title="Enzymes")
    other_session = active_session(group=other_group, created_by=outsider, title="Acids")
    question_set = QuestionSetFactory(created_by=owner, title="Mitosis")
    other_set = QuestionSetFactory(created_by=outsider, title="Bases")
    attempt = Attempt.objects.create(question_set=question_set, user=member, answers=[], score=0, total=3)
    return {
        "group": group,
        "other_group": other_group,
        "owner": owner,
        "admin": admin,
        "member": member,
        "creator": creator,
        "outsider": outsider,
        "newcomer": UserFactory(username="nina_newcomer"),
        "session": session,
        "upcoming": upcoming,
        "other_session": other_session,
        "question_set": question_set,
        "other_set": other_set,
        "attempt": attempt,
    }


def page_client(world, role: str, *, enforce_csrf_checks: bool = False) -> Client:
    """A browser-like client signed in as `role` (or not at all for "anonymous")."""
    return browser_client(None if role == "anonymous" else world[role], enforce_csrf_checks=enforce_csrf_checks)


def api_client(world, role: str) -> APIClient:
    """An API client with `role`'s token, as the extension sends it (none for "anonymous")."""
    return extension_client(None if role == "anonymous" else world[role])
