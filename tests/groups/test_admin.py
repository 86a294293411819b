import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "url_name", ["admin:groups_group_changelist", "admin:groups_membership_changelist", "admin:groups_group_add"]
)
def test_admin_list_and_add_pages_load(superuser_client, group_with_roles, url_name):
    assert superuser_client.get(reverse(url_name)).status_code == 200


def test_group_changelist_shows_member_counts_and_searches(superuser_client, group_with_roles):
    response = superuser_client.get(reverse("admin:groups_group_changelist"), {"q": "biology"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert response.context["cl"].result_list[0].member_count == 4


def test_membership_changelist_filters_by_role(superuser_client, group_with_roles):
    response = superuser_client.get(reverse("admin:groups_membership_changelist"), {"role__exact": "admin"})

    assert [m.user.username for m in response.context["cl"].result_list] == ["adam_admin"]


def test_group_change_page_shows_members_inline_and_the_invite_token(superuser_client, group_with_roles):
    group = group_with_roles["group"]

    response = superuser_client.get(reverse("admin:groups_group_change", args=[group.id]))

    assert response.status_code == 200
    assert group.invite_token in response.content.decode()
    assert "mia_member" in response.content.decode()


def test_membership_change_page_loads(superuser_client):
    membership = MembershipFactory()

    assert superuser_client.get(reverse("admin:groups_membership_change", args=[membership.id])).status_code == 200


def test_non_staff_cannot_open_the_group_admin(client, user):
    client.force_login(user)

    assert client.get(reverse("admin:groups_group_changelist")).status_code == 302
