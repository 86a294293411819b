import re

import pytest
from playwright.sync_api import Page, expect

from questions.models import Attempt
from tests.factories import QuestionSetFactory

QUESTIONS = [
    {
        "prompt": "Which planet is known as the Red Planet?",
        "choices": ["Venus", "Mars", "Jupiter"],
        "answer": 1,
        "explanation": "Iron oxide dust makes Mars look red.",
    },
    {
        "prompt": "What is the chemical symbol for gold?",
        "choices": ["Ag", "Au", "Gd"],
        "answer": 1,
        "explanation": "Au comes from the Latin aurum.",
    },
]


@pytest.mark.django_db(transaction=True)
def test_signed_out_visitor_takes_a_shared_quiz_and_sees_score_and_explanations(page: Page, live_server):
    question_set = QuestionSetFactory(created_by=None, title="Space and chemistry", questions=QUESTIONS)

    page.goto(f"{live_server.url}/questions/{question_set.token}")
    expect(page.get_by_role("heading", name="Space and chemistry")).to_be_visible()

    page.get_by_label("Your name").fill("Ada")
    first = page.get_by_role("group", name=re.compile("Red Planet"))
    first.get_by_label("Mars").check()
    second = page.get_by_role("group", name=re.compile("symbol for gold"))
    # Keyboard only: a focused radio button is chosen with Space.
    second.get_by_label("Ag").focus()
    page.keyboard.press("Space")
    expect(second.get_by_label("Ag")).to_be_checked()
    page.get_by_role("button", name="Submit answers").click()

    expect(page).to_have_url(re.compile(r"/questions/[^/]+/results/\d+$"))
    expect(page.get_by_test_id("score")).to_have_text("1 / 2")
    expect(page.get_by_text("Iron oxide dust makes Mars look red.")).to_be_visible()
    expect(page.get_by_text("Au comes from the Latin aurum.")).to_be_visible()
    expect(page.get_by_role("link", name="Take it again")).to_have_attribute("href", f"/questions/{question_set.token}")
    attempt = Attempt.objects.get()
    assert (attempt.display_name, attempt.score, attempt.total) == ("Ada", 1, 2)
