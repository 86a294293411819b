"""Schemathesis fuzzes every operation of /api/schema with a valid token: no 500, and every response
matches what the schema documents (status code, content type, body).

The schema is the one the site serves; requests go straight into the WSGI app, in the test's own
transaction. Path parameters are steered towards objects that exist (the caller's group, its sessions,
a member, a share token) so the fuzzer gets past the 404s and reaches the validation and the services.
"""

import datetime
import itertools

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from groups.models import Role
from sessions.models import SessionStatus
from tests.factories import GroupFactory, MembershipFactory, ParticipantFactory, QuestionSetFactory, UserFactory
from tests.sessions.helpers import active_session, scheduled_session

EXAMPLES_PER_OPERATION = 25


def _served_schema() -> dict:
    response = Client().get("/api/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


schema = schemathesis.openapi.from_dict(_served_schema())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES_PER_OPERATION,
    deterministic=True,
)
# The coverage phase's boundary cases triple the run time; tests/security/test_hostile_input.py pins the
# boundaries that matter (NUL, surrogates, sizes, depth, content types) by hand instead.
schema.config.phases.coverage.enabled = False
APP = WSGIHandler()


@pytest.fixture
def _connections_stay_open():
    """Like Django's test client: the handler must not close the connection that holds the test's transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def _throttles_out_of_the_way(monkeypatch):
    """Past its throttle an endpoint only answers 429: the fuzzer would learn nothing more about it."""
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"token": "10000/min", "submit": "10000/min"})


@pytest.fixture
def world(db, _connections_stay_open, _throttles_out_of_the_way):
    owner = UserFactory(username="fuzz_owner")
    group = GroupFactory(name="Fuzzing", created_by=owner)
    MembershipFactory(group=group, user=owner, role=Role.OWNER)
    member = MembershipFactory(group=group, role=Role.MEMBER).user
    MembershipFactory(group=group, role=Role.ADMIN)
    stranger_group = GroupFactory(name="Elsewhere")
    MembershipFactory(group=stranger_group, role=Role.OWNER)
    sessions = [
        active_session(group=group, created_by=owner),
        active_session(group=group, created_by=member, loop_data={"mode": "until_mastered"}),
        scheduled_session(group=group, created_by=owner),
        active_session(group=group, created_by=owner, status=SessionStatus.COMPLETED),
    ]
    ParticipantFactory(session=sessions[0], user=member)
    question_set = QuestionSetFactory(created_by=owner)
    token = f"Token {Token.objects.create(user=owner).key}"
    return {
        "group_id": [group.pk, stranger_group.pk],
        "session_id": [s.pk for s in sessions],
        "user_id": [member.pk, owner.pk],
        "token": [sessions[0].share_token, sessions[1].share_token, question_set.token, sessions[2].share_token],
        "set_token": [question_set.token],
        "authorization": token,
        "turn": itertools.count(),
    }


def _pick(world, choices):
    """The next of `choices` in turn, or None (keep the generated value) once a round. Generation is
    deterministic and the turns start afresh for each operation, so every run makes the same picks."""
    index = next(world["turn"]) % (len(choices) + 1)
    return choices[index] if index < len(choices) else None


def _unique_choices(questions) -> None:
    # Choices must be unique, which the schema cannot say: make them so, or valid sets never get through.
    for question in questions if isinstance(questions, list) else []:
        choices = question.get("choices") if isinstance(question, dict) else None
        if isinstance(choices, list) and all(isinstance(choice, str) for choice in choices):
            question["choices"] = [f"{choice}{position}" for position, choice in enumerate(choices)]


def _steer(case, world) -> None:
    """Most generated ids and tokens name nothing: swap in real ones often enough to reach the services."""
    for name in list(case.path_parameters or {}):
        if world.get(name) and (real := _pick(world, world[name])) is not None:
            case.path_parameters[name] = real
    body = case.body
    if not isinstance(body, dict):
        return
    if "group_id" in body and (real := _pick(world, world["group_id"])) is not None:
        body["group_id"] = real
    if "share_token" in body and "questions" in body:
        # The schema cannot say "exactly one of"; drop one so valid bodies get through.
        body.pop("questions" if next(world["turn"]) % 2 else "share_token")
    if "share_token" in body and (real := _pick(world, world["set_token"])) is not None:
        body["share_token"] = real
    _unique_choices(body.get("questions"))
    if body.get("session_type") == "instant" and "scheduled_at" in body:
        body.pop("scheduled_at")
    if body.get("session_type") == "scheduled" and "scheduled_at" in body:
        body["scheduled_at"] = (timezone.now() + datetime.timedelta(days=1)).isoformat()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_errors_and_matches_its_schema(case, world):
    _steer(case, world)
    case.call_and_validate(
        app=APP,
        headers={"Authorization": world["authorization"]},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
