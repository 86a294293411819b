"""Reads of question sets shared by the quiz page, the API, the admin and group sessions."""

from django.db.models import Count, QuerySet

from quizsite.errors import NotFound

from .models import Attempt, QuestionSet

# Tokens are made by quizsite.tokens and stored in a 64-character column: anything longer is not one.
_MAX_TOKEN_LENGTH = 64


def get_question_set(*, token: str) -> QuestionSet:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise NotFound("Question set not found.")
    question_set = QuestionSet.objects.filter(token=token).first()
    if question_set is None:
        raise NotFound("Question set not found.")
    return question_set


def question_dicts(*, question_set: QuestionSet) -> list[dict]:
    """The set's questions in position order as plain dicts: the shape scoring and session snapshots use.

    Each is `{"id", "prompt", "choices", "answer", "explanation"}` where `id` is the Question's pk.
    """
    rows = question_set.questions.order_by("position").values("id", "prompt", "choices", "answer", "explanation")
    return [
        {
            "id": row["id"],
            "prompt": row["prompt"],
            "choices": list(row["choices"]),
            "answer": row["answer"],
            "explanation": row["explanation"] or "",
        }
        for row in rows
    ]


def quiz_path(*, question_set: QuestionSet) -> str:
    """Where a question set is taken: the link the extension and the pages share."""
    return f"/questions/{question_set.token}"


def list_question_sets_for_user(*, user) -> QuerySet[QuestionSet]:
    """The sets `user` created, newest first, each annotated with `question_count`."""
    if user is None or not user.is_authenticated:
        return QuestionSet.objects.none()
    return (
        QuestionSet.objects.filter(created_by=user)
        .annotate(question_count=Count("questions"))
        .order_by("-created_at", "-id")
    )


def get_attempt(*, question_set: QuestionSet, attempt_id: int) -> Attempt:
    attempt = Attempt.objects.select_related("user").filter(question_set=question_set, pk=attempt_id).first()
    if attempt is None:
        raise NotFound("Result not found.")
    return attempt
