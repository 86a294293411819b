"""`participant_count` / `completed_count` on the session: kept by triggers, true after every kind of write.

The join and submit hot paths read these counters instead of counting rows, so each way a participant
row can appear, change or vanish is checked against a real COUNT.
"""

import pytest
from django.db import connection
from django.utils import timezone

from groups import services as group_services
from sessions.models import GroupSession, Participant
from tests.conftest import run_at_once, token_client
from tests.factories import MembershipFactory, ParticipantFactory, UserFactory
from tests.sessions.helpers import active_session, quiz_api_url, right_answers

pytestmark = pytest.mark.django_db


def stored_counts(session) -> tuple[int, int]:
    return tuple(GroupSession.objects.filter(pk=session.pk).values_list("participant_count", "completed_count").get())


def real_counts(session) -> tuple[int, int]:
    rows = Participant.objects.filter(session=session)
    return rows.count(), rows.filter(completed_at__isnull=False).count()


@pytest.fixture
def session(group_with_roles):
    return active_session(group=group_with_roles["group"], created_by=group_with_roles["owner"])


def test_join_and_submit_through_the_api_count_and_answer_with_the_fresh_counts(group_with_roles, session):
    member, other = token_client(group_with_roles["member"]), token_client(group_with_roles["other_member"])

    joined = member.get(quiz_api_url(session)).json()["context"]["session"]
    assert (joined["participant_count"], joined["completed_count"]) == (1, 0)
    joined = other.get(quiz_api_url(session)).json()["context"]["session"]
    assert (joined["participant_count"], joined["completed_count"]) == (2, 0)
    again = member.get(quiz_api_url(session)).json()["context"]["session"]
    assert (again["participant_count"], again["completed_count"]) == (2, 0)

    submitted = member.post(
        quiz_api_url(session, submit=True), {"answers": right_answers(session)}, format="json"
    ).json()["context"]["session"]
    assert (submitted["participant_count"], submitted["completed_count"]) == (2, 1)
    assert stored_counts(session) == real_counts(session) == (2, 1)


def test_submitting_without_joining_first_counts_both(group_with_roles, session):
    client = token_client(group_with_roles["admin"])

    body = client.post(quiz_api_url(session, submit=True), {"answers": right_answers(session)}, format="json").json()

    assert (body["context"]["session"]["participant_count"], body["context"]["session"]["completed_count"]) == (1, 1)
    assert stored_counts(session) == real_counts(session) == (1, 1)


def test_bulk_inserts_deletes_and_updates_keep_the_counters_true(session):
    users = UserFactory.create_batch(30)
    now = timezone.now()
    Participant.objects.bulk_create(
        Participant(
            session=session,
            user=user,
            completed_at=now if i % 3 == 0 else None,
            score=0 if i % 3 == 0 else None,
            total=3 if i % 3 == 0 else None,
        )
        for i, user in enumerate(users)
    )
    assert stored_counts(session) == real_counts(session) == (30, 10)

    Participant.objects.filter(session=session, completed_at__isnull=True).update(completed_at=now, score=1, total=3)
    assert stored_counts(session) == real_counts(session) == (30, 30)

    Participant.objects.filter(session=session, user__in=users[:5]).update(completed_at=None, score=None, total=None)
    assert stored_counts(session) == real_counts(session) == (30, 25)

    # Rewriting a row with the same state (a score saved again) changes nothing.
    Participant.objects.filter(session=session, completed_at__isnull=False).update(completed_at=now)
    assert stored_counts(session) == (30, 25)

    Participant.objects.filter(session=session, user__in=users[:10]).delete()
    assert stored_counts(session) == real_counts(session) == (20, 20)


def test_moving_a_participant_to_another_session_moves_the_count(group_with_roles, session):
    other_session = active_session(group=group_with_roles["group"], created_by=group_with_roles["owner"])
    moved = ParticipantFactory(session=session, user=group_with_roles["member"])
    ParticipantFactory(session=session, user=group_with_roles["admin"])

    Participant.objects.filter(pk=moved.pk).update(session=other_session)

    assert stored_counts(session) == real_counts(session) == (1, 0)
    assert stored_counts(other_session) == real_counts(other_session) == (1, 0)


