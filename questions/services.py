"""Writes of the individual flow: making a question set and recording a take of it."""

from django.db import transaction

from quizsite.errors import Conflict

from .models import Attempt, Question, QuestionSet
from .scoring import ScoredSubmission, score_submission
from .selectors import question_dicts


@transaction.atomic
def create_question_set(*, title: str, source_url: str = "", questions: list[dict], created_by) -> QuestionSet:
    """Create a set and its questions together: a failure leaves neither behind.

    `questions` are dicts as validated by `questions.validation.QuestionListField`
    (`prompt`, `choices`, `answer`, optional `explanation`).
    """
    question_set = QuestionSet.objects.create(
        title=title,
        source_url=source_url or "",
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
    )
    Question.objects.bulk_create(
        Question(
            question_set=question_set,
            position=position,
            prompt=question["prompt"],
            choices=list(question["choices"]),
            answer=question["answer"],
            explanation=question.get("explanation") or "",
        )
        for position, question in enumerate(questions, start=1)
    )
    return question_set


@transaction.atomic
def record_attempt(
    *, question_set: QuestionSet, answers: list[dict], user=None, display_name: str = "", round: int | None = None
) -> tuple[Attempt, ScoredSubmission]:
    """Score `answers` ([{"question_id", "choice"}]) and store the take.

    A signed-in taker is recorded as the user; an anonymous one by `display_name`. Scoring errors
    (unknown question, a question answered twice, a choice out of range) raise InvalidInput("answers")
    before anything is written.
    """
    # The individual flow has a single round; only group sessions run the study loop.
    if round not in (None, 1):
        raise Conflict(f"This quiz has no round {round}.")
    scored = score_submission(question_dicts(question_set=question_set), answers)
    signed_in = user is not None and user.is_authenticated
    attempt = Attempt.objects.create(
        question_set=question_set,
        user=user if signed_in else None,
        display_name="" if signed_in else (display_name or "").strip(),
        answers=scored.answers,
        score=scored.score,
        total=scored.total,
    )
    return attempt, scored
