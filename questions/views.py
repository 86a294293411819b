"""Pages of the individual flow. `sessions.play` resolves `/questions/<token>` and calls `quiz_page`
when the token belongs to a question set."""

from django.contrib import messages
from django.shortcuts import redirect, render

from quizsite.errors import InvalidInput, NotFound

from .forms import QuizForm
from .models import QuestionSet
from .scoring import score_submission
from .selectors import get_attempt, get_question_set, question_dicts, quiz_path
from .services import record_attempt

# The attempts this browser made, so an anonymous taker (and only they) can see their result page.
SESSION_ATTEMPTS_KEY = "question_attempt_ids"
SESSION_DISPLAY_NAME_KEY = "quiz_display_name"
_REMEMBERED_ATTEMPTS = 50


def quiz_page(request, *, question_set: QuestionSet):
    questions = question_dicts(question_set=question_set)
    ask_display_name = not request.user.is_authenticated
    if request.method == "POST":
        form = QuizForm(request.POST, questions=questions, ask_display_name=ask_display_name)
        if form.is_valid():
            try:
                attempt, _scored = record_attempt(
                    question_set=question_set,
                    answers=form.answers(),
                    user=request.user,
                    display_name=form.cleaned_data.get("display_name", ""),
                )
            except InvalidInput as error:
                form.add_error(None, error.message)
            else:
                _remember_attempt(request, attempt.pk, form.cleaned_data.get("display_name"))
                return redirect("questions:result", token=question_set.token, attempt_id=attempt.pk)
        messages.error(request, "Your answers were not submitted: please check the form.")
    else:
        initial = {"display_name": request.session.get(SESSION_DISPLAY_NAME_KEY, "")}
        form = QuizForm(initial=initial, questions=questions, ask_display_name=ask_display_name)
    context = {"question_set": question_set, "form": form, "question_count": len(questions)}
    return render(request, "questions/quiz.html", context)


def result_page(request, token: str, attempt_id: int):
    question_set = get_question_set(token=token)
    attempt = get_attempt(question_set=question_set, attempt_id=attempt_id)
    if not _may_see(request, attempt):
        raise NotFound("Result not found.")
    questions = question_dicts(question_set=question_set)
    # Re-score the stored answers only for the per-question marks; the stored score is what was awarded.
    known = {q["id"]: len(q["choices"]) for q in questions}
    stored = [a for a in attempt.answers if 0 <= a["choice"] < known.get(a["question_id"], 0)]
    results = {r.question_id: r for r in score_submission(questions, stored).results}
    rows = [{"question": q, "result": results[q["id"]]} for q in questions]
    context = {
        "question_set": question_set,
        "attempt": attempt,
        "rows": rows,
        "percent": round(100 * attempt.score / attempt.total) if attempt.total else 0,
        "quiz_url": quiz_path(question_set=question_set),
    }
    return render(request, "questions/result.html", context)


def _remember_attempt(request, attempt_id: int, display_name: str | None) -> None:
    attempt_ids = [*request.session.get(SESSION_ATTEMPTS_KEY, []), attempt_id][-_REMEMBERED_ATTEMPTS:]
    request.session[SESSION_ATTEMPTS_KEY] = attempt_ids
    if display_name:
        request.session[SESSION_DISPLAY_NAME_KEY] = display_name


def _may_see(request, attempt) -> bool:
    if attempt.user_id is not None and request.user.is_authenticated and attempt.user_id == request.user.pk:
        return True
    return attempt.pk in request.session.get(SESSION_ATTEMPTS_KEY, [])