def test_removing_a_member_who_took_part_uncounts_them_if_their_rows_go(group_with_roles, session):
    ParticipantFactory(session=session, user=group_with_roles["member"])
    ParticipantFactory(session=session, user=group_with_roles["other_member"])
    owner_membership = group_with_roles["group"].memberships.get(user=group_with_roles["owner"])

    group_services.remove_member(actor=owner_membership, user_id=group_with_roles["member"].pk)

    assert stored_counts(session) == real_counts(session)


def test_saving_a_stale_session_object_keeps_the_counts_made_since(group_with_roles, session):
    stale = GroupSession.objects.get(pk=session.pk)
    ParticipantFactory(session=session, user=group_with_roles["member"])

    stale.title = "Renamed in the admin"
    stale.save()  # a whole-row save, as a ModelForm does

    stale.refresh_from_db()
    assert stale.title == "Renamed in the admin"
    assert (stale.participant_count, stale.completed_count) == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_joins_are_all_counted(group_with_roles):
    session = active_session(group=group_with_roles["group"], created_by=group_with_roles["owner"])
    members = [MembershipFactory(group=session.group).user for _ in range(25)]

    def joiner(client):
        return lambda: client.get(quiz_api_url(session)).status_code

    joins = [joiner(token_client(user)) for user in members]

    statuses = run_at_once(joins)

    assert statuses == [200] * len(members)
    assert stored_counts(session) == real_counts(session) == (25, 0)


def test_deleting_the_session_takes_its_participants_without_tripping_the_counters(group_with_roles, session):
    ParticipantFactory.create_batch(3, session=session)

    session.delete()

    assert not Participant.objects.filter(session_id=session.pk).exists()
    assert connection.vendor == "postgresql"  # the triggers under test are PostgreSQL's


class TestHotPathQueries:
    """The join and the submit cost a fixed, small number of queries, however many have joined."""

    def test_a_member_coming_back_costs_two_queries(self, group_with_roles, session, django_assert_num_queries):
        ParticipantFactory.create_batch(50, session=session)
        member = token_client(group_with_roles["member"])
        member.get(quiz_api_url(session))

        # the token and its user (which also sets the row-level security user); the session with its group,
        # creator, the caller's role and row; + 1 for row-level security: the reset as the request ends
        with django_assert_num_queries(3):
            assert member.get(quiz_api_url(session)).status_code == 200

    def test_a_member_who_submitted_coming_back_costs_three_queries(
        self, group_with_roles, session, django_assert_num_queries
    ):
        member = token_client(group_with_roles["member"])
        member.post(quiz_api_url(session, submit=True), {"answers": right_answers(session)}, format="json")

        with django_assert_num_queries(4):  # and their rounds; + 1 for row-level security (the reset)
            body = member.get(quiz_api_url(session)).json()
        assert [r["round"] for r in body["context"]["participant"]["rounds"]] == [1]

    def test_a_submission_costs_a_fixed_number_of_queries(self, group_with_roles, session, django_assert_num_queries):
        ParticipantFactory.create_batch(50, session=session)
        member = token_client(group_with_roles["member"])
        member.get(quiz_api_url(session))

        # token; session + role; then in one transaction (a savepoint pair inside the test's transaction):
        # the session held with the row locked (one statement), the round inserted with the row updated
        # (one statement). No COUNT.
        # + 1 for row-level security: the reset as the request ends (the token's query sets the user).
        with django_assert_num_queries(7) as captured:
            response = member.post(
                quiz_api_url(session, submit=True), {"answers": right_answers(session)}, format="json"
            )
        assert response.status_code == 200
        assert not any("COUNT(" in query["sql"].upper() for query in captured.captured_queries)
