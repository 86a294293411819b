"""Reads of groups and members shared by pages and the API."""

from django.db.models import Case, Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Lower

from quizsite.errors import NotFound
from quizsite.rls import rls_bypass

from .models import Group, Membership, Role


def _member_count_subquery() -> Subquery:
    counts = Membership.objects.filter(group=OuterRef("pk")).order_by().values("group").annotate(n=Count("pk"))
    return Subquery(counts.values("n")[:1], output_field=IntegerField())


def list_groups_for_user(*, user) -> QuerySet[Group]:
    """The user's groups, sorted by name, each annotated with `member_count` and `my_role`: one query.

    Pair each group with `membership_from_listing(group, user=user)` to ask `groups.permissions` about it
    without another query.
    """
    return (
        Group.objects.filter(memberships__user=user)
        .annotate(my_role=F("memberships__role"), member_count=_member_count_subquery())
        .order_by(Lower("name"), "name", "id")
    )


def membership_from_listing(group: Group, *, user) -> Membership:
    """The caller's membership rebuilt from a `list_groups_for_user` row (unsaved; for permission checks)."""
    return Membership(group=group, user=user, role=group.my_role)


_ROLE_RANK = Case(
    When(role=Role.OWNER, then=Value(0)),
    When(role=Role.ADMIN, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def list_members(*, group) -> QuerySet[Membership]:
    """Owners first, then admins, then members; alphabetical within each role."""
    return (
        Membership.objects.filter(group=group)
        .select_related("user")
        .annotate(role_rank=_ROLE_RANK)
        .order_by("role_rank", Lower("user__username"), "user_id")
    )


def get_group_by_invite(*, invite_token: str) -> Group:
    if not invite_token:
        raise NotFound("This invite link is not valid (any more).")
    # Whoever holds the link may see the group before joining: the token is the permission.
    with rls_bypass("invite link: reading the group it invites to"):
        group = Group.objects.filter(invite_token=invite_token).annotate(member_count=_member_count_subquery()).first()
    if group is None:
        raise NotFound("This invite link is not valid (any more).")
    return group
