import pytest

from groups import services
from groups.models import Group, Membership, Role
from quizsite.errors import InvalidInput, NotFound, PermissionDenied
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def membership_of(user, group) -> Membership:
    return Membership.objects.select_related("group").get(user=user, group=group)


def role_of(user, group) -> str | None:
    return Membership.objects.filter(user=user, group=group).values_list("role", flat=True).first()


# create_group


def test_create_group_makes_the_creator_its_only_owner(user):
    group = services.create_group(name="  Physics  ", description="Waves", created_by=user)

    assert group.name == "Physics"
    assert group.created_by == user
    assert list(group.memberships.values_list("user_id", "role")) == [(user.id, Role.OWNER)]


def test_create_group_refuses_a_blank_name(user):
    with pytest.raises(InvalidInput) as error:
        services.create_group(name="   ", created_by=user)

    assert error.value.field == "name"
    assert not Group.objects.exists()


def test_create_group_refuses_a_name_over_100_characters(user):
    with pytest.raises(InvalidInput) as error:
        services.create_group(name="x" * 101, created_by=user)

    assert error.value.field == "name"


def test_create_group_refuses_a_description_over_2000_characters(user):
    with pytest.raises(InvalidInput) as error:
        services.create_group(name="Ok", description="x" * 2001, created_by=user)

    assert error.value.field == "description"


# add_member


def test_owner_can_add_an_admin(group_with_roles):
    g = group_with_roles
    newcomer = UserFactory(username="nina")

    added = services.add_member(actor=membership_of(g["owner"], g["group"]), username="nina", role=Role.ADMIN)

    assert (added.user, added.role) == (newcomer, Role.ADMIN)


def test_admin_can_add_a_member(group_with_roles):
    g = group_with_roles
    UserFactory(username="nina")

    added = services.add_member(actor=membership_of(g["admin"], g["group"]), username="nina", role=Role.MEMBER)

    assert added.role == Role.MEMBER


def test_admin_cannot_add_an_admin(group_with_roles):
    g = group_with_roles
    newcomer = UserFactory(username="nina")

    with pytest.raises(PermissionDenied):
        services.add_member(actor=membership_of(g["admin"], g["group"]), username="nina", role=Role.ADMIN)

    assert role_of(newcomer, g["group"]) is None


def test_member_cannot_add_anyone(group_with_roles):
    g = group_with_roles
    UserFactory(username="nina")

    with pytest.raises(PermissionDenied):
        services.add_member(actor=membership_of(g["member"], g["group"]), username="nina", role=Role.MEMBER)


def test_nobody_is_added_as_owner(group_with_roles):
    g = group_with_roles
    UserFactory(username="nina")

    with pytest.raises(InvalidInput) as error:
        services.add_member(actor=membership_of(g["owner"], g["group"]), username="nina", role=Role.OWNER)

    assert error.value.field == "role"


def test_adding_an_unknown_username_names_the_username_field(group_with_roles):
    g = group_with_roles

    with pytest.raises(InvalidInput) as error:
        services.add_member(actor=membership_of(g["owner"], g["group"]), username="ghost", role=Role.MEMBER)

    assert error.value.field == "username"


def test_adding_an_existing_member_names_the_username_field_and_keeps_their_role(group_with_roles):
    g = group_with_roles

    with pytest.raises(InvalidInput) as error:
        services.add_member(actor=membership_of(g["owner"], g["group"]), username="adam_admin", role=Role.MEMBER)

    assert error.value.field == "username"
    assert role_of(g["admin"], g["group"]) == Role.ADMIN


def test_a_stale_actor_whose_role_was_lowered_is_judged_by_the_current_role(group_with_roles):
    g = group_with_roles
    stale_admin = membership_of(g["admin"], g["group"])
    Membership.objects.filter(pk=stale_admin.pk).update(role=Role.MEMBER)
    UserFactory(username="nina")

    with pytest.raises(PermissionDenied):
        services.add_member(actor=stale_admin, username="nina", role=Role.MEMBER)


def test_an_actor_removed_meanwhile_gets_not_found(group_with_roles):
    g = group_with_roles
    gone = membership_of(g["admin"], g["group"])
    Membership.objects.filter(pk=gone.pk).delete()
    UserFactory(username="nina")

    with pytest.raises(NotFound):
        services.add_member(actor=gone, username="nina", role=Role.MEMBER)


# remove_member


