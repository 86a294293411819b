"""Races against real PostgreSQL: threads hit the API at the same moment; nothing is lost or counted twice.

These tests commit for real (`transaction=True`), so every thread sees the same rows and the row locks,
unique constraints and conditional updates are what keep the results straight.
"""

import threading
from collections import Counter

import pytest

from groups.models import Role
from sessions.models import GroupSession, Participant, ParticipantRound, SessionStatus
from tests.conftest import run_at_once, token_client
from tests.factories import MembershipFactory, UserFactory
from tests.sessions.helpers import (
    active_session,
    quiz_api_url,
    right_answers,
    scheduled_session,
    study_loop_session,
    wrong_answers,
)

pytestmark = pytest.mark.django_db(transaction=True)


def patcher(client, url, body):
    return lambda: client.patch(url, body, format="json").status_code


def submitter(client, session, answers, **extra):
    url = quiz_api_url(session, submit=True)
    return lambda: client.post(url, {"answers": answers, **extra}, format="json").status_code


@pytest.fixture
def completed_hook(monkeypatch):
    calls = []
    lock = threading.Lock()

    def record(session_id):
        with lock:
            calls.append(session_id)

    monkeypatch.setattr("sessions.tasks.announce_session_completed", record)
    monkeypatch.setattr("sessions.tasks.announce_session_opened", lambda session_id: None)
    monkeypatch.setattr("sessions.tasks.schedule_session_timers", lambda session_id: None)
    return calls


def test_twenty_concurrent_submits_by_one_member_leave_exactly_one_result(group_with_roles):
    session = active_session(group=group_with_roles["group"], created_by=group_with_roles["owner"])
    clients = [token_client(group_with_roles["member"]) for _ in range(20)]

    statuses = run_at_once(
        [
            submitter(client, session, right_answers(session) if i % 2 else wrong_answers(session))
            for i, client in enumerate(clients)
        ]
    )

    assert Counter(statuses) == {200: 1, 409: 19}
    (participant,) = Participant.objects.filter(session=session)
    assert participant.completed_at is not None
    assert participant.score in (0, 3)
    assert ParticipantRound.objects.filter(participant=participant).count() == 1


def test_thirty_members_submitting_at_once_are_all_recorded(group_with_roles):
    group = group_with_roles["group"]
    session = active_session(group=group, created_by=group_with_roles["owner"])
    members = [MembershipFactory(group=group, role=Role.MEMBER, user=UserFactory()).user for _ in range(30)]
    clients = [token_client(user) for user in members]

    statuses = run_at_once([submitter(client, session, right_answers(session)[:2]) for client in clients])

    assert statuses == [200] * 30
    finished = Participant.objects.filter(session=session, completed_at__isnull=False)
    assert finished.count() == 30
    assert set(finished.values_list("score", flat=True)) == {2}
    assert ParticipantRound.objects.filter(participant__session=session).count() == 30
    detail = token_client(group_with_roles["owner"]).get(f"/api/groups/{group.pk}/sessions/{session.pk}").json()
    assert (detail["participant_count"], detail["completed_count"]) == (30, 30)


def test_concurrent_first_visits_join_once(group_with_roles):
    session = active_session(group=group_with_roles["group"], created_by=group_with_roles["owner"])
    clients = [token_client(group_with_roles["member"]) for _ in range(10)]
    url = quiz_api_url(session)

    statuses = run_at_once([lambda client=client: client.get(url).status_code for client in clients])

    assert statuses == [200] * 10
    assert Participant.objects.filter(session=session).count() == 1


def test_two_concurrent_end_now_make_one_transition(group_with_roles, completed_hook):
    group = group_with_roles["group"]
    owner, admin = token_client(group_with_roles["owner"]), token_client(group_with_roles["admin"])

    for _ in range(5):
        session = active_session(group=group, created_by=group_with_roles["member"])
        url = f"/api/groups/{group.pk}/sessions/{session.pk}"

        statuses = run_at_once(
            [patcher(owner, url, {"status": "completed"}), patcher(admin, url, {"status": "completed"})]
        )

        assert set(statuses) <= {200, 409}
        assert 200 in statuses
        assert GroupSession.objects.get(pk=session.pk).status == SessionStatus.COMPLETED
        assert completed_hook.count(session.pk) == 1


def test_start_and_cancel_racing_leave_one_outcome(group_with_roles, completed_hook):
    group = group_with_roles["group"]
    owner, admin = token_client(group_with_roles["owner"]), token_client(group_with_roles["admin"])

    for _ in range(5):
        session = scheduled_session(group=group, created_by=group_with_roles["owner"])
        url = f"/api/groups/{group.pk}/sessions/{session.pk}"

        started, cancelled = run_at_once(
            [patcher(owner, url, {"status": "active"}), patcher(admin, url, {"status": "cancelled"})]
        )

        final = GroupSession.objects.get(pk=session.pk)
        assert 500 not in (started, cancelled)
        # Whichever committed first wins; the other is refused (409 from the service, or 400 once the
        # stored state makes it a transition the contract does not allow).
        if final.status == SessionStatus.ACTIVE:
            assert started == 200 and cancelled in (400, 409)
            assert final.started_at is not None
        else:
            assert final.status == SessionStatus.CANCELLED
            assert cancelled == 200 and started in (400, 409)
            assert final.started_at is None


def test_concurrent_submits_of_the_same_study_round_keep_one(group_with_roles):
    session = study_loop_session(group=group_with_roles["group"], created_by=group_with_roles["owner"])
    user = group_with_roles["member"]
    token_client(user).post(quiz_api_url(session, submit=True), {"answers": []}, format="json")
    clients = [token_client(user) for _ in range(8)]

    statuses = run_at_once([submitter(client, session, right_answers(session), round=2) for client in clients])

    assert Counter(statuses) == {200: 1, 409: 7}
    assert list(ParticipantRound.objects.order_by("round").values_list("round", flat=True)) == [1, 2]
    participant = Participant.objects.get(session=session, user=user)
    assert (participant.score, participant.mastered) == (0, True)
