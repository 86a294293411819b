"""Every write on group sessions: creating them, their lifecycle, joining and submitting.

Keyword-only functions, one transaction each, raising domain errors (quizsite.errors) that the API,
the pages and the admin map to status codes. Lifecycle transitions are conditional UPDATEs on the
stored status, so when two requests race exactly one makes the transition and the other either finds
the work done (an idempotent answer) or gets a Conflict: never a 500.

Staff actions in the admin pass `by_staff=True` (Django's own admin permissions vouched for them);
everyone else is checked by `groups.permissions`, the one place that says who may do what.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from groups.models import Membership
from groups.permissions import GroupAction, SessionAction, get_membership, require_group, require_session
from questions.models import QuestionSet
from questions.scoring import ScoredSubmission, score_submission
from questions.selectors import question_dicts
from questions.validation import QuestionListField
from quizsite import rows
from quizsite.errors import AlreadySubmitted, Conflict, InvalidInput, NotFound, SessionNotOpen

from . import tasks
from .models import (
    MAX_DURATION_MINUTES,
    GroupSession,
    Participant,
    ParticipantRound,
    SessionStatus,
    SessionType,
)
from .selectors import (
    MAX_ROUNDS,
    StudyProgress,
    caller_of,
    due_session_ids,
    find_participant,
    round_questions,
    study_progress,
)

LOOP_DATA_MAX_BYTES = 16 * 1024
TITLE_MAX_LENGTH = 200
UNTITLED = "Untitled session"
# Far enough for any real plan; also keeps start + duration (and every timer) inside datetime's range.
MAX_SCHEDULE_AHEAD = timedelta(days=5 * 365)


class _Unset:
    def __repr__(self):
        return "UNSET"


UNSET = _Unset()
"""Default of `update_session` fields: "leave as it is" (None means "clear", for duration_minutes)."""


@dataclass(frozen=True)
class SubmissionOutcome:
    participant: Participant
    round: int
    scored: ScoredSubmission
    progress: StudyProgress
    """Standing after this round: `progress.next_round` is the round now on offer, if any."""
    next_round_questions: list[dict]
    """Snapshot questions (answers included: make them public before sending) of the next round."""

    @property
    def next_round(self) -> int | None:
        return self.progress.next_round


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _on_commit(hook, session_id: int) -> None:
    # Looked up at call time, so the hooks the Celery work installs in sessions.tasks are the ones run.
    transaction.on_commit(partial(getattr(tasks, hook), session_id))


def _authorize(membership: Membership | None, action: SessionAction, session: GroupSession, *, by_staff: bool):
    if not by_staff:
        require_session(membership, action, session)


def _require_member(
    *, user, session: GroupSession, action: SessionAction, membership: Membership | None = None
) -> Membership:
    # A caller that has just fetched the membership (the API checks access first) spares a query; any
    # membership that is not this user's in this group is looked up again, so it can never grant access.
    if membership is None or membership.user_id != user.pk or membership.group_id != session.group_id:
        membership = get_membership(user=user, group_id=session.group_id)
    require_session(membership, action, session)
    return membership


# --- Field rules -----------------------------------------------------------------------------------


def _clean_title(title, *, required: bool) -> str:
    if title is None:
        title = ""
    if not isinstance(title, str):
        raise InvalidInput("Not a valid string.", field="title")
    title = title.strip()
    if len(title) > TITLE_MAX_LENGTH:
        raise InvalidInput(f"Ensure this field has no more than {TITLE_MAX_LENGTH} characters.", field="title")
    if required and not title:
        raise InvalidInput("This field may not be blank.", field="title")
    return title


def _clean_duration(duration_minutes) -> int | None:
    if duration_minutes is None:
        return None
    if isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int):
        raise InvalidInput("A valid integer is required.", field="duration_minutes")
    if not 1 <= duration_minutes <= MAX_DURATION_MINUTES:
        raise InvalidInput(f"Must be between 1 and {MAX_DURATION_MINUTES} minutes.", field="duration_minutes")
    return duration_minutes


def _clean_future_time(value, *, now: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput("A valid date and time is required.", field="scheduled_at")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value <= now:
        raise InvalidInput("Must be in the future.", field="scheduled_at")
    if value > now + MAX_SCHEDULE_AHEAD:
        raise InvalidInput(f"Must be within {MAX_SCHEDULE_AHEAD.days // 365} years from now.", field="scheduled_at")
    return value


def _clean_loop_data(loop_data) -> dict | None:
    if loop_data is None:
        return None
    if not isinstance(loop_data, dict):
        raise InvalidInput("Must be an object.", field="loop_data")
    try:
        size = len(json.dumps(loop_data, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError) as error:
        raise InvalidInput("Must be plain JSON.", field="loop_data") from error
    if size > LOOP_DATA_MAX_BYTES:
        raise InvalidInput(f"Must be at most {LOOP_DATA_MAX_BYTES} bytes once serialized.", field="loop_data")
    if _has_nul(loop_data):
        # PostgreSQL's jsonb cannot store U+0000.
        raise InvalidInput("Null characters are not allowed.", field="loop_data")
    if loop_data.get("mode") == "until_mastered" and "max_rounds" in loop_data:
        max_rounds = loop_data["max_rounds"]
        if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or not 1 <= max_rounds <= MAX_ROUNDS:
            raise InvalidInput(f"max_rounds must be an integer from 1 to {MAX_ROUNDS}.", field="loop_data")
    return loop_data


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _first_message(detail, path: tuple = ()) -> str:
    """The first message of a (nested) DRF error detail, prefixed with where it was found."""
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        return _first_message(value, (*path, key))
    if isinstance(detail, list) and detail:
        return _first_message(detail[0], path)
    where = ", ".join(f"question {key + 1}" if isinstance(key, int) else str(key) for key in path)
    return f"{where}: {detail}" if where else str(detail)


def _clean_questions(questions) -> list[dict]:
    """The contract's question rules (questions.validation), for callers that did not run them."""
    try:
        validated = QuestionListField().run_validation(questions)
    except ValidationError as error:
        raise InvalidInput(_first_message(error.detail), field="questions") from error
    return [dict(question) for question in validated]


