"""Contract: `POST /api/groups`, `POST|DELETE /api/groups/<id>/members[/<user_id>]`, `GET /api/user/groups`."""

import pytest
from rest_framework.test import APIClient

from groups.models import Group, Membership, Role
from tests.conftest import token_client
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def role_of(user, group) -> str | None:
    return Membership.objects.filter(user=user, group=group).values_list("role", flat=True).first()


# POST /api/groups


@pytest.mark.parametrize("path", ["/api/groups", "/api/groups/"])
def test_create_group_answers_201_with_the_contract_body(user, path):
    response = token_client(user).post(path, {"name": "Physics", "description": "Waves"}, format="json")

    assert response.status_code == 201
    group = Group.objects.get()
    assert response.json() == {
        "id": group.id,
        "name": "Physics",
        "role": "owner",
        "can_create_sessions": True,
        "member_count": 1,
    }
    assert role_of(user, group) == Role.OWNER
    assert group.description == "Waves"


def test_create_group_description_is_optional(user):
    response = token_client(user).post("/api/groups", {"name": "Physics"}, format="json")

    assert response.status_code == 201
    assert Group.objects.get().description == ""


def test_create_group_accepts_a_100_character_name(user):
    response = token_client(user).post("/api/groups", {"name": "n" * 100}, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"name": ["Physics"]}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"name": "Physics", "description": "d" * 2001}, "description"),
        ({"name": "Physics", "description": {"a": 1}}, "description"),
    ],
)
def test_create_group_rejects_bad_bodies_naming_the_field(user, body, field):
    response = token_client(user).post("/api/groups", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert isinstance(response.json()[field], list)
    assert not Group.objects.exists()


def test_create_group_rejects_malformed_json(user):
    response = token_client(user).post("/api/groups", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_create_group_without_credentials_is_401(api_client):
    response = api_client.post("/api/groups", {"name": "Physics"}, format="json")

    assert response.status_code == 401
    assert not Group.objects.exists()


def test_create_group_with_a_bad_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")

    assert api_client.post("/api/groups", {"name": "Physics"}, format="json").status_code == 401


# POST /api/groups/<id>/members


@pytest.mark.parametrize("suffix", ["", "/"])
def test_owner_adds_an_admin_and_gets_the_contract_body(group_with_roles, suffix):
    g = group_with_roles
    nina = UserFactory(username="nina")

    response = token_client(g["owner"]).post(
        f"/api/groups/{g['group'].id}/members{suffix}", {"username": "nina", "role": "admin"}, format="json"
    )

    assert response.status_code == 201
    assert response.json() == {"user": {"id": nina.id, "username": "nina"}, "role": "admin"}
    assert role_of(nina, g["group"]) == Role.ADMIN


def test_admin_adds_a_member(group_with_roles):
    g = group_with_roles
    nina = UserFactory(username="nina")

    response = token_client(g["admin"]).post(
        f"/api/groups/{g['group'].id}/members", {"username": "nina", "role": "member"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["role"] == "member"
    assert role_of(nina, g["group"]) == Role.MEMBER


def test_admin_cannot_add_an_admin(group_with_roles):
    g = group_with_roles
    nina = UserFactory(username="nina")

    response = token_client(g["admin"]).post(
        f"/api/groups/{g['group'].id}/members", {"username": "nina", "role": "admin"}, format="json"
    )

    assert response.status_code == 403
    assert role_of(nina, g["group"]) is None


def test_member_cannot_add_members_even_with_a_bad_body(group_with_roles):
    g = group_with_roles
    client = token_client(g["member"])
    path = f"/api/groups/{g['group'].id}/members"
    UserFactory(username="nina")

    assert client.post(path, {"username": "nina", "role": "member"}, format="json").status_code == 403
    assert client.post(path, {}, format="json").status_code == 403


def test_outsider_adding_a_member_gets_404(group_with_roles):
    g = group_with_roles
    UserFactory(username="nina")

    response = token_client(g["outsider"]).post(
        f"/api/groups/{g['group'].id}/members", {"username": "nina", "role": "member"}, format="json"
    )

    assert response.status_code == 404


def test_adding_to_an_unknown_group_is_404(user):
    response = token_client(user).post("/api/groups/999999/members", {"username": "x", "role": "member"}, format="json")

    assert response.status_code == 404


def test_adding_an_existing_member_is_400_on_username(group_with_roles):
    g = group_with_roles

    response = token_client(g["owner"]).post(
        f"/api/groups/{g['group'].id}/members", {"username": "mia_member", "role": "admin"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["username"]
    assert role_of(g["member"], g["group"]) == Role.MEMBER


def test_adding_an_unknown_username_is_400_on_username(group_with_roles):
    g = group_with_roles

    response = token_client(g["owner"]).post(
        f"/api/groups/{g['group'].id}/members", {"username": "ghost", "role": "member"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["username"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "member"}, "username"),
        ({"username": "", "role": "member"}, "username"),
        ({"username": "nina", "role": "owner"}, "role"),
        ({"username": "nina", "role": "king"}, "role"),
        ({"username": "nina", "role": 3}, "role"),
    ],
)
def test_adding_with_a_bad_body_names_the_field(group_with_roles, body, field):
    g = group_with_roles
    UserFactory(username="nina")

    response = token_client(g["owner"]).post(f"/api/groups/{g['group'].id}/members", body, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_adding_without_credentials_is_401(group_with_roles, api_client):
    g = group_with_roles

    response = api_client.post(
        f"/api/groups/{g['group'].id}/members", {"username": "nina", "role": "member"}, format="json"
    )

    assert response.status_code == 401


# DELETE /api/groups/<id>/members/<user_id>


@pytest.mark.parametrize("suffix", ["", "/"])
def test_owner_removes_a_member_with_204(group_with_roles, suffix):
    g = group_with_roles

    response = token_client(g["owner"]).delete(f"/api/groups/{g['group'].id}/members/{g['member'].id}{suffix}")

    assert response.status_code == 204
    assert response.content == b""
    assert role_of(g["member"], g["group"]) is None


def test_admin_removes_a_member(group_with_roles):
    g = group_with_roles

    response = token_client(g["admin"]).delete(f"/api/groups/{g['group'].id}/members/{g['member'].id}")

    assert response.status_code == 204


def test_admin_cannot_remove_an_owner(group_with_roles):
    g = group_with_roles

    response = token_client(g["admin"]).delete(f"/api/groups/{g['group'].id}/members/{g['owner'].id}")

    assert response.status_code == 403
    assert role_of(g["owner"], g["group"]) == Role.OWNER


def test_member_cannot_remove_another_member(group_with_roles):
    g = group_with_roles

    response = token_client(g["member"]).delete(f"/api/groups/{g['group'].id}/members/{g['other_member'].id}")

    assert response.status_code == 403
    assert role_of(g["other_member"], g["group"]) == Role.MEMBER


def test_member_can_remove_themselves(group_with_roles):
    g = group_with_roles

    response = token_client(g["member"]).delete(f"/api/groups/{g['group'].id}/members/{g['member'].id}")

    assert response.status_code == 204
    assert role_of(g["member"], g["group"]) is None


def test_the_last_owner_cannot_be_removed(group_with_roles):
    g = group_with_roles

    response = token_client(g["owner"]).delete(f"/api/groups/{g['group'].id}/members/{g['owner'].id}")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    assert role_of(g["owner"], g["group"]) == Role.OWNER


def test_outsider_removing_a_member_gets_404(group_with_roles):
    g = group_with_roles

    response = token_client(g["outsider"]).delete(f"/api/groups/{g['group'].id}/members/{g['member'].id}")

    assert response.status_code == 404
    assert role_of(g["member"], g["group"]) == Role.MEMBER


def test_removing_a_user_who_is_not_a_member_is_404(group_with_roles):
    g = group_with_roles

    response = token_client(g["owner"]).delete(f"/api/groups/{g['group'].id}/members/{g['outsider'].id}")

    assert response.status_code == 404


def test_removing_without_credentials_is_401(group_with_roles, api_client):
    g = group_with_roles

    response = api_client.delete(f"/api/groups/{g['group'].id}/members/{g['member'].id}")

    assert response.status_code == 401
    assert role_of(g["member"], g["group"]) == Role.MEMBER


# GET /api/user/groups


@pytest.mark.parametrize("path", ["/api/user/groups", "/api/user/groups/", "/api/user/groups?unknown=1"])
def test_user_groups_lists_only_the_callers_groups_sorted_by_name(group_with_roles, path):
    g = group_with_roles
    algebra = GroupFactory(name="Algebra", members_can_create_sessions=False)
    MembershipFactory(group=algebra, user=g["member"], role=Role.MEMBER)
    zoology = GroupFactory(name="Zoology", members_can_create_sessions=False)
    MembershipFactory(group=zoology, user=g["member"], role=Role.ADMIN)

    response = token_client(g["member"]).get(path)

    assert response.status_code == 200
    assert response.json() == {
        "groups": [
            {"id": algebra.id, "name": "Algebra", "role": "member", "can_create_sessions": False, "member_count": 1},
            {
                "id": g["group"].id,
                "name": "Biology 101",
                "role": "member",
                "can_create_sessions": True,
                "member_count": 4,
            },
            {"id": zoology.id, "name": "Zoology", "role": "admin", "can_create_sessions": True, "member_count": 1},
        ]
    }


def test_user_groups_reports_each_role(group_with_roles):
    g = group_with_roles
    roles = {
        name: token_client(g[name]).get("/api/user/groups").json()["groups"][0]["role"]
        for name in ("owner", "admin", "member")
    }

    assert roles == {"owner": "owner", "admin": "admin", "member": "member"}


def test_user_groups_is_empty_for_someone_in_no_group(user):
    response = token_client(user).get("/api/user/groups")

    assert response.status_code == 200
    assert response.json() == {"groups": []}


def test_user_groups_without_credentials_is_401():
    assert APIClient().get("/api/user/groups").status_code == 401


def test_user_groups_works_with_the_session_cookie(group_with_roles):
    client = APIClient()
    client.force_login(group_with_roles["owner"])

    response = client.get("/api/user/groups")

    assert response.status_code == 200
    assert [row["name"] for row in response.json()["groups"]] == ["Biology 101"]


def _count_queries(django_assert_max_num_queries, client, limit):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get("/api/user/groups")
    assert response.status_code == 200
    return len(captured), len(response.json()["groups"])


def test_user_groups_costs_the_same_queries_for_1_or_20_groups(django_assert_max_num_queries):
    user = UserFactory()
    client = token_client(user)
    # Users that never sign in skip password hashing, which is what makes factories slow.
    MembershipFactory(user=user, role=Role.OWNER, group__created_by=user)
    one_group_queries, listed = _count_queries(django_assert_max_num_queries, client, 3)
    assert listed == 1

    for index in range(19):
        role = [Role.OWNER, Role.ADMIN, Role.MEMBER][index % 3]
        group = MembershipFactory(user=user, role=role, group__created_by=user).group
        MembershipFactory.create_batch(2, group=group, user__password=None)
    twenty_groups_queries, listed = _count_queries(django_assert_max_num_queries, client, 3)

    assert listed == 20
    assert twenty_groups_queries == one_group_queries


# The OpenAPI document describes these endpoints truthfully.


def test_schema_documents_the_group_endpoints(user):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    # The schema may spell paths with or without the trailing slash; both are served.
    paths = {path.rstrip("/"): item for path, item in schema["paths"].items()}
    create = paths["/api/groups"]["post"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/GroupSummary")
    assert set(schema["components"]["schemas"]["GroupSummary"]["properties"]) == {
        "id",
        "name",
        "role",
        "can_create_sessions",
        "member_count",
    }
    assert "204" in paths["/api/groups/{group_id}/members/{user_id}"]["delete"]["responses"]
    assert "201" in paths["/api/groups/{group_id}/members"]["post"]["responses"]
    listing = paths["/api/user/groups"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listing["$ref"].endswith("/UserGroups")
    token = paths["/api/auth/token"]["post"]
    assert token["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/TokenResponse")
    request_schema = token["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][request_schema]["properties"]) == {"username", "password"}
