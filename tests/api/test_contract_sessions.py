"""The contract's group-session endpoints walked by every kind of caller: a generated matrix.

Each endpoint below says which status each caller gets and what a successful body looks like; the
matrix is their cross product with the six callers (owner, admin, member who created the session,
another member, an outsider who owns another group, anonymous), with and without the trailing slash.
A refused call must leave every session, participant and round exactly as it was.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from sessions.models import GroupSession, Participant, ParticipantRound, SessionStatus
from tests.conftest import token_client
from tests.factories import ParticipantFactory, QuestionSetFactory
from tests.sessions.helpers import (
    CONTEXT_KEYS,
    PARTICIPANT_KEYS,
    PARTICIPANT_ROW_KEYS,
    QUESTIONS,
    QUIZ_KEYS,
    RESULT_KEYS,
    SESSION_KEYS,
    active_session,
    right_answers,
)

CALLERS = ["owner", "admin", "member", "other_member", "outsider", "anonymous"]
MEMBERS = ("owner", "admin", "member", "other_member")
# The session in the matrix was created by "member": the creator may edit and end it, not delete it.
EDITORS = ("owner", "admin", "member")
MANAGERS = ("owner", "admin")


@pytest.fixture
def world(group_with_roles):
    session = active_session(group=group_with_roles["group"], created_by=group_with_roles["member"], title="Cells")
    ParticipantFactory(session=session, user=group_with_roles["member"])
    ParticipantFactory(session=session, user=group_with_roles["other_member"])
    question_set = QuestionSetFactory(title="Mitosis", questions=QUESTIONS)
    return {**group_with_roles, "session": session, "question_set": question_set}


def client_for(world, caller: str) -> APIClient:
    return APIClient() if caller == "anonymous" else token_client(world[caller])


def stored_state() -> tuple:
    return (
        list(GroupSession.objects.order_by("pk").values()),
        list(Participant.objects.order_by("pk").values()),
        list(ParticipantRound.objects.order_by("pk").values()),
    )


def assert_session_shape(body: dict) -> None:
    assert set(body) == SESSION_KEYS
    assert set(body["created_by"]) == {"id", "username"}
    assert body["join_url"] == f"/questions/{body['share_token']}?groupId={body['group_id']}&sessionId={body['id']}"


# --- What each endpoint promises -------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[dict], str]
    """The path without a trailing slash (and without the query, kept apart so the slash goes before it)."""
    success: int
    allowed: tuple[str, ...]
    body: Callable[[dict], dict | None] = lambda world: None
    query: Callable[[dict], str] = lambda world: ""
    check: Callable[[dict, dict, str], None] = lambda body, world, caller: None
    forbidden: int = 403
    """What a member outside `allowed` gets."""

    def expected_status(self, caller: str) -> int:
        if caller == "anonymous":
            return 401
        if caller == "outsider":
            return 404
        return self.success if caller in self.allowed else self.forbidden


def sessions_path(world):
    return f"/api/groups/{world['group'].pk}/sessions"


def detail_path(world):
    return f"{sessions_path(world)}/{world['session'].pk}"


def new_session_body(world):
    return {"title": "Evening quiz", "session_type": "instant", "share_token": world["question_set"].token}


def check_list(body, world, caller):
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    assert_session_shape(body["results"][0])
    assert body["results"][0]["participant_count"] == 2


def check_created(body, world, caller):
    assert_session_shape(body)
    assert (body["status"], body["title"], body["question_count"]) == ("active", "Evening quiz", 3)
    assert body["created_by"]["username"] == world[caller].username


def check_extension_created(body, world, caller):
    assert set(body) == {"session", "join_url"}
    check_created(body["session"], world, caller)
    assert body["join_url"] == body["session"]["join_url"]


def check_detail(body, world, caller):
    assert set(body) == SESSION_KEYS | {"participants"}
    assert_session_shape({k: v for k, v in body.items() if k != "participants"})
    for row in body["participants"]:
        assert set(row) == PARTICIPANT_ROW_KEYS
        assert set(row["user"]) == {"id", "username"}
    usernames = sorted(row["user"]["username"] for row in body["participants"])
    everyone = sorted([world["member"].username, world["other_member"].username])
    if caller in EDITORS:
        assert usernames == everyone
    else:
        assert usernames == [world[caller].username]


def check_renamed(body, world, caller):
    assert_session_shape(body)
    assert body["title"] == "Renamed"


def check_ended(body, world, caller):
    assert_session_shape(body)
    assert body["status"] == "completed"
    assert body["ended_at"] is not None
    assert GroupSession.objects.get(pk=world["session"].pk).status == SessionStatus.COMPLETED


def check_deleted(body, world, caller):
    assert body is None
    assert not GroupSession.objects.filter(pk=world["session"].pk).exists()
    assert not Participant.objects.exists()


def check_quiz(body, world, caller):
    assert set(body) == QUIZ_KEYS
    assert body["open"] is True
    assert [set(q) for q in body["questions"]] == [{"id", "prompt", "choices"}] * 3
    assert set(body["context"]) == CONTEXT_KEYS
    assert body["context"]["group"] == {"id": world["group"].pk, "name": world["group"].name}
    assert_session_shape(body["context"]["session"])
    assert set(body["context"]["participant"]) == PARTICIPANT_KEYS
    assert Participant.objects.filter(session=world["session"], user=world[caller]).exists()


def check_submitted(body, world, caller):
    assert set(body) == RESULT_KEYS
    assert (body["score"], body["total"]) == (3, 3)
    assert [set(r) for r in body["results"]] == [{"question_id", "correct", "correct_choice", "explanation"}] * 3
    assert body["context"]["participant"]["score"] == 3
    assert Participant.objects.get(session=world["session"], user=world[caller]).score == 3


def join_query(world):
    return f"?groupId={world['group'].pk}&sessionId={world['session'].pk}"


ENDPOINTS = [
    Endpoint("list", "get", sessions_path, 200, MEMBERS, check=check_list),
    Endpoint("create", "post", sessions_path, 201, MEMBERS, body=new_session_body, check=check_created),
    Endpoint(
        "extension_create",
        "post",
        lambda world: "/api/extension/create-group-session",
        201,
        MEMBERS,
        body=lambda world: {"group_id": world["group"].pk, **new_session_body(world)},
        check=check_extension_created,
    ),
    Endpoint("detail", "get", detail_path, 200, MEMBERS, check=check_detail),
    Endpoint("patch", "patch", detail_path, 200, EDITORS, body=lambda w: {"title": "Renamed"}, check=check_renamed),
    Endpoint("put", "put", detail_path, 200, EDITORS, body=lambda w: {"title": "Renamed"}, check=check_renamed),
    Endpoint("end_now", "patch", detail_path, 200, EDITORS, body=lambda w: {"status": "completed"}, check=check_ended),
    Endpoint("delete", "delete", detail_path, 204, MANAGERS, check=check_deleted),
    Endpoint(
        "quiz",
        "get",
        lambda world: f"/api/questions/{world['session'].share_token}",
        200,
        MEMBERS,
        query=join_query,
        check=check_quiz,
        # Members never get 403 here; only outsiders (404) and anonymous callers (401) are refused.
    ),
    Endpoint(
        "submit",
        "post",
        lambda world: f"/api/questions/{world['session'].share_token}/submit",
        200,
        MEMBERS,
        query=join_query,
        body=lambda world: {"answers": right_answers(world["session"])},
        check=check_submitted,
    ),
]

MATRIX = list(itertools.product(ENDPOINTS, CALLERS, ["", "/"]))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("endpoint", "caller", "slash"),
    MATRIX,
    ids=[f"{e.name}-{c}-{'slash' if s else 'noslash'}" for e, c, s in MATRIX],
)
def test_contract_matrix(world, endpoint: Endpoint, caller: str, slash: str):
    client = client_for(world, caller)
    url = endpoint.path(world) + slash + endpoint.query(world)
    before = stored_state()
    body = endpoint.body(world)

    response = (
        getattr(client, endpoint.method)(url, body, format="json") if body else getattr(client, endpoint.method)(url)
    )

    expected = endpoint.expected_status(caller)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert set(response.json()) == {"detail"}
        assert stored_state() == before
    else:
        endpoint.check(response.json() if response.content else None, world, caller)


@pytest.mark.django_db
@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.name in ("create", "extension_create")], ids=str)
def test_creating_when_the_group_keeps_it_to_managers(world, endpoint, caller):
    world["group"].members_can_create_sessions = False
    world["group"].save()
    before = GroupSession.objects.count()

    response = client_for(world, caller).post(endpoint.path(world), endpoint.body(world), format="json")

    expected = {"owner": 201, "admin": 201, "member": 403, "other_member": 403, "outsider": 404, "anonymous": 401}
    assert response.status_code == expected[caller], response.content
    assert GroupSession.objects.count() == before + (response.status_code == 201)


@pytest.mark.django_db
@pytest.mark.parametrize("caller", [*MEMBERS, "outsider"])
def test_a_session_is_found_only_under_its_own_group(world, caller):
    """The other group exists (the outsider owns it) and the session exists, but not together."""
    client = client_for(world, caller)
    wrong_pair = f"/api/groups/{world['other_group'].pk}/sessions/{world['session'].pk}"

    assert client.get(wrong_pair).status_code == 404
    assert client.patch(wrong_pair, {"title": "x"}, format="json").status_code == 404
    assert client.put(wrong_pair, {"title": "x"}, format="json").status_code == 404
    assert client.delete(wrong_pair).status_code == 404
    assert client.get(f"/api/groups/{world['group'].pk}/sessions/999999").status_code == 404
    assert client.get("/api/groups/999999/sessions").status_code == 404
    assert GroupSession.objects.get(pk=world["session"].pk).title == "Cells"
