"""Sign-in and its tokens: guessing is throttled, tokens are unguessable, the session key rotates on sign-in,
and every form and htmx POST needs the CSRF token.

(The token endpoint's own 429 is pinned in tests/api/test_auth_api.py.)
"""

import base64
import re
import time

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.views import SIGN_IN_THROTTLED
from groups.models import Group
from quizsite.tokens import new_share_token
from tests.factories import PASSWORD, GroupSessionFactory, QuestionSetFactory, UserFactory

from .conftest import page_client
from .test_access_matrix import ROUTES, prepared

LOGIN = "/account/login"


def sign_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


# --- Guessing passwords ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_is_refused_with_429_after_too_many_wrong_passwords_even_with_the_right_one(settings):
    victim = UserFactory(username="vera")
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert sign_in(client, "vera", "guess").status_code == 200

    response = sign_in(client, "vera", PASSWORD)

    assert response.status_code == 429
    assert SIGN_IN_THROTTLED in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Someone else signing in from the same address is not locked out by it.
    UserFactory(username="walt")
    assert sign_in(Client(), "walt", PASSWORD).status_code == 302
    victim.refresh_from_db()
    assert victim.last_login is None


@pytest.mark.django_db
def test_the_sign_in_lock_lifts_when_the_window_has_passed(settings):
    # Long enough that the failed attempts all fall inside it on a loaded CI machine.
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 4
    UserFactory(username="vera")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in(Client(), "vera", "guess")
    assert sign_in(Client(), "vera", PASSWORD).status_code == 429

    time.sleep(4.5)

    assert sign_in(Client(), "vera", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_an_address_guessing_across_many_usernames_is_locked_out(settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    UserFactory(username="last")
    for number in range(10 * settings.LOGIN_FAILURE_LIMIT):
        sign_in(Client(), f"someone{number}", "guess")

    assert sign_in(Client(), "last", PASSWORD).status_code == 429
    assert sign_in(Client(REMOTE_ADDR="10.9.8.7"), "last", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_right_passwords_do_not_count_towards_the_lock(settings):
    UserFactory(username="vera")
    for _ in range(settings.LOGIN_FAILURE_LIMIT + 2):
        assert sign_in(Client(), "vera", PASSWORD).status_code == 302


# --- Unguessable tokens ----------------------------------------------------------------------------


def _bits(token: str) -> int:
    """Random bits in a URL-safe base64 token (each character carries 6)."""
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token), token
    return len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8


@pytest.mark.django_db
def test_share_invite_and_api_tokens_carry_at_least_128_random_bits():
    owner = UserFactory()
    tokens = {
        "session share token": GroupSessionFactory().share_token,
        "question set token": QuestionSetFactory().token,
        "group invite token": Group.objects.create(name="G").invite_token,
        "new share token": new_share_token(),
    }
    assert {name: _bits(token) >= 128 for name, token in tokens.items()} == dict.fromkeys(tokens, True)
    # DRF's API key: 40 hex digits from os.urandom.
    assert len(Token.objects.create(user=owner).key) * 4 >= 128
    # No two alike, and no shared prefix a guesser could lean on.
    many = {new_share_token() for _ in range(2000)}
    assert len(many) == 2000
    assert len({token[:4] for token in many}) > 1000


# --- The session key rotates on sign-in ------------------------------------------------------------


@pytest.mark.django_db
def test_signing_in_gives_a_new_session_key_and_the_old_one_stops_working(user):
    client = Client()
    question_set = QuestionSetFactory()
    # Taking a quiz signed out stores the attempt in an anonymous session.
    client.post(f"/questions/{question_set.token}", {"display_name": "Sam"})
    before = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=before).exists()

    assert sign_in(client, user.username, PASSWORD).status_code == 302

    after = client.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    # A copy of the old cookie (a fixated session) is not signed in.
    stale = Client()
    stale.cookies["sessionid"] = before
    assert stale.get("/groups/").status_code == 302


@pytest.mark.django_db
def test_signing_up_gives_a_new_session_key():
    client = Client()
    client.post(f"/questions/{QuestionSetFactory().token}", {"display_name": "Sam"})
    before = client.cookies["sessionid"].value

    response = client.post(
        "/account/signup",
        {"username": "newbie", "email": "newbie@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    assert client.cookies["sessionid"].value != before


# --- CSRF on every form and htmx POST --------------------------------------------------------------

PAGE_POSTS = [route for route in ROUTES if route.method == "post" and not route.api]


def test_every_page_post_is_checked_for_csrf():
    names = {route.name for route in PAGE_POSTS}
    assert {"accounts:logout", "groups:add_member", "sessions:delete", "sessions:play", "sessions:preview"} <= names


@pytest.mark.parametrize("route", PAGE_POSTS, ids=[route.id for route in PAGE_POSTS])
def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(world, route):
    from .test_access_matrix import stored_state

    client = page_client(world, "owner", enforce_csrf_checks=True)
    url, data = prepared(world, route)
    before = stored_state()

    response = client.post(url, data or {}, **route.headers)

    assert response.status_code == 403
    assert stored_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("url", [LOGIN, "/account/signup"])
def test_signing_in_and_up_need_the_csrf_token_too(url):
    assert Client(enforce_csrf_checks=True).post(url, {"username": "x", "password": "y"}).status_code == 403


def test_htmx_posts_carry_the_token_from_the_page(world):
    """base.html hands htmx the token (hx-headers); an htmx POST sending it back goes through."""
    client = page_client(world, "owner", enforce_csrf_checks=True)
    page = client.get(reverse("sessions:detail", args=[world["group"].pk, world["upcoming"].pk]))
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page.content.decode()).group(1)

    response = client.post(
        reverse("sessions:start", args=[world["group"].pk, world["upcoming"].pk]),
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 204


def test_every_post_form_on_every_page_carries_the_csrf_token(world):
    client = page_client(world, "owner")
    pages = [route for route in ROUTES if route.method == "get" and not route.api and not route.headers]
    checked = 0
    for route in pages:
        url, _ = prepared(world, route)
        response = client.get(url)
        if response.streaming or not response["Content-Type"].startswith("text/html"):
            continue
        html = response.content.decode()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
            if re.search(r'method="post"', form, flags=re.I):
                assert 'name="csrfmiddlewaretoken"' in form, (url, form[:200])
                checked += 1
    assert checked >= 5


def test_the_api_with_a_session_cookie_needs_the_csrf_token(world):
    """The extension's token needs no CSRF token; a browser's session cookie does."""
    client = page_client(world, "owner", enforce_csrf_checks=True)

    response = client.post("/api/groups", {"name": "Physics"}, content_type="application/json")

    assert response.status_code == 403
    assert not Group.objects.filter(name="Physics").exists()
