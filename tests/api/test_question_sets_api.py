"""POST /api/question-sets: one test per promise of the contract."""

import pytest
from rest_framework.test import APIClient

from questions.models import Question, QuestionSet
from tests.conftest import token_client

URL = "/api/question-sets"


def question(number: int = 1, **overrides) -> dict:
    return {
        "prompt": f"What is {number} + {number}?",
        "choices": [str(number), str(2 * number), str(3 * number)],
        "answer": 1,
        "explanation": f"{number} + {number} = {2 * number}.",
        **overrides,
    }


def body(**overrides) -> dict:
    return {
        "title": "Arithmetic",
        "source_url": "https://example.com/maths",
        "questions": [question(1), question(2)],
        **overrides,
    }


@pytest.fixture
def client(user):
    return token_client(user)


@pytest.mark.django_db
class TestCreated:
    def test_returns_201_with_token_url_title_and_question_count(self, client, user):
        response = client.post(URL, body(), format="json")

        assert response.status_code == 201
        data = response.json()
        assert set(data) == {"token", "url", "title", "question_count"}
        question_set = QuestionSet.objects.get(token=data["token"])
        assert data["url"] == f"/questions/{question_set.token}"
        assert data["title"] == "Arithmetic"
        assert data["question_count"] == 2
        assert question_set.created_by == user
        assert question_set.source_url == "https://example.com/maths"

    def test_stores_questions_in_the_order_sent(self, client):
        questions = [question(n) for n in range(1, 6)]
        token = client.post(URL, body(questions=questions), format="json").json()["token"]

        stored = list(Question.objects.filter(question_set__token=token).order_by("position"))
        assert [q.position for q in stored] == [1, 2, 3, 4, 5]
        assert [q.prompt for q in stored] == [q["prompt"] for q in questions]
        assert stored[0].choices == ["1", "2", "3"]
        assert stored[0].answer == 1
        assert stored[0].explanation == "1 + 1 = 2."

    def test_the_returned_url_opens_the_quiz(self, client):
        data = client.post(URL, body(), format="json").json()

        quiz = APIClient().get(f"/api{data['url']}")

        assert quiz.status_code == 200
        assert quiz.json()["title"] == "Arithmetic"

    def test_source_url_and_explanation_are_optional(self, client):
        questions = [{"prompt": "Pick B", "choices": ["A", "B"], "answer": 1}]
        response = client.post(URL, {"title": "Minimal", "questions": questions}, format="json")

        assert response.status_code == 201
        question_set = QuestionSet.objects.get(token=response.json()["token"])
        assert question_set.source_url == ""
        assert question_set.questions.get().explanation == ""

    def test_trailing_slash_behaves_the_same_without_redirect(self, client):
        response = client.post(URL + "/", body(), format="json")

        assert response.status_code == 201
        assert response.json()["question_count"] == 2

    def test_session_signed_in_caller_may_create(self, user):
        client = APIClient()
        client.force_login(user)

        assert client.post(URL, body(), format="json").status_code == 201

    @pytest.mark.parametrize(
        "overrides",
        [
            {"title": "t" * 200},
            {"questions": [question(n) for n in range(1, 201)]},
            {"questions": [question(choices=[f"c{i}" for i in range(10)], answer=9)]},
            {"questions": [question(prompt="p" * 2000, explanation="e" * 2000)]},
            {"questions": [question(choices=["x" * 500, "y"], answer=0)]},
        ],
        ids=["200-char title", "200 questions", "10 choices", "2000-char prompt", "500-char choice"],
    )
    def test_accepts_values_at_the_limits(self, client, overrides):
        assert client.post(URL, body(**overrides), format="json").status_code == 201

    def test_each_share_gets_its_own_token(self, client):
        first = client.post(URL, body(), format="json").json()["token"]
        second = client.post(URL, body(), format="json").json()["token"]

        assert first != second


@pytest.mark.django_db
class TestAuthentication:
    @pytest.mark.parametrize("url", [URL, URL + "/"])
    def test_anonymous_caller_gets_401_and_nothing_is_created(self, url):
        response = APIClient().post(url, body(), format="json")

        assert response.status_code == 401
        assert not QuestionSet.objects.exists()

    def test_bad_token_gets_401(self):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")

        assert client.post(URL, body(), format="json").status_code == 401


def _question_errors(response) -> dict:
    """The errors of the first question, from DRF's `{"questions": {"0": {...}}}` shape."""
    return response.json()["questions"]["0"]