def test_owner_can_remove_an_admin(group_with_roles):
    g = group_with_roles

    services.remove_member(actor=membership_of(g["owner"], g["group"]), user_id=g["admin"].id)

    assert role_of(g["admin"], g["group"]) is None


def test_admin_can_remove_a_member(group_with_roles):
    g = group_with_roles

    services.remove_member(actor=membership_of(g["admin"], g["group"]), user_id=g["member"].id)

    assert role_of(g["member"], g["group"]) is None


def test_admin_cannot_remove_an_owner(group_with_roles):
    g = group_with_roles

    with pytest.raises(PermissionDenied):
        services.remove_member(actor=membership_of(g["admin"], g["group"]), user_id=g["owner"].id)

    assert role_of(g["owner"], g["group"]) == Role.OWNER


def test_member_cannot_remove_another_member(group_with_roles):
    g = group_with_roles

    with pytest.raises(PermissionDenied):
        services.remove_member(actor=membership_of(g["member"], g["group"]), user_id=g["other_member"].id)


def test_member_can_leave_the_group(group_with_roles):
    g = group_with_roles

    services.remove_member(actor=membership_of(g["member"], g["group"]), user_id=g["member"].id)

    assert role_of(g["member"], g["group"]) is None


def test_the_last_owner_cannot_leave(group_with_roles):
    g = group_with_roles

    with pytest.raises(InvalidInput):
        services.remove_member(actor=membership_of(g["owner"], g["group"]), user_id=g["owner"].id)

    assert role_of(g["owner"], g["group"]) == Role.OWNER


def test_an_owner_can_leave_when_another_owner_remains(group_with_roles):
    g = group_with_roles
    Membership.objects.filter(user=g["admin"], group=g["group"]).update(role=Role.OWNER)

    services.remove_member(actor=membership_of(g["owner"], g["group"]), user_id=g["owner"].id)

    assert role_of(g["owner"], g["group"]) is None


def test_owner_can_remove_another_owner(group_with_roles):
    g = group_with_roles
    Membership.objects.filter(user=g["admin"], group=g["group"]).update(role=Role.OWNER)

    services.remove_member(actor=membership_of(g["owner"], g["group"]), user_id=g["admin"].id)

    assert role_of(g["admin"], g["group"]) is None


def test_removing_someone_who_is_not_a_member_is_not_found(group_with_roles):
    g = group_with_roles

    with pytest.raises(NotFound):
        services.remove_member(actor=membership_of(g["owner"], g["group"]), user_id=g["outsider"].id)

    assert role_of(g["outsider"], g["other_group"]) == Role.OWNER


# change_role


def test_owner_can_promote_a_member_to_admin(group_with_roles):
    g = group_with_roles

    changed = services.change_role(actor=membership_of(g["owner"], g["group"]), user_id=g["member"].id, role="admin")

    assert changed.role == Role.ADMIN
    assert role_of(g["member"], g["group"]) == Role.ADMIN


def test_owner_can_revoke_admin(group_with_roles):
    g = group_with_roles

    services.change_role(actor=membership_of(g["owner"], g["group"]), user_id=g["admin"].id, role="member")

    assert role_of(g["admin"], g["group"]) == Role.MEMBER


def test_owner_can_make_another_owner(group_with_roles):
    g = group_with_roles

    services.change_role(actor=membership_of(g["owner"], g["group"]), user_id=g["member"].id, role="owner")

    assert role_of(g["member"], g["group"]) == Role.OWNER


def test_admin_cannot_grant_admin(group_with_roles):
    g = group_with_roles

    with pytest.raises(PermissionDenied):
        services.change_role(actor=membership_of(g["admin"], g["group"]), user_id=g["member"].id, role="admin")

    assert role_of(g["member"], g["group"]) == Role.MEMBER


def test_admin_cannot_demote_an_owner(group_with_roles):
    g = group_with_roles

    with pytest.raises(PermissionDenied):
        services.change_role(actor=membership_of(g["admin"], g["group"]), user_id=g["owner"].id, role="member")

    assert role_of(g["owner"], g["group"]) == Role.OWNER


def test_member_cannot_change_roles(group_with_roles):
    g = group_with_roles

    with pytest.raises(PermissionDenied):
        services.change_role(actor=membership_of(g["member"], g["group"]), user_id=g["member"].id, role="owner")


def test_the_last_owner_cannot_step_down(group_with_roles):
    g = group_with_roles

    with pytest.raises(InvalidInput) as error:
        services.change_role(actor=membership_of(g["owner"], g["group"]), user_id=g["owner"].id, role="member")

    assert error.value.field == "role"
    assert role_of(g["owner"], g["group"]) == Role.OWNER


