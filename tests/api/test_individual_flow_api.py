"""GET /api/questions/<token> and POST /api/questions/<token>/submit for a question set (individual flow)."""

import json

import pytest
from rest_framework.test import APIClient

from questions.models import Attempt
from tests.conftest import token_client
from tests.factories import QuestionSetFactory

QUESTIONS = [
    {"prompt": "Capital of France?", "choices": ["Lyon", "Paris", "Nice"], "answer": 1, "explanation": "Paris."},
    {"prompt": "2 + 2?", "choices": ["4", "5"], "answer": 0, "explanation": "Four."},
    {"prompt": "Largest planet?", "choices": ["Mars", "Venus", "Earth", "Jupiter"], "answer": 3, "explanation": ""},
]


@pytest.fixture
def question_set(db):
    # Owner-less: who shared the set plays no part in taking it (and each user costs a password hash).
    return QuestionSetFactory(created_by=None, title="General knowledge", questions=QUESTIONS)


def ids(question_set) -> list[int]:
    return list(question_set.questions.order_by("position").values_list("pk", flat=True))


def quiz_url(question_set, suffix: str = "") -> str:
    return f"/api/questions/{question_set.token}{suffix}"


@pytest.mark.django_db
class TestQuizPayload:
    def test_anonymous_caller_gets_the_questions_in_order_without_answers(self, question_set):
        response = APIClient().get(quiz_url(question_set))

        assert response.status_code == 200
        data = response.json()
        assert data == {
            "token": question_set.token,
            "title": "General knowledge",
            "open": True,
            "questions": [
                {"id": question_id, "prompt": q["prompt"], "choices": q["choices"]}
                for question_id, q in zip(ids(question_set), QUESTIONS, strict=True)
            ],
            "context": None,
        }

    def test_answers_and_explanations_never_leak_before_submit(self, question_set):
        response = APIClient().get(quiz_url(question_set))

        raw = response.content.decode()
        assert '"answer"' not in raw
        assert '"explanation"' not in raw
        assert '"correct' not in raw
        for question in response.json()["questions"]:
            assert set(question) == {"id", "prompt", "choices"}

    def test_question_order_follows_position_not_creation(self, question_set):
        first, second, third = question_set.questions.order_by("position")
        # Swap the first and last positions through a free slot (positions are unique per set).
        first.position, third.position = 99, 1
        first.save()
        third.save()
        first.position = 3
        first.save()

        prompts = [q["prompt"] for q in APIClient().get(quiz_url(question_set)).json()["questions"]]

        assert prompts == ["Largest planet?", "2 + 2?", "Capital of France?"]

    def test_trailing_slash_behaves_the_same(self, question_set):
        response = APIClient().get(quiz_url(question_set, "/"))

        assert response.status_code == 200
        assert response.json()["token"] == question_set.token

    @pytest.mark.parametrize("token", ["no-such-token", "x" * 65, "x" * 500])
    def test_unknown_token_is_404(self, db, token):
        assert APIClient().get(f"/api/questions/{token}").status_code == 404

    def test_unknown_token_submit_is_404(self, db):
        response = APIClient().post("/api/questions/nope/submit", {"answers": []}, format="json")

        assert response.status_code == 404

    def test_extra_query_parameters_are_ignored(self, question_set):
        response = APIClient().get(quiz_url(question_set), {"utm_source": "extension"})

        assert response.status_code == 200