def _snapshot(questions: list[dict]) -> list[dict]:
    """The session's own copy, numbered 1..n: later edits to a source set never reach it."""
    return [
        {
            "id": number,
            "prompt": question["prompt"],
            "choices": list(question["choices"]),
            "answer": question["answer"],
            "explanation": question.get("explanation") or "",
        }
        for number, question in enumerate(questions, start=1)
    ]


def _ends_at(start: datetime | None, duration_minutes: int | None) -> datetime | None:
    if start is None or duration_minutes is None:
        return None
    return start + timedelta(minutes=duration_minutes)


# --- Creating --------------------------------------------------------------------------------------


def create_session(
    *,
    membership: Membership,
    title: str = "",
    session_type: str,
    share_token: str | None = None,
    question_set: QuestionSet | None = None,
    questions: list[dict] | None = None,
    scheduled_at: datetime | None = None,
    duration_minutes: int | None = None,
    loop_data: dict | None = None,
    now: datetime | None = None,
) -> GroupSession:
    """A session of the member's group from exactly one source: a set's share token, a set, or questions."""
    now = _now(now)
    require_group(membership, GroupAction.CREATE_SESSION)

    given = [source for source in (share_token, question_set, questions) if source is not None]
    if len(given) != 1:
        raise InvalidInput("Give exactly one of share_token or questions.")
    if share_token is not None:
        question_set = QuestionSet.objects.filter(token=str(share_token)[:64]).first() if share_token else None
        if question_set is None:
            raise InvalidInput("No question set has this token.", field="share_token")
    if question_set is not None:
        source_questions = question_dicts(question_set=question_set)
        if not source_questions:
            raise InvalidInput("This question set has no questions.", field="share_token")
    else:
        source_questions = _clean_questions(questions)

    if session_type not in SessionType.values:
        raise InvalidInput(f'"{session_type}" is not a valid choice.', field="session_type")
    title = _clean_title(title, required=False) or (question_set.title if question_set else UNTITLED)
    duration_minutes = _clean_duration(duration_minutes)
    loop_data = _clean_loop_data(loop_data)

    if session_type == SessionType.SCHEDULED:
        if scheduled_at is None:
            raise InvalidInput("Required for a scheduled session.", field="scheduled_at")
        scheduled_at = _clean_future_time(scheduled_at, now=now)
        timing = {"status": SessionStatus.SCHEDULED, "scheduled_at": scheduled_at, "started_at": None}
        start = scheduled_at
    else:
        if scheduled_at is not None:
            raise InvalidInput("Only a scheduled session takes a start time.", field="scheduled_at")
        timing = {"status": SessionStatus.ACTIVE, "scheduled_at": None, "started_at": now}
        start = now

    with transaction.atomic():
        session = GroupSession.objects.create(
            group_id=membership.group_id,
            title=title,
            session_type=session_type,
            source_set=question_set,
            questions_data=_snapshot(source_questions),
            loop_data=loop_data,
            duration_minutes=duration_minutes,
            ends_at=_ends_at(start, duration_minutes),
            created_by_id=membership.user_id,
            **timing,
        )
        if session.status == SessionStatus.ACTIVE:
            _on_commit("announce_session_opened", session.pk)
        if session.scheduled_at is not None or session.ends_at is not None:
            _on_commit("schedule_session_timers", session.pk)
    return session


