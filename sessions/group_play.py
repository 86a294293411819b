"""The group branch of /questions/<token> (page and API), once `sessions.play` resolved the token to a session.

Only signed-in members of the session's group get anything; everyone else gets 404 (or 401 / the sign-in
page when signed out). `groupId` / `sessionId` in the query, when given, must name this very session.
The first visit while the session is scheduled or open records the member as joined.
"""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils import timezone
from rest_framework.exceptions import NotAuthenticated

from groups.models import Membership
from groups.permissions import SessionAction, get_membership, membership_from_role, require_session
from questions.forms import QuizForm
from questions.scoring import public_question, score_submission
from quizsite.errors import DomainError, NotFound, SessionNotOpen

from . import selectors, services
from .api_serializers import ParticipantSerializer, SessionSerializer
from .models import GroupSession, Participant, SessionStatus


def _check_link(params, session: GroupSession) -> None:
    """A link's groupId/sessionId must match the session it carries: a mismatch is someone else's link."""
    for name, expected in (("groupId", session.group_id), ("sessionId", session.pk)):
        value = params.get(name)
        if value is None:
            continue
        if not (value.isascii() and value.isdigit()) or int(value) != expected:
            raise NotFound("Session not found.")


def _access(user, params, session: GroupSession) -> Membership:
    _check_link(params, session)
    caller = selectors.caller_of(session, user)
    if caller is not None:  # read with the session (sessions.play.resolve_token)
        membership = membership_from_role(user=user, group=session.group, role=caller.role)
    else:
        membership = get_membership(user=user, group_id=session.group_id)
    require_session(membership, SessionAction.VIEW, session)
    return membership


def _join(user, session: GroupSession, now, membership: Membership | None = None) -> Participant | None:
    """Join while the session is scheduled or open; afterwards only an existing row is shown."""
    if session.effective_status(now) in (SessionStatus.SCHEDULED, SessionStatus.ACTIVE):
        try:
            return services.join_session(user=user, session=session, membership=membership, now=now)
        except SessionNotOpen:
            pass  # it ended between the two reads
    return selectors.get_participant(session=session, user=user)


def _context(session: GroupSession, participant: Participant | None, now) -> dict:
    # `session` came with its group (sessions.play.resolve_token) and its counters: nothing left to read.
    return {
        "group": {"id": session.group.pk, "name": session.group.name},
        "session": SessionSerializer(session, context={"now": now}).data,
        "participant": ParticipantSerializer(participant).data if participant is not None else None,
    }


# --- API -------------------------------------------------------------------------------------------


def authorize(request, *, session: GroupSession) -> Membership:
    """The group flow's access rules alone (401 signed out, 404 not a member or a mismatched link), for a
    caller that wants them checked before it looks at the body. Returns the caller's membership."""
    if not request.user.is_authenticated:
        raise NotAuthenticated()
    return _access(request.user, request.query_params, session)


def quiz_payload(request, *, session: GroupSession) -> dict:
    """GET /api/questions/<token> for a group session."""
    membership = authorize(request, session=session)
    now = timezone.now()
    participant = _join(request.user, session, now, membership)
    is_open = session.effective_status(now) == SessionStatus.ACTIVE
    return {
        "token": session.share_token,
        "title": session.title,
        "open": is_open,
        "questions": [public_question(q) for q in session.questions_data] if is_open else [],
        "context": _context(session, participant, now),
    }


def submit(request, *, session: GroupSession, data: dict, membership: Membership | None = None) -> dict:
    """POST /api/questions/<token>/submit for a group session; `data` is validated SubmissionSerializer data.

    `membership`: what `authorize` returned, when the caller ran it already (else it runs here)."""
    if membership is None:
        membership = authorize(request, session=session)
    now = timezone.now()
    outcome = services.record_submission(
        user=request.user,
        session=session,
        answers=data["answers"],
        round=data.get("round"),
        membership=membership,
        now=now,
    )
    body = {
        "score": outcome.scored.score,
        "total": outcome.scored.total,
        "results": [result.as_dict() for result in outcome.scored.results],
        "context": _context(session, outcome.participant, now),
    }
    if session.is_study_loop:
        body["round"] = outcome.round
        body["next_round"] = (
            {"round": outcome.next_round, "questions": [public_question(q) for q in outcome.next_round_questions]}
            if outcome.next_round
            else None
        )
        body["counted_round"] = 1
    return body


# --- Page ------------------------------------------------------------------------------------------


def _round_results(session: GroupSession, participant_round) -> list[dict]:
    """Per-question marks of a stored round, re-derived from its answers and the snapshot."""
    wanted = set(participant_round.question_ids)
    questions = [q for q in session.questions_data if int(q["id"]) in wanted]
    results = {r.question_id: r for r in score_submission(questions, participant_round.answers).results}
    return [{"question": q, "result": results[int(q["id"])]} for q in questions]


def _offered_round(status: str, progress: selectors.StudyProgress) -> int | None:
    if status != SessionStatus.ACTIVE:
        return None
    return 1 if progress.rounds_done == 0 else progress.next_round


def _round_form(session, progress, round_number, data=None) -> QuizForm:
    questions = selectors.round_questions(session=session, progress=progress, round=round_number)
    return QuizForm(data, questions=questions, ask_display_name=False, prefix=None)


def quiz_page(request, *, session: GroupSession):
    """The group quiz page: not open yet, the quiz, or the result (and the study loop's next round)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    membership = _access(request.user, request.GET, session)
    now = timezone.now()
    if request.method == "POST":
        return _submit_form(request, session, now)

    participant = _join(request.user, session, now, membership)
    status = session.effective_status(now)
    progress = selectors.study_progress(session=session, participant=participant)
    offered = _offered_round(status, progress)
    rounds = participant.round_list if participant is not None else []
    latest = rounds[-1] if rounds else None
    context = {
        "group": session.group,
        "session": session,
        "status": status,
        "participant": participant,
        "progress": progress,
        "rounds": rounds,
        "latest_round": latest,
        "latest_results": _round_results(session, latest) if latest else [],
        "offered_round": offered,
        "form": _round_form(session, progress, offered) if offered else None,
        "started_at": session.effective_started_at(now),
        "ended_at": session.effective_ended_at(now),
        "percent": round(100 * participant.score / participant.total) if participant and participant.total else 0,
    }
    return render(request, "sessions/play_group.html", context)


def _submit_form(request, session: GroupSession, now):
    back = request.get_full_path()
    participant = selectors.get_participant(session=session, user=request.user)
    progress = selectors.study_progress(session=session, participant=participant)
    try:
        round_number = int(request.POST.get("round", "1"))
    except ValueError:
        round_number = 0
    if round_number < 1:
        messages.error(request, "Your answers were not submitted: the round is missing.")
        return redirect(back)
    form = _round_form(session, progress, round_number, data=request.POST)
    if not form.is_valid():
        messages.error(request, "Your answers were not submitted: please check the form.")
        return redirect(back)
    try:
        outcome = services.record_submission(
            user=request.user, session=session, answers=form.answers(), round=round_number, now=now
        )
    except DomainError as error:
        messages.error(request, f"Your answers were not submitted: {error.message}")
        return redirect(back)
    scored = outcome.scored
    if outcome.round == 1:
        messages.success(request, f"Submitted: you scored {scored.score} of {scored.total}.")
    else:
        messages.success(request, f"Round {outcome.round} submitted: {scored.score} of {scored.total} right.")
    return redirect(back)
