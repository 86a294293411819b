"""Reads of group sessions shared by the API, the pages, the admin and the tasks.

A session's stored status is what the last transition wrote; the status the world sees is derived
from the stored times at a moment (`GroupSession.effective_status`). Filters on status here express
that same derivation in SQL, so a list can be filtered and paginated by the true status even when no
worker has persisted the transition yet.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F, Q, QuerySet

from groups.models import Group, Membership
from groups.permissions import SessionAction, access_group, require_session
from quizsite import rows
from quizsite.errors import NotFound

from .models import GroupSession, Participant, SessionStatus, SessionType


def effective_status_q(status: str, now: datetime) -> Q:
    """Rows whose `effective_status(now)` is `status`; mirrors GroupSession.effective_status."""
    not_expired = Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    if status == SessionStatus.CANCELLED:
        return Q(status=SessionStatus.CANCELLED)
    if status == SessionStatus.COMPLETED:
        return Q(status=SessionStatus.COMPLETED) | Q(
            status__in=[SessionStatus.SCHEDULED, SessionStatus.ACTIVE], ends_at__lte=now
        )
    if status == SessionStatus.ACTIVE:
        started = Q(status=SessionStatus.ACTIVE) | Q(status=SessionStatus.SCHEDULED, scheduled_at__lte=now)
        return started & not_expired
    if status == SessionStatus.SCHEDULED:
        not_due = Q(scheduled_at__isnull=True) | Q(scheduled_at__gt=now)
        return Q(status=SessionStatus.SCHEDULED) & not_due & not_expired
    raise ValueError(f"Unknown session status {status!r}")


User = get_user_model()
_GROUP_FIELDS = ("id", "name")
_CREATOR_FIELDS = ("id", "username")


@dataclass(frozen=True)
class Caller:
    """Who opened a join link, as read together with the session: their role in its group (None: not a
    member) and their participant row (None: not joined yet)."""

    user_id: int
    role: str | None
    participant: Participant | None


def get_session_by_token(*, share_token: str, user=None) -> GroupSession | None:
    """The session behind a join link, with its group and creator (only what a quiz shows of them) and,
    for a signed-in `user`, `session.caller` (a `Caller`).

    Every join and submit starts here, so it is one hand-written query (see quizsite.rows)."""
    user_id = user.pk if user is not None and user.is_authenticated else None
    query = f"""
        SELECT {rows.select_list(GroupSession, "s")}, {rows.select_list(Group, "g", _GROUP_FIELDS)},
               {rows.select_list(User, "u", _CREATOR_FIELDS)}, m.role, {rows.select_list(Participant, "p")}
          FROM {GroupSession._meta.db_table} s
          JOIN {Group._meta.db_table} g ON g.id = s.group_id
          LEFT JOIN {User._meta.db_table} u ON u.id = s.created_by_id
          LEFT JOIN {Membership._meta.db_table} m ON m.group_id = s.group_id AND m.user_id = %s
          LEFT JOIN {Participant._meta.db_table} p ON p.session_id = s.id AND p.user_id = %s
         WHERE s.share_token = %s"""
    with connection.cursor() as cursor:
        cursor.execute(query, [user_id, user_id, share_token])
        row = cursor.fetchone()
    if row is None:
        return None
    session_end = len(rows.field_names(GroupSession))
    group_end = session_end + len(_GROUP_FIELDS)
    creator_end = group_end + len(_CREATOR_FIELDS)
    session = rows.instance(GroupSession, row[:session_end])
    session.group = rows.instance(Group, row[session_end:group_end], _GROUP_FIELDS)
    has_creator = row[group_end] is not None
    session.created_by = rows.instance(User, row[group_end:creator_end], _CREATOR_FIELDS) if has_creator else None
    if user_id is not None:
        participant_row = row[creator_end + 1 :]
        participant = rows.instance(Participant, participant_row) if participant_row[0] is not None else None
        session.caller = Caller(user_id=user_id, role=row[creator_end], participant=participant)
    return session


def caller_of(session: GroupSession, user) -> Caller | None:
    """`session.caller` when it was read for this very `user` (else None: ask the database)."""
    caller = getattr(session, "caller", None)
    return caller if caller is not None and caller.user_id == user.pk else None


def get_session(*, session_id: int, group_id: int | None = None) -> GroupSession:
    """One session with its group and creator loaded; NotFound if absent (or not of `group_id`)."""
    sessions = GroupSession.objects.select_related("group", "created_by")
    if group_id is not None:
        sessions = sessions.filter(group_id=group_id)
    session = sessions.filter(pk=session_id).first()
    if session is None:
        raise NotFound("Session not found.")
    return session


def access_session(*, user, group_id: int, session_id: int) -> tuple[Membership, GroupSession]:
    """The caller's membership and the session, with counts; NotFound unless a member of its group."""
    membership = access_group(user=user, group_id=group_id)
    session = get_session(session_id=session_id, group_id=group_id)
    require_session(membership, SessionAction.VIEW, session)
    return membership, session


