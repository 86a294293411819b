"""The session endpoints' promises beyond who may call them: field rules, the Session object, lists."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from questions.models import Question
from sessions.models import GroupSession, Participant, SessionStatus, SessionType
from tests.conftest import token_client
from tests.factories import GroupSessionFactory, ParticipantFactory, QuestionSetFactory, UserFactory
from tests.sessions.helpers import QUESTIONS, SESSION_KEYS, active_session, scheduled_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def roles(group_with_roles):
    return group_with_roles


@pytest.fixture
def owner_client(roles):
    return token_client(roles["owner"])


@pytest.fixture
def question_set(db):
    return QuestionSetFactory(title="Mitosis", questions=QUESTIONS)


def sessions_url(group, slash=""):
    return f"/api/groups/{group.pk}/sessions{slash}"


def detail_url(session, slash=""):
    return f"/api/groups/{session.group_id}/sessions/{session.pk}{slash}"


def parse(value: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(value)
    assert moment.utcoffset() is not None, f"{value} has no UTC offset"
    return moment


def in_future(**delta) -> str:
    return (timezone.now() + datetime.timedelta(**delta)).isoformat()


# --- Creating --------------------------------------------------------------------------------------


class TestCreate:
    def test_instant_session_from_a_share_token(self, roles, owner_client, question_set):
        before = timezone.now()
        response = owner_client.post(
            sessions_url(roles["group"]),
            {"session_type": "instant", "share_token": question_set.token, "duration_minutes": 20},
            format="json",
        )

        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == SESSION_KEYS
        session = GroupSession.objects.get(pk=body["id"])
        assert body == {
            "id": session.pk,
            "group_id": roles["group"].pk,
            "title": "Mitosis",
            "session_type": "instant",
            "status": "active",
            "share_token": session.share_token,
            "join_url": f"/questions/{session.share_token}?groupId={roles['group'].pk}&sessionId={session.pk}",
            "scheduled_at": None,
            "started_at": body["started_at"],
            "ends_at": body["ends_at"],
            "ended_at": None,
            "duration_minutes": 20,
            "question_count": 3,
            "participant_count": 0,
            "completed_count": 0,
            "created_by": {"id": roles["owner"].pk, "username": roles["owner"].username},
            "created_at": body["created_at"],
            "loop_data": None,
        }
        started = parse(body["started_at"])
        assert before <= started <= timezone.now()
        assert parse(body["ends_at"]) == started + datetime.timedelta(minutes=20)

    def test_scheduled_session_from_questions_in_the_body_with_a_loop(self, roles, owner_client):
        at = timezone.now() + datetime.timedelta(days=1)
        loop = {"mode": "until_mastered", "max_rounds": 4, "extension": {"v": 2}}
        response = owner_client.post(
            "/api/extension/create-group-session/",
            {
                "group_id": roles["group"].pk,
                "title": "Tomorrow",
                "session_type": "scheduled",
                "scheduled_at": at.isoformat(),
                "duration_minutes": 60,
                "loop_data": loop,
                "questions": QUESTIONS,
            },
            format="json",
        )

        assert response.status_code == 201, response.content
        session_body = response.json()["session"]
        assert session_body["status"] == "scheduled"
        assert parse(session_body["scheduled_at"]) == at
        assert session_body["started_at"] is None
        assert parse(session_body["ends_at"]) == at + datetime.timedelta(hours=1)
        assert session_body["loop_data"] == loop
        assert response.json()["join_url"] == session_body["join_url"]
        assert GroupSession.objects.get().questions_data[1] == {"id": 2, **QUESTIONS[1]}

    def test_extension_create_in_a_group_the_caller_is_not_in_is_not_found(self, roles, question_set):
        body = {"group_id": roles["group"].pk, "session_type": "instant", "share_token": question_set.token}

        response = token_client(roles["outsider"]).post("/api/extension/create-group-session", body, format="json")

        assert response.status_code == 404
        assert not GroupSession.objects.exists()

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"session_type": None}, "session_type"),
            ({"session_type": "weekly"}, "session_type"),
            ({"share_token": None}, "non_field_errors"),
            ({"questions": QUESTIONS}, "non_field_errors"),
            ({"share_token": "no-such-token"}, "share_token"),
            ({"share_token": "x" * 65}, "share_token"),
            ({"share_token": None, "questions": []}, "questions"),
            ({"share_token": None, "questions": "three questions"}, "questions"),
            ({"share_token": None, "questions": [{"choices": ["a", "b"], "answer": 0}]}, "questions"),
            ({"share_token": None, "questions": [{"prompt": "?", "choices": ["a", "a"], "answer": 0}]}, "questions"),
            ({"share_token": None, "questions": [{"prompt": "?", "choices": ["a", "b"], "answer": 2}]}, "questions"),
            ({"share_token": None, "questions": [{"prompt": "?", "choices": ["a"], "answer": 0}]}, "questions"),
            (
                {"share_token": None, "questions": [{"prompt": "x" * 2001, "choices": ["a", "b"], "answer": 0}]},
                "questions",
            ),
            ({"share_token": None, "questions": [QUESTIONS[0]] * 201}, "questions"),
            ({"title": "x" * 201}, "title"),
            ({"duration_minutes": 0}, "duration_minutes"),
            ({"duration_minutes": 10081}, "duration_minutes"),
            ({"duration_minutes": "soon"}, "duration_minutes"),
            ({"duration_minutes": 1.5}, "duration_minutes"),
            ({"loop_data": "until_mastered"}, "loop_data"),
            ({"loop_data": [1, 2]}, "loop_data"),
            ({"loop_data": {"blob": "x" * 16384}}, "loop_data"),
            ({"loop_data": {"mode": "until_mastered", "max_rounds": 11}}, "loop_data"),
            ({"loop_data": {"mode": "until_mastered", "max_rounds": 0}}, "loop_data"),
            ({"session_type": "scheduled"}, "scheduled_at"),
            ({"session_type": "scheduled", "scheduled_at": "2001-01-01T00:00:00Z"}, "scheduled_at"),
            ({"session_type": "scheduled", "scheduled_at": "next tuesday"}, "scheduled_at"),
            ({"scheduled_at": in_future(hours=1)}, "scheduled_at"),
            (
                {"session_type": "scheduled", "scheduled_at": "9999-12-31T23:59:59Z", "duration_minutes": 600},
                "scheduled_at",
            ),
            ({"session_type": "scheduled", "scheduled_at": "0001-01-01T00:00:00+05:00"}, "scheduled_at"),
            ({"title": "a\u0000b"}, "title"),
            ({"loop_data": {"note": "a\u0000b"}}, "loop_data"),
            ({"loop_data": {"a\u0000": [1]}}, "loop_data"),
        ],
    )
    @pytest.mark.parametrize("endpoint", ["group", "extension"])
    def test_each_field_rule_is_a_400_naming_the_field(
        self, roles, owner_client, question_set, change, field, endpoint
    ):
        body = {"session_type": "instant", "share_token": question_set.token, **change}
        body = {key: value for key, value in body.items() if value is not None}
        if endpoint == "group":
            response = owner_client.post(sessions_url(roles["group"]), body, format="json")
        else:
            body["group_id"] = roles["group"].pk
            response = owner_client.post("/api/extension/create-group-session", body, format="json")

        assert response.status_code == 400, response.content
        assert field in response.json()
        assert all(isinstance(messages, list | dict) for messages in response.json().values())
        assert not GroupSession.objects.exists()

    @pytest.mark.parametrize("group_id", [None, "abc", [1]])
    def test_extension_create_needs_an_integer_group_id(self, owner_client, question_set, group_id):
        body = {"session_type": "instant", "share_token": question_set.token}
        if group_id is not None:
            body["group_id"] = group_id

        response = owner_client.post("/api/extension/create-group-session", body, format="json")

        assert response.status_code == 400
        assert "group_id" in response.json()

    @pytest.mark.parametrize(
        ("content", "content_type"),
        [
            ("{not json", "application/json"),
            ("[1, 2]", "application/json"),
            ('"text"', "application/json"),
            ("session_type=instant", "application/x-www-form-urlencoded"),
        ],
    )
    def test_bodies_that_are_not_a_json_object_are_400(self, roles, owner_client, content, content_type):
        response = owner_client.generic("POST", sessions_url(roles["group"]), content, content_type=content_type)

        assert response.status_code == 400
        assert not GroupSession.objects.exists()


# --- The Session object: always the true status ------------------------------------------------------


class TestEffectiveStatus:
    def test_a_scheduled_session_whose_time_has_come_reads_active_with_no_worker(self, roles, owner_client):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"])
        assert owner_client.get(detail_url(session)).json()["status"] == "scheduled"
        past = timezone.now() - datetime.timedelta(minutes=1)
        GroupSession.objects.filter(pk=session.pk).update(
            scheduled_at=past, ends_at=past + datetime.timedelta(minutes=30)
        )

        body = owner_client.get(detail_url(session)).json()

        assert body["status"] == "active"
        assert parse(body["started_at"]) == past
        assert body["ended_at"] is None
        assert GroupSession.objects.get(pk=session.pk).status == SessionStatus.SCHEDULED

    def test_a_session_past_its_end_reads_completed(self, roles, owner_client):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"])
        start = timezone.now() - datetime.timedelta(hours=2)
        GroupSession.objects.filter(pk=session.pk).update(
            scheduled_at=start, ends_at=start + datetime.timedelta(hours=1)
        )

        listed = owner_client.get(sessions_url(roles["group"])).json()["results"][0]
        detail = owner_client.get(detail_url(session)).json()

        for body in (listed, detail):
            assert body["status"] == "completed"
            assert parse(body["started_at"]) == start
            assert parse(body["ended_at"]) == start + datetime.timedelta(hours=1)

    def test_counts_are_of_joined_and_finished_participants(self, roles, owner_client):
        session = active_session(group=roles["group"], created_by=roles["owner"])
        ParticipantFactory(session=session, user=roles["member"])
        ParticipantFactory(session=session, user=roles["admin"], completed_at=timezone.now(), score=2, total=3)

        body = owner_client.get(detail_url(session)).json()

        assert (body["participant_count"], body["completed_count"]) == (2, 1)
        assert [row["user"]["username"] for row in body["participants"]] == ["adam_admin", "mia_member"]
        assert body["participants"][0]["score"] == 2
        assert body["participants"][1]["completed_at"] is None


# --- Editing ---------------------------------------------------------------------------------------


class TestEdit:
    @pytest.mark.parametrize(
        ("state", "change", "field"),
        [
            ("active", {"title": ""}, "title"),
            ("active", {"title": "x" * 201}, "title"),
            ("active", {"duration_minutes": 0}, "duration_minutes"),
            ("active", {"duration_minutes": 10081}, "duration_minutes"),
            ("active", {"duration_minutes": "long"}, "duration_minutes"),
            ("active", {"scheduled_at": in_future(days=1)}, "scheduled_at"),
            ("scheduled", {"scheduled_at": "2001-01-01T00:00:00Z"}, "scheduled_at"),
            ("scheduled", {"scheduled_at": "tomorrow"}, "scheduled_at"),
            ("scheduled", {"scheduled_at": "9999-12-31T00:00:00Z"}, "scheduled_at"),
            ("scheduled", {"scheduled_at": None}, "scheduled_at"),
            ("active", {"status": "scheduled"}, "status"),
            ("active", {"status": "cancelled"}, "status"),
            ("scheduled", {"status": "completed"}, "status"),
            ("active", {"status": "paused"}, "status"),
            ("cancelled", {"status": "active"}, "status"),
        ],
    )
    @pytest.mark.parametrize("method", ["patch", "put"])
    def test_each_rule_is_a_400_naming_the_field(self, roles, owner_client, state, change, field, method):
        session = (active_session if state == "active" else scheduled_session)(
            group=roles["group"], created_by=roles["owner"]
        )
        if state == "cancelled":
            GroupSession.objects.filter(pk=session.pk).update(status=SessionStatus.CANCELLED)
        before = GroupSession.objects.filter(pk=session.pk).values().get()

        response = getattr(owner_client, method)(detail_url(session, "/"), change, format="json")

        assert response.status_code == 400, response.content
        assert field in response.json()
        assert GroupSession.objects.filter(pk=session.pk).values().get() == before

    @pytest.mark.parametrize(
        ("state", "status", "check"),
        [
            ("scheduled", "active", lambda body: body["started_at"] is not None),
            ("scheduled", "cancelled", lambda body: body["started_at"] is None),
            ("active", "completed", lambda body: body["ended_at"] is not None),
        ],
    )
    def test_status_transitions(self, roles, state, status, check):
        session = (active_session if state == "active" else scheduled_session)(
            group=roles["group"], created_by=roles["member"]
        )

        response = token_client(roles["member"]).patch(detail_url(session), {"status": status}, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["status"] == status
        assert check(response.json())
        assert GroupSession.objects.get(pk=session.pk).status == status

    def test_putting_back_what_was_read_changes_nothing(self, roles, owner_client):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"], loop_data={"mode": "x"})
        read = owner_client.get(detail_url(session)).json()
        before = GroupSession.objects.filter(pk=session.pk).values().get()

        response = owner_client.put(detail_url(session), read, format="json")

        assert response.status_code == 200, response.content
        assert GroupSession.objects.filter(pk=session.pk).values().get() == before
        assert {k: v for k, v in response.json().items()} == {k: v for k, v in read.items() if k != "participants"}

    def test_rescheduling_and_changing_the_duration(self, roles, owner_client):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"], duration=30)
        at = timezone.now() + datetime.timedelta(days=2)

        body = owner_client.patch(
            detail_url(session), {"scheduled_at": at.isoformat(), "duration_minutes": 90}, format="json"
        ).json()

        assert parse(body["scheduled_at"]) == at
        assert parse(body["ends_at"]) == at + datetime.timedelta(minutes=90)
        assert body["duration_minutes"] == 90

    def test_delete_removes_participation_and_its_join_link(self, roles, owner_client):
        session = active_session(group=roles["group"], created_by=roles["owner"])
        ParticipantFactory(session=session, user=roles["member"])

        assert owner_client.delete(detail_url(session, "/")).status_code == 204

        assert not Participant.objects.exists()
        assert token_client(roles["member"]).get(f"/api/questions/{session.share_token}").status_code == 404
        assert owner_client.get(detail_url(session)).status_code == 404
        assert owner_client.delete(detail_url(session)).status_code == 404


# --- Listing ---------------------------------------------------------------------------------------


class TestList:
    def test_newest_first_fifty_a_page(self, roles, owner_client):
        GroupSession.objects.bulk_create(
            GroupSessionFactory.build(group=roles["group"], created_by=roles["owner"], title=f"S{i}") for i in range(51)
        )
        ids = list(GroupSession.objects.order_by("-created_at", "-id").values_list("pk", flat=True))

        first = owner_client.get(sessions_url(roles["group"])).json()
        second = owner_client.get(first["next"]).json()

        assert first["count"] == 51
        assert [s["id"] for s in first["results"]] == ids[:50]
        assert first["previous"] is None
        assert [s["id"] for s in second["results"]] == ids[50:]
        assert second["next"] is None
        assert second["previous"] is not None

    def test_filters_by_the_true_status_and_by_type(self, roles, owner_client):
        past = timezone.now() - datetime.timedelta(minutes=5)
        waiting = scheduled_session(group=roles["group"], created_by=roles["owner"])
        due = scheduled_session(group=roles["group"], created_by=roles["owner"])
        GroupSession.objects.filter(pk=due.pk).update(scheduled_at=past, ends_at=past + datetime.timedelta(hours=1))
        over = scheduled_session(group=roles["group"], created_by=roles["owner"])
        GroupSession.objects.filter(pk=over.pk).update(scheduled_at=past - datetime.timedelta(hours=1), ends_at=past)
        live = active_session(group=roles["group"], created_by=roles["owner"])
        open_ended = active_session(
            group=roles["group"], created_by=roles["owner"], duration_minutes=None, ends_at=None
        )
        cancelled = scheduled_session(group=roles["group"], created_by=roles["owner"])
        GroupSession.objects.filter(pk=cancelled.pk).update(status=SessionStatus.CANCELLED)
        active_session(group=roles["other_group"], created_by=roles["outsider"])

        def listed(query):
            return {s["id"] for s in owner_client.get(sessions_url(roles["group"]) + query).json()["results"]}

        assert listed("?status=scheduled") == {waiting.pk}
        assert listed("?status=active") == {due.pk, live.pk, open_ended.pk}
        assert listed("?status=completed") == {over.pk}
        assert listed("?status=cancelled") == {cancelled.pk}
        assert listed("?session_type=instant") == {live.pk, open_ended.pk}
        assert listed("?session_type=scheduled&status=active") == {due.pk}
        assert listed("?unknown=1&status=") == {waiting.pk, due.pk, over.pk, live.pk, open_ended.pk, cancelled.pk}
        for body in owner_client.get(sessions_url(roles["group"])).json()["results"]:
            assert body["status"] == GroupSession.objects.get(pk=body["id"]).effective_status(timezone.now())

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("?status=paused", "status"),
            ("?session_type=weekly", "session_type"),
            ("?page=0", "page"),
            ("?page=two", "page"),
        ],
    )
    def test_bad_filter_values_are_a_400_naming_the_parameter(self, roles, owner_client, query, field):
        response = owner_client.get(sessions_url(roles["group"]) + query)

        assert response.status_code == 400
        assert field in response.json()

    def test_a_page_past_the_end_is_not_found(self, roles, owner_client):
        active_session(group=roles["group"], created_by=roles["owner"])

        assert owner_client.get(sessions_url(roles["group"]) + "?page=2").status_code == 404

    def test_empty_group_lists_nothing(self, roles, owner_client):
        assert owner_client.get(sessions_url(roles["group"], "/")).json() == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }

    def test_query_count_is_the_same_for_1_and_200_sessions(self, roles, django_assert_max_num_queries):
        client = token_client(roles["member"])
        creators = [roles["owner"], roles["member"], UserFactory()]

        def add_sessions(count):
            sessions = GroupSession.objects.bulk_create(
                GroupSessionFactory.build(group=roles["group"], created_by=creators[i % 3]) for i in range(count)
            )
            Participant.objects.bulk_create(
                Participant(session=s, user=roles["admin"], completed_at=timezone.now(), score=1, total=3)
                for s in sessions[::2]
            )

        def queries():
            with CaptureQueriesContext(connection) as captured:
                response = client.get(sessions_url(roles["group"]) + "?status=active")
            assert response.status_code == 200
            return len(captured), response.json()

        add_sessions(1)
        with django_assert_max_num_queries(5):
            one, body = queries()
        assert body["count"] == 1
        add_sessions(199)
        with django_assert_max_num_queries(5):
            many, body = queries()
        assert body["count"] == 200
        assert len(body["results"]) == 50
        assert one == many
        assert sum(s["completed_count"] for s in body["results"]) == 25


def test_times_carry_a_utc_offset(roles, owner_client):
    session = active_session(group=roles["group"], created_by=roles["owner"])

    body = owner_client.get(detail_url(session)).json()

    for key in ("started_at", "ends_at", "created_at"):
        assert parse(body[key])


def test_loop_data_round_trips_exactly(roles, owner_client):
    loop = {"mode": "until_mastered", "max_rounds": 2, "unicode": "ünï", "list": [1, {"a": None}]}
    response = owner_client.post(
        sessions_url(roles["group"]),
        {"session_type": SessionType.INSTANT, "questions": QUESTIONS, "loop_data": loop},
        format="json",
    )

    assert response.json()["loop_data"] == loop
    assert json.loads(json.dumps(GroupSession.objects.get().loop_data)) == loop


def test_snapshot_is_kept_when_the_source_set_is_edited(roles, owner_client, question_set):
    created = owner_client.post(
        sessions_url(roles["group"]), {"session_type": "instant", "share_token": question_set.token}, format="json"
    ).json()
    Question.objects.filter(question_set=question_set).update(prompt="Changed?")
    question_set.questions.filter(position=2).delete()

    quiz = token_client(roles["member"]).get(f"/api/questions/{created['share_token']}").json()

    assert [q["prompt"] for q in quiz["questions"]] == [q["prompt"] for q in QUESTIONS]
    assert [q["id"] for q in quiz["questions"]] == [1, 2, 3]


def test_anonymous_callers_get_401_with_and_without_slash(roles):
    client = APIClient()
    for path in (sessions_url(roles["group"]), "/api/extension/create-group-session"):
        for slash in ("", "/"):
            assert client.post(path + slash, {}, format="json").status_code == 401


def test_ids_beyond_the_database_range_are_not_found(roles, owner_client, question_set):
    huge = 10**30
    body = {"group_id": huge, "session_type": "instant", "share_token": question_set.token}

    assert owner_client.post("/api/extension/create-group-session", body, format="json").status_code == 404
    assert owner_client.get(f"/api/groups/{huge}/sessions").status_code == 404
    assert owner_client.get(f"/api/groups/{roles['group'].pk}/sessions/{huge}").status_code == 404
    assert owner_client.get(f"/api/groups/{roles['group'].pk}/sessions?page={huge}").status_code == 404
