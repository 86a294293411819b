import re

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-Sturdy-passphrase-42"


def assert_no_inline_script(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> would break the CSP"
    assert "onclick=" not in html


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# Home


def test_home_explains_the_product_to_visitors(client):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/account/login"' in html
    assert 'href="/account/signup"' in html
    assert_no_inline_script(html)


def test_home_sends_signed_in_people_to_their_groups(client, user):
    client.force_login(user)

    response = client.get("/")

    assert (response.status_code, response.url) == (302, "/groups/")


# Sign up


def test_signup_page_renders_with_a_link_to_sign_in(client):
    response = client.get("/account/signup?next=/groups/join/abc")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="email"' in html
    assert 'href="/account/login?next=/groups/join/abc"' in html
    assert 'name="next" value="/groups/join/abc"' in html
    assert_no_inline_script(html)


def test_signup_creates_the_account_signs_in_and_opens_the_groups_list(client):
    response = client.post(
        "/account/signup",
        {"username": "newbie", "email": "newbie@example.com", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
    )

    assert (response.status_code, response.url) == (302, "/groups/")
    user = get_user_model().objects.get(username="newbie")
    assert user.email == "newbie@example.com"
    assert user.check_password(GOOD_PASSWORD)
    assert is_signed_in(client)


def test_signup_honours_a_safe_next(client):
    response = client.post(
        "/account/signup",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
            "next": "/groups/join/abc",
        },
    )

    assert response.url == "/groups/join/abc"


def test_signup_ignores_a_next_pointing_elsewhere(client):
    response = client.post(
        "/account/signup?next=https://evil.example/",
        {"username": "newbie", "email": "newbie@example.com", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
    )

    assert response.url == "/groups/"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "TAKEN@example.com"}, "email"),
        ({"username": "taken"}, "username"),
        ({"password2": "something-else-42"}, "password2"),
        ({"password1": "123", "password2": "123"}, "password2"),
    ],
)
def test_signup_shows_what_is_wrong(client, overrides, field):
    UserFactory(username="taken", email="taken@example.com")
    data = {"username": "newbie", "email": "newbie@example.com", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}

    response = client.post("/account/signup", {**data, **overrides})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert "invalid-feedback" in response.content.decode()
    assert not get_user_model().objects.filter(username="newbie").exists()
    assert not is_signed_in(client)


def test_signed_in_person_opening_signup_goes_to_groups(client, user):
    client.force_login(user)

    assert client.get("/account/signup").url == "/groups/"


# Sign in / sign out


def test_login_page_carries_next_and_links_to_signup(client):
    response = client.get("/account/login?next=/groups/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="next" value="/groups/"' in html
    assert 'href="/account/signup?next=/groups/"' in html
    assert_no_inline_script(html)


def test_login_with_right_credentials_opens_the_groups_list(client, user):
    response = client.post("/account/login", {"username": user.username, "password": PASSWORD})

    assert (response.status_code, response.url) == (302, "/groups/")
    assert is_signed_in(client)


def test_login_honours_next(client, user):
    response = client.post(
        "/account/login", {"username": user.username, "password": PASSWORD, "next": "/account/token"}
    )

    assert response.url == "/account/token"


def test_login_with_a_wrong_password_shows_an_error(client, user):
    response = client.post("/account/login", {"username": user.username, "password": "nope"})

    assert response.status_code == 200
    assert 'class="alert alert-danger"' in response.content.decode()
    assert not is_signed_in(client)


def test_logout_needs_a_post(client, user):
    client.force_login(user)

    assert client.get("/account/logout").status_code == 405
    assert is_signed_in(client)


def test_logout_signs_out_and_opens_the_login_page(client, user):
    client.force_login(user)

    response = client.post("/account/logout")

    assert (response.status_code, response.url) == (302, "/account/login")
    assert not is_signed_in(client)


# API token page


def test_token_page_needs_sign_in(client):
    response = client.get("/account/token")

    assert (response.status_code, response.url) == (302, "/account/login?next=/account/token")


def test_token_page_shows_a_new_key_with_a_copy_button(client, user):
    client.force_login(user)

    response = client.get("/account/token")

    key = Token.objects.get(user=user).key
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-copy="{key}"' in html
    assert 'data-bs-target="#regenerate-token"' in html
    assert_no_inline_script(html)


def test_token_page_shows_the_existing_key(client, user):
    token = Token.objects.create(user=user)
    client.force_login(user)

    assert token.key in client.get("/account/token").content.decode()


def test_regenerating_replaces_the_key(client, user):
    old = Token.objects.create(user=user).key
    client.force_login(user)

    response = client.post("/account/token", follow=True)

    new = Token.objects.get(user=user).key
    assert new != old
    assert new in response.content.decode()
    assert "regenerated" in response.content.decode()
