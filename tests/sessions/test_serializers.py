"""The hand-written `to_representation` of the session and participant serializers says what the declared
fields say (those fields are what /api/schema documents), for every shape of session and participant."""

import datetime

import pytest
from django.utils import timezone
from rest_framework import serializers

from sessions.api_serializers import ParticipantRowSerializer, ParticipantSerializer, SessionSerializer
from sessions.models import GroupSession, Participant, ParticipantRound, SessionStatus
from tests.factories import ParticipantFactory
from tests.sessions.helpers import active_session, scheduled_session, study_loop_session

pytestmark = pytest.mark.django_db


def field_by_field(serializer) -> dict:
    """What DRF's generic Serializer.to_representation makes of the declared fields."""
    return dict(serializers.Serializer.to_representation(serializer, serializer.instance))


def sessions_of_every_shape(roles) -> list[GroupSession]:
    group, owner = roles["group"], roles["owner"]
    now = timezone.now()
    overdue = scheduled_session(group=group, created_by=owner, starts_in=datetime.timedelta(minutes=-5))
    expired = active_session(
        group=group, created_by=owner, started_at=now - datetime.timedelta(minutes=31), duration_minutes=30
    )
    cancelled = scheduled_session(group=group, created_by=owner)
    GroupSession.objects.filter(pk=cancelled.pk).update(status=SessionStatus.CANCELLED)
    orphan = active_session(group=group, created_by=owner, duration_minutes=None, ends_at=None)
    GroupSession.objects.filter(pk=orphan.pk).update(created_by=None)
    made = [
        active_session(group=group, created_by=owner),
        scheduled_session(group=group, created_by=owner),
        study_loop_session(group=group, created_by=owner, max_rounds=4),
        overdue,
        expired,
        cancelled,
        orphan,
    ]
    ParticipantFactory(session=made[0], user=roles["member"])
    return list(GroupSession.objects.select_related("created_by").filter(pk__in=[s.pk for s in made]))


def test_session_representation_matches_the_declared_fields(group_with_roles):
    now = timezone.now()
    for session in sessions_of_every_shape(group_with_roles):
        serializer = SessionSerializer(session, context={"now": now})
        assert serializer.data == field_by_field(serializer), session.title
        assert list(serializer.data) == list(serializer.fields)


def test_participant_representation_matches_the_declared_fields(group_with_roles):
    session = study_loop_session(group=group_with_roles["group"], created_by=group_with_roles["owner"])
    waiting = ParticipantFactory(session=session, user=group_with_roles["member"])
    finished = ParticipantFactory(
        session=session,
        user=group_with_roles["admin"],
        completed_at=timezone.now(),
        score=1,
        total=3,
        mastered=True,
    )
    for number in (1, 2):
        ParticipantRound.objects.create(
            participant=finished, round=number, question_ids=[1], answers=[], score=number - 1, total=1
        )

    for participant in Participant.objects.select_related("user").filter(pk__in=[waiting.pk, finished.pk]):
        for serializer_class in (ParticipantSerializer, ParticipantRowSerializer):
            serializer = serializer_class(participant)
            assert serializer.data == field_by_field(serializer)
            assert list(serializer.data) == list(serializer.fields)
    assert [r["round"] for r in ParticipantSerializer(finished).data["rounds"]] == [1, 2]


def test_times_render_as_the_declared_fields_do_in_a_site_time_zone_other_than_utc(group_with_roles, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    session = active_session(group=group_with_roles["group"], created_by=group_with_roles["owner"])
    serializer = SessionSerializer(session, context={"now": timezone.now()})

    assert serializer.data == field_by_field(serializer)
    assert serializer.data["created_at"].endswith("+05:30")