# --- Lifecycle -------------------------------------------------------------------------------------

_TRANSITION_ACTIONS = {
    (SessionStatus.SCHEDULED, SessionStatus.ACTIVE): SessionAction.START,
    (SessionStatus.SCHEDULED, SessionStatus.CANCELLED): SessionAction.CANCEL,
    (SessionStatus.ACTIVE, SessionStatus.COMPLETED): SessionAction.END,
}


_RELOADED = (
    "status",
    "scheduled_at",
    "started_at",
    "duration_minutes",
    "ends_at",
    "ended_at",
    *GroupSession.COUNTER_FIELDS,
)


def _reload(session: GroupSession, *, hold: bool = False) -> GroupSession:
    """Refresh the lifecycle columns and counters of `session` in place; NotFound if it was deleted meanwhile.

    `hold`: also keep the row from being deleted until the transaction ends. Django checks foreign keys
    at COMMIT, so without this a participant or round written while an admin deletes the session fails
    the commit with an IntegrityError (a 500). FOR KEY SHARE is the lock such a check takes: it waits
    for a delete in progress, and holders do not wait for one another, so a crowd submitting at once is
    not serialised. Same query either way: the hot path pays one round trip.
    """
    if hold and connection.vendor == "postgresql":  # SQLite (development) runs one writer at a time anyway
        columns = ", ".join(connection.ops.quote_name(name) for name in _RELOADED)
        table = connection.ops.quote_name(GroupSession._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM {table} WHERE id = %s FOR KEY SHARE", [session.pk])
            values = cursor.fetchone()
        row = None if values is None else dict(zip(_RELOADED, values, strict=True))
    else:
        row = GroupSession.objects.filter(pk=session.pk).values(*_RELOADED).first()
    if row is None:
        raise NotFound("Session not found.")
    for name, value in row.items():
        setattr(session, name, value)
    return session


def _hold_for_submission(session: GroupSession, user) -> Participant | None:
    """`_reload(session, hold=True)` and the caller's participant row locked FOR UPDATE, in one statement
    when the row exists (every submit after a join); None when the caller has no participant row yet."""
    if connection.vendor != "postgresql":  # SQLite (development): no row locks, one writer at a time
        _reload(session)
        return find_participant(session=session, user=user)
    query = (
        f"SELECT {rows.select_list(GroupSession, 's', _RELOADED)}, {rows.select_list(Participant, 'p')}"
        f" FROM {GroupSession._meta.db_table} s"
        f" JOIN {Participant._meta.db_table} p ON p.session_id = s.id AND p.user_id = %s"
        " WHERE s.id = %s FOR KEY SHARE OF s FOR UPDATE OF p"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [user.pk, session.pk])
        row = cursor.fetchone()
    if row is None:  # no participant row yet (or no session: _reload says which)
        _reload(session, hold=True)
        return None
    for name, value in zip(_RELOADED, row, strict=False):
        setattr(session, name, value)
    return rows.instance(Participant, row[len(_RELOADED) :])


_ROUND_FIELDS = ("participant_id", "round", "question_ids", "answers", "score", "total", "submitted_at")


def _store_round(submitted: ParticipantRound, participant: Participant, fields: tuple[str, ...]) -> None:
    """Insert `submitted` and write `fields` of `participant`: one statement on PostgreSQL. Hand-written
    (quizsite.rows): the ORM's save and create cost three times their round trips on every submit."""
    insert_sql, insert_params = rows.insert(submitted, _ROUND_FIELDS)
    update_sql, update_params = rows.update(participant, fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH submitted AS ({insert_sql} RETURNING id) {update_sql} RETURNING (SELECT id FROM submitted)",
                [*insert_params, *update_params],
            )
            (submitted.pk,) = cursor.fetchone()
        else:
            cursor.execute(f"{insert_sql} RETURNING id", insert_params)
            (submitted.pk,) = cursor.fetchone()
            cursor.execute(update_sql, update_params)
    rows.mark_saved(submitted)


def _not_expired(now: datetime) -> Q:
    return Q(ends_at__isnull=True) | Q(ends_at__gt=now)


def _same_duration(duration_minutes: int | None) -> Q:
    if duration_minutes is None:
        return Q(duration_minutes__isnull=True)
    return Q(duration_minutes=duration_minutes)


def _closed_message(session: GroupSession, status: str) -> str:
    if status == SessionStatus.CANCELLED:
        return "This session was cancelled."
    if status == SessionStatus.COMPLETED:
        return "This session has already ended."
    return "This session has not started yet."


# A concurrent edit can change the row between our read and our conditional update; re-reading and
# deciding again a couple of times settles it (the row's status only ever moves forward).
_ATTEMPTS = 3


def _transition(session: GroupSession, *, now: datetime, doing: str, attempt) -> GroupSession:
    """Run `attempt(effective status)` on freshly read rows until it reports the session settled (True),
    in one transaction; it returns False when its conditional update lost a race, and raises Conflict
    when the move is not allowed from where the session stands."""
    with transaction.atomic():
        for _attempt in range(_ATTEMPTS):
            if attempt(_reload(session).effective_status(now)):
                return _reload(session)
    raise Conflict(f"The session changed while {doing} it; try again.")


def start_session(
    *, membership: Membership | None, session: GroupSession, now: datetime | None = None, by_staff: bool = False
) -> GroupSession:
    """Open a scheduled session now. Already open: nothing to do. Ended or cancelled: Conflict."""
    now = _now(now)
    _authorize(membership, SessionAction.START, session, by_staff=by_staff)

    def attempt(status: str) -> bool:
        if status == SessionStatus.ACTIVE:
            if session.status == SessionStatus.SCHEDULED:
                open_due_session(session_id=session.pk, now=now)
            return True
        if status != SessionStatus.SCHEDULED:
            raise Conflict(_closed_message(session, status))
        started = (
            GroupSession.objects.filter(pk=session.pk, status=SessionStatus.SCHEDULED, scheduled_at__gt=now)
            .filter(_same_duration(session.duration_minutes))
            .update(status=SessionStatus.ACTIVE, started_at=now, ends_at=_ends_at(now, session.duration_minutes))
        )
        if started:
            _on_commit("announce_session_opened", session.pk)
            _on_commit("schedule_session_timers", session.pk)
        return bool(started)

    return _transition(session, now=now, doing="starting", attempt=attempt)


def end_session(
    *, membership: Membership | None, session: GroupSession, now: datetime | None = None, by_staff: bool = False
) -> GroupSession:
    """End an open session now. Already over: nothing to do. Not started or cancelled: Conflict."""
    now = _now(now)
    _authorize(membership, SessionAction.END, session, by_staff=by_staff)

    def attempt(status: str) -> bool:
        if status == SessionStatus.COMPLETED:
            if session.status != SessionStatus.COMPLETED:
                complete_expired_session(session_id=session.pk, now=now)
            return True
        if status != SessionStatus.ACTIVE:
            raise Conflict(
                "This session has not started yet; cancel it instead."
                if status == SessionStatus.SCHEDULED
                else _closed_message(session, status)
            )
        open_now = Q(status=SessionStatus.ACTIVE) | Q(status=SessionStatus.SCHEDULED, scheduled_at__lte=now)
        ended = (
            GroupSession.objects.filter(pk=session.pk)
            .filter(open_now & _not_expired(now))
            .update(
                status=SessionStatus.COMPLETED, started_at=Coalesce(F("started_at"), F("scheduled_at")), ended_at=now
            )
        )
        if ended:
            _on_commit("announce_session_completed", session.pk)
        return bool(ended)

    return _transition(session, now=now, doing="ending", attempt=attempt)


def cancel_session(
    *, membership: Membership | None, session: GroupSession, now: datetime | None = None, by_staff: bool = False
) -> GroupSession:
    """Call off a session that has not started. Already cancelled: nothing to do. Started: Conflict."""
    now = _now(now)
    _authorize(membership, SessionAction.CANCEL, session, by_staff=by_staff)

    def attempt(status: str) -> bool:
        if status == SessionStatus.CANCELLED:
            return True
        if status != SessionStatus.SCHEDULED:
            raise Conflict(
                "This session has already started; end it instead."
                if status == SessionStatus.ACTIVE
                else _closed_message(session, status)
            )
        return bool(
            GroupSession.objects.filter(pk=session.pk, status=SessionStatus.SCHEDULED, scheduled_at__gt=now).update(
                status=SessionStatus.CANCELLED
            )
        )

    return _transition(session, now=now, doing="cancelling", attempt=attempt)


def delete_session(*, membership: Membership | None, session: GroupSession, by_staff: bool = False) -> None:
    """Remove the session with its participation rows (a second delete finds nothing: no error)."""
    _authorize(membership, SessionAction.DELETE, session, by_staff=by_staff)
    with transaction.atomic():
        # Lock the row before Django collects what to cascade: a submission in flight (which holds the row,
        # see _reload) commits first and its rows are collected; uncollected, they would fail the DELETE.
        if list(GroupSession.objects.select_for_update().filter(pk=session.pk).values_list("pk", flat=True)):
            GroupSession.objects.filter(pk=session.pk).delete()


def update_session(
    *,
    membership: Membership | None,
    session: GroupSession,
    title=UNSET,
    scheduled_at=UNSET,
    duration_minutes=UNSET,
    status=UNSET,
    now: datetime | None = None,
    by_staff: bool = False,
) -> GroupSession:
    """The contract's PUT/PATCH: edit fields and/or make a status transition; values equal to the
    current ones are no-ops, so sending back a session as it was read changes nothing."""
    now = _now(now)
    _authorize(membership, SessionAction.EDIT, session, by_staff=by_staff)
    with transaction.atomic():
        current = GroupSession.objects.select_for_update().filter(pk=session.pk).first()
        if current is None:
            raise NotFound("Session not found.")
        effective = current.effective_status(now)
        changed: list[str] = []

        transition = None
        if status is not UNSET and status != effective:
            transition = _TRANSITION_ACTIONS.get((effective, status))
            if transition is None:
                valid = ", ".join(f"{a}→{b}" for a, b in _TRANSITION_ACTIONS)
                raise InvalidInput(
                    f"A {effective} session cannot become {status!s} (allowed: {valid}).", field="status"
                )
            _authorize(membership, transition, current, by_staff=by_staff)

        if title is not UNSET:
            title = _clean_title(title, required=True)
            if title != current.title:
                current.title = title
                changed.append("title")

        timers_changed = False
        if scheduled_at is not UNSET and scheduled_at != current.scheduled_at:
            if current.status != SessionStatus.SCHEDULED or effective != SessionStatus.SCHEDULED:
                raise InvalidInput("Only a session that has not started can be rescheduled.", field="scheduled_at")
            if scheduled_at is None:
                raise InvalidInput("A scheduled session needs a start time.", field="scheduled_at")
            current.scheduled_at = _clean_future_time(scheduled_at, now=now)
            current.ends_at = _ends_at(current.scheduled_at, current.duration_minutes)
            changed += ["scheduled_at", "ends_at"]
            timers_changed = True

        if duration_minutes is not UNSET and duration_minutes != current.duration_minutes:
            duration_minutes = _clean_duration(duration_minutes)
            if effective in (SessionStatus.COMPLETED, SessionStatus.CANCELLED):
                raise InvalidInput("The session is over; its duration can no longer change.", field="duration_minutes")
            start = current.effective_started_at(now) if effective == SessionStatus.ACTIVE else current.scheduled_at
            ends_at = _ends_at(start, duration_minutes)
            if ends_at is not None and ends_at <= now:
                raise InvalidInput("That would end the session in the past; end it instead.", field="duration_minutes")
            current.duration_minutes = duration_minutes
            current.ends_at = ends_at
            changed += ["duration_minutes", "ends_at"]
            timers_changed = True

        if changed:
            current.save(update_fields=sorted(set(changed)))
        if timers_changed and transition is None:
            _on_commit("schedule_session_timers", current.pk)

        if transition == SessionAction.START:
            start_session(membership=membership, session=current, now=now, by_staff=True)
        elif transition == SessionAction.END:
            end_session(membership=membership, session=current, now=now, by_staff=True)
        elif transition == SessionAction.CANCEL:
            cancel_session(membership=membership, session=current, now=now, by_staff=True)
    return current


# --- Actor-less transitions (Celery, the sweep) ----------------------------------------------------


def open_due_session(*, session_id: int, now: datetime | None = None) -> bool:
    """Persist the opening of a scheduled session whose time has come; True if this call did it."""
    now = _now(now)
    with transaction.atomic():
        opened = (
            GroupSession.objects.filter(pk=session_id, status=SessionStatus.SCHEDULED, scheduled_at__lte=now)
            .filter(_not_expired(now))
            .update(status=SessionStatus.ACTIVE, started_at=F("scheduled_at"))
        )
        if opened:
            _on_commit("announce_session_opened", session_id)
    return bool(opened)


def complete_expired_session(*, session_id: int, now: datetime | None = None) -> bool:
    """Persist the end of a session past its `ends_at`; True if this call did it."""
    now = _now(now)
    with transaction.atomic():
        completed = GroupSession.objects.filter(
            pk=session_id, status__in=[SessionStatus.SCHEDULED, SessionStatus.ACTIVE], ends_at__lte=now
        ).update(
            status=SessionStatus.COMPLETED,
            started_at=Coalesce(F("started_at"), F("scheduled_at")),
            ended_at=F("ends_at"),
        )
        if completed:
            _on_commit("announce_session_completed", session_id)
    return bool(completed)


def sweep_sessions(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Catch every stored status up with the clock: `{"opened": [ids], "completed": [ids]}` by this call."""
    now = _now(now)
    due = due_session_ids(now=now)
    return {
        "opened": [pk for pk in due["due"] if open_due_session(session_id=pk, now=now)],
        "completed": [pk for pk in due["expired"] if complete_expired_session(session_id=pk, now=now)],
    }


# --- Taking part ----------------------------------------------------------------------------------


def join_session(
    *, user, session: GroupSession, membership: Membership | None = None, now: datetime | None = None
) -> Participant:
    """The member's participant row, made on first call; a session that is over takes no newcomers."""
    now = _now(now)
    _require_member(user=user, session=session, action=SessionAction.JOIN, membership=membership)
    # Most calls are a member coming back: one read (none when it came with the session), no transaction.
    caller = caller_of(session, user)
    existing = caller.participant if caller is not None else find_participant(session=session, user=user)
    if existing is not None:
        return existing
    with transaction.atomic():
        status = _reload(session, hold=True).effective_status(now)
        if status in (SessionStatus.COMPLETED, SessionStatus.CANCELLED):
            raise SessionNotOpen(_closed_message(session, status))
        # get_or_create falls back to a read when a concurrent join wins the unique constraint.
        participant, created = Participant.objects.get_or_create(session=session, user=user)
    if created:
        session.participant_count += 1  # the trigger's count, as of this join (read above, under the lock)
    return participant


def _not_open_message(session: GroupSession, status: str) -> str:
    if status == SessionStatus.SCHEDULED:
        return "This session has not opened yet."
    if status == SessionStatus.CANCELLED:
        return "This session was cancelled."
    return "This session has ended."


def record_submission(
    *,
    user,
    session: GroupSession,
    answers: list[dict],
    round: int | None = None,
    membership: Membership | None = None,
    now: datetime | None = None,
) -> SubmissionOutcome:
    """Score `answers` on the snapshot and store them on the caller's participant row.

    Round 1 is the scored one (answers, score, total, completed_at on the participant, and its round
    row); later rounds are the study loop's, each only while on offer. A round already submitted raises
    AlreadySubmitted and leaves every stored row as it was.
    """
    now = _now(now)
    round_number = 1 if round is None else round
    _require_member(user=user, session=session, action=SessionAction.JOIN, membership=membership)
    with transaction.atomic():
        # Concurrent submits of one member queue on the participant row; each sees what the one before it
        # committed.
        participant = _hold_for_submission(session, user)
        status = session.effective_status(now)
        if status != SessionStatus.ACTIVE:
            raise SessionNotOpen(_not_open_message(session, status))
        if participant is None:  # submitting without having opened the quiz first
            _joined, created = Participant.objects.get_or_create(session=session, user=user)
            participant = find_participant(session=session, user=user, lock=True)
            session.participant_count += created
        rounds = participant.round_list
        before = study_progress(session=session, participant=participant, rounds=rounds)
        if round_number <= before.rounds_done:
            raise AlreadySubmitted(
                "You have already submitted this session."
                if round_number == 1
                else f"You have already submitted round {round_number}."
            )
        on_offer = 1 if before.rounds_done == 0 else before.next_round
        if round_number != on_offer:
            raise Conflict(f"Round {round_number} is not on offer.")

        questions = round_questions(session=session, progress=before, round=round_number)
        scored = score_submission(questions, answers)
        submitted = ParticipantRound(
            participant=participant,
            round=round_number,
            question_ids=[int(q["id"]) for q in questions],
            answers=scored.answers,
            score=scored.score,
            total=scored.total,
            submitted_at=now,
        )
        after = study_progress(session=session, participant=participant, rounds=[*rounds, submitted])
        fields = ("mastered",)
        participant.mastered = after.mastered
        if round_number == 1:
            participant.answers = scored.answers
            participant.score = scored.score
            participant.total = scored.total
            participant.completed_at = now
            fields += ("answers", "score", "total", "completed_at")
        try:
            _store_round(submitted, participant, fields)
        except IntegrityError as error:
            # The row lock above orders one member's submits, so only rows written behind the services' back
            # get here. No savepoint (two round trips on every submit): the error ends this transaction,
            # which rolls back whole as AlreadySubmitted leaves it.
            raise AlreadySubmitted("You have already submitted this round.") from error
        participant.round_list = [*rounds, submitted]
        if round_number == 1:
            session.completed_count += 1  # the trigger's count, as of this submission

    next_questions = (
        round_questions(session=session, progress=after, round=after.next_round) if after.next_round else []
    )
    return SubmissionOutcome(
        participant=participant,
        round=round_number,
        scored=scored,
        progress=after,
        next_round_questions=next_questions,
    )