def list_sessions(
    *,
    group: Group,
    now: datetime,
    status: str | None = None,
    session_type: str | None = None,
    created_by=None,
    search: str | None = None,
) -> QuerySet[GroupSession]:
    """Sessions of a group, newest first, creator loaded; `status` is the effective status at `now`."""
    sessions = GroupSession.objects.filter(group=group).select_related("created_by")
    if status:
        sessions = sessions.filter(effective_status_q(status, now))
    if session_type:
        sessions = sessions.filter(session_type=session_type)
    if created_by is not None:
        sessions = sessions.filter(created_by=created_by)
    if search:
        sessions = sessions.filter(title__icontains=search)
    return sessions.order_by("-created_at", "-id")


def session_participants(*, session: GroupSession, user=None) -> QuerySet[Participant]:
    """Participants in leaderboard order (score desc, earliest finisher first), user and rounds loaded."""
    participants = (
        Participant.objects.filter(session=session)
        .select_related("user")
        .prefetch_related("rounds")
        .order_by(F("score").desc(nulls_last=True), F("completed_at").asc(nulls_last=True), "joined_at", "id")
    )
    if user is not None:
        participants = participants.filter(user=user)
    return participants


def get_participant(*, session: GroupSession, user) -> Participant | None:
    if user is None or not user.is_authenticated:
        return None
    return session_participants(session=session, user=user).first()


def find_participant(*, session: GroupSession, user, lock: bool = False) -> Participant | None:
    """The user's participant row alone (no user, no rounds); `lock`: FOR UPDATE, inside a transaction.

    Read on every join and submit, so hand-written (see quizsite.rows)."""
    query = (
        f"SELECT {rows.select_list(Participant, 'p')} FROM {Participant._meta.db_table} p"
        " WHERE p.session_id = %s AND p.user_id = %s"
        # SQLite (development) has no row locks: it runs one writer at a time.
        + (" FOR UPDATE" if lock and connection.features.has_select_for_update else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [session.pk, user.pk])
        row = cursor.fetchone()
    return None if row is None else rows.instance(Participant, row)


DEFAULT_MAX_ROUNDS = 3
MAX_ROUNDS = 10


def max_rounds(session: GroupSession) -> int:
    """How many rounds a participant may take: 1, or the study loop's `max_rounds` (default 3)."""
    if not session.is_study_loop:
        return 1
    return int(session.loop_data.get("max_rounds") or DEFAULT_MAX_ROUNDS)


@dataclass(frozen=True)
class StudyProgress:
    """Where a participant stands in a session's rounds (a session without a study loop has one)."""

    rounds_done: int
    max_rounds: int
    missed_ids: tuple[int, ...]
    """Questions not answered right in any round so far, in snapshot order."""

    @property
    def mastered(self) -> bool:
        return self.rounds_done > 0 and not self.missed_ids

    @property
    def next_round(self) -> int | None:
        """The round on offer now, if any: only after round 1, while something is missed and rounds remain."""
        if self.rounds_done == 0 or not self.missed_ids or self.rounds_done >= self.max_rounds:
            return None
        return self.rounds_done + 1


def study_progress(
    *, session: GroupSession, participant: Participant | None, rounds: list | None = None
) -> StudyProgress:
    """Derived from the stored rounds and the snapshot's answers (uses prefetched `rounds` if loaded).

    `rounds`: the participant's rounds when the caller holds them already (no query then).
    """
    if rounds is None:
        rounds = participant.round_list if participant is not None else []
    answer_of = {int(q["id"]): q["answer"] for q in session.questions_data}
    right = {
        int(a["question_id"])
        for r in rounds
        for a in (r.answers or [])
        if answer_of.get(int(a["question_id"])) == a.get("choice")
    }
    return StudyProgress(
        rounds_done=max((r.round for r in rounds), default=0),
        max_rounds=max_rounds(session),
        missed_ids=tuple(qid for qid in answer_of if qid not in right),
    )


def round_questions(*, session: GroupSession, progress: StudyProgress, round: int) -> list[dict]:
    """The snapshot questions of `round`: all of them for round 1, the ones missed so far after that."""
    if round == 1:
        return list(session.questions_data)
    missed = set(progress.missed_ids)
    return [q for q in session.questions_data if int(q["id"]) in missed]


def due_session_ids(*, now: datetime) -> dict[str, list[int]]:
    """Ids whose stored status lags behind the effective one: scheduled and due, or past their end."""
    expired = GroupSession.objects.filter(
        status__in=[SessionStatus.SCHEDULED, SessionStatus.ACTIVE], ends_at__lte=now
    ).values_list("pk", flat=True)
    due = (
        GroupSession.objects.filter(status=SessionStatus.SCHEDULED, scheduled_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .values_list("pk", flat=True)
    )
    return {"due": list(due.order_by("scheduled_at")), "expired": list(expired.order_by("ends_at"))}


__all__ = [
    "SessionStatus",
    "SessionType",
    "StudyProgress",
    "Caller",
    "access_session",
    "caller_of",
    "due_session_ids",
    "effective_status_q",
    "get_participant",
    "find_participant",
    "get_session",
    "get_session_by_token",
    "list_sessions",
    "max_rounds",
    "round_questions",
    "session_participants",
    "study_progress",
]
