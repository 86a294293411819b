"""sessions.services: creating sessions, their lifecycle, joining and submitting (real PostgreSQL)."""

import datetime
import json

import pytest
from django.utils import timezone

from questions.models import Question
from quizsite.errors import AlreadySubmitted, Conflict, InvalidInput, NotFound, PermissionDenied, SessionNotOpen
from sessions import services
from sessions.models import GroupSession, Participant, ParticipantRound, SessionStatus
from tests.factories import ParticipantFactory, QuestionSetFactory
from tests.sessions.helpers import (
    QUESTIONS,
    active_session,
    membership_of,
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
def owner(roles):
    return membership_of(roles["owner"], roles["group"])


@pytest.fixture
def member(roles):
    return membership_of(roles["member"], roles["group"])


@pytest.fixture
def other_member(roles):
    return membership_of(roles["other_member"], roles["group"])


@pytest.fixture
def hooks(monkeypatch):
    """The Celery hooks the services call after commit, recorded instead of queued."""
    calls = []
    for name in ("schedule_session_timers", "announce_session_opened", "announce_session_completed"):
        monkeypatch.setattr(f"sessions.tasks.{name}", lambda session_id, name=name: calls.append((name, session_id)))
    return calls


def in_future(**delta):
    return timezone.now() + datetime.timedelta(**delta)


def ago(**delta):
    return timezone.now() - datetime.timedelta(**delta)


# --- create_session --------------------------------------------------------------------------------


class TestCreateSession:
    def test_instant_session_from_a_share_token_snapshots_the_set_and_opens_at_once(self, owner):
        question_set = QuestionSetFactory(title="Cells", questions=QUESTIONS)
        now = timezone.now()

        session = services.create_session(
            membership=owner, session_type="instant", share_token=question_set.token, duration_minutes=15, now=now
        )

        assert session.title == "Cells"
        assert session.status == SessionStatus.ACTIVE
        assert session.started_at == now
        assert session.ends_at == now + datetime.timedelta(minutes=15)
        assert session.source_set == question_set
        assert session.created_by == owner.user
        assert [q["id"] for q in session.questions_data] == [1, 2, 3]
        assert [q["prompt"] for q in session.questions_data] == [q["prompt"] for q in QUESTIONS]
        assert session.questions_data[2]["explanation"] == ""
        assert session.share_token != question_set.token

    def test_session_from_a_question_set_object(self, owner):
        question_set = QuestionSetFactory(questions=2)

        session = services.create_session(membership=owner, session_type="instant", question_set=question_set)

        assert session.question_count == 2
        assert session.duration_minutes is None
        assert session.ends_at is None

    def test_session_from_questions_in_the_body_gets_a_default_title(self, owner):
        session = services.create_session(membership=owner, session_type="instant", questions=QUESTIONS)

        assert session.title == services.UNTITLED
        assert session.source_set is None
        assert session.questions_data[0] == {"id": 1, **QUESTIONS[0]}

    def test_scheduled_session_waits_for_its_time(self, owner):
        at = in_future(hours=2)

        session = services.create_session(
            membership=owner, session_type="scheduled", questions=QUESTIONS, scheduled_at=at, duration_minutes=45
        )

        assert session.status == SessionStatus.SCHEDULED
        assert session.started_at is None
        assert session.ends_at == at + datetime.timedelta(minutes=45)

    def test_snapshot_does_not_change_when_the_source_set_is_edited_or_deleted(self, owner):
        question_set = QuestionSetFactory(questions=QUESTIONS)
        session = services.create_session(membership=owner, session_type="instant", question_set=question_set)
        before = json.loads(json.dumps(session.questions_data))

        Question.objects.filter(question_set=question_set, position=1).update(prompt="Edited?", answer=0)
        Question.objects.filter(question_set=question_set, position=3).delete()
        Question.objects.create(question_set=question_set, position=9, prompt="New?", choices=["a", "b"], answer=0)
        session.refresh_from_db()
        assert session.questions_data == before

        question_set.delete()
        session.refresh_from_db()
        assert session.questions_data == before
        assert session.source_set is None

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({}, "non_field_errors"),
            ({"share_token": "x", "questions": QUESTIONS}, "non_field_errors"),
            ({"share_token": "no-such-token"}, "share_token"),
            ({"share_token": ""}, "share_token"),
            ({"questions": []}, "questions"),
            ({"questions": [{"prompt": "?", "choices": ["a", "a"], "answer": 0}]}, "questions"),
            ({"questions": [{"prompt": "?", "choices": ["a", "b"], "answer": 2}]}, "questions"),
            ({"questions": QUESTIONS, "session_type": "weekly"}, "session_type"),
            ({"questions": QUESTIONS, "title": "t" * 201}, "title"),
            ({"questions": QUESTIONS, "duration_minutes": 0}, "duration_minutes"),
            ({"questions": QUESTIONS, "duration_minutes": 10081}, "duration_minutes"),
            ({"questions": QUESTIONS, "duration_minutes": True}, "duration_minutes"),
            ({"questions": QUESTIONS, "loop_data": [1, 2]}, "loop_data"),
            ({"questions": QUESTIONS, "loop_data": "until_mastered"}, "loop_data"),
            ({"questions": QUESTIONS, "loop_data": {"blob": "x" * (16 * 1024)}}, "loop_data"),
            ({"questions": QUESTIONS, "loop_data": {"mode": "until_mastered", "max_rounds": 0}}, "loop_data"),
            ({"questions": QUESTIONS, "loop_data": {"mode": "until_mastered", "max_rounds": 11}}, "loop_data"),
            ({"questions": QUESTIONS, "loop_data": {"mode": "until_mastered", "max_rounds": "3"}}, "loop_data"),
            ({"questions": QUESTIONS, "session_type": "scheduled"}, "scheduled_at"),
            (
                {"questions": QUESTIONS, "session_type": "scheduled", "scheduled_at": timezone.now()},
                "scheduled_at",
            ),
            ({"questions": QUESTIONS, "scheduled_at": in_future(hours=1)}, "scheduled_at"),
        ],
    )
    def test_each_field_rule_names_its_field_and_creates_nothing(self, owner, kwargs, field):
        kwargs = {"session_type": "instant", **kwargs}

        with pytest.raises(InvalidInput) as raised:
            services.create_session(membership=owner, **kwargs)

        assert raised.value.field == field
        assert not GroupSession.objects.exists()

    def test_loop_data_is_stored_as_given(self, owner):
        loop = {"mode": "until_mastered", "max_rounds": 10, "note": {"nested": [1, 2]}}

        session = services.create_session(membership=owner, session_type="instant", questions=QUESTIONS, loop_data=loop)

        session.refresh_from_db()
        assert session.loop_data == loop
        assert session.is_study_loop

    def test_loop_data_just_under_the_limit_is_accepted(self, owner):
        padding = 16 * 1024 - len('{"blob":""}')
        session = services.create_session(
            membership=owner, session_type="instant", questions=QUESTIONS, loop_data={"blob": "x" * padding}
        )
        assert len(session.loop_data["blob"]) == padding

    def test_member_may_not_create_when_the_group_forbids_it(self, roles, member, owner):
        roles["group"].members_can_create_sessions = False
        roles["group"].save()
        member = membership_of(roles["member"], roles["group"])

        with pytest.raises(PermissionDenied):
            services.create_session(membership=member, session_type="instant", questions=QUESTIONS)
        assert services.create_session(
            membership=membership_of(roles["admin"], roles["group"]), session_type="instant", questions=QUESTIONS
        )

    def test_without_membership_the_group_is_not_found(self):
        with pytest.raises(NotFound):
            services.create_session(membership=None, session_type="instant", questions=QUESTIONS)

    def test_hooks_run_after_commit(self, owner, hooks, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            instant = services.create_session(
                membership=owner, session_type="instant", questions=QUESTIONS, duration_minutes=5
            )
            scheduled = services.create_session(
                membership=owner, session_type="scheduled", questions=QUESTIONS, scheduled_at=in_future(hours=1)
            )
            open_ended = services.create_session(membership=owner, session_type="instant", questions=QUESTIONS)

        assert ("announce_session_opened", instant.pk) in hooks
        assert ("schedule_session_timers", instant.pk) in hooks
        assert hooks.count(("schedule_session_timers", scheduled.pk)) == 1
        assert ("announce_session_opened", scheduled.pk) not in hooks
        assert ("schedule_session_timers", open_ended.pk) not in hooks


# --- lifecycle --------------------------------------------------------------------------------------


class TestLifecycle:
    def test_start_opens_a_scheduled_session_now_with_its_duration(self, roles, owner, hooks):
        session = scheduled_session(group=roles["group"], created_by=roles["member"], duration=20)
        now = timezone.now()

        services.start_session(membership=owner, session=session, now=now)

        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE
        assert session.started_at == now
        assert session.ends_at == now + datetime.timedelta(minutes=20)

    def test_start_of_an_open_session_changes_nothing(self, roles, owner):
        session = active_session(group=roles["group"], created_by=roles["owner"])
        started_at = session.started_at

        services.start_session(membership=owner, session=session)

        session.refresh_from_db()
        assert (session.status, session.started_at) == (SessionStatus.ACTIVE, started_at)

    def test_start_of_a_due_session_records_it_opened_at_its_time(self, roles, owner):
        session = scheduled_session(
            group=roles["group"], created_by=roles["owner"], starts_in=-datetime.timedelta(minutes=5)
        )

        services.start_session(membership=owner, session=session)

        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE
        assert session.started_at == session.scheduled_at

    @pytest.mark.parametrize("service", [services.start_session, services.cancel_session])
    def test_a_session_that_ended_cannot_start_or_be_cancelled(self, roles, owner, service):
        session = active_session(group=roles["group"], created_by=roles["owner"])
        services.end_session(membership=owner, session=session)

        with pytest.raises(Conflict):
            service(membership=owner, session=session)

    def test_end_completes_an_open_session_once(self, roles, member, hooks, django_capture_on_commit_callbacks):
        session = active_session(group=roles["group"], created_by=roles["member"])
        now = timezone.now()

        with django_capture_on_commit_callbacks(execute=True):
            services.end_session(membership=member, session=session, now=now)
            services.end_session(membership=member, session=session, now=now + datetime.timedelta(seconds=5))

        session.refresh_from_db()
        assert session.status == SessionStatus.COMPLETED
        assert session.ended_at == now
        assert hooks.count(("announce_session_completed", session.pk)) == 1

    def test_end_of_a_session_not_started_yet_is_a_conflict(self, roles, owner):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"])

        with pytest.raises(Conflict, match="cancel"):
            services.end_session(membership=owner, session=session)

    def test_end_of_an_expired_session_records_its_planned_end(self, roles, owner):
        session = active_session(group=roles["group"], created_by=roles["owner"])
        GroupSession.objects.filter(pk=session.pk).update(
            started_at=timezone.now() - datetime.timedelta(hours=2),
            ends_at=timezone.now() - datetime.timedelta(hours=1),
        )

        services.end_session(membership=owner, session=session)

        session.refresh_from_db()
        assert session.status == SessionStatus.COMPLETED
        assert session.ended_at == session.ends_at

    def test_cancel_calls_off_a_scheduled_session_and_is_idempotent(self, roles, owner):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"])

        services.cancel_session(membership=owner, session=session)
        services.cancel_session(membership=owner, session=session)

        session.refresh_from_db()
        assert session.status == SessionStatus.CANCELLED
        assert session.effective_status(in_future(days=30)) == SessionStatus.CANCELLED

    def test_cancel_of_an_open_session_is_a_conflict(self, roles, owner):
        session = active_session(group=roles["group"], created_by=roles["owner"])

        with pytest.raises(Conflict, match="end it"):
            services.cancel_session(membership=owner, session=session)

    @pytest.mark.parametrize("service", [services.start_session, services.end_session, services.cancel_session])
    def test_other_members_may_not_move_someone_elses_session(self, roles, other_member, service):
        session = scheduled_session(group=roles["group"], created_by=roles["member"])

        with pytest.raises(PermissionDenied):
            service(membership=other_member, session=session)

    def test_outsiders_do_not_find_the_session(self, roles):
        session = active_session(group=roles["group"], created_by=roles["owner"])
        outsider = membership_of(roles["outsider"], roles["other_group"])

        with pytest.raises(NotFound):
            services.end_session(membership=outsider, session=session)

    def test_creator_who_is_a_plain_member_ends_their_own_session(self, roles, member):
        session = active_session(group=roles["group"], created_by=roles["member"])

        services.end_session(membership=member, session=session)

        assert GroupSession.objects.get(pk=session.pk).status == SessionStatus.COMPLETED

    def test_delete_removes_the_session_and_its_participation(self, roles, owner):
        session = active_session(group=roles["group"], created_by=roles["owner"])
        participant = ParticipantFactory(session=session, user=roles["member"])
        ParticipantRound.objects.create(participant=participant, round=1, score=0, total=3)

        services.delete_session(membership=owner, session=session)

        assert not GroupSession.objects.filter(pk=session.pk).exists()
        assert not Participant.objects.exists()
        assert not ParticipantRound.objects.exists()

    def test_only_managers_delete(self, roles, member):
        session = active_session(group=roles["group"], created_by=roles["member"])

        with pytest.raises(PermissionDenied):
            services.delete_session(membership=member, session=session)

    def test_staff_path_skips_the_group_role_check(self, roles):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"])

        services.cancel_session(membership=None, session=session, by_staff=True)

        assert GroupSession.objects.get(pk=session.pk).status == SessionStatus.CANCELLED


class TestUpdateSession:
    def test_title_and_duration_of_an_open_session(self, roles, member):
        session = active_session(group=roles["group"], created_by=roles["member"])

        services.update_session(membership=member, session=session, title="  Renamed ", duration_minutes=90)

        session.refresh_from_db()
        assert session.title == "Renamed"
        assert session.ends_at == session.started_at + datetime.timedelta(minutes=90)

    def test_clearing_the_duration_leaves_the_session_open_until_ended(self, roles, owner):
        session = active_session(group=roles["group"], created_by=roles["owner"])

        services.update_session(membership=owner, session=session, duration_minutes=None)

        session.refresh_from_db()
        assert (session.duration_minutes, session.ends_at) == (None, None)

    def test_rescheduling_moves_the_end_and_queues_timers(
        self, roles, owner, hooks, django_capture_on_commit_callbacks
    ):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"], duration=30)
        new_time = in_future(days=1)

        with django_capture_on_commit_callbacks(execute=True):
            services.update_session(membership=owner, session=session, scheduled_at=new_time)

        session.refresh_from_db()
        assert session.scheduled_at == new_time
        assert session.ends_at == new_time + datetime.timedelta(minutes=30)
        assert hooks == [("schedule_session_timers", session.pk)]

    @pytest.mark.parametrize(
        ("setup", "kwargs", "field"),
        [
            ("active", {"scheduled_at": "future"}, "scheduled_at"),
            ("scheduled", {"scheduled_at": "past"}, "scheduled_at"),
            ("scheduled", {"scheduled_at": None}, "scheduled_at"),
            ("completed", {"duration_minutes": 5}, "duration_minutes"),
            ("active", {"duration_minutes": 0}, "duration_minutes"),
            ("active_long", {"duration_minutes": 1}, "duration_minutes"),
            ("active", {"title": ""}, "title"),
            ("active", {"title": "x" * 201}, "title"),
            ("active", {"status": "scheduled"}, "status"),
            ("active", {"status": "cancelled"}, "status"),
            ("scheduled", {"status": "completed"}, "status"),
            ("completed", {"status": "active"}, "status"),
            ("active", {"status": "paused"}, "status"),
        ],
    )
    def test_each_rule_names_its_field_and_changes_nothing(self, roles, owner, setup, kwargs, field):
        if setup.startswith("active"):
            session = active_session(group=roles["group"], created_by=roles["owner"])
            if setup == "active_long":
                GroupSession.objects.filter(pk=session.pk).update(
                    started_at=timezone.now() - datetime.timedelta(hours=1)
                )
        else:
            session = scheduled_session(group=roles["group"], created_by=roles["owner"])
            if setup == "completed":
                services.start_session(membership=owner, session=session)
                services.end_session(membership=owner, session=session)
        session.refresh_from_db()
        before = GroupSession.objects.filter(pk=session.pk).values().get()
        times = {"future": in_future(days=2), "past": timezone.now() - datetime.timedelta(minutes=1)}
        kwargs = {key: times.get(value, value) if isinstance(value, str) else value for key, value in kwargs.items()}

        with pytest.raises(InvalidInput) as raised:
            services.update_session(membership=owner, session=session, **kwargs)

        assert raised.value.field == field
        assert GroupSession.objects.filter(pk=session.pk).values().get() == before

    @pytest.mark.parametrize(
        ("start", "status", "after"),
        [
            ("scheduled", "active", SessionStatus.ACTIVE),
            ("scheduled", "cancelled", SessionStatus.CANCELLED),
            ("active", "completed", SessionStatus.COMPLETED),
        ],
    )
    def test_status_transitions_of_the_contract(self, roles, member, start, status, after):
        maker = scheduled_session if start == "scheduled" else active_session
        session = maker(group=roles["group"], created_by=roles["member"])

        services.update_session(membership=member, session=session, status=status)

        assert GroupSession.objects.get(pk=session.pk).status == after

    def test_sending_back_the_current_values_changes_nothing(self, roles, owner):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"])
        before = GroupSession.objects.filter(pk=session.pk).values().get()

        services.update_session(
            membership=owner,
            session=session,
            title=session.title,
            scheduled_at=session.scheduled_at,
            duration_minutes=session.duration_minutes,
            status="scheduled",
        )

        assert GroupSession.objects.filter(pk=session.pk).values().get() == before

    def test_a_due_session_counts_as_active_for_transitions(self, roles, owner):
        session = scheduled_session(
            group=roles["group"], created_by=roles["owner"], starts_in=-datetime.timedelta(minutes=1)
        )

        services.update_session(membership=owner, session=session, status="completed")

        session.refresh_from_db()
        assert session.status == SessionStatus.COMPLETED
        assert session.started_at == session.scheduled_at

    def test_other_members_may_not_edit(self, roles, other_member):
        session = active_session(group=roles["group"], created_by=roles["member"])

        with pytest.raises(PermissionDenied):
            services.update_session(membership=other_member, session=session, title="Mine now")


class TestActorlessTransitions:
    def test_open_due_session_opens_once_and_only_when_due(self, roles, hooks, django_capture_on_commit_callbacks):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"])

        assert services.open_due_session(session_id=session.pk) is False
        later = session.scheduled_at + datetime.timedelta(seconds=1)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.open_due_session(session_id=session.pk, now=later) is True
            assert services.open_due_session(session_id=session.pk, now=later) is False

        session.refresh_from_db()
        assert (session.status, session.started_at) == (SessionStatus.ACTIVE, session.scheduled_at)
        assert hooks == [("announce_session_opened", session.pk)]

    def test_complete_expired_session_completes_once(self, roles):
        session = active_session(group=roles["group"], created_by=roles["owner"])
        after_end = session.ends_at + datetime.timedelta(seconds=1)

        assert services.complete_expired_session(session_id=session.pk) is False
        assert services.complete_expired_session(session_id=session.pk, now=after_end) is True
        assert services.complete_expired_session(session_id=session.pk, now=after_end) is False
        session.refresh_from_db()
        assert (session.status, session.ended_at) == (SessionStatus.COMPLETED, session.ends_at)

    def test_sweep_persists_what_the_clock_decided(self, roles):
        now = timezone.now()
        due = scheduled_session(
            group=roles["group"], created_by=roles["owner"], starts_in=-datetime.timedelta(minutes=1)
        )
        long_over = scheduled_session(
            group=roles["group"], created_by=roles["owner"], starts_in=-datetime.timedelta(hours=2)
        )
        expired = active_session(group=roles["group"], created_by=roles["owner"])
        GroupSession.objects.filter(pk=expired.pk).update(started_at=ago(hours=1), ends_at=ago(seconds=1))
        waiting = scheduled_session(group=roles["group"], created_by=roles["owner"])
        cancelled = scheduled_session(group=roles["group"], created_by=roles["owner"], starts_in=-datetime.timedelta(1))
        GroupSession.objects.filter(pk=cancelled.pk).update(status=SessionStatus.CANCELLED)

        swept = services.sweep_sessions(now=now)

        assert swept["opened"] == [due.pk]
        assert sorted(swept["completed"]) == sorted([long_over.pk, expired.pk])
        assert services.sweep_sessions(now=now) == {"opened": [], "completed": []}
        statuses = dict(GroupSession.objects.values_list("pk", "status"))
        assert statuses[waiting.pk] == SessionStatus.SCHEDULED
        assert statuses[cancelled.pk] == SessionStatus.CANCELLED
        for session in GroupSession.objects.all():
            assert session.status == session.effective_status(now)


# --- joining and submitting ------------------------------------------------------------------------


class TestJoinAndSubmit:
    def test_join_is_idempotent(self, roles):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"])

        first = services.join_session(user=roles["member"], session=session)
        again = services.join_session(user=roles["member"], session=session)

        assert first.pk == again.pk
        assert Participant.objects.count() == 1

    def test_a_session_that_is_over_takes_no_newcomers_but_keeps_its_participants(self, roles, owner):
        session = active_session(group=roles["group"], created_by=roles["owner"])
        joined = services.join_session(user=roles["member"], session=session)
        services.end_session(membership=owner, session=session)

        with pytest.raises(SessionNotOpen):
            services.join_session(user=roles["other_member"], session=session)
        assert services.join_session(user=roles["member"], session=session).pk == joined.pk

    def test_outsiders_cannot_join(self, roles):
        session = active_session(group=roles["group"], created_by=roles["owner"])

        with pytest.raises(NotFound):
            services.join_session(user=roles["outsider"], session=session)

    def test_submission_is_scored_on_the_snapshot_and_stored_on_the_participant(self, roles):
        session = active_session(group=roles["group"], created_by=roles["owner"])
        answers = right_answers(session)[:2]
        now = timezone.now()

        outcome = services.record_submission(user=roles["member"], session=session, answers=answers, now=now)

        assert (outcome.scored.score, outcome.scored.total, outcome.round) == (2, 3, 1)
        participant = Participant.objects.get(session=session, user=roles["member"])
        assert (participant.score, participant.total, participant.completed_at) == (2, 3, now)
        assert participant.answers == answers
        assert participant.mastered is False
        (stored_round,) = participant.rounds.all()
        assert (stored_round.round, stored_round.score, stored_round.question_ids) == (1, 2, [1, 2, 3])
        assert (stored_round.answers, stored_round.total, stored_round.submitted_at) == (answers, 3, now)
        assert outcome.participant.round_list[0].pk == stored_round.pk

    def test_second_submit_is_refused_and_the_first_stays(self, roles):
        session = active_session(group=roles["group"], created_by=roles["owner"])
        services.record_submission(user=roles["member"], session=session, answers=right_answers(session))
        before = Participant.objects.filter(session=session).values().get()

        with pytest.raises(AlreadySubmitted):
            services.record_submission(user=roles["member"], session=session, answers=wrong_answers(session))

        assert Participant.objects.filter(session=session).values().get() == before
        assert ParticipantRound.objects.count() == 1

    @pytest.mark.parametrize("state", ["scheduled", "completed", "cancelled", "expired"])
    def test_a_session_that_is_not_open_refuses_submissions_and_stores_nothing(self, roles, owner, state):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"])
        if state == "completed":
            services.start_session(membership=owner, session=session)
            services.end_session(membership=owner, session=session)
        elif state == "cancelled":
            services.cancel_session(membership=owner, session=session)
        elif state == "expired":
            GroupSession.objects.filter(pk=session.pk).update(
                scheduled_at=timezone.now() - datetime.timedelta(hours=2),
                ends_at=timezone.now() - datetime.timedelta(hours=1),
            )

        with pytest.raises(SessionNotOpen):
            services.record_submission(user=roles["member"], session=session, answers=right_answers(session))

        assert not Participant.objects.filter(completed_at__isnull=False).exists()
        assert not ParticipantRound.objects.exists()

    def test_a_due_scheduled_session_accepts_submissions_without_any_worker(self, roles):
        session = scheduled_session(group=roles["group"], created_by=roles["owner"])
        GroupSession.objects.filter(pk=session.pk).update(scheduled_at=timezone.now() - datetime.timedelta(seconds=1))

        outcome = services.record_submission(user=roles["member"], session=session, answers=right_answers(session))

        assert outcome.scored.score == 3
        assert GroupSession.objects.get(pk=session.pk).status == SessionStatus.SCHEDULED  # nothing persisted it

    @pytest.mark.parametrize(
        "answers",
        [
            [{"question_id": 99, "choice": 0}],
            [{"question_id": 1, "choice": 7}],
            [{"question_id": 1, "choice": 0}, {"question_id": 1, "choice": 1}],
        ],
    )
    def test_bad_answers_name_the_answers_field_and_store_nothing(self, roles, answers):
        session = active_session(group=roles["group"], created_by=roles["owner"])

        with pytest.raises(InvalidInput) as raised:
            services.record_submission(user=roles["member"], session=session, answers=answers)

        assert raised.value.field == "answers"
        assert not Participant.objects.filter(completed_at__isnull=False).exists()
        assert not ParticipantRound.objects.exists()

    def test_outsiders_cannot_submit(self, roles):
        session = active_session(group=roles["group"], created_by=roles["owner"])

        with pytest.raises(NotFound):
            services.record_submission(user=roles["outsider"], session=session, answers=[])


class TestStudyLoop:
    def test_missed_questions_come_back_until_mastered(self, roles):
        session = study_loop_session(group=roles["group"], created_by=roles["owner"], max_rounds=3)
        user = roles["member"]

        first = services.record_submission(
            user=user, session=session, answers=right_answers(session, ids={1}) + wrong_answers(session, ids={2})
        )
        assert (first.scored.score, first.scored.total, first.next_round) == (1, 3, 2)
        assert [q["id"] for q in first.next_round_questions] == [2, 3]

        second = services.record_submission(
            user=user,
            session=session,
            round=2,
            answers=right_answers(session, ids={2}) + wrong_answers(session, ids={3}),
        )
        assert (second.scored.score, second.scored.total, second.next_round) == (1, 2, 3)
        assert [q["id"] for q in second.next_round_questions] == [3]

        third = services.record_submission(user=user, session=session, round=3, answers=right_answers(session, ids={3}))
        assert third.next_round is None
        assert third.progress.mastered

        participant = Participant.objects.get(session=session, user=user)
        assert (participant.score, participant.total, participant.mastered) == (1, 3, True)
        assert list(participant.rounds.values_list("round", "score", "total")) == [(1, 1, 3), (2, 1, 2), (3, 1, 1)]

    def test_rounds_run_out_at_max_rounds(self, roles):
        session = study_loop_session(group=roles["group"], created_by=roles["owner"], max_rounds=2)
        user = roles["member"]
        services.record_submission(user=user, session=session, answers=wrong_answers(session))

        last = services.record_submission(user=user, session=session, round=2, answers=wrong_answers(session))

        assert last.next_round is None
        assert last.progress.missed_ids == (1, 2, 3)
        with pytest.raises(Conflict):
            services.record_submission(user=user, session=session, round=3, answers=right_answers(session))

    def test_default_is_three_rounds(self, roles):
        session = study_loop_session(group=roles["group"], created_by=roles["owner"], max_rounds=None)
        user = roles["member"]
        services.record_submission(user=user, session=session, answers=[])
        services.record_submission(user=user, session=session, round=2, answers=[])

        assert services.record_submission(user=user, session=session, round=3, answers=[]).next_round is None

    def test_a_round_not_on_offer_or_already_taken_is_a_conflict(self, roles):
        session = study_loop_session(group=roles["group"], created_by=roles["owner"])
        user = roles["member"]

        with pytest.raises(Conflict, match="not on offer"):
            services.record_submission(user=user, session=session, round=2, answers=[])
        services.record_submission(user=user, session=session, answers=wrong_answers(session))
        with pytest.raises(Conflict, match="not on offer"):
            services.record_submission(user=user, session=session, round=3, answers=[])
        services.record_submission(user=user, session=session, round=2, answers=[])
        with pytest.raises(AlreadySubmitted):
            services.record_submission(user=user, session=session, round=2, answers=[])

    def test_later_rounds_accept_only_their_own_questions(self, roles):
        session = study_loop_session(group=roles["group"], created_by=roles["owner"])
        user = roles["member"]
        services.record_submission(user=user, session=session, answers=right_answers(session, ids={1}))

        with pytest.raises(InvalidInput) as raised:
            services.record_submission(user=user, session=session, round=2, answers=right_answers(session, ids={1}))
        assert raised.value.field == "answers"

    def test_all_right_in_round_one_offers_no_next_round(self, roles):
        session = study_loop_session(group=roles["group"], created_by=roles["owner"])

        outcome = services.record_submission(user=roles["member"], session=session, answers=right_answers(session))

        assert outcome.next_round is None
        assert Participant.objects.get(session=session).mastered is True

    def test_without_a_loop_there_is_only_one_round(self, roles):
        session = active_session(group=roles["group"], created_by=roles["owner"])
        services.record_submission(user=roles["member"], session=session, answers=wrong_answers(session))

        with pytest.raises(Conflict, match="not on offer"):
            services.record_submission(user=roles["member"], session=session, round=2, answers=[])
