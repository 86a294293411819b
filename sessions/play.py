"""The one place where a /questions/<token> link resolves to a group session or a question set.

A token is either a QuestionSet's token (the individual flow, open to anyone) or a GroupSession's
share_token (the group flow, signed-in members only). Pages and the API both start here, then hand the
resolved object to the flow that owns it: `questions` for individual quizzes, `sessions.group_play` for
group sessions.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from questions import api as individual_api
from questions import views as individual_views
from questions.api_serializers import SubmissionSerializer
from questions.models import QuestionSet
from quizsite import rls
from quizsite.throttling import ScopedWindowThrottle

from . import group_play, selectors
from .api_serializers import QuizPayloadSerializer, SubmissionResultSerializer
from .models import GroupSession


def resolve_token(token: str, *, user=None) -> GroupSession | QuestionSet:
    """The session or set behind `token`. Given a signed-in `user`, a session comes with their role in its
    group and their participant row (`session.caller`) from the same query."""
    if len(token) > 64:
        raise Http404
    session = selectors.get_session_by_token(share_token=token, user=user)
    if session is not None:
        return session
    question_set = QuestionSet.objects.filter(token=token).first()
    if question_set is not None:
        return question_set
    if rls.enabled() and rls.current_user_id() is None and not rls.bypassed():
        # Signed out, row-level security hides every session; the flow still owes a 401 (or the sign-in
        # page) rather than a 404 for a real session's token. Only the rare miss pays for this lookup.
        with rls.rls_bypass("share token of a signed-out caller: session or unknown?"):
            session = selectors.get_session_by_token(share_token=token, user=None)
        if session is not None:
            return session
    raise Http404


def quiz_page(request, token: str):
    target = resolve_token(token, user=request.user)
    if isinstance(target, QuestionSet):
        return individual_views.quiz_page(request, question_set=target)
    return group_play.quiz_page(request, session=target)


_UNKNOWN = OpenApiResponse(
    description="Unknown token, a group session of a group the caller is not in, or groupId/sessionId not its own."
)
_SIGN_IN = OpenApiResponse(description="A group session's token without credentials (the individual flow needs none).")

_CONTEXT_PARAMETERS = [
    OpenApiParameter("groupId", int, required=False, description="Group of the session (group flow)."),
    OpenApiParameter("sessionId", int, required=False, description="Id of the session (group flow)."),
]


class QuizView(APIView):
    """GET /api/questions/<token>: the questions to take (no answers), with the group context if any."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=_CONTEXT_PARAMETERS, responses={200: QuizPayloadSerializer, 401: _SIGN_IN, 404: _UNKNOWN})
    def get(self, request, token: str):
        target = resolve_token(token, user=request.user)
        if isinstance(target, QuestionSet):
            return Response(individual_api.quiz_payload(question_set=target))
        return Response(group_play.quiz_payload(request, session=target))


class SubmitView(APIView):
    """POST /api/questions/<token>/submit: scored on the server; the group flow records the result."""

    permission_classes = [AllowAny]
    throttle_classes = [ScopedWindowThrottle]
    throttle_scope = "submit"

    @extend_schema(
        parameters=_CONTEXT_PARAMETERS,
        request=SubmissionSerializer,
        responses={
            200: SubmissionResultSerializer,
            400: OpenApiResponse(description='Invalid answers: `{"<field>": ["message", ...]}`.'),
            401: _SIGN_IN,
            404: _UNKNOWN,
            409: OpenApiResponse(description="Not open, already submitted, or a round that is not on offer."),
            429: OpenApiResponse(description="Too many submissions; retry later."),
        },
    )
    def post(self, request, token: str):
        target = resolve_token(token, user=request.user)
        membership = None
        if isinstance(target, GroupSession):
            # Who may submit is decided before the body is read: an outsider learns nothing from a 400.
            membership = group_play.authorize(request, session=target)
        submission = SubmissionSerializer(data=request.data)
        submission.is_valid(raise_exception=True)
        if isinstance(target, QuestionSet):
            return Response(individual_api.submit(request, question_set=target, data=submission.validated_data))
        data = submission.validated_data
        return Response(group_play.submit(request, session=target, data=data, membership=membership))
