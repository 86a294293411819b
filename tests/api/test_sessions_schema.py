"""/api/schema describes the session endpoints' bodies as they really are."""

import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from tests.sessions.helpers import (
    CONTEXT_KEYS,
    LOOP_RESULT_KEYS,
    PARTICIPANT_KEYS,
    PARTICIPANT_ROW_KEYS,
    QUIZ_KEYS,
    SESSION_KEYS,
)


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema?format=json")
    assert response.status_code == 200
    document = response.json()
    validate_schema(document)
    return document


def component(schema, name) -> dict:
    return schema["components"]["schemas"][name]


def response_ref(operation, status="200") -> str:
    return operation["responses"][status]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]


def request_ref(operation) -> str:
    return operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]


def path_of(schema, fragment):
    (path,) = [p for p in schema["paths"] if p.rstrip("/").endswith(fragment)]
    return schema["paths"][path]


def test_every_session_endpoint_and_method_is_documented(schema):
    assert set(path_of(schema, "/extension/create-group-session")) == {"post"}
    assert set(path_of(schema, "/groups/{group_id}/sessions")) == {"get", "post"}
    assert set(path_of(schema, "/groups/{group_id}/sessions/{session_id}")) == {"get", "put", "patch", "delete"}


def test_request_and_response_bodies_name_the_right_components(schema):
    extension = path_of(schema, "/extension/create-group-session")["post"]
    listing = path_of(schema, "/groups/{group_id}/sessions")
    detail = path_of(schema, "/groups/{group_id}/sessions/{session_id}")

    assert request_ref(extension) == "ExtensionSessionCreateRequest"
    assert response_ref(extension, "201") == "SessionCreated"
    assert response_ref(listing["get"]) == "SessionPage"
    assert request_ref(listing["post"]) == "SessionCreateRequest"
    assert response_ref(listing["post"], "201") == "Session"
    assert response_ref(detail["get"]) == "SessionDetail"
    assert response_ref(detail["put"]) == "Session"
    assert response_ref(detail["patch"]) == "Session"
    assert "204" in detail["delete"]["responses"]
    params = {p["name"] for p in listing["get"]["parameters"]}
    assert {"status", "session_type", "page"} <= params


def test_components_carry_exactly_the_contract_fields(schema):
    assert set(component(schema, "Session")["properties"]) == SESSION_KEYS
    assert set(component(schema, "Session")["required"]) == SESSION_KEYS
    assert set(component(schema, "SessionDetail")["properties"]) == SESSION_KEYS | {"participants"}
    assert set(component(schema, "ParticipantRow")["properties"]) == PARTICIPANT_ROW_KEYS
    assert set(component(schema, "Participant")["properties"]) == PARTICIPANT_KEYS
    assert set(component(schema, "QuizPayload")["properties"]) == QUIZ_KEYS
    assert set(component(schema, "QuizContext")["properties"]) == CONTEXT_KEYS
    assert set(component(schema, "SubmissionResult")["properties"]) == LOOP_RESULT_KEYS
    assert set(component(schema, "SessionPage")["properties"]) == {"count", "next", "previous", "results"}
    create = component(schema, "ExtensionSessionCreateRequest")
    assert set(create["required"]) == {"group_id", "session_type"}
    assert set(create["properties"]) == {
        "group_id",
        "title",
        "session_type",
        "scheduled_at",
        "duration_minutes",
        "loop_data",
        "share_token",
        "questions",
    }
    assert create["properties"]["duration_minutes"]["maximum"] == 10080
    assert component(schema, "Session")["properties"]["loop_data"]["type"] == "object"
