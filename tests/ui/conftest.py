import pytest
from django.test import Client

from groups.models import Role
from tests.factories import GroupFactory, MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Factories hash a password per user; the real hasher's cost is not what these tests are about.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def roles(group_with_roles):
    """group_with_roles plus a signed-in test client per person: `roles["clients"]["admin"]`."""
    clients = {}
    for name in ("owner", "admin", "member", "other_member", "outsider"):
        client = Client()
        client.force_login(group_with_roles[name])
        clients[name] = client
    return {**group_with_roles, "clients": clients}


@pytest.fixture
def htmx_headers():
    def headers(target: str | None = None, current_url: str | None = None) -> dict:
        values = {"HTTP_HX_REQUEST": "true"}
        if target:
            values["HTTP_HX_TARGET"] = target
        if current_url:
            values["HTTP_HX_CURRENT_URL"] = current_url
        return values

    return headers


@pytest.fixture
def make_group_with_admin(db):
    def make(name: str = "Big group"):
        admin = UserFactory()
        group = GroupFactory(name=name, created_by=admin)
        MembershipFactory(group=group, user=admin, role=Role.ADMIN)
        return group, admin

    return make
