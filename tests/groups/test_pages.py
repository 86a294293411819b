import re

import pytest
from django.urls import reverse

from groups.models import Group, Membership, Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def role_of(user, group) -> str | None:
    return Membership.objects.filter(user=user, group=group).values_list("role", flat=True).first()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def assert_no_inline_script(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "onclick=" not in html


# My groups


def test_group_list_needs_sign_in(client):
    response = client.get("/groups/")

    assert (response.status_code, response.url) == (302, "/account/login?next=/groups/")


def test_group_list_shows_my_groups_with_role_and_member_count(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["admin"]).get("/groups/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Biology 101" in html
    assert "Chemistry" not in html
    assert "4 members" in html
    assert "Admin" in html
    assert f'href="/groups/{g["group"].id}"' in html
    assert_no_inline_script(html)


def test_group_list_invites_to_create_a_group_when_empty(client, user):
    html = signed_in(client, user).get("/groups/").content.decode()

    assert "not in any group yet" in html
    assert 'href="/groups/new"' in html


def test_group_list_costs_the_same_queries_for_1_or_20_groups(client, user, django_assert_max_num_queries):
    signed_in(client, user)
    MembershipFactory(user=user, role=Role.OWNER, group__created_by=user)
    with django_assert_max_num_queries(10) as one:
        client.get("/groups/")
    for _ in range(19):
        MembershipFactory(user=user, group__created_by=user)

    with django_assert_max_num_queries(10) as twenty:
        response = client.get("/groups/")

    assert len(response.context["groups"]) == 20
    assert len(twenty) == len(one)


# New group


def test_create_group_page_renders_a_labelled_form(client, user):
    html = signed_in(client, user).get("/groups/new").content.decode()

    assert 'for="id_name"' in html
    assert 'for="id_description"' in html


def test_creating_a_group_makes_me_owner_and_opens_the_group_page(client, user):
    response = signed_in(client, user).post("/groups/new", {"name": "Physics", "description": "Waves"})

    group = Group.objects.get()
    assert (response.status_code, response.url) == (302, f"/groups/{group.id}")
    assert role_of(user, group) == Role.OWNER


def test_creating_a_group_without_a_name_shows_the_error(client, user):
    response = signed_in(client, user).post("/groups/new", {"name": "  "})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not Group.objects.exists()


# The group page layout (rendered by the Sessions tab) and the Members tab


def test_group_page_has_header_and_tabs(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["member"]).get(f"/groups/{g['group'].id}")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Biology 101" in html
    assert "4 members" in html
    assert f'href="{reverse("groups:members", args=[g["group"].id])}"' in html


@pytest.mark.parametrize("who", ["owner", "admin", "member"])
def test_every_member_sees_the_members_tab(client, group_with_roles, who):
    g = group_with_roles

    response = signed_in(client, g[who]).get(f"/groups/{g['group'].id}/members")

    html = response.content.decode()
    assert response.status_code == 200
    for name in ("olivia_owner", "adam_admin", "mia_member", "otto_member"):
        assert name in html
    assert_no_inline_script(html)


def test_plain_members_see_no_management_controls(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["member"]).get(f"/groups/{g['group'].id}/members")

    html = response.content.decode()
    assert "add_form" not in response.context
    assert g["group"].invite_token not in html
    assert "/role" not in html
    # Their own row offers to leave; nobody else's offers removal.
    assert f"remove-member-{g['member'].id}" in html
    assert f"remove-member-{g['other_member'].id}" not in html


def test_owner_sees_add_form_invite_link_settings_and_role_selects(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["owner"]).get(f"/groups/{g['group'].id}/members")

    html = response.content.decode()
    assert f"/groups/join/{g['group'].invite_token}" in html
    assert 'data-copy="http://testserver/groups/join/' in html
    assert 'name="members_can_create_sessions"' in html
    assert f'action="/groups/{g["group"].id}/members/{g["member"].id}/role"' in html
    assert 'value="admin"' in html


def test_admin_may_remove_members_but_not_owners_nor_change_roles(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["admin"]).get(f"/groups/{g['group'].id}/members")

    html = response.content.decode()
    assert f"remove-member-{g['member'].id}" in html
    assert f"remove-member-{g['owner'].id}" not in html
    assert "/role" not in html
    # Admins may not add admins, so the add form offers members only.
    assert [value for value, _ in response.context["add_form"].fields["role"].choices] == ["member"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/groups/{id}"),
        ("get", "/groups/{id}/members"),
        ("post", "/groups/{id}/members/add"),
        ("post", "/groups/{id}/members/{member}/role"),
        ("post", "/groups/{id}/members/{member}/remove"),
        ("post", "/groups/{id}/invite/regenerate"),
        ("post", "/groups/{id}/settings"),
    ],
)
def test_non_members_get_404_for_every_group_url(client, group_with_roles, method, path):
    g = group_with_roles
    url = path.format(id=g["group"].id, member=g["member"].id)
    data = {"username": "oscar_outsider", "role": "admin", "name": "Mine now"}

    response = getattr(signed_in(client, g["outsider"]), method)(url, data)

    assert response.status_code == 404
    assert role_of(g["member"], g["group"]) == Role.MEMBER
    assert role_of(g["outsider"], g["group"]) is None


def test_unknown_group_is_404(client, user):
    assert signed_in(client, user).get("/groups/999999/members").status_code == 404


# Managing members from the page


def test_owner_adds_an_admin_from_the_page(client, group_with_roles):
    g = group_with_roles
    nina = UserFactory(username="nina")

    response = signed_in(client, g["owner"]).post(
        f"/groups/{g['group'].id}/members/add", {"username": "nina", "role": "admin"}, follow=True
    )

    assert role_of(nina, g["group"]) == Role.ADMIN
    assert "nina joined as admin." in messages_of(response)


def test_adding_an_unknown_username_shows_the_error_next_to_the_field(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["owner"]).post(
        f"/groups/{g['group'].id}/members/add", {"username": "ghost", "role": "member"}
    )

    assert response.status_code == 200
    assert response.context["add_form"].errors == {"username": ["No user with this username."]}
    assert "No user with this username." in response.content.decode()


def test_member_posting_the_add_form_is_forbidden(client, group_with_roles):
    g = group_with_roles
    nina = UserFactory(username="nina")

    response = signed_in(client, g["member"]).post(
        f"/groups/{g['group'].id}/members/add", {"username": "nina", "role": "member"}
    )

    assert response.status_code == 403
    assert role_of(nina, g["group"]) is None


def test_owner_promotes_a_member_from_the_page(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["owner"]).post(
        f"/groups/{g['group'].id}/members/{g['member'].id}/role", {"role": "admin"}, follow=True
    )

    assert role_of(g["member"], g["group"]) == Role.ADMIN
    assert "mia_member is now admin." in messages_of(response)


def test_admin_cannot_promote_from_the_page(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["admin"]).post(
        f"/groups/{g['group'].id}/members/{g['member'].id}/role", {"role": "admin"}
    )

    assert response.status_code == 403
    assert role_of(g["member"], g["group"]) == Role.MEMBER


def test_last_owner_stepping_down_is_told_why_not(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["owner"]).post(
        f"/groups/{g['group'].id}/members/{g['owner'].id}/role", {"role": "member"}, follow=True
    )

    assert role_of(g["owner"], g["group"]) == Role.OWNER
    assert any("needs an owner" in m for m in messages_of(response))


def test_admin_removes_a_member_from_the_page(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["admin"]).post(
        f"/groups/{g['group'].id}/members/{g['member'].id}/remove", follow=True
    )

    assert role_of(g["member"], g["group"]) is None
    assert response.redirect_chain[-1][0] == f"/groups/{g['group'].id}/members"


def test_member_leaves_from_the_page_and_lands_on_their_groups(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["member"]).post(
        f"/groups/{g['group'].id}/members/{g['member'].id}/remove", follow=True
    )

    assert role_of(g["member"], g["group"]) is None
    assert response.redirect_chain[-1][0] == "/groups/"
    assert "You left Biology 101." in messages_of(response)


def test_last_owner_leaving_is_told_why_not(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["owner"]).post(
        f"/groups/{g['group'].id}/members/{g['owner'].id}/remove", follow=True
    )

    assert role_of(g["owner"], g["group"]) == Role.OWNER
    assert any("needs an owner" in m for m in messages_of(response))


def test_page_actions_need_post(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["owner"]).get(f"/groups/{g['group'].id}/members/{g['member'].id}/remove")

    assert response.status_code == 405
    assert role_of(g["member"], g["group"]) == Role.MEMBER


def test_admin_regenerates_the_invite_link(client, group_with_roles):
    g = group_with_roles
    old = g["group"].invite_token

    signed_in(client, g["admin"]).post(f"/groups/{g['group'].id}/invite/regenerate")

    g["group"].refresh_from_db()
    assert g["group"].invite_token != old


def test_member_cannot_regenerate_the_invite_link(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["member"]).post(f"/groups/{g['group'].id}/invite/regenerate")

    assert response.status_code == 403


def test_manager_saves_the_group_settings(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["owner"]).post(
        f"/groups/{g['group'].id}/settings", {"name": "Biology 102", "description": "Term two"}, follow=True
    )

    g["group"].refresh_from_db()
    assert (g["group"].name, g["group"].description, g["group"].members_can_create_sessions) == (
        "Biology 102",
        "Term two",
        False,
    )
    assert "Group settings saved." in messages_of(response)


def test_invalid_settings_show_the_error_and_keep_the_group(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["owner"]).post(f"/groups/{g['group'].id}/settings", {"name": ""})

    assert response.status_code == 200
    assert "name" in response.context["settings_form"].errors
    g["group"].refresh_from_db()
    assert g["group"].name == "Biology 101"


def test_member_cannot_save_settings(client, group_with_roles):
    g = group_with_roles

    response = signed_in(client, g["member"]).post(f"/groups/{g['group'].id}/settings", {"name": "Hijacked"})

    assert response.status_code == 403


def test_members_page_costs_the_same_queries_for_few_or_many_members(
    client, group_with_roles, django_assert_max_num_queries
):
    g = group_with_roles
    signed_in(client, g["owner"])
    with django_assert_max_num_queries(15) as few:
        client.get(f"/groups/{g['group'].id}/members")
    MembershipFactory.create_batch(20, group=g["group"], user__password=None)

    with django_assert_max_num_queries(15) as many:
        client.get(f"/groups/{g['group'].id}/members")

    assert len(many) == len(few)


# Invite flow


def test_join_link_sends_visitors_to_sign_in_first(client, group_with_roles):
    token = group_with_roles["group"].invite_token

    response = client.get(f"/groups/join/{token}")

    assert (response.status_code, response.url) == (302, f"/account/login?next=/groups/join/{token}")


def test_join_page_shows_the_group_and_a_join_button(client, group_with_roles):
    token = group_with_roles["group"].invite_token
    newcomer = UserFactory()

    response = signed_in(client, newcomer).get(f"/groups/join/{token}")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Biology 101" in html
    assert f'action="/groups/join/{token}"' in html
    assert role_of(newcomer, group_with_roles["group"]) is None


def test_joining_makes_me_a_member_and_opens_the_group(client, group_with_roles):
    g = group_with_roles
    newcomer = UserFactory()

    response = signed_in(client, newcomer).post(f"/groups/join/{g['group'].invite_token}")

    assert (response.status_code, response.url) == (302, f"/groups/{g['group'].id}")
    assert role_of(newcomer, g["group"]) == Role.MEMBER


def test_a_member_opening_the_join_link_goes_straight_to_the_group(client, group_with_roles):
    g = group_with_roles

    for method in ("get", "post"):
        response = getattr(signed_in(client, g["admin"]), method)(f"/groups/join/{g['group'].invite_token}")
        assert (response.status_code, response.url) == (302, f"/groups/{g['group'].id}")
    assert role_of(g["admin"], g["group"]) == Role.ADMIN


def test_an_unknown_or_retired_join_link_is_404(client, user):
    assert signed_in(client, user).get("/groups/join/not-a-token").status_code == 404
