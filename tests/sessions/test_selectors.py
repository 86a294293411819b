"""sessions.selectors: the SQL status filter agrees with the model's effective status; access and order."""

import datetime
import itertools

import pytest
from django.utils import timezone

from quizsite.errors import NotFound
from sessions import selectors
from sessions.models import SessionStatus, SessionType
from tests.factories import GroupSessionFactory, ParticipantFactory
from tests.sessions.helpers import active_session

pytestmark = pytest.mark.django_db

NOW = timezone.now()
HOUR = datetime.timedelta(hours=1)
TIMES = {"none": None, "past": NOW - HOUR, "future": NOW + HOUR}


def grid_sessions(group, creator):
    """One session for every storable combination of stored status, start time and end time."""
    made = []
    for status, scheduled, ends in itertools.product(SessionStatus.values, TIMES, TIMES):
        scheduled_at, ends_at = TIMES[scheduled], TIMES[ends]
        if status == SessionStatus.SCHEDULED and scheduled_at is None:
            continue  # a scheduled session always has its time (a database constraint)
        started_at = None
        if status in (SessionStatus.ACTIVE, SessionStatus.COMPLETED):
            started_at = scheduled_at or NOW - 2 * HOUR
        if ends_at is not None and ends_at < (started_at or scheduled_at or ends_at):
            continue
        made.append(
            GroupSessionFactory(
                group=group,
                created_by=creator,
                session_type=SessionType.SCHEDULED if scheduled_at else SessionType.INSTANT,
                status=status,
                scheduled_at=scheduled_at,
                started_at=started_at,
                ends_at=ends_at,
            )
        )
    return made


def test_status_filter_in_sql_matches_effective_status_for_every_combination(group_with_roles):
    sessions = grid_sessions(group_with_roles["group"], group_with_roles["owner"])
    assert len(sessions) > 20

    for status in SessionStatus.values:
        listed = set(
            selectors.list_sessions(group=group_with_roles["group"], now=NOW, status=status).values_list(
                "pk", flat=True
            )
        )
        expected = {s.pk for s in sessions if s.effective_status(NOW) == status}
        assert listed == expected, status


def test_list_is_newest_first_with_counts_and_filters(group_with_roles):
    group, owner, member = group_with_roles["group"], group_with_roles["owner"], group_with_roles["member"]
    older = active_session(group=group, created_by=owner, title="Photosynthesis")
    newer = active_session(group=group, created_by=member, title="Mitosis")
    ParticipantFactory(session=older, user=member, completed_at=NOW, score=1, total=3)
    ParticipantFactory(session=older, user=owner)

    listed = list(selectors.list_sessions(group=group, now=NOW))

    assert listed == [newer, older]
    assert [(s.participant_count, s.completed_count) for s in listed] == [(0, 0), (2, 1)]
    assert list(selectors.list_sessions(group=group, now=NOW, created_by=member)) == [newer]
    assert list(selectors.list_sessions(group=group, now=NOW, search="photo")) == [older]


def test_access_session_needs_membership_and_the_right_group(group_with_roles):
    session = active_session(group=group_with_roles["group"], created_by=group_with_roles["owner"])

    membership, found = selectors.access_session(
        user=group_with_roles["member"], group_id=group_with_roles["group"].pk, session_id=session.pk
    )
    assert (membership.user, found) == (group_with_roles["member"], session)
    assert found.participant_count == 0

    with pytest.raises(NotFound):
        selectors.access_session(
            user=group_with_roles["outsider"], group_id=group_with_roles["group"].pk, session_id=session.pk
        )
    with pytest.raises(NotFound):
        selectors.access_session(
            user=group_with_roles["outsider"], group_id=group_with_roles["other_group"].pk, session_id=session.pk
        )


def test_participants_in_leaderboard_order_or_one_persons_row(group_with_roles):
    session = active_session(group=group_with_roles["group"], created_by=group_with_roles["owner"])
    late = ParticipantFactory(session=session, user=group_with_roles["admin"], completed_at=NOW, score=2, total=3)
    early = ParticipantFactory(
        session=session, user=group_with_roles["member"], completed_at=NOW - HOUR, score=2, total=3
    )
    unfinished = ParticipantFactory(session=session, user=group_with_roles["owner"])
    best = ParticipantFactory(
        session=session, user=group_with_roles["other_member"], completed_at=NOW, score=3, total=3
    )

    assert list(selectors.session_participants(session=session)) == [best, early, late, unfinished]
    assert list(selectors.session_participants(session=session, user=group_with_roles["admin"])) == [late]