@pytest.mark.django_db
class TestInvalidBodies:
    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"title": ""}, "title"),
            ({"title": "   "}, "title"),
            ({"title": "t" * 201}, "title"),
            ({"title": None}, "title"),
            ({"title": {"text": "Arithmetic"}}, "title"),
            ({"source_url": "not a url"}, "source_url"),
            ({"source_url": "javascript:alert(1)"}, "source_url"),
            ({"source_url": "https://example.com/" + "a" * 2000}, "source_url"),
            ({"questions": []}, "questions"),
            ({"questions": [question(n) for n in range(1, 202)]}, "questions"),
            ({"questions": "three questions"}, "questions"),
            ({"questions": None}, "questions"),
        ],
        ids=[
            "empty title",
            "blank title",
            "201-char title",
            "null title",
            "object title",
            "bad url",
            "javascript url",
            "too long url",
            "no questions",
            "201 questions",
            "questions not a list",
            "null questions",
        ],
    )
    def test_top_level_field_errors_name_the_field(self, client, overrides, field):
        response = client.post(URL, body(**overrides), format="json")

        assert response.status_code == 400
        assert field in response.json()
        assert not QuestionSet.objects.exists()

    @pytest.mark.parametrize("missing", ["title", "questions"])
    def test_missing_required_field_is_named(self, client, missing):
        data = body()
        del data[missing]

        response = client.post(URL, data, format="json")

        assert response.status_code == 400
        assert missing in response.json()

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"choices": ["only one"], "answer": 0}, "choices"),
            ({"choices": [f"c{i}" for i in range(11)], "answer": 0}, "choices"),
            ({"choices": ["same", "same", "other"]}, "choices"),
            ({"choices": ["fine", ""], "answer": 0}, "choices"),
            ({"choices": ["x" * 501, "y"], "answer": 0}, "choices"),
            ({"choices": "A or B"}, "choices"),
            ({"answer": 3}, "answer"),
            ({"answer": -1}, "answer"),
            ({"answer": "one"}, "answer"),
            ({"prompt": ""}, "prompt"),
            ({"prompt": "p" * 2001}, "prompt"),
            ({"prompt": ["not", "text"]}, "prompt"),
            ({"explanation": "e" * 2001}, "explanation"),
        ],
        ids=[
            "1 choice",
            "11 choices",
            "duplicate choices",
            "empty choice",
            "501-char choice",
            "choices not a list",
            "answer past the end",
            "negative answer",
            "answer not an int",
            "empty prompt",
            "2001-char prompt",
            "prompt not a string",
            "2001-char explanation",
        ],
    )
    def test_question_field_errors_name_the_question_and_field(self, client, overrides, field):
        response = client.post(URL, body(questions=[question(1, **overrides)]), format="json")

        assert response.status_code == 400
        assert field in _question_errors(response)
        assert not QuestionSet.objects.exists()

    @pytest.mark.parametrize("missing", ["prompt", "choices", "answer"])
    def test_question_missing_a_required_field_is_400(self, client, missing):
        incomplete = question(1)
        del incomplete[missing]

        response = client.post(URL, body(questions=[incomplete]), format="json")

        assert response.status_code == 400
        assert missing in _question_errors(response)

    def test_question_that_is_not_an_object_is_400(self, client):
        response = client.post(URL, body(questions=["What is 1 + 1?"]), format="json")

        assert response.status_code == 400
        assert "questions" in response.json()

    def test_malformed_json_is_400(self, client):
        response = client.post(URL, '{"title": "Broken", "questions": [', content_type="application/json")

        assert response.status_code == 400
        assert "non_field_errors" in response.json()

    @pytest.mark.parametrize("payload", ["[]", '"a string"', "42", "null"])
    def test_body_that_is_not_an_object_is_400(self, client, payload):
        response = client.post(URL, payload, content_type="application/json")

        assert response.status_code == 400

    def test_form_encoded_body_is_400(self, client):
        response = client.post(URL, {"title": "Form"}, format="multipart")

        assert response.status_code == 400

    def test_oversized_body_is_400_and_writes_nothing(self, client, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
        questions = [question(n, explanation="e" * 1000) for n in range(1, 21)]

        response = client.post(URL, body(questions=questions), format="json")

        assert response.status_code == 400
        assert not QuestionSet.objects.exists()

    def test_one_bad_question_among_many_writes_nothing(self, client):
        questions = [question(n) for n in range(1, 151)] + [question(151, answer=7)]

        response = client.post(URL, body(questions=questions), format="json")

        assert response.status_code == 400
        assert "150" in response.json()["questions"]
        assert not QuestionSet.objects.exists()
        assert not Question.objects.exists()


@pytest.mark.django_db
def test_schema_documents_the_endpoint(client):
    schema = APIClient().get("/api/schema", {"format": "json"}).json()

    # The route answers with and without the slash; the schema may list it either way.
    path = next(p for p in schema["paths"] if p.rstrip("/") == "/api/question-sets")
    operation = schema["paths"][path]["post"]
    assert "201" in operation["responses"]
    request_schema = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][request_schema]["required"]) == {"title", "questions"}
