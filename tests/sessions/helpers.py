"""Builders shared by the session tests (tests/sessions and tests/api/test_*sessions*)."""

import datetime

from django.utils import timezone

from groups.models import Membership
from sessions.models import GroupSession, SessionStatus, SessionType
from tests.factories import GroupSessionFactory

SESSION_KEYS = {
    "id",
    "group_id",
    "title",
    "session_type",
    "status",
    "share_token",
    "join_url",
    "scheduled_at",
    "started_at",
    "ends_at",
    "ended_at",
    "duration_minutes",
    "question_count",
    "participant_count",
    "completed_count",
    "created_by",
    "created_at",
    "loop_data",
}
PARTICIPANT_KEYS = {"joined_at", "completed_at", "score", "total", "rounds", "mastered"}
PARTICIPANT_ROW_KEYS = PARTICIPANT_KEYS | {"user"}
ROUND_KEYS = {"round", "score", "total", "submitted_at"}
QUIZ_KEYS = {"token", "title", "open", "questions", "context"}
CONTEXT_KEYS = {"group", "session", "participant"}
RESULT_KEYS = {"score", "total", "results", "context"}
LOOP_RESULT_KEYS = RESULT_KEYS | {"round", "next_round", "counted_round"}

# Snapshot answers of tests.factories.snapshot_questions: question i's answer is i % 3.
QUESTIONS = [
    {"prompt": "Capital of France?", "choices": ["Lyon", "Paris", "Nice"], "answer": 1, "explanation": "Paris."},
    {"prompt": "2 + 2?", "choices": ["4", "5"], "answer": 0, "explanation": "Four."},
    {"prompt": "Largest planet?", "choices": ["Mars", "Jupiter"], "answer": 1},
]


def membership_of(user, group) -> Membership:
    return Membership.objects.select_related("group").get(user=user, group=group)


def right_answers(session: GroupSession, ids=None) -> list[dict]:
    return [
        {"question_id": q["id"], "choice": q["answer"]} for q in session.questions_data if ids is None or q["id"] in ids
    ]


def wrong_answers(session: GroupSession, ids=None) -> list[dict]:
    return [
        {"question_id": q["id"], "choice": (q["answer"] + 1) % len(q["choices"])}
        for q in session.questions_data
        if ids is None or q["id"] in ids
    ]


def scheduled_session(*, group, created_by, starts_in=datetime.timedelta(hours=1), duration=30, **kwargs):
    """A scheduled session `starts_in` from now (negative: its time has come, but nothing persisted it)."""
    at = timezone.now() + starts_in
    return GroupSessionFactory(
        group=group,
        created_by=created_by,
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=at,
        started_at=None,
        duration_minutes=duration,
        ends_at=at + datetime.timedelta(minutes=duration) if duration else None,
        **kwargs,
    )


def active_session(*, group, created_by, **kwargs) -> GroupSession:
    return GroupSessionFactory(group=group, created_by=created_by, **kwargs)


def study_loop_session(*, group, created_by, max_rounds=3, **kwargs) -> GroupSession:
    loop = {"mode": "until_mastered"}
    if max_rounds is not None:
        loop["max_rounds"] = max_rounds
    return GroupSessionFactory(group=group, created_by=created_by, loop_data=loop, **kwargs)


def quiz_api_url(session: GroupSession, *, submit=False, group_id=None, session_id=None, slash="") -> str:
    """The group flow's API URL with the join link's query (ids overridable to test mismatches)."""
    path = f"/api/questions/{session.share_token}{'/submit' if submit else ''}{slash}"
    group_id = session.group_id if group_id is None else group_id
    session_id = session.pk if session_id is None else session_id
    return f"{path}?groupId={group_id}&sessionId={session_id}"