def test_an_owner_can_step_down_once_there_is_another_owner(group_with_roles):
    g = group_with_roles
    owner = membership_of(g["owner"], g["group"])
    services.change_role(actor=owner, user_id=g["admin"].id, role="owner")

    services.change_role(actor=owner, user_id=g["owner"].id, role="admin")

    assert role_of(g["owner"], g["group"]) == Role.ADMIN
    assert role_of(g["admin"], g["group"]) == Role.OWNER


def test_an_unknown_role_names_the_role_field(group_with_roles):
    g = group_with_roles

    with pytest.raises(InvalidInput) as error:
        services.change_role(actor=membership_of(g["owner"], g["group"]), user_id=g["member"].id, role="king")

    assert error.value.field == "role"


def test_changing_the_role_of_a_non_member_is_not_found(group_with_roles):
    g = group_with_roles

    with pytest.raises(NotFound):
        services.change_role(actor=membership_of(g["owner"], g["group"]), user_id=g["outsider"].id, role="member")


# join_by_invite and regenerate_invite


def test_joining_by_invite_makes_a_member(group_with_roles):
    g = group_with_roles
    newcomer = UserFactory()

    joined = services.join_by_invite(user=newcomer, invite_token=g["group"].invite_token)

    assert (joined.group, joined.role) == (g["group"], Role.MEMBER)


def test_joining_twice_changes_nothing(group_with_roles):
    g = group_with_roles

    again = services.join_by_invite(user=g["admin"], invite_token=g["group"].invite_token)

    assert again.role == Role.ADMIN
    assert Membership.objects.filter(group=g["group"]).count() == 4


def test_joining_with_an_unknown_token_is_not_found(user):
    with pytest.raises(NotFound):
        services.join_by_invite(user=user, invite_token="nope")


def test_regenerating_the_invite_retires_the_old_link(group_with_roles):
    g = group_with_roles
    old_token = g["group"].invite_token

    group = services.regenerate_invite(actor=membership_of(g["admin"], g["group"]))

    assert group.invite_token != old_token
    with pytest.raises(NotFound):
        services.join_by_invite(user=UserFactory(), invite_token=old_token)


def test_member_cannot_regenerate_the_invite(group_with_roles):
    g = group_with_roles

    with pytest.raises(PermissionDenied):
        services.regenerate_invite(actor=membership_of(g["member"], g["group"]))


# update_group


def test_manager_can_update_the_group_settings(group_with_roles):
    g = group_with_roles

    services.update_group(
        actor=membership_of(g["admin"], g["group"]),
        name="Biology 102",
        description="Next term",
        members_can_create_sessions=False,
    )

    g["group"].refresh_from_db()
    assert (g["group"].name, g["group"].description, g["group"].members_can_create_sessions) == (
        "Biology 102",
        "Next term",
        False,
    )


def test_member_cannot_update_the_group_settings(group_with_roles):
    g = group_with_roles

    with pytest.raises(PermissionDenied):
        services.update_group(
            actor=membership_of(g["member"], g["group"]),
            name="Hijacked",
            description="",
            members_can_create_sessions=True,
        )


def test_actor_from_another_group_cannot_touch_this_group():
    owner = UserFactory()
    group = GroupFactory()
    MembershipFactory(group=group, user=owner, role=Role.OWNER)
    other = MembershipFactory(role=Role.OWNER)

    # The actor's own group is the one acted on: an actor can never reach into a group by user id.
    with pytest.raises(NotFound):
        services.remove_member(actor=membership_of(other.user, other.group), user_id=owner.id)


@pytest.mark.django_db(transaction=True)
def test_two_owners_leaving_at_once_still_leave_one_owner():
    import threading

    from django.db import connection

    from quizsite import rls

    group = GroupFactory(created_by=None)
    owners = [MembershipFactory(group=group, role=Role.OWNER, user__password=None) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def leave(owner):
        try:
            barrier.wait()
            # Each thread is a request of its own: it acts as its owner under row-level security.
            with rls.as_user(owner.user):
                services.remove_member(actor=owner, user_id=owner.user_id)
            outcomes.append("left")
        except InvalidInput:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=leave, args=(owner,)) for owner in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["left", "refused"]
    assert Membership.objects.filter(group=group, role=Role.OWNER).count() == 1
