"""Group endpoints of the extension's API: validate, call one service, serialize."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .models import Group, Membership, Role
from .permissions import GroupAction, access_group, can_group, require_group

_UNAUTHENTICATED = OpenApiResponse(description="No or bad credentials.")
_NOT_FOUND = OpenApiResponse(description="Unknown group, or the caller is not a member of it.")
_FORBIDDEN = OpenApiResponse(description="The caller's role does not allow this.")
_GROUP_ID = OpenApiParameter("group_id", int, OpenApiParameter.PATH)
_USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH, description="The member's user id.")


class GroupCreateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Group
        fields = ["name", "description"]
        extra_kwargs = {"description": {"required": False}}


class GroupSummarySerializer(serializers.Serializer):
    """A group as the caller sees it; `role` and `can_create_sessions` are about the caller."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    can_create_sessions = serializers.BooleanField()
    member_count = serializers.IntegerField()

    @staticmethod
    def from_membership(membership: Membership, member_count: int) -> dict:
        return {
            "id": membership.group.id,
            "name": membership.group.name,
            "role": membership.role,
            "can_create_sessions": can_group(membership, GroupAction.CREATE_SESSION),
            "member_count": member_count,
        }


class UserGroupsSerializer(serializers.Serializer):
    groups = GroupSummarySerializer(many=True)


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=[role.value for role in services.ADDABLE_ROLES], default=Role.MEMBER.value)


class MemberUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class MemberSerializer(serializers.Serializer):
    user = MemberUserSerializer()
    role = serializers.ChoiceField(choices=Role.choices)


class GroupCreateView(APIView):
    @extend_schema(
        operation_id="groups_create",
        summary="Create a group; the caller becomes its owner",
        request=GroupCreateSerializer,
        responses={
            201: GroupSummarySerializer,
            400: OpenApiResponse(description="Invalid body: `{field: [messages]}`."),
            401: _UNAUTHENTICATED,
        },
        tags=["groups"],
    )
    def post(self, request):
        serializer = GroupCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        group = services.create_group(created_by=request.user, **serializer.validated_data)
        owner = Membership(group=group, user=request.user, role=Role.OWNER)
        body = GroupSummarySerializer.from_membership(owner, member_count=1)
        return Response(GroupSummarySerializer(body).data, status=status.HTTP_201_CREATED)


class UserGroupsView(APIView):
    @extend_schema(
        operation_id="user_groups_list",
        summary="The caller's groups, sorted by name",
        responses={200: UserGroupsSerializer, 401: _UNAUTHENTICATED},
        tags=["groups"],
    )
    def get(self, request):
        groups = [
            GroupSummarySerializer.from_membership(
                selectors.membership_from_listing(group, user=request.user), member_count=group.member_count
            )
            for group in selectors.list_groups_for_user(user=request.user)
        ]
        return Response(UserGroupsSerializer({"groups": groups}).data)


class GroupMembersView(APIView):
    @extend_schema(
        operation_id="group_members_create",
        summary="Add a member by username (owners and admins; only owners may add an admin)",
        parameters=[_GROUP_ID],
        request=MemberAddSerializer,
        responses={
            201: MemberSerializer,
            400: OpenApiResponse(description="Invalid body, unknown username or already a member (`username`)."),
            401: _UNAUTHENTICATED,
            403: _FORBIDDEN,
            404: _NOT_FOUND,
        },
        tags=["groups"],
    )
    def post(self, request, group_id: int):
        actor = access_group(user=request.user, group_id=group_id)
        # A plain member learns "not allowed" before anything about their body.
        require_group(actor, GroupAction.MANAGE_MEMBERS)
        serializer = MemberAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.add_member(actor=actor, **serializer.validated_data)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class GroupMemberView(APIView):
    @extend_schema(
        operation_id="group_members_destroy",
        summary="Remove a member, or leave the group when it is the caller",
        parameters=[_GROUP_ID, _USER_ID],
        request=None,
        responses={
            204: None,
            400: OpenApiResponse(description="The last owner cannot be removed (`non_field_errors`)."),
            401: _UNAUTHENTICATED,
            403: _FORBIDDEN,
            404: OpenApiResponse(description="Unknown group or member, or the caller is not a member."),
        },
        tags=["groups"],
    )
    def delete(self, request, group_id: int, user_id: int):
        actor = access_group(user=request.user, group_id=group_id)
        services.remove_member(actor=actor, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
