"""In Chromium: markup that people type into quizsite is shown as text and never runs, and every page works
under the Content-Security-Policy (no inline script, no style attributes) without a single violation.

Each page gets an init script (Playwright injects it outside the page's CSP) that records CSP violations
and would notice a payload that ran: `window.__pwned` stays undefined.
"""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import BrowserContext, Page, expect

from groups.models import Role
from questions.models import Attempt
from tests.factories import (
    GroupFactory,
    GroupSessionFactory,
    MembershipFactory,
    ParticipantFactory,
    QuestionSetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script><b onmouseover=alert(1)>'
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
});
"""


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def watched(page: Page):
    errors: list[str] = []
    page.context.on("weberror", lambda error: errors.append(str(error.error)))
    page.add_init_script(WATCH)
    page.set_default_timeout(10_000)
    yield page
    assert errors == []


def sign_in(context: BrowserContext, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def assert_inert(page: Page, where: str) -> None:
    state = page.evaluate(
        """() => ({
            pwned: typeof window.__pwned,
            planted: document.querySelectorAll('img[src="x"], b[onmouseover]').length,
            csp: window.__csp,
        })"""
    )
    assert state == {"pwned": "undefined", "planted": 0, "csp": []}, where


@pytest.fixture
def hostile_world():
    """Every free-text field that reaches a page holds the payload."""
    owner = UserFactory(username="olivia_owner", is_staff=True, is_superuser=True)
    member = UserFactory(username="mia_member")
    group = GroupFactory(name=PAYLOAD[:100], description=PAYLOAD, created_by=owner)
    MembershipFactory(group=group, user=owner, role=Role.OWNER)
    MembershipFactory(group=group, user=member, role=Role.MEMBER)
    questions = [
        {"id": 1, "prompt": PAYLOAD, "choices": [PAYLOAD, "Paris"], "answer": 1, "explanation": PAYLOAD},
        {"id": 2, "prompt": "Plain?", "choices": ["Yes", PAYLOAD], "answer": 0, "explanation": ""},
    ]
    session = GroupSessionFactory(
        group=group, created_by=owner, title=PAYLOAD[:200], questions_data=questions, loop_data={"note": PAYLOAD}
    )
    ParticipantFactory(session=session, user=member)
    question_set = QuestionSetFactory(
        created_by=owner,
        title=PAYLOAD[:200],
        questions=[{"prompt": PAYLOAD, "choices": [PAYLOAD, "b"], "answer": 0, "explanation": PAYLOAD}],
    )
    attempt = Attempt.objects.create(
        question_set=question_set, display_name=PAYLOAD[:100], user=None, answers=[], score=0, total=1
    )
    return {
        "owner": owner,
        "member": member,
        "group": group,
        "session": session,
        "set": question_set,
        "attempt": attempt,
    }


def test_markup_typed_into_quizsite_shows_as_text_and_never_runs(watched: Page, live_server, hostile_world):
    world = hostile_world
    sign_in(watched.context, live_server, world["owner"])
    group, session = world["group"], world["session"]
    pages = {
        "groups": reverse("groups:list"),
        "sessions tab": reverse("sessions:group", args=[group.pk]),
        "members": reverse("groups:members", args=[group.pk]),
        "session page": reverse("sessions:detail", args=[group.pk, session.pk]),
        "edit page": reverse("sessions:edit", args=[group.pk, session.pk]),
        "group quiz": session.join_url,
        "shared quiz": f"/questions/{world['set'].token}",
        "admin sessions": "/admin/group_sessions/groupsession/",
        "admin attempts": "/admin/questions/attempt/",
    }
    for where, url in pages.items():
        watched.goto(live_server.url + url)
        assert_inert(watched, where)
        assert "<img src=x" in watched.locator("body").inner_text(), where

    # A toast from an htmx action names the session: still text.
    watched.goto(live_server.url + pages["session page"])
    watched.locator("[hx-post$='/end']").first.click()
    watched.locator("#confirm-modal-ok").click()
    expect(watched.locator("#toasts .toast").last).to_contain_text("has ended")
    assert_inert(watched, "toast")

    # The member's result page shows the prompts and explanations, still as text.
    watched.context.clear_cookies()
    sign_in(watched.context, live_server, world["member"])
    watched.goto(live_server.url + session.join_url)
    assert_inert(watched, "group result")
    assert "<img src=x" in watched.locator("body").inner_text()

    # A signed-out taker's display name, typed with markup, comes back as text.
    watched.context.clear_cookies()
    watched.goto(f"{live_server.url}/questions/{world['set'].token}")
    watched.get_by_label("Your name").fill(PAYLOAD[:100])
    watched.get_by_role("button", name="Submit").click()
    expect(watched.get_by_test_id("score")).to_be_visible()
    assert_inert(watched, "individual result")
    assert "<img src=x" in watched.locator("body").inner_text()


def test_every_page_works_under_the_content_security_policy(watched: Page, live_server, hostile_world):
    """The app's own pages, the API docs and the admin: all their scripts and styles load, none is blocked."""
    world = hostile_world
    group, session = world["group"], world["session"]
    watched.goto(live_server.url + "/")
    assert_inert(watched, "home")
    watched.goto(live_server.url + reverse("accounts:login"))
    assert_inert(watched, "login")
    watched.goto(live_server.url + reverse("accounts:signup"))
    assert_inert(watched, "signup")

    response = watched.goto(live_server.url + "/api/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(watched.locator(".swagger-ui .info .title")).to_contain_text("quizsite API")
    expect(watched.locator(".opblock").first).to_be_visible()
    assert_inert(watched, "api docs")

    sign_in(watched.context, live_server, world["owner"])
    for url in (
        reverse("groups:list"),
        reverse("groups:create"),
        reverse("accounts:token"),
        reverse("groups:members", args=[group.pk]),
        reverse("sessions:create", args=[group.pk]),
        reverse("sessions:detail", args=[group.pk, session.pk]),
        "/admin/",
        f"/admin/group_sessions/groupsession/{session.pk}/change/",
    ):
        watched.goto(live_server.url + url)
        assert_inert(watched, url)

    # htmx swaps, Bootstrap's modal and the score bars (sized by script, not style="") all work.
    watched.goto(live_server.url + reverse("sessions:group", args=[group.pk]))
    watched.locator("#new-session-button").click()
    expect(watched.locator("#session-modal")).to_be_visible()
    expect(watched.locator("#session-modal form")).to_be_visible()
    assert_inert(watched, "create modal")
    watched.goto(live_server.url + f"/questions/{world['set'].token}")
    watched.locator("input[type=radio]").first.check()  # the right answer
    watched.get_by_role("button", name="Submit").click()
    expect(watched.get_by_test_id("score")).to_have_text("1 / 1")
    assert_inert(watched, "result bars")
    expect(watched.locator(".progress-bar").first).to_have_attribute("style", "width: 100%;")
