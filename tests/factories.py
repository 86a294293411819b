import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from groups.models import Group, Membership, Role
from questions.models import Question, QuestionSet
from sessions.models import GroupSession, Participant, SessionStatus, SessionType

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Study group {n}")
    description = "A group for tests."
    created_by = factory.SubFactory(UserFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    group = factory.SubFactory(GroupFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class QuestionSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuestionSet
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Question set {n}")
    source_url = "https://example.com/article"
    created_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def questions(obj, create, extracted, **kwargs):
        """`questions=N` makes N questions (default 3); a list of dicts makes those."""
        if not create:
            return
        specs = extracted if isinstance(extracted, list) else [None] * (extracted if extracted is not None else 3)
        for position, spec in enumerate(specs, start=1):
            spec = spec or {
                "prompt": f"Question {position}?",
                "choices": ["Alpha", "Beta", "Gamma"],
                "answer": position % 3,
                "explanation": f"Because {position}.",
            }
            Question.objects.create(question_set=obj, position=position, **spec)


def snapshot_questions(count: int = 3) -> list[dict]:
    return [
        {
            "id": i,
            "prompt": f"Snapshot question {i}?",
            "choices": ["Red", "Green", "Blue"],
            "answer": i % 3,
            "explanation": f"Explained {i}.",
        }
        for i in range(1, count + 1)
    ]


class GroupSessionFactory(factory.django.DjangoModelFactory):
    """An instant, active session by default."""

    class Meta:
        model = GroupSession

    group = factory.SubFactory(GroupFactory)
    title = factory.Sequence(lambda n: f"Session {n}")
    session_type = SessionType.INSTANT
    status = SessionStatus.ACTIVE
    questions_data = factory.LazyFunction(snapshot_questions)
    started_at = factory.LazyFunction(timezone.now)
    duration_minutes = 30
    ends_at = factory.LazyAttribute(
        lambda s: (
            s.started_at + datetime.timedelta(minutes=s.duration_minutes)
            if s.started_at and s.duration_minutes
            else None
        )
    )
    created_by = factory.SubFactory(UserFactory)


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    session = factory.SubFactory(GroupSessionFactory)
    user = factory.SubFactory(UserFactory)
