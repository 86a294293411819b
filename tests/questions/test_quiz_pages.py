"""The /questions/<token> page of a question set and its result page, through Django's test client."""

import re

import pytest
from django.test import Client

from questions.models import Attempt
from tests.factories import QuestionSetFactory, UserFactory

QUESTIONS = [
    {
        "prompt": "Which gas do plants absorb?",
        "choices": ["Oxygen", "Carbon dioxide", "Helium"],
        "answer": 1,
        "explanation": "Photosynthesis fixes carbon dioxide.",
    },
    {
        "prompt": "How many legs has a spider?",
        "choices": ["Six", "Eight"],
        "answer": 1,
        "explanation": "Spiders are arachnids: eight legs.",
    },
    {
        "prompt": "Water boils at sea level at?",
        "choices": ["90 °C", "100 °C", "110 °C"],
        "answer": 1,
        "explanation": "100 °C at one atmosphere.",
    },
]


@pytest.fixture
def question_set(db):
    # Owner-less: who shared the set plays no part in taking it (and each user costs a password hash).
    return QuestionSetFactory(
        created_by=None, title="Science sampler", source_url="https://example.com/science", questions=QUESTIONS
    )


def page_url(question_set) -> str:
    return f"/questions/{question_set.token}"


def field_names(question_set) -> list[str]:
    return [f"question_{pk}" for pk in question_set.questions.order_by("position").values_list("pk", flat=True)]


def answers(question_set, *choices, display_name="Sam") -> dict:
    data = {name: str(choice) for name, choice in zip(field_names(question_set), choices, strict=False)}
    if display_name is not None:
        data["display_name"] = display_name
    return data


@pytest.mark.django_db
class TestQuizPage:
    def test_signed_out_visitor_sees_the_quiz_with_a_name_field_and_labelled_radios(self, question_set):
        response = Client().get(page_url(question_set))

        assert response.status_code == 200
        html = response.content.decode()
        assert "Science sampler" in html
        assert "3 questions" in html
        assert 'href="https://example.com/science"' in html
        assert 'name="display_name"' in html
        for name, question in zip(field_names(question_set), QUESTIONS, strict=True):
            radios = re.findall(rf'<input type="radio" name="{name}" value="(\d+)"[^>]*id="([^"]+)"', html)
            assert [value for value, _ in radios] == [str(i) for i in range(len(question["choices"]))]
            for _value, element_id in radios:
                assert f'for="{element_id}"' in html
        assert html.count("<fieldset") == 3
        assert html.count("<legend") == 3

    def test_page_never_reveals_answers_or_explanations(self, question_set):
        html = Client().get(page_url(question_set)).content.decode()

        for question in QUESTIONS:
            assert question["explanation"] not in html
        assert "Correct" not in html
        assert "checked" not in html

    def test_signed_in_taker_is_not_asked_for_a_name(self, question_set):
        client = Client()
        client.force_login(UserFactory())

        html = client.get(page_url(question_set)).content.decode()

        assert 'name="display_name"' not in html

    def test_unknown_token_is_404(self, db):
        assert Client().get("/questions/no-such-token").status_code == 404

    def test_page_costs_the_same_queries_for_many_questions(self, db, django_assert_max_num_queries):
        big = QuestionSetFactory(created_by=None, questions=150)
        client = Client()

        with django_assert_max_num_queries(4):
            response = client.get(page_url(big))

        assert response.status_code == 200

    def test_set_without_questions_shows_an_empty_state(self, db):
        empty = QuestionSetFactory(created_by=None, questions=0)

        response = Client().get(page_url(empty))

        assert response.status_code == 200
        assert "no questions yet" in response.content.decode()
        assert "Submit answers" not in response.content.decode()