@pytest.mark.django_db
class TestSubmit:
    def test_anonymous_taker_with_display_name_is_scored_and_recorded(self, question_set):
        q1, q2, q3 = ids(question_set)
        answers = [{"question_id": q1, "choice": 1}, {"question_id": q2, "choice": 1}, {"question_id": q3, "choice": 3}]

        response = APIClient().post(
            quiz_url(question_set, "/submit"), {"answers": answers, "display_name": "Sam"}, format="json"
        )

        assert response.status_code == 200
        assert response.json() == {
            "score": 2,
            "total": 3,
            "results": [
                {"question_id": q1, "correct": True, "correct_choice": 1, "explanation": "Paris."},
                {"question_id": q2, "correct": False, "correct_choice": 0, "explanation": "Four."},
                {"question_id": q3, "correct": True, "correct_choice": 3, "explanation": ""},
            ],
            "context": None,
        }
        attempt = Attempt.objects.get()
        assert (attempt.question_set, attempt.user, attempt.display_name) == (question_set, None, "Sam")
        assert (attempt.score, attempt.total) == (2, 3)
        assert attempt.answers == answers

    def test_anonymous_taker_may_submit_without_a_display_name(self, question_set):
        response = APIClient().post(quiz_url(question_set, "/submit"), {"answers": []}, format="json")

        assert response.status_code == 200
        assert Attempt.objects.get().display_name == ""

    def test_signed_in_taker_is_recorded_as_the_user(self, question_set, user):
        q1 = ids(question_set)[0]

        response = token_client(user).post(
            quiz_url(question_set, "/submit"), {"answers": [{"question_id": q1, "choice": 1}]}, format="json"
        )

        assert response.status_code == 200
        assert response.json()["score"] == 1
        attempt = Attempt.objects.get()
        assert attempt.user == user
        assert attempt.display_name == ""

    def test_unanswered_questions_count_as_wrong(self, question_set):
        q1 = ids(question_set)[0]

        data = (
            APIClient()
            .post(quiz_url(question_set, "/submit"), {"answers": [{"question_id": q1, "choice": 1}]}, format="json")
            .json()
        )

        assert (data["score"], data["total"]) == (1, 3)
        assert [r["correct"] for r in data["results"]] == [True, False, False]

    def test_trailing_slash_submit_behaves_the_same(self, question_set):
        response = APIClient().post(quiz_url(question_set, "/submit/"), {"answers": []}, format="json")

        assert response.status_code == 200
        assert response.json()["total"] == 3

    def test_taking_a_quiz_twice_records_two_attempts(self, question_set):
        for _ in range(2):
            APIClient().post(quiz_url(question_set, "/submit"), {"answers": []}, format="json")

        assert Attempt.objects.count() == 2

    def test_anonymous_submit_needs_no_csrf_token(self, question_set):
        client = APIClient(enforce_csrf_checks=True)

        response = client.post(quiz_url(question_set, "/submit"), {"answers": []}, format="json")

        assert response.status_code == 200


@pytest.mark.django_db
class TestSubmitRejected:
    def _submit(self, question_set, payload, **kwargs):
        return APIClient().post(quiz_url(question_set, "/submit"), payload, format="json", **kwargs)

    def test_unknown_question_id_is_400_naming_answers(self, question_set):
        response = self._submit(question_set, {"answers": [{"question_id": 999999, "choice": 0}]})

        assert response.status_code == 400
        assert "answers" in response.json()
        assert not Attempt.objects.exists()

    def test_question_of_another_set_is_400(self, question_set):
        other = QuestionSetFactory(created_by=None)
        foreign_id = other.questions.first().pk

        response = self._submit(question_set, {"answers": [{"question_id": foreign_id, "choice": 0}]})

        assert response.status_code == 400
        assert "answers" in response.json()

    def test_question_answered_twice_is_400(self, question_set):
        q1 = ids(question_set)[0]

        response = self._submit(
            question_set, {"answers": [{"question_id": q1, "choice": 1}, {"question_id": q1, "choice": 0}]}
        )

        assert response.status_code == 400
        assert "answers" in response.json()
        assert not Attempt.objects.exists()

    @pytest.mark.parametrize("choice", [3, -1, 100])
    def test_out_of_range_choice_is_400(self, question_set, choice):
        q1 = ids(question_set)[0]

        response = self._submit(question_set, {"answers": [{"question_id": q1, "choice": choice}]})

        assert response.status_code == 400
        assert "answers" in response.json()
        assert not Attempt.objects.exists()

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({}, "answers"),
            ({"answers": "all of them"}, "answers"),
            ({"answers": None}, "answers"),
            ({"answers": [{"question_id": "first", "choice": 0}]}, "answers"),
            ({"answers": [{"question_id": 1, "choice": "B"}]}, "answers"),
            ({"answers": [{"question_id": 1}]}, "answers"),
            ({"answers": [], "display_name": "n" * 101}, "display_name"),
            ({"answers": [], "display_name": ["Sam"]}, "display_name"),
        ],
        ids=[
            "missing answers",
            "answers not a list",
            "null answers",
            "question_id not an int",
            "choice not an int",
            "choice missing",
            "101-char display name",
            "display name not a string",
        ],
    )
    def test_wrong_shapes_are_400_naming_the_field(self, question_set, payload, field):
        response = self._submit(question_set, payload)

        assert response.status_code == 400
        assert field in response.json()
        assert not Attempt.objects.exists()

    def test_malformed_json_is_400(self, question_set):
        response = APIClient().post(quiz_url(question_set, "/submit"), '{"answers": [', content_type="application/json")

        assert response.status_code == 400

    def test_body_that_is_not_an_object_is_400(self, question_set):
        response = APIClient().post(
            quiz_url(question_set, "/submit"), json.dumps([1, 2]), content_type="application/json"
        )

        assert response.status_code == 400

    def test_a_later_round_is_409_because_the_individual_flow_has_one_round(self, question_set):
        response = self._submit(question_set, {"answers": [], "round": 2})

        assert response.status_code == 409
        assert not Attempt.objects.exists()

    def test_round_one_is_accepted(self, question_set):
        assert self._submit(question_set, {"answers": [], "round": 1}).status_code == 200
