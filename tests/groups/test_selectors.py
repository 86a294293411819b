import pytest

from groups import selectors
from groups.models import Role
from groups.permissions import GroupAction, can_group
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_list_groups_for_user_annotates_role_and_member_count_in_one_query(group_with_roles, django_assert_num_queries):
    g = group_with_roles
    extra = GroupFactory(name="algebra")
    MembershipFactory(group=extra, user=g["admin"], role=Role.OWNER)

    with django_assert_num_queries(1):
        rows = [
            (group.name, group.my_role, group.member_count) for group in selectors.list_groups_for_user(user=g["admin"])
        ]

    # Sorted by name whatever the case of the first letter.
    assert rows == [("algebra", "owner", 1), ("Biology 101", "admin", 4)]


def test_list_groups_for_user_leaves_out_groups_the_user_is_not_in(group_with_roles):
    assert [group.name for group in selectors.list_groups_for_user(user=group_with_roles["outsider"])] == ["Chemistry"]


def test_membership_from_listing_answers_permission_questions_without_queries(
    group_with_roles, django_assert_num_queries
):
    g = group_with_roles
    g["group"].members_can_create_sessions = False
    g["group"].save()
    (group,) = selectors.list_groups_for_user(user=g["member"])

    with django_assert_num_queries(0):
        membership = selectors.membership_from_listing(group, user=g["member"])
        assert not can_group(membership, GroupAction.CREATE_SESSION)
        assert not can_group(membership, GroupAction.MANAGE_MEMBERS)


def test_list_members_puts_owners_then_admins_then_members_alphabetically(group_with_roles):
    g = group_with_roles
    MembershipFactory(group=g["group"], user=UserFactory(username="Aaron"), role=Role.MEMBER)

    names = [m.user.username for m in selectors.list_members(group=g["group"])]

    assert names == ["olivia_owner", "adam_admin", "Aaron", "mia_member", "otto_member"]


def test_get_group_by_invite_counts_members(group_with_roles):
    group = selectors.get_group_by_invite(invite_token=group_with_roles["group"].invite_token)

    assert (group, group.member_count) == (group_with_roles["group"], 4)
