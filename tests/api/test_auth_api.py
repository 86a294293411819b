"""Contract: `POST /api/auth/token`."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.services import regenerate_api_token
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.mark.parametrize("path", ["/api/auth/token", "/api/auth/token/"])
def test_right_credentials_get_the_users_token(api_client, alice, path):
    response = api_client.post(path, {"username": "alice", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=alice).key}


def test_asking_twice_returns_the_same_token(api_client, alice):
    first = api_client.post("/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json")
    second = api_client.post("/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json")

    assert first.json()["token"] == second.json()["token"]


def test_the_token_authenticates_api_calls(api_client, alice):
    key = api_client.post("/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json").json()["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/user/groups").status_code == 200


def test_wrong_password_is_400_with_non_field_errors(api_client, alice):
    response = api_client.post("/api/auth/token", {"username": "alice", "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    assert not Token.objects.filter(user=alice).exists()


def test_unknown_username_is_400_with_non_field_errors(api_client):
    response = api_client.post("/api/auth/token", {"username": "nobody", "password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_inactive_user_gets_no_token(api_client):
    UserFactory(username="sleeper", is_active=False)

    response = api_client.post("/api/auth/token", {"username": "sleeper", "password": PASSWORD}, format="json")

    assert response.status_code == 400


def test_missing_fields_are_named(api_client):
    response = api_client.post("/api/auth/token", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_malformed_json_is_400(api_client):
    response = api_client.post("/api/auth/token", '{"username": ', content_type="application/json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_a_json_list_body_is_400(api_client):
    response = api_client.post("/api/auth/token", [1, 2], format="json")

    assert response.status_code == 400


def test_no_csrf_token_is_needed_even_with_a_session_cookie(alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post("/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json")

    assert response.status_code == 200


def test_get_is_not_allowed(api_client):
    assert api_client.get("/api/auth/token").status_code == 405


def test_too_many_attempts_are_throttled_with_429(api_client, alice):
    throttle = ScopedRateThrottle()
    allowed, _ = throttle.parse_rate(throttle.THROTTLE_RATES["token"])
    for _ in range(allowed):
        response = api_client.post("/api/auth/token", {"username": "alice", "password": "wrong"}, format="json")
        assert response.status_code == 400

    response = api_client.post("/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json")

    assert response.status_code == 429
    assert "Retry-After" in response.headers


class TestTokenHeader:
    """`Authorization: Token <key>` (accounts.authentication, one hand-written query) answers as DRF's does."""

    def test_a_valid_key_authenticates_as_its_user(self, api_client):
        user = UserFactory(username="tina")
        key = Token.objects.create(user=user).key
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

        response = api_client.get("/api/user/groups")

        assert response.status_code == 200
        assert response.wsgi_request.user == user
        assert response.wsgi_request.user.username == "tina"

    def test_an_unknown_key_is_401(self, api_client):
        api_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)

        response = api_client.get("/api/user/groups")

        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid token."}

    def test_an_inactive_users_key_is_401(self, api_client):
        user = UserFactory(is_active=False)
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

        response = api_client.get("/api/user/groups")

        assert response.status_code == 401
        assert response.json() == {"detail": "User inactive or deleted."}

    def test_a_regenerated_key_stops_working_at_once(self, api_client):
        user = UserFactory()
        old = Token.objects.create(user=user).key
        regenerate_api_token(user=user)
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {old}")

        assert api_client.get("/api/user/groups").status_code == 401
