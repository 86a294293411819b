import pytest
from django.test import Client

from questions.models import Attempt
from tests.factories import QuestionSetFactory, UserFactory


@pytest.fixture
def admin_client_(db):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def question_set(db):
    question_set = QuestionSetFactory(title="Admin sample", questions=4)
    Attempt.objects.create(question_set=question_set, display_name="Visitor", answers=[], score=0, total=4)
    return question_set


@pytest.mark.django_db
class TestAdminPages:
    @pytest.mark.parametrize(
        "url",
        [
            "/admin/questions/questionset/",
            "/admin/questions/questionset/?q=Admin",
            "/admin/questions/questionset/add/",
            "/admin/questions/question/",
            "/admin/questions/question/?q=Question",
            "/admin/questions/attempt/",
            "/admin/questions/attempt/?q=Visitor",
            "/admin/questions/attempt/?user__isempty=1",
        ],
    )
    def test_pages_load_for_a_superuser(self, admin_client_, question_set, url):
        assert admin_client_.get(url).status_code == 200

    def test_question_set_page_shows_token_read_only_and_questions_in_order(self, admin_client_, question_set):
        html = admin_client_.get(f"/admin/questions/questionset/{question_set.pk}/change/").content.decode()

        assert question_set.token in html
        assert 'name="token"' not in html
        positions = [html.index(f"Question {n}?") for n in range(1, 5)]
        assert positions == sorted(positions)

    def test_question_set_list_shows_question_count(self, admin_client_, question_set):
        html = admin_client_.get("/admin/questions/questionset/").content.decode()

        assert "Admin sample" in html
        assert '<td class="field-question_count">4</td>' in html

    def test_change_pages_of_question_and_attempt_load(self, admin_client_, question_set):
        question = question_set.questions.first()
        attempt = question_set.attempts.get()

        assert admin_client_.get(f"/admin/questions/question/{question.pk}/change/").status_code == 200
        assert admin_client_.get(f"/admin/questions/attempt/{attempt.pk}/change/").status_code == 200

    def test_list_page_query_count_does_not_grow_with_rows(self, admin_client_, django_assert_max_num_queries):
        owners = [UserFactory(), UserFactory()]
        for number in range(30):
            QuestionSetFactory(created_by=owners[number % 2], questions=1)

        # 10 + 4 for row-level security (issue #8): the middleware sets and resets the staff user (2), and the
        # admin's audited bypass turns on and off (2). The page's own queries are unchanged.
        with django_assert_max_num_queries(14):
            assert admin_client_.get("/admin/questions/questionset/").status_code == 200
