"""The Sessions tab, the create-session modal and the session page, driven in Chromium.

Two people at once: an admin (the `page` fixture) and a member (a second browser context), each
signed in by handing the browser a session cookie made by Django's test client.
"""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect

from groups.models import Role
from sessions import views as session_views
from sessions.models import GroupSession, Participant, SessionStatus, SessionType
from tests.factories import (
    GroupFactory,
    GroupSessionFactory,
    MembershipFactory,
    ParticipantFactory,
    QuestionSetFactory,
    UserFactory,
)

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"

QUESTIONS = [
    {
        "prompt": "Which organelle makes most of a cell's ATP?",
        "choices": ["Nucleus", "Mitochondrion", "Ribosome"],
        "answer": 1,
        "explanation": "Cellular respiration happens in the mitochondria.",
    },
    {
        "prompt": "What do chloroplasts capture?",
        "choices": ["Light energy", "Sound", "Heat from soil"],
        "answer": 0,
        "explanation": "Chlorophyll absorbs light for photosynthesis.",
    },
    {
        "prompt": "Which molecule carries genetic information?",
        "choices": ["Glucose", "DNA", "Cellulose"],
        "answer": 1,
        "explanation": "",
    },
]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_javascript_errors(page: Page):
    """Every page these tests open must run its scripts without an uncaught error."""
    errors: list[str] = []
    page.context.on("weberror", lambda error: errors.append(str(error.error)))
    yield
    assert errors == []


@pytest.fixture
def people():
    admin = UserFactory(username="adam_admin")
    member = UserFactory(username="mia_member")
    group = GroupFactory(name="Biology 101", created_by=admin)
    MembershipFactory(group=group, user=admin, role=Role.ADMIN)
    MembershipFactory(group=group, user=member, role=Role.MEMBER)
    for name in ("noah", "lena", "sam"):
        MembershipFactory(group=group, user=UserFactory(username=name), role=Role.MEMBER)
    return {"group": group, "admin": admin, "member": member}


