"""The group-session endpoints of the contract. Each view validates, calls one service, serializes.

Bad filter values on the list (`status`, `session_type`) are a 400 naming the parameter, like any other
bad input; unknown query parameters are ignored.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from groups.permissions import GroupAction, SessionAction, access_group, can_session, require_group, require_session

from . import selectors, services
from .api_serializers import (
    ExtensionSessionCreateSerializer,
    ParticipantRowSerializer,
    SessionCreatedSerializer,
    SessionCreateSerializer,
    SessionDetailSerializer,
    SessionListFilterSerializer,
    SessionPageSerializer,
    SessionSerializer,
    SessionUpdateSerializer,
)
from .models import GroupSession, SessionStatus, SessionType


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(description=description)


_BAD_INPUT = _error('Invalid body or parameter: `{"<field>": ["message", ...]}`.')
_NO_AUTH = _error("No or bad credentials.")
_FORBIDDEN = _error("A member whose role does not allow this.")
_NOT_FOUND = _error("Unknown group or session, or a group the caller is not a member of.")
_CONFLICT = _error("Conflicts with the session's state.")

_SESSION_PATH = [
    OpenApiParameter("group_id", int, OpenApiParameter.PATH),
    OpenApiParameter("session_id", int, OpenApiParameter.PATH),
]


class SessionPagination(PageNumberPagination):
    page_size = 50

    def get_page_number(self, request, paginator):
        page = request.query_params.get(self.page_query_param) or 1
        if page in self.last_page_strings:
            return page
        try:
            number = int(page)
        except (TypeError, ValueError):
            number = 0
        if number < 1:
            raise serializers.ValidationError({self.page_query_param: ["A page number from 1 is required."]})
        return number


def _session_body(session: GroupSession, *, now) -> dict:
    return SessionSerializer(session, context={"now": now}).data


def _create(membership, data: dict, *, now) -> GroupSession:
    session = services.create_session(membership=membership, now=now, **data)
    return selectors.get_session(session_id=session.pk)


class ExtensionCreateSessionView(APIView):
    """POST /api/extension/create-group-session: the extension starts a session in one of the caller's groups."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="extension_create_group_session",
        summary="Create a group session (extension)",
        request=ExtensionSessionCreateSerializer,
        responses={201: SessionCreatedSerializer, 400: _BAD_INPUT, 401: _NO_AUTH, 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    def post(self, request):
        body = ExtensionSessionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        membership = access_group(user=request.user, group_id=data.pop("group_id"))
        now = timezone.now()
        session = _create(membership, data, now=now)
        payload = {"session": _session_body(session, now=now), "join_url": session.join_url}
        return Response(payload, status=status.HTTP_201_CREATED)


class GroupSessionsView(APIView):
    """GET|POST /api/groups/<group_id>/sessions."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="group_sessions_list",
        summary="List a group's sessions",
        parameters=[
            OpenApiParameter("group_id", int, OpenApiParameter.PATH),
            OpenApiParameter("status", str, enum=SessionStatus.values, description="The status true right now."),
            OpenApiParameter("session_type", str, enum=SessionType.values),
            OpenApiParameter("page", int, description="1-based; 50 sessions a page, newest first."),
        ],
        responses={200: SessionPageSerializer, 400: _BAD_INPUT, 401: _NO_AUTH, 404: _NOT_FOUND},
    )
    def get(self, request, group_id: int):
        membership = access_group(user=request.user, group_id=group_id)
        require_group(membership, GroupAction.LIST_SESSIONS)
        filters = SessionListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        now = timezone.now()
        sessions = selectors.list_sessions(group=membership.group, now=now, **filters.validated_data)
        paginator = SessionPagination()
        page = paginator.paginate_queryset(sessions, request, view=self)
        results = SessionSerializer(page, many=True, context={"now": now}).data
        return paginator.get_paginated_response(results)

    @extend_schema(
        operation_id="group_sessions_create",
        summary="Create a session in the group",
        parameters=[OpenApiParameter("group_id", int, OpenApiParameter.PATH)],
        request=SessionCreateSerializer,
        responses={201: SessionSerializer, 400: _BAD_INPUT, 401: _NO_AUTH, 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    def post(self, request, group_id: int):
        membership = access_group(user=request.user, group_id=group_id)
        require_group(membership, GroupAction.CREATE_SESSION)
        body = SessionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        now = timezone.now()
        session = _create(membership, dict(body.validated_data), now=now)
        return Response(_session_body(session, now=now), status=status.HTTP_201_CREATED)


_UPDATE_RESPONSES = {
    200: SessionSerializer,
    400: _BAD_INPUT,
    401: _NO_AUTH,
    403: _FORBIDDEN,
    404: _NOT_FOUND,
    409: _CONFLICT,
}


class GroupSessionDetailView(APIView):
    """GET|PUT|PATCH|DELETE /api/groups/<group_id>/sessions/<session_id>."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="group_sessions_retrieve",
        summary="A session with its participants",
        parameters=_SESSION_PATH,
        responses={200: SessionDetailSerializer, 401: _NO_AUTH, 404: _NOT_FOUND},
    )
    def get(self, request, group_id: int, session_id: int):
        membership, session = selectors.access_session(user=request.user, group_id=group_id, session_id=session_id)
        sees_everyone = can_session(membership, SessionAction.VIEW_ALL_RESULTS, session)
        participants = selectors.session_participants(session=session, user=None if sees_everyone else request.user)
        body = _session_body(session, now=timezone.now())
        body["participants"] = ParticipantRowSerializer(participants, many=True).data
        return Response(body)

    @extend_schema(
        operation_id="group_sessions_update",
        summary="Edit a session or move it through its lifecycle",
        description="PUT and PATCH behave alike: fields left out keep their value.",
        parameters=_SESSION_PATH,
        request=SessionUpdateSerializer,
        responses=_UPDATE_RESPONSES,
    )
    def patch(self, request, group_id: int, session_id: int):
        membership, session = selectors.access_session(user=request.user, group_id=group_id, session_id=session_id)
        # A member who may not edit learns that before anything about their body.
        require_session(membership, SessionAction.EDIT, session)
        body = SessionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        now = timezone.now()
        services.update_session(membership=membership, session=session, now=now, **body.validated_data)
        session = selectors.get_session(session_id=session.pk)
        return Response(_session_body(session, now=now))

    @extend_schema(
        operation_id="group_sessions_replace",
        summary="Edit a session or move it through its lifecycle",
        description="PUT and PATCH behave alike: fields left out keep their value.",
        parameters=_SESSION_PATH,
        request=SessionUpdateSerializer,
        responses=_UPDATE_RESPONSES,
    )
    def put(self, request, group_id: int, session_id: int):
        return self.patch(request, group_id, session_id)

    @extend_schema(
        operation_id="group_sessions_destroy",
        summary="Delete a session and its participation rows",
        parameters=_SESSION_PATH,
        responses={204: None, 401: _NO_AUTH, 403: _FORBIDDEN, 404: _NOT_FOUND},
    )
    def delete(self, request, group_id: int, session_id: int):
        membership, session = selectors.access_session(user=request.user, group_id=group_id, session_id=session_id)
        services.delete_session(membership=membership, session=session)
        return Response(status=status.HTTP_204_NO_CONTENT)
