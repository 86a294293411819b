"""The group flow of GET /api/questions/<token> and POST /api/questions/<token>/submit."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from sessions.models import GroupSession, Participant, ParticipantRound, SessionStatus
from tests.conftest import token_client
from tests.factories import ParticipantFactory
from tests.sessions.helpers import (
    CONTEXT_KEYS,
    LOOP_RESULT_KEYS,
    PARTICIPANT_KEYS,
    QUIZ_KEYS,
    RESULT_KEYS,
    ROUND_KEYS,
    SESSION_KEYS,
    active_session,
    quiz_api_url,
    right_answers,
    scheduled_session,
    study_loop_session,
    wrong_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def roles(group_with_roles):
    return group_with_roles


@pytest.fixture
def member(roles):
    return token_client(roles["member"])


@pytest.fixture
def session(roles):
    return active_session(group=roles["group"], created_by=roles["owner"], title="Cells")


def submit(client, session, answers, **extra):
    return client.post(quiz_api_url(session, submit=True), {"answers": answers, **extra}, format="json")


class TestQuizPayload:
    def test_first_get_records_the_member_as_joined_and_shows_the_context(self, roles, member, session):
        response = member.get(quiz_api_url(session))

        assert response.status_code == 200
        body = response.json()
        assert set(body) == QUIZ_KEYS
        assert (body["token"], body["title"], body["open"]) == (session.share_token, "Cells", True)
        assert body["questions"] == [
            {"id": q["id"], "prompt": q["prompt"], "choices": q["choices"]} for q in session.questions_data
        ]
        context = body["context"]
        assert set(context) == CONTEXT_KEYS
        assert context["group"] == {"id": roles["group"].pk, "name": "Biology 101"}
        assert set(context["session"]) == SESSION_KEYS
        assert (context["session"]["id"], context["session"]["participant_count"]) == (session.pk, 1)
        assert set(context["participant"]) == PARTICIPANT_KEYS
        assert context["participant"]["completed_at"] is None
        assert context["participant"]["rounds"] == []
        participant = Participant.objects.get(session=session)
        assert participant.user == roles["member"]

    def test_more_gets_do_not_join_twice(self, member, session):
        first = member.get(quiz_api_url(session)).json()["context"]["participant"]["joined_at"]
        second = member.get(quiz_api_url(session, slash="/")).json()["context"]["participant"]["joined_at"]

        assert first == second
        assert Participant.objects.count() == 1

    def test_answers_never_leak_before_submit(self, member, session):
        raw = member.get(quiz_api_url(session)).content.decode()

        assert '"answer"' not in raw
        assert '"explanation"' not in raw
        assert '"correct_choice"' not in raw

    def test_link_without_the_ids_works_too(self, member, session):
        assert member.get(f"/api/questions/{session.share_token}").status_code == 200

    @pytest.mark.parametrize(
        "query",
        [
            "groupId={other_group}",
            "sessionId={other_session}",
            "groupId=abc",
            "sessionId=1.0",
            "sessionId=",
            "groupId=-1",
        ],
    )
    @pytest.mark.parametrize("submitting", [False, True])
    def test_mismatched_or_malformed_ids_are_not_found(self, roles, member, session, query, submitting):
        other_session = active_session(group=roles["group"], created_by=roles["owner"])
        query = query.format(other_group=roles["other_group"].pk, other_session=other_session.pk)
        path = f"/api/questions/{session.share_token}{'/submit' if submitting else ''}?{query}"

        if submitting:
            response = member.post(path, {"answers": right_answers(session)}, format="json")
        else:
            response = member.get(path)

        assert response.status_code == 404
        assert not Participant.objects.exists()

    def test_tokens_of_deleted_sessions_are_not_found(self, roles, member, session):
        token = session.share_token
        session.delete()

        assert member.get(f"/api/questions/{token}").status_code == 404
        assert member.post(f"/api/questions/{token}/submit", {"answers": []}, format="json").status_code == 404

    def test_outsiders_get_404_and_anonymous_callers_401(self, roles, session):
        assert token_client(roles["outsider"]).get(quiz_api_url(session)).status_code == 404
        assert APIClient().get(quiz_api_url(session)).status_code == 401
        assert APIClient().post(quiz_api_url(session, submit=True), {"answers": []}, format="json").status_code == 401
        assert not Participant.objects.exists()

    def test_a_scheduled_session_is_closed_before_its_time_and_open_after_with_no_worker(self, roles, member):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"])

        before = member.get(quiz_api_url(session)).json()
        assert (before["open"], before["questions"]) == (False, [])
        assert before["context"]["session"]["status"] == "scheduled"
        assert before["context"]["participant"] is not None  # on the list before it opens
        refused = submit(member, session, right_answers(session))
        assert refused.status_code == 409

        GroupSession.objects.filter(pk=session.pk).update(scheduled_at=timezone.now() - datetime.timedelta(seconds=1))
        after = member.get(quiz_api_url(session)).json()

        assert after["open"] is True
        assert len(after["questions"]) == 3
        assert after["context"]["session"]["status"] == "active"
        assert submit(member, session, right_answers(session)).status_code == 200
        assert GroupSession.objects.get(pk=session.pk).status == SessionStatus.SCHEDULED

    def test_a_session_that_is_over_is_closed_and_takes_no_newcomers(self, roles, member, session):
        GroupSession.objects.filter(pk=session.pk).update(
            started_at=timezone.now() - datetime.timedelta(hours=2),
            ends_at=timezone.now() - datetime.timedelta(hours=1),
        )

        body = member.get(quiz_api_url(session)).json()

        assert (body["open"], body["questions"]) == (False, [])
        assert body["context"]["session"]["status"] == "completed"
        assert body["context"]["participant"] is None
        assert not Participant.objects.exists()
        assert submit(member, session, right_answers(session)).status_code == 409


class TestSubmit:
    def test_submission_is_scored_and_recorded_on_the_participant(self, roles, member, session):
        answers = right_answers(session)[:2]

        response = submit(member, session, answers)

        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == RESULT_KEYS
        assert (body["score"], body["total"]) == (2, 3)
        assert body["results"] == [
            {
                "question_id": q["id"],
                "correct": q["id"] != 3,
                "correct_choice": q["answer"],
                "explanation": q["explanation"],
            }
            for q in session.questions_data
        ]
        participant = body["context"]["participant"]
        assert (participant["score"], participant["total"], participant["mastered"]) == (2, 3, False)
        assert participant["completed_at"] is not None
        assert [set(r) for r in participant["rounds"]] == [ROUND_KEYS]
        assert body["context"]["session"]["completed_count"] == 1
        stored = Participant.objects.get(session=session, user=roles["member"])
        assert (stored.score, stored.total, stored.answers) == (2, 3, answers)

    def test_a_second_submit_is_409_and_the_first_stays(self, member, session):
        submit(member, session, right_answers(session))
        before = list(Participant.objects.values())

        response = submit(member, session, wrong_answers(session))

        assert response.status_code == 409
        assert "detail" in response.json()
        assert list(Participant.objects.values()) == before
        assert ParticipantRound.objects.count() == 1

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"answers": [{"question_id": 99, "choice": 0}]}, "answers"),
            ({"answers": [{"question_id": 1, "choice": 5}]}, "answers"),
            ({"answers": [{"question_id": 1, "choice": 0}, {"question_id": 1, "choice": 1}]}, "answers"),
            ({"answers": [{"question_id": "one", "choice": 0}]}, "answers"),
            ({"answers": "all of them"}, "answers"),
            ({}, "answers"),
            ({"answers": [], "round": 0}, "round"),
            ({"answers": [], "round": "second"}, "round"),
        ],
    )
    def test_bad_bodies_are_400_naming_the_field_and_store_nothing(self, member, session, body, field):
        response = member.post(quiz_api_url(session, submit=True), body, format="json")

        assert response.status_code == 400, response.content
        assert field in response.json()
        assert not Participant.objects.filter(completed_at__isnull=False).exists()

    def test_unanswered_questions_count_as_wrong(self, member, session):
        body = submit(member, session, []).json()

        assert (body["score"], body["total"]) == (0, 3)

    def test_a_cancelled_session_refuses_submissions(self, roles, member):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"])
        GroupSession.objects.filter(pk=session.pk).update(status=SessionStatus.CANCELLED)

        assert submit(member, session, right_answers(session)).status_code == 409

    def test_without_a_study_loop_there_are_no_round_fields_and_no_round_two(self, member, session):
        body = submit(member, session, wrong_answers(session)).json()

        assert set(body) == RESULT_KEYS
        assert submit(member, session, [], round=2).status_code == 409

    def test_submits_are_throttled(self, roles, session, monkeypatch):
        monkeypatch.setattr(
            ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "submit": "3/min"}
        )
        client = token_client(roles["admin"])

        statuses = [submit(client, session, []).status_code for _ in range(4)]

        assert statuses == [200, 409, 409, 429]


class TestStudyLoop:
    def test_missed_questions_come_back_in_later_rounds(self, roles, member):
        session = study_loop_session(group=roles["group"], created_by=roles["owner"], max_rounds=3)

        first = submit(member, session, right_answers(session, ids={1}) + wrong_answers(session, ids={2}))
        assert first.status_code == 200
        body = first.json()
        assert set(body) == LOOP_RESULT_KEYS
        assert (body["round"], body["counted_round"], body["score"], body["total"]) == (1, 1, 1, 3)
        assert body["next_round"]["round"] == 2
        assert [q["id"] for q in body["next_round"]["questions"]] == [2, 3]
        assert all(set(q) == {"id", "prompt", "choices"} for q in body["next_round"]["questions"])

        second = submit(member, session, right_answers(session, ids={2}), round=2).json()
        assert (second["round"], second["score"], second["total"]) == (2, 1, 2)
        assert [r["question_id"] for r in second["results"]] == [2, 3]
        assert second["next_round"] == {
            "round": 3,
            "questions": [
                {"id": 3, "prompt": session.questions_data[2]["prompt"], "choices": ["Red", "Green", "Blue"]}
            ],
        }
        participant = second["context"]["participant"]
        assert (participant["score"], participant["total"], participant["mastered"]) == (1, 3, False)
        assert [(r["round"], r["score"], r["total"]) for r in participant["rounds"]] == [(1, 1, 3), (2, 1, 2)]

        third = submit(member, session, right_answers(session, ids={3}), round=3).json()
        assert third["next_round"] is None
        assert third["context"]["participant"]["mastered"] is True
        assert third["context"]["participant"]["score"] == 1

    def test_rounds_taken_or_not_on_offer_are_409(self, roles, member):
        session = study_loop_session(group=roles["group"], created_by=roles["owner"], max_rounds=2)

        assert submit(member, session, [], round=2).status_code == 409
        assert submit(member, session, wrong_answers(session)).status_code == 200
        assert submit(member, session, wrong_answers(session)).status_code == 409
        assert submit(member, session, [], round=3).status_code == 409
        last = submit(member, session, wrong_answers(session), round=2)
        assert last.status_code == 200
        assert last.json()["next_round"] is None
        assert submit(member, session, [], round=2).status_code == 409
        assert list(ParticipantRound.objects.values_list("round", flat=True).order_by("round")) == [1, 2]

    def test_a_later_round_takes_answers_only_for_its_questions(self, roles, member):
        session = study_loop_session(group=roles["group"], created_by=roles["owner"])
        submit(member, session, right_answers(session, ids={1}))

        response = submit(member, session, right_answers(session, ids={1}), round=2)

        assert response.status_code == 400
        assert "answers" in response.json()

    def test_the_detail_reports_rounds_and_mastery(self, roles, member):
        session = study_loop_session(group=roles["group"], created_by=roles["owner"])
        submit(member, session, right_answers(session))

        detail = token_client(roles["owner"]).get(f"/api/groups/{roles['group'].pk}/sessions/{session.pk}").json()

        (row,) = detail["participants"]
        assert row["mastered"] is True
        assert [r["round"] for r in row["rounds"]] == [1]


def test_detail_lists_participants_in_leaderboard_order(roles):
    session = active_session(group=roles["group"], created_by=roles["owner"])
    now = timezone.now()
    ParticipantFactory(session=session, user=roles["member"])
    ParticipantFactory(session=session, user=roles["admin"], completed_at=now, score=2, total=3)
    ParticipantFactory(
        session=session, user=roles["other_member"], completed_at=now - datetime.timedelta(minutes=1), score=2, total=3
    )
    ParticipantFactory(session=session, user=roles["owner"], completed_at=now, score=3, total=3)

    body = token_client(roles["owner"]).get(f"/api/groups/{roles['group'].pk}/sessions/{session.pk}").json()

    assert [row["user"]["username"] for row in body["participants"]] == [
        "olivia_owner",
        "otto_member",
        "adam_admin",
        "mia_member",
    ]


def test_a_round_written_behind_the_services_back_gives_409_and_changes_nothing(roles, member, session):
    """Round rows are only written under the participant's row lock; if one exists that the participant row
    does not account for (a script, an old bug), the unique constraint answers 409, never a 500."""
    participant = ParticipantFactory(session=session, user=roles["member"])
    ParticipantRound.objects.create(participant=participant, round=1, question_ids=[1], answers=[], score=0, total=1)

    response = submit(member, session, right_answers(session))

    assert response.status_code == 409
    participant.refresh_from_db()
    assert (participant.completed_at, participant.score) == (None, None)
    assert ParticipantRound.objects.filter(participant=participant).count() == 1
    assert GroupSession.objects.get(pk=session.pk).completed_count == 0