def sign_in(context: BrowserContext, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


@pytest.fixture
def member_page(browser: Browser, live_server, people):
    context = browser.new_context()
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    sign_in(context, live_server, people["member"])
    page = context.new_page()
    yield page
    context.close()
    assert errors == []


def screenshot(page: Page, name: str, locator=None) -> None:
    """Saved for the README; `locator` (or the page itself, as the viewport shows it) else the full page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (locator or page).screenshot(path=str(SCREENSHOTS / name), **({} if locator else {"full_page": True}))


def some_history(group, admin, member) -> None:
    """A finished session and an upcoming one, so the tab looks like a group in use."""
    started = timezone.now() - datetime.timedelta(days=2)
    past = GroupSessionFactory(
        group=group,
        title="Week 1: the cell",
        status=SessionStatus.COMPLETED,
        started_at=started,
        ends_at=started + datetime.timedelta(minutes=20),
        ended_at=started + datetime.timedelta(minutes=20),
        created_by=admin,
    )
    ParticipantFactory(
        session=past, user=member, completed_at=started + datetime.timedelta(minutes=5), answers=[], score=2, total=3
    )
    at = timezone.now() + datetime.timedelta(days=3, hours=2)
    GroupSessionFactory(
        group=group,
        title="Week 3: genetics",
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=at,
        started_at=None,
        duration_minutes=30,
        ends_at=at + datetime.timedelta(minutes=30),
        created_by=admin,
    )


def test_admin_creates_a_session_from_a_share_member_takes_it_and_results_update_live(
    page: Page, member_page: Page, live_server, people
):
    group, admin = people["group"], people["admin"]
    some_history(group, admin, people["member"])
    share = QuestionSetFactory(created_by=UserFactory(username="extension_user"), title="Cells", questions=QUESTIONS)
    sign_in(page.context, live_server, admin)

    # The admin opens the Sessions tab and the create-session modal.
    page.goto(f"{live_server.url}/groups/{group.id}")
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    page.get_by_role("link", name="New session").click()
    modal = page.locator("#session-modal")
    expect(modal.get_by_role("heading", name="New session")).to_be_visible()
    # Once htmx has wired the new content, the first field takes the focus.
    expect(modal.get_by_label("Title")).to_be_focused()

    # Paste the share link: the preview lists the questions before anything is created.
    modal.get_by_label("Title").fill("Week 2: organelles")
    modal.get_by_label("Duration (minutes)").fill("20")
    modal.get_by_label("Share link or token").fill(f"{live_server.url}/questions/{share.token}")
    preview = modal.locator("#questions-preview")
    expect(preview).to_contain_text("Cells · 3 questions")
    expect(preview).to_contain_text("Which organelle makes most of a cell's ATP?")
    # Tall enough for the whole dialog over the dimmed tab.
    page.set_viewport_size({"width": 1280, "height": 1350})
    screenshot(page, "modal.png", page)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert not GroupSession.objects.filter(title="Week 2: organelles").exists()

    modal.get_by_role("button", name="Create session").click()

    # The modal closes, a toast confirms, the join link is shown and the list has the new session.
    expect(modal).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("Week 2: organelles")
    session = GroupSession.objects.get(title="Week 2: organelles")
    banner = page.locator("#session-created-banner")
    expect(banner.get_by_label("Join link of Week 2: organelles")).to_have_value(f"{live_server.url}{session.join_url}")
    row = page.locator(f"#session-row-{session.pk}")
    expect(row).to_contain_text("Week 2: organelles")
    expect(row.locator(".session-status")).to_have_text("Active")
    expect(row).to_contain_text("0 joined")
    screenshot(page, "tab.png")

    # The admin watches the session page.
    row.get_by_role("link", name="Week 2: organelles").click()
    expect(page.get_by_role("heading", name="Week 2: organelles")).to_be_visible()
    expect(page.locator(".qr-code svg")).to_be_visible()
    live = page.locator("#session-live")
    expect(live.locator('[data-count="joined"]')).to_have_text("0")

    # The member opens the join link, answers and submits.
    member_page.goto(f"{live_server.url}{session.join_url}")
    expect(member_page.get_by_role("heading", name="Week 2: organelles")).to_be_visible()
    member_page.get_by_role("group", name=re.compile("ATP")).get_by_label("Mitochondrion").check()
    member_page.get_by_role("group", name=re.compile("chloroplasts")).get_by_label("Light energy").check()
    member_page.get_by_role("group", name=re.compile("genetic information")).get_by_label("Glucose").check()
    member_page.get_by_role("button", name="Submit answers").click()
    expect(member_page.get_by_test_id("score")).to_have_text("2 / 3")

    # Without a reload, the admin's page shows the new counts, the leaderboard and the hardest question.
    expect(live.locator('[data-count="finished"]')).to_have_text("1", timeout=15_000)
    expect(live.locator('[data-count="joined"]')).to_have_text("1")
    leaderboard = page.get_by_role("list", name="Leaderboard, best first")
    expect(leaderboard).to_contain_text("mia_member")
    expect(leaderboard).to_contain_text("2/3")
    expect(page.locator("#question-stats li").first).to_contain_text("genetic information")
    expect(page.locator("#participants-table")).to_contain_text("mia_member")
    screenshot(page, "results.png")
    assert Participant.objects.get(session=session).score == 2


def test_a_member_sees_no_admin_actions(page: Page, live_server, people):
    group, admin = people["group"], people["admin"]
    at = timezone.now() + datetime.timedelta(hours=1)
    upcoming = GroupSessionFactory(
        group=group,
        title="Admin's quiz",
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=at,
        started_at=None,
        ends_at=None,
        created_by=admin,
    )
    sign_in(page.context, live_server, people["member"])

    page.goto(f"{live_server.url}/groups/{group.id}")
    row = page.locator(f"#session-row-{upcoming.pk}")
    expect(row.get_by_role("button", name=re.compile("Copy the join link"))).to_be_visible()
    for name in ("Start", "End", "Edit", "Cancel", "Delete"):
        expect(row.get_by_role("button", name=re.compile(f"^{name}"))).to_have_count(0)

    page.goto(f"{live_server.url}/groups/{group.id}/sessions/{upcoming.pk}")
    expect(page.get_by_role("heading", name="Your result")).to_be_visible()
    for name in ("Start", "End", "Edit", "Cancel", "Delete"):
        expect(page.get_by_role("button", name=re.compile(f"^{name}"))).to_have_count(0)
    expect(page.get_by_role("link", name="Export CSV")).to_have_count(0)


def test_a_scheduled_session_shows_opens_in_and_opens_by_itself(page: Page, live_server, people, monkeypatch):
    # No polling for upcoming sessions: the flip must come from the page's own countdown.
    monkeypatch.setattr(session_views, "DUE_WITHIN", datetime.timedelta(0))
    group = people["group"]
    at = timezone.now() + datetime.timedelta(seconds=6)
    session = GroupSessionFactory(
        group=group,
        title="Pop quiz",
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=at,
        started_at=None,
        duration_minutes=10,
        ends_at=at + datetime.timedelta(minutes=10),
        created_by=people["admin"],
    )
    sign_in(page.context, live_server, people["member"])
    detail = page.context.new_page()

    page.goto(f"{live_server.url}/groups/{group.id}")
    detail.goto(f"{live_server.url}/groups/{group.id}/sessions/{session.pk}")

    row = page.locator(f"#session-row-{session.pk}")
    expect(row.locator(".session-status")).to_have_text("Scheduled")
    expect(row).to_contain_text("Opens")
    expect(page.locator("#session-list")).to_have_attribute("data-live", "false")
    expect(detail.get_by_text("Opens in", exact=True)).to_be_visible()
    expect(detail.locator("[data-countdown-to]")).to_have_text(re.compile(r"^0:0\d$"))

    expect(row.locator(".session-status")).to_have_text("Active", timeout=15_000)
    expect(detail.locator("#session-live .session-status")).to_have_text("Active", timeout=15_000)
    expect(detail.get_by_text("Closes in", exact=True)).to_be_visible()
    expect(detail.get_by_role("link", name="Take the quiz")).to_be_visible()
    detail.close()


def test_a_form_error_shows_in_the_modal_next_to_its_field(page: Page, live_server, people):
    group = people["group"]
    sign_in(page.context, live_server, people["admin"])
    page.goto(f"{live_server.url}/groups/{group.id}")

    # The modal opens from the keyboard and takes the focus.
    page.get_by_role("link", name="New session").focus()
    page.keyboard.press("Enter")
    modal = page.locator("#session-modal")
    expect(modal.get_by_label("Title")).to_be_focused()

    modal.get_by_label("Write them here").check()
    questions = modal.get_by_role("textbox", name="Questions")
    questions.fill("What is 2 + 2?\n3\n* 4\n\nWhat colour is the sky?\nGreen\nBlue\n")
    expect(modal.locator("#questions-preview")).to_contain_text("Line 5:")

    modal.get_by_label("Schedule for later").check()
    expect(modal.get_by_label("Opens at")).to_be_visible()
    modal.get_by_role("button", name="Create session").click()

    expect(modal.locator("#id_questions_text_error")).to_contain_text("Line 5: Mark the right choice")
    expect(questions).to_have_value(re.compile("What colour is the sky"))
    expect(questions).to_be_focused()
    expect(modal).to_be_visible()

    # Fixed, it goes through; the missing start time is the next thing the modal points at.
    questions.fill("What is 2 + 2?\n3\n* 4\n\nWhat colour is the sky?\nGreen\n* Blue\n")
    modal.get_by_role("button", name="Create session").click()
    expect(modal.locator("#id_scheduled_at_error")).to_contain_text("Required for a scheduled session.")
    expect(modal.get_by_label("Opens at")).to_be_focused()
    assert not GroupSession.objects.exists()

    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()


def test_delete_asks_for_confirmation_then_removes_the_row(page: Page, live_server, people):
    group = people["group"]
    session = GroupSessionFactory(group=group, title="Mistake", created_by=people["admin"])
    sign_in(page.context, live_server, people["admin"])
    page.goto(f"{live_server.url}/groups/{group.id}")
    row = page.locator(f"#session-row-{session.pk}")

    row.get_by_role("button", name="Delete Mistake").click()
    dialog = page.locator("#confirm-modal")
    expect(dialog).to_contain_text("Delete “Mistake” and every result in it?")
    dialog.get_by_role("button", name="Go back").click()
    expect(dialog).to_be_hidden()
    assert GroupSession.objects.filter(pk=session.pk).exists()

    row.get_by_role("button", name="Delete Mistake").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("“Mistake” was deleted.")
    expect(page.get_by_text("No sessions yet.")).to_be_visible()
    assert not GroupSession.objects.filter(pk=session.pk).exists()
