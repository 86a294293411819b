"""Who may do what to a group and its sessions: the one place that answers it.

Pages, the API, admin actions and Celery tasks all ask here. A person who is not a member of a group
gets NotFound for anything of it (the group's existence is never revealed); a member whose role does
not allow an action gets PermissionDenied.

Sessions are passed in duck-typed (anything with `created_by_id`), so this module, like the rest of
`groups`, never imports the sessions app.
"""

from enum import StrEnum

from quizsite.errors import NotFound, PermissionDenied

from .models import Group, Membership, Role


class GroupAction(StrEnum):
    VIEW = "view"
    EDIT = "edit"
    DELETE = "delete"
    MANAGE_MEMBERS = "manage_members"
    GRANT_ADMIN = "grant_admin"
    LIST_SESSIONS = "list_sessions"
    CREATE_SESSION = "create_session"


class SessionAction(StrEnum):
    VIEW = "view"
    JOIN = "join"
    EDIT = "edit"
    START = "start"
    END = "end"
    CANCEL = "cancel"
    DELETE = "delete"
    VIEW_ALL_RESULTS = "view_all_results"


_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
_EVERY_MEMBER = frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER})

_GROUP_RULES: dict[GroupAction, frozenset] = {
    GroupAction.VIEW: _EVERY_MEMBER,
    GroupAction.LIST_SESSIONS: _EVERY_MEMBER,
    GroupAction.EDIT: _MANAGERS,
    GroupAction.MANAGE_MEMBERS: _MANAGERS,
    GroupAction.GRANT_ADMIN: frozenset({Role.OWNER}),
    GroupAction.DELETE: frozenset({Role.OWNER}),
}

# Actions a session's creator may take on their own session whatever their role.
_CREATOR_ACTIONS = frozenset(
    {SessionAction.EDIT, SessionAction.START, SessionAction.END, SessionAction.CANCEL, SessionAction.VIEW_ALL_RESULTS}
)
_MEMBER_SESSION_ACTIONS = frozenset({SessionAction.VIEW, SessionAction.JOIN})


def get_membership(*, user, group_id) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.select_related("group").filter(group_id=group_id, user=user).first()


def membership_from_role(*, user, group: Group, role: str | None) -> Membership | None:
    """The membership of `user` in `group` when a query already read their `role` (None: not a member),
    sparing the query `get_membership` would make."""
    if role is None or user is None or not user.is_authenticated:
        return None
    return Membership(user=user, group=group, role=role)


def access_group(*, user, group_id) -> Membership:
    """The caller's membership of the group, with the group loaded; NotFound for non-members."""
    membership = get_membership(user=user, group_id=group_id)
    if membership is None:
        raise NotFound("Group not found.")
    return membership


def can_group(membership: Membership | None, action: GroupAction) -> bool:
    if membership is None:
        return False
    if action == GroupAction.CREATE_SESSION:
        return membership.role in _MANAGERS or membership.group.members_can_create_sessions
    return membership.role in _GROUP_RULES[action]


def can_session(membership: Membership | None, action: SessionAction, session) -> bool:
    if membership is None or membership.group_id != session.group_id:
        return False
    if membership.role in _MANAGERS or action in _MEMBER_SESSION_ACTIONS:
        return True
    return action in _CREATOR_ACTIONS and session.created_by_id == membership.user_id


def can_remove_member(actor: Membership | None, target: Membership) -> bool:
    """Anyone may leave; managers may remove others, but only owners may remove an owner."""
    if actor is None or actor.group_id != target.group_id:
        return False
    if actor.user_id == target.user_id:
        return True
    if target.role == Role.OWNER:
        return can_group(actor, GroupAction.GRANT_ADMIN)
    return can_group(actor, GroupAction.MANAGE_MEMBERS)


def can_set_role(actor: Membership | None, target: Membership, role: str) -> bool:
    """Granting or revoking admin or owner is for owners only."""
    if actor is None or actor.group_id != target.group_id:
        return False
    if role in _MANAGERS or target.role in _MANAGERS:
        return can_group(actor, GroupAction.GRANT_ADMIN)
    return can_group(actor, GroupAction.MANAGE_MEMBERS)


def require_group(membership: Membership | None, action: GroupAction) -> None:
    if membership is None:
        raise NotFound("Group not found.")
    if not can_group(membership, action):
        raise PermissionDenied()


def require_session(membership: Membership | None, action: SessionAction, session) -> None:
    if membership is None or membership.group_id != session.group_id:
        raise NotFound("Session not found.")
    if not can_session(membership, action, session):
        raise PermissionDenied()


def allowed_session_actions(membership: Membership | None, session) -> frozenset[SessionAction]:
    """Every action the member may take on the session, for templates that show only those."""
    return frozenset(a for a in SessionAction if can_session(membership, a, session))


def allowed_group_actions(membership: Membership | None) -> frozenset[GroupAction]:
    return frozenset(a for a in GroupAction if can_group(membership, a))


__all__ = [
    "Group",
    "GroupAction",
    "SessionAction",
    "access_group",
    "allowed_group_actions",
    "allowed_session_actions",
    "can_group",
    "can_remove_member",
    "can_session",
    "can_set_role",
    "get_membership",
    "require_group",
    "require_session",
]