@pytest.mark.django_db
class TestSubmitting:
    def test_anonymous_submit_records_the_attempt_and_redirects_to_the_result(self, question_set):
        client = Client()

        response = client.post(page_url(question_set), answers(question_set, 1, 0, 1))

        attempt = Attempt.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/questions/{question_set.token}/results/{attempt.pk}"
        assert (attempt.score, attempt.total, attempt.display_name, attempt.user) == (2, 3, "Sam", None)

    def test_result_page_shows_score_choices_correct_answers_and_explanations(self, question_set):
        client = Client()

        response = client.post(page_url(question_set), answers(question_set, 1, 0), follow=True)

        html = response.content.decode()
        assert response.status_code == 200
        assert "1 / 3" in html
        assert 'role="progressbar"' in html
        assert 'aria-valuenow="1"' in html
        for question in QUESTIONS:
            assert question["explanation"] in html
        assert html.count("Your answer") == 2
        assert html.count("Correct answer") == 3
        assert "Not answered" in html
        assert f'href="/questions/{question_set.token}"' in html
        assert "Take it again" in html

    def test_unanswered_questions_are_allowed_and_count_as_wrong(self, question_set):
        Client().post(page_url(question_set), answers(question_set))

        attempt = Attempt.objects.get()
        assert (attempt.score, attempt.total, attempt.answers) == (0, 3, [])

    def test_signed_in_submit_is_recorded_as_the_user(self, question_set):
        user = UserFactory()
        client = Client()
        client.force_login(user)

        response = client.post(page_url(question_set), answers(question_set, 1, 1, 1, display_name=None))

        assert response.status_code == 302
        attempt = Attempt.objects.get()
        assert (attempt.user, attempt.score) == (user, 3)

    @pytest.mark.parametrize("display_name", [None, "", "   ", "n" * 101])
    def test_anonymous_submit_without_a_valid_name_redisplays_the_form(self, question_set, display_name):
        response = Client().post(page_url(question_set), answers(question_set, 1, display_name=display_name))

        assert response.status_code == 200
        html = response.content.decode()
        assert "not submitted" in html
        assert 'name="display_name"' in html
        # The taker's choice survives the redisplay.
        assert "checked" in html
        assert not Attempt.objects.exists()

    @pytest.mark.parametrize("tampered", ["7", "-1", "B"])
    def test_a_choice_that_is_not_offered_redisplays_the_form(self, question_set, tampered):
        data = answers(question_set)
        data[field_names(question_set)[0]] = tampered

        response = Client().post(page_url(question_set), data)

        assert response.status_code == 200
        assert "not one of the available choices" in response.content.decode()
        assert not Attempt.objects.exists()

    def test_display_name_is_remembered_for_the_next_take(self, question_set):
        client = Client()
        client.post(page_url(question_set), answers(question_set, display_name="Robin"))

        html = client.get(page_url(question_set)).content.decode()

        assert 'value="Robin"' in html

    def test_post_without_csrf_token_is_refused(self, question_set):
        response = Client(enforce_csrf_checks=True).post(page_url(question_set), answers(question_set, 1))

        assert response.status_code == 403
        assert not Attempt.objects.exists()


@pytest.mark.django_db
class TestResultAccess:
    def _take(self, client, question_set, **kwargs) -> Attempt:
        client.post(page_url(question_set), answers(question_set, 1, **kwargs))
        return Attempt.objects.latest("pk")

    def result_url(self, question_set, attempt) -> str:
        return f"/questions/{question_set.token}/results/{attempt.pk}"

    def test_another_browser_cannot_see_an_anonymous_result(self, question_set):
        attempt = self._take(Client(), question_set)

        assert Client().get(self.result_url(question_set, attempt)).status_code == 404

    def test_signed_in_taker_sees_their_result_from_another_browser(self, question_set):
        user = UserFactory()
        first = Client()
        first.force_login(user)
        attempt = self._take(first, question_set, display_name=None)
        second = Client()
        second.force_login(user)

        assert second.get(self.result_url(question_set, attempt)).status_code == 200

    def test_another_user_cannot_see_a_signed_in_result(self, question_set):
        owner = Client()
        owner.force_login(UserFactory())
        attempt = self._take(owner, question_set, display_name=None)
        other = Client()
        other.force_login(UserFactory())

        assert other.get(self.result_url(question_set, attempt)).status_code == 404

    def test_result_under_another_sets_token_is_404(self, question_set):
        client = Client()
        attempt = self._take(client, question_set)
        other = QuestionSetFactory(created_by=None)

        assert client.get(self.result_url(other, attempt)).status_code == 404

    def test_unknown_attempt_is_404(self, question_set):
        assert Client().get(f"/questions/{question_set.token}/results/999999").status_code == 404

    def test_result_survives_a_question_removed_after_the_take(self, question_set):
        client = Client()
        client.post(page_url(question_set), answers(question_set, 1, 1, 1))
        attempt = Attempt.objects.get()
        question_set.questions.order_by("position").first().delete()

        response = client.get(self.result_url(question_set, attempt))

        assert response.status_code == 200
        assert "3 / 3" in response.content.decode()
