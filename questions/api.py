"""The individual flow's API: sharing a question set, and the payloads `sessions.play` serves for one.

`sessions.play` resolves `/api/questions/<token>` and calls `quiz_payload` / `submit` here when the
token belongs to a question set.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import QuestionSet
from .scoring import public_question
from .selectors import question_dicts, quiz_path
from .services import create_question_set, record_attempt
from .validation import QuestionListField


class QuestionSetCreateSerializer(serializers.Serializer):
    title = serializers.CharField(min_length=1, max_length=200)
    source_url = serializers.URLField(max_length=2000, required=False, allow_blank=True, default="")
    questions = QuestionListField()


class QuestionSetCreatedSerializer(serializers.Serializer):
    token = serializers.CharField()
    url = serializers.CharField(help_text="Where the set is taken: /questions/<token>.")
    title = serializers.CharField()
    question_count = serializers.IntegerField()


_ERROR_RESPONSES = {
    400: OpenApiResponse(description='Invalid body: `{"<field>": ["message", ...]}`.'),
    401: OpenApiResponse(description="No or bad credentials."),
}


class QuestionSetCreateView(APIView):
    """POST /api/question-sets: the extension shares the questions it made from a page."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="question_sets_create",
        summary="Share a question set",
        request=QuestionSetCreateSerializer,
        responses={201: QuestionSetCreatedSerializer, **_ERROR_RESPONSES},
    )
    def post(self, request):
        serializer = QuestionSetCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        question_set = create_question_set(created_by=request.user, **serializer.validated_data)
        body = {
            "token": question_set.token,
            "url": quiz_path(question_set=question_set),
            "title": question_set.title,
            "question_count": len(serializer.validated_data["questions"]),
        }
        return Response(body, status=status.HTTP_201_CREATED)


def quiz_payload(*, question_set: QuestionSet) -> dict:
    """The questions to take, without their answers."""
    return {
        "token": question_set.token,
        "title": question_set.title,
        "open": True,
        "questions": [public_question(q) for q in question_dicts(question_set=question_set)],
        "context": None,
    }


def submit(request, *, question_set: QuestionSet, data: dict) -> dict:
    """Score and record a take; `data` is validated `SubmissionSerializer` data."""
    _attempt, scored = record_attempt(
        question_set=question_set,
        answers=data["answers"],
        user=request.user,
        display_name=data.get("display_name", ""),
        round=data.get("round"),
    )
    return {
        "score": scored.score,
        "total": scored.total,
        "results": [result.as_dict() for result in scored.results],
        "context": None,
    }
