"""Writes to groups and their memberships. Pages, the API and admin call these; none re-implements a rule.

Every membership change locks the group row first, so two concurrent changes (two owners demoting each
other, say) are serialised and the "a group always has an owner" rule cannot be raced past.
"""

from django.contrib.auth import get_user_model
from django.db import transaction

from quizsite.errors import InvalidInput, NotFound, PermissionDenied
from quizsite.rls import rls_bypass
from quizsite.tokens import new_share_token

from .models import Group, Membership, Role
from .permissions import GroupAction, can_remove_member, can_set_role, require_group

NAME_MAX_LENGTH = Group._meta.get_field("name").max_length
DESCRIPTION_MAX_LENGTH = Group._meta.get_field("description").max_length
ADDABLE_ROLES = (Role.ADMIN, Role.MEMBER)


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A group needs a name.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"Ensure this field has no more than {NAME_MAX_LENGTH} characters.", field="name")
    return name


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidInput(
            f"Ensure this field has no more than {DESCRIPTION_MAX_LENGTH} characters.", field="description"
        )
    return description


def _lock_actor(actor: Membership) -> Membership:
    """Lock the group, then re-read the actor's membership: their role may have changed since it was fetched."""
    group = Group.objects.select_for_update().filter(pk=actor.group_id).first()
    fresh = Membership.objects.filter(pk=actor.pk).first() if group is not None else None
    if fresh is None:
        raise NotFound("Group not found.")
    fresh.group = group
    return fresh


def _member(group: Group, user_id: int) -> Membership:
    target = Membership.objects.select_related("user").filter(group=group, user_id=user_id).first()
    if target is None:
        raise NotFound("Member not found.")
    return target


def _owner_count(group: Group) -> int:
    return Membership.objects.filter(group=group, role=Role.OWNER).count()


@transaction.atomic
def create_group(*, name: str, description: str = "", created_by) -> Group:
    """A new group whose creator is its first owner."""
    group = Group.objects.create(
        name=_clean_name(name), description=_clean_description(description), created_by=created_by
    )
    Membership.objects.create(group=group, user=created_by, role=Role.OWNER)
    return group


@transaction.atomic
def update_group(*, actor: Membership, name: str, description: str, members_can_create_sessions: bool) -> Group:
    actor = _lock_actor(actor)
    require_group(actor, GroupAction.EDIT)
    group = actor.group
    group.name = _clean_name(name)
    group.description = _clean_description(description)
    group.members_can_create_sessions = members_can_create_sessions
    group.save(update_fields=["name", "description", "members_can_create_sessions"])
    return group


@transaction.atomic
def add_member(*, actor: Membership, username: str, role: str) -> Membership:
    """Add an existing user by username. Managers only; only owners may add an admin."""
    actor = _lock_actor(actor)
    require_group(actor, GroupAction.MANAGE_MEMBERS)
    if role not in ADDABLE_ROLES:
        raise InvalidInput("Choose admin or member.", field="role")
    if role == Role.ADMIN:
        require_group(actor, GroupAction.GRANT_ADMIN)
    user = get_user_model().objects.filter(username=(username or "").strip()).first()
    if user is None:
        raise InvalidInput("No user with this username.", field="username")
    if Membership.objects.filter(group=actor.group, user=user).exists():
        raise InvalidInput(f"{user.username} is already a member of this group.", field="username")
    return Membership.objects.create(group=actor.group, user=user, role=role)


@transaction.atomic
def remove_member(*, actor: Membership, user_id: int) -> None:
    """Remove someone from the group, or leave it when `user_id` is the actor's own."""
    actor = _lock_actor(actor)
    target = _member(actor.group, user_id)
    if not can_remove_member(actor, target):
        raise PermissionDenied()
    if target.role == Role.OWNER and _owner_count(actor.group) == 1:
        raise InvalidInput("A group needs an owner: make someone else an owner first.")
    target.delete()


@transaction.atomic
def change_role(*, actor: Membership, user_id: int, role: str) -> Membership:
    actor = _lock_actor(actor)
    if role not in Role.values:
        raise InvalidInput("Choose owner, admin or member.", field="role")
    target = _member(actor.group, user_id)
    if not can_set_role(actor, target, role):
        raise PermissionDenied()
    if target.role == role:
        return target
    if target.role == Role.OWNER and _owner_count(actor.group) == 1:
        raise InvalidInput("A group needs an owner: make someone else an owner first.", field="role")
    target.role = role
    target.save(update_fields=["role"])
    return target


@transaction.atomic
def join_by_invite(*, user, invite_token: str) -> Membership:
    """Join through the group's invite link; joining twice changes nothing (the first role stays)."""
    # The person is not a member yet, so row-level security would show them neither the group nor let them
    # add themselves: the invite token, checked here, is the permission.
    with rls_bypass(f"invite link: user {user.pk} joins as a member"):
        group = Group.objects.filter(invite_token=invite_token).first()
        if group is None:
            raise NotFound("This invite link is not valid (any more).")
        membership, _ = Membership.objects.select_related("group").get_or_create(
            group=group, user=user, defaults={"role": Role.MEMBER}
        )
    return membership


@transaction.atomic
def regenerate_invite(*, actor: Membership) -> Group:
    """A new invite link; the old one stops working at once."""
    actor = _lock_actor(actor)
    require_group(actor, GroupAction.MANAGE_MEMBERS)
    group = actor.group
    group.invite_token = new_share_token()
    group.save(update_fields=["invite_token"])
    return group
