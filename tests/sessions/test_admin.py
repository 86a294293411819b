"""The admin of group sessions: lists, pages and the lifecycle actions (which go through the services)."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sessions.models import GroupSession, ParticipantRound, SessionNotification, SessionStatus
from tests.factories import ParticipantFactory, UserFactory
from tests.sessions.helpers import active_session, scheduled_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def run_action(staff, action, sessions):
    return staff.post(
        reverse("admin:group_sessions_groupsession_changelist"),
        {"action": action, "_selected_action": [s.pk for s in sessions]},
        follow=True,
    )


def test_changelist_costs_the_same_for_few_and_many_sessions(staff, group_with_roles):
    group, owner = group_with_roles["group"], group_with_roles["owner"]
    url = reverse("admin:group_sessions_groupsession_changelist")
    active_session(group=group, created_by=owner)

    with CaptureQueriesContext(connection) as few:
        assert staff.get(url).status_code == 200
    for _ in range(30):
        ParticipantFactory(session=active_session(group=group, created_by=owner), user=group_with_roles["member"])
    with CaptureQueriesContext(connection) as many:
        response = staff.get(url)

    assert response.status_code == 200
    assert len(many) == len(few)


def test_pages_of_every_session_model_render(staff, group_with_roles):
    session = active_session(group=group_with_roles["group"], created_by=group_with_roles["owner"])
    participant = ParticipantFactory(session=session, user=group_with_roles["member"])
    ParticipantRound.objects.create(participant=participant, round=1, score=1, total=3)
    SessionNotification.objects.create(session=session, user=group_with_roles["member"], kind="opened")

    for name in ("groupsession", "participant", "participantround", "sessionnotification"):
        assert staff.get(reverse(f"admin:group_sessions_{name}_changelist")).status_code == 200
    response = staff.get(reverse("admin:group_sessions_groupsession_change", args=[session.pk]))
    assert response.status_code == 200
    assert session.share_token in response.content.decode()
    assert staff.get(reverse("admin:group_sessions_participant_change", args=[participant.pk])).status_code == 200
    assert staff.get(reverse("admin:group_sessions_groupsession_changelist") + "?q=Biology").status_code == 200


def test_lifecycle_actions_go_through_the_services(staff, group_with_roles):
    group, owner = group_with_roles["group"], group_with_roles["owner"]
    waiting = scheduled_session(group=group, created_by=owner)
    running = active_session(group=group, created_by=owner)

    response = run_action(staff, "start_now", [waiting])
    assert GroupSession.objects.get(pk=waiting.pk).status == SessionStatus.ACTIVE
    assert "1 session(s) started" in [str(m) for m in get_messages(response.wsgi_request)][-1]

    run_action(staff, "end_now", [waiting, running])
    assert set(GroupSession.objects.values_list("status", flat=True)) == {SessionStatus.COMPLETED}


def test_an_action_the_state_does_not_allow_is_reported_not_applied(staff, group_with_roles):
    running = active_session(group=group_with_roles["group"], created_by=group_with_roles["owner"], title="Live")

    response = run_action(staff, "cancel", [running])

    assert response.status_code == 200
    assert GroupSession.objects.get(pk=running.pk).status == SessionStatus.ACTIVE
    assert any("Live:" in str(m) and "end it" in str(m) for m in get_messages(response.wsgi_request))
