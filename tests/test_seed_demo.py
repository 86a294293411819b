from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from groups.models import Group, Membership, Role
from questions.models import Attempt, Question, QuestionSet
from questions.validation import QuestionListField
from sessions.management.commands.seed_demo import DEMO_PASSWORD, QUESTION_SETS
from sessions.models import GroupSession, Participant, SessionStatus


def run_seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    User = get_user_model()
    return {
        "users": list(User.objects.order_by("pk").values_list("pk", "username", "password", "is_superuser")),
        "groups": list(Group.objects.order_by("pk").values_list("pk", "name", "invite_token")),
        "memberships": list(Membership.objects.order_by("pk").values_list("pk", "group_id", "user_id", "role")),
        "sets": list(QuestionSet.objects.order_by("pk").values_list("pk", "token", "title")),
        "questions": list(Question.objects.order_by("pk").values_list("pk", "question_set_id", "position")),
        "sessions": list(GroupSession.objects.order_by("pk").values_list("pk", "share_token", "status")),
        "participants": list(Participant.objects.order_by("pk").values_list("pk", "user_id", "score")),
    }


@pytest.mark.django_db
class TestSeedDemo:
    def test_creates_people_group_roles_and_question_sets(self):
        output = run_seed()

        User = get_user_model()
        admin = User.objects.get(username="admin")
        assert admin.is_superuser and admin.is_staff
        for username in ["alice", "bob", "carol", "dave", "admin"]:
            assert User.objects.get(username=username).check_password(DEMO_PASSWORD)
            assert username in output
        assert DEMO_PASSWORD in output
        group = Group.objects.get(name="Biology study group")
        roles = dict(group.memberships.values_list("user__username", "role"))
        assert roles == {"alice": Role.OWNER, "bob": Role.ADMIN, "carol": Role.MEMBER, "dave": Role.MEMBER}
        sets = {s.title: s for s in QuestionSet.objects.all()}
        assert set(sets) == {"Cell biology basics", "The French Revolution"}
        for question_set in sets.values():
            assert question_set.questions.count() == 6
            assert question_set.created_by.username == "alice"
            assert f"/questions/{question_set.token}" in output

    def test_creates_an_open_session_with_a_result_and_a_scheduled_one(self):
        output = run_seed()

        sessions = {s.title: s for s in GroupSession.objects.all()}
        warm_up = sessions["Warm-up: cell biology"]
        revision = sessions["Revision: the French Revolution"]
        assert warm_up.status == SessionStatus.ACTIVE and warm_up.is_study_loop
        assert revision.status == SessionStatus.SCHEDULED and revision.scheduled_at is not None
        carol = warm_up.participants.get()
        assert carol.user.username == "carol"
        assert (carol.score, carol.total) == (5, 6)
        assert warm_up.join_url in output and revision.join_url in output

    def test_running_twice_changes_nothing(self):
        first_output = run_seed()
        before = snapshot()

        second_output = run_seed()

        assert snapshot() == before
        assert second_output == first_output

    def test_rerun_after_hand_edits_does_not_fail_and_keeps_the_edits(self):
        run_seed()
        group = Group.objects.get(name="Biology study group")
        group.memberships.filter(user__username="alice").update(role=Role.MEMBER)
        group.memberships.filter(user__username="dave").delete()

        run_seed()

        roles = dict(group.memberships.values_list("user__username", "role"))
        assert roles == {"alice": Role.MEMBER, "bob": Role.ADMIN, "carol": Role.MEMBER, "dave": Role.MEMBER}

    def test_demo_questions_follow_the_api_rules(self):
        for spec in QUESTION_SETS:
            validated = QuestionListField().run_validation(spec["questions"])
            assert len(validated) == 6
            assert all(q["explanation"] for q in validated)

    def test_a_seeded_quiz_can_be_taken(self):
        run_seed()
        question_set = QuestionSet.objects.get(title="Cell biology basics")
        answers = [{"question_id": q.pk, "choice": q.answer} for q in question_set.questions.all()]

        response = APIClient().post(
            f"/api/questions/{question_set.token}/submit", {"answers": answers, "display_name": "Demo"}, format="json"
        )

        assert response.status_code == 200
        assert (response.json()["score"], response.json()["total"]) == (6, 6)
        assert Attempt.objects.count() == 1

    def test_demo_people_can_sign_in(self):
        run_seed()

        response = APIClient().post("/api/auth/token", {"username": "alice", "password": DEMO_PASSWORD}, format="json")

        assert response.status_code == 200
