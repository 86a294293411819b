import pytest
from django.db import IntegrityError

from questions.models import Attempt, Question, QuestionSet
from questions.selectors import get_question_set, list_question_sets_for_user, question_dicts, quiz_path
from questions.services import create_question_set, record_attempt
from quizsite.errors import Conflict, InvalidInput, NotFound
from tests.factories import QuestionSetFactory, UserFactory

QUESTIONS = [
    {"prompt": "First?", "choices": ["a", "b"], "answer": 0, "explanation": "Because a."},
    {"prompt": "Second?", "choices": ["c", "d", "e"], "answer": 2},
]


@pytest.mark.django_db
class TestCreateQuestionSet:
    def test_creates_the_set_and_its_questions_in_position_order(self):
        owner = UserFactory()

        question_set = create_question_set(
            title="Letters", source_url="https://example.com", questions=QUESTIONS, created_by=owner
        )

        assert (question_set.title, question_set.source_url, question_set.created_by) == (
            "Letters",
            "https://example.com",
            owner,
        )
        assert question_dicts(question_set=question_set) == [
            {
                "id": q.pk,
                "prompt": spec["prompt"],
                "choices": spec["choices"],
                "answer": spec["answer"],
                "explanation": spec.get("explanation", ""),
            }
            for q, spec in zip(question_set.questions.order_by("position"), QUESTIONS, strict=True)
        ]

    def test_a_failure_midway_leaves_nothing_behind(self):
        broken = [*QUESTIONS, {"prompt": None, "choices": ["x", "y"], "answer": 0}]

        with pytest.raises(IntegrityError):
            create_question_set(title="Broken", questions=broken, created_by=UserFactory())

        assert not QuestionSet.objects.exists()
        assert not Question.objects.exists()

    def test_tokens_are_unique_and_long(self):
        owner = UserFactory()
        tokens = {create_question_set(title=f"S{n}", questions=QUESTIONS, created_by=owner).token for n in range(5)}

        assert len(tokens) == 5
        assert all(len(token) >= 32 for token in tokens)


@pytest.mark.django_db
class TestRecordAttempt:
    def test_scores_and_stores_an_anonymous_take(self):
        question_set = QuestionSetFactory(created_by=None, questions=QUESTIONS)
        first, second = question_dicts(question_set=question_set)

        attempt, scored = record_attempt(
            question_set=question_set,
            answers=[{"question_id": first["id"], "choice": 0}, {"question_id": second["id"], "choice": 0}],
            display_name="  Kim  ",
        )

        assert (scored.score, scored.total) == (1, 2)
        attempt.refresh_from_db()
        assert (attempt.score, attempt.total, attempt.display_name, attempt.user) == (1, 2, "Kim", None)

    def test_signed_in_take_ignores_the_display_name(self):
        question_set = QuestionSetFactory(created_by=None, questions=QUESTIONS)
        user = UserFactory()

        attempt, _ = record_attempt(question_set=question_set, answers=[], user=user, display_name="Someone else")

        assert (attempt.user, attempt.display_name) == (user, "")

    def test_scoring_error_writes_nothing(self):
        question_set = QuestionSetFactory(created_by=None, questions=QUESTIONS)

        with pytest.raises(InvalidInput) as error:
            record_attempt(question_set=question_set, answers=[{"question_id": -5, "choice": 0}])

        assert error.value.field == "answers"
        assert not Attempt.objects.exists()

    def test_only_round_one_exists(self):
        question_set = QuestionSetFactory(created_by=None, questions=QUESTIONS)

        with pytest.raises(Conflict):
            record_attempt(question_set=question_set, answers=[], round=2)


@pytest.mark.django_db
class TestSelectors:
    def test_get_question_set_finds_by_token(self):
        question_set = QuestionSetFactory(created_by=None)

        assert get_question_set(token=question_set.token) == question_set

    @pytest.mark.parametrize("token", ["", "missing", "t" * 65])
    def test_get_question_set_raises_not_found_for_unknown_tokens(self, token):
        with pytest.raises(NotFound):
            get_question_set(token=token)

    def test_question_dicts_of_an_empty_set_is_empty(self):
        assert question_dicts(question_set=QuestionSetFactory(created_by=None, questions=0)) == []

    def test_list_question_sets_for_user_returns_only_theirs_with_counts(self, django_assert_num_queries):
        owner = UserFactory()
        older = QuestionSetFactory(created_by=owner, questions=2)
        newer = QuestionSetFactory(created_by=owner, questions=5)
        QuestionSetFactory(created_by=UserFactory(), questions=1)

        with django_assert_num_queries(1):
            rows = [(s, s.question_count) for s in list_question_sets_for_user(user=owner)]

        assert rows == [(newer, 5), (older, 2)]

    def test_list_question_sets_for_anonymous_is_empty(self):
        from django.contrib.auth.models import AnonymousUser

        QuestionSetFactory(created_by=None)

        assert list(list_question_sets_for_user(user=AnonymousUser())) == []

    def test_quiz_path_is_the_shared_link(self):
        question_set = QuestionSetFactory(created_by=None)

        assert quiz_path(question_set=question_set) == f"/questions/{question_set.token}"
