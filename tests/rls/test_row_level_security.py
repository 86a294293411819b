"""Row-level security (issue #8): the database itself keeps each person to their groups' rows, even when the
permission layer is bypassed. Real PostgreSQL, connected as the application's ordinary role.

These tests are marked `rls`: they run without the bypass that other tests' code holds for its fixtures
(tests/conftest.py) and set up their rows under an explicit one.
"""

import logging

import pytest
from django.core import mail
from django.db import ProgrammingError, connection, transaction
from django.test import Client
from django.utils import timezone

from groups.models import Group, Membership, Role
from quizsite import rls
from quizsite.rls import rls_bypass
from sessions import api as sessions_api
from sessions import selectors
from sessions.models import GroupSession, Participant, ParticipantRound, SessionNotification, SessionStatus
from sessions.tasks import send_session_opened_emails_task, sweep_sessions_task
from tests.conftest import token_client
from tests.factories import GroupFactory, GroupSessionFactory, MembershipFactory, ParticipantFactory, UserFactory

pytestmark = [pytest.mark.rls, pytest.mark.django_db]

PROTECTED = [Group, Membership, GroupSession, Participant, ParticipantRound, SessionNotification]


def _settings() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.user_id', true), current_setting('app.rls_bypass', true)")
        return cursor.fetchone()


def _is_clean() -> bool:
    return _settings()[0] in (None, "") and _settings()[1] in (None, "") and rls._state().user_id is None


def _round(participant, number=1):
    return ParticipantRound.objects.create(
        participant=participant, round=number, question_ids=[1], answers=[], score=0, total=1
    )


@pytest.fixture
def world():
    """Two groups, each with an owner, a member and a session the member took part in."""
    with rls_bypass("test setup"):
        rows = {}
        for name in ("a", "b"):
            owner, member = UserFactory(username=f"owner_{name}"), UserFactory(username=f"member_{name}")
            group = GroupFactory(name=f"group {name}", created_by=owner)
            MembershipFactory(group=group, user=owner, role=Role.OWNER)
            MembershipFactory(group=group, user=member, role=Role.MEMBER)
            session = GroupSessionFactory(group=group, created_by=owner)
            mine = ParticipantFactory(session=session, user=member)
            theirs = ParticipantFactory(session=session, user=owner)
            _round(mine)
            SessionNotification.objects.create(session=session, user=member, kind="opened")
            rows[name] = {
                "owner": owner,
                "member": member,
                "group": group,
                "session": session,
                "participant": mine,
                "owner_participant": theirs,
            }
    assert _is_clean()
    return rows


def test_the_suite_connects_as_an_ordinary_role_with_row_level_security_forced():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relrowsecurity AND relforcerowsecurity",
            [[model._meta.db_table for model in PROTECTED]],
        )
        assert sorted(name for (name,) in cursor.fetchall()) == sorted(model._meta.db_table for model in PROTECTED)


def test_plain_orm_as_a_member_reads_only_their_groups_rows(world):
    a, b = world["a"], world["b"]
    with rls.as_user(a["member"]):
        assert list(Group.objects.all()) == [a["group"]]
        assert set(Membership.objects.values_list("group_id", flat=True)) == {a["group"].pk}
        assert list(GroupSession.objects.all()) == [a["session"]]
        assert set(Participant.objects.values_list("session_id", flat=True)) == {a["session"].pk}
        assert Participant.objects.count() == 2  # every participant of their group's session: the counts need them
        assert list(ParticipantRound.objects.values_list("participant_id", flat=True)) == [a["participant"].pk]
        assert list(SessionNotification.objects.values_list("user_id", flat=True)) == [a["member"].pk]
        # Asking for the other group's rows by id finds nothing, as if they did not exist.
        assert not GroupSession.objects.filter(pk=b["session"].pk).exists()
        assert not Participant.objects.filter(session=b["session"]).exists()
        assert not Group.objects.filter(invite_token=b["group"].invite_token).exists()


def test_plain_orm_as_a_member_updates_and_deletes_nothing_of_another_group(world):
    a, b = world["a"], world["b"]
    with rls.as_user(a["owner"]):
        assert GroupSession.objects.filter(pk=b["session"].pk).update(title="taken over") == 0
        assert Participant.objects.filter(session=b["session"]).update(score=None) == 0
        assert Membership.objects.filter(group=b["group"]).update(role=Role.MEMBER) == 0
        assert Group.objects.filter(pk=b["group"].pk).update(name="taken over") == 0
        assert ParticipantRound.objects.filter(participant=b["participant"]).delete()[0] == 0
        assert GroupSession.objects.filter(pk=b["session"].pk).delete()[0] == 0
        assert Membership.objects.filter(group=b["group"]).delete()[0] == 0
    with rls_bypass("test check"):
        assert GroupSession.objects.get(pk=b["session"].pk).title == b["session"].title
        assert Membership.objects.filter(group=b["group"]).count() == 2
        assert ParticipantRound.objects.filter(participant=b["participant"]).count() == 1


def test_a_member_cannot_write_rows_for_someone_else_or_into_another_group(world):
    a, b = world["a"], world["b"]
    newcomer = _user_under_bypass("newcomer")
    with rls.as_user(a["member"]):
        for make in (
            lambda: Participant.objects.create(session=a["session"], user=newcomer),  # someone else's row
            lambda: Participant.objects.create(session=b["session"], user=a["member"]),  # another group
            lambda: Membership.objects.create(group=a["group"], user=newcomer),  # members do not add members
            lambda: GroupSessionFactory.build(group=b["group"], created_by=a["member"]).save(),
            lambda: _round(a["owner_participant"], 2),  # a round on someone else's row
        ):
            with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
                make()


def test_roles_decide_writes_within_a_group(world):
    a = world["a"]
    with rls.as_user(a["member"]):
        # A plain member may neither delete a session nor touch another member's result...
        assert GroupSession.objects.filter(pk=a["session"].pk).delete()[0] == 0
        assert Participant.objects.filter(pk=a["owner_participant"].pk).update(score=None) == 0
        # ...nor edit a session they did not create (the row is visible, so this is an error, not 0 rows).
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            GroupSession.objects.filter(pk=a["session"].pk).update(title="mine now")
        # Their own row is theirs to write.
        assert Participant.objects.filter(pk=a["participant"].pk).update(mastered=True) == 1
    with rls.as_user(a["owner"]):
        assert GroupSession.objects.filter(pk=a["session"].pk).update(title="renamed") == 1
        # Deleting cascades in Django, row by row: the owner may delete the participants, rounds and
        # notifications of their group's session.
        deleted, per_model = GroupSession.objects.filter(pk=a["session"].pk).delete()
        assert per_model == {
            "group_sessions.GroupSession": 1,
            "group_sessions.Participant": 2,
            "group_sessions.ParticipantRound": 1,
            "group_sessions.SessionNotification": 1,
        }


def test_nobody_signed_in_sees_nothing(world):
    assert _is_clean()
    for model in PROTECTED:
        assert model.objects.count() == 0, model


def test_the_bypass_sees_everything_logs_why_and_ends_with_its_block(world, caplog):
    with caplog.at_level(logging.INFO, logger="quizsite.rls"), rls_bypass("checking the bypass"):
        assert GroupSession.objects.count() == 2
        assert Participant.objects.count() == 4
        with rls_bypass("nested"):
            assert Group.objects.count() == 2
        assert Membership.objects.count() == 4  # the inner block did not end the outer one
    assert "row-level security bypass: checking the bypass" in caplog.messages
    assert _is_clean()
    assert GroupSession.objects.count() == 0


def test_the_bypass_ends_when_its_block_raises(world):
    with pytest.raises(RuntimeError), rls_bypass("about to fail"):
        raise RuntimeError("boom")
    assert _is_clean()
    assert GroupSession.objects.count() == 0


def _fake_membership(user, group_id):
    """What a view with a forgotten permission check would use: an owner's membership of any group."""
    return Membership(group=Group(pk=group_id), user=user, role=Role.OWNER)


@pytest.fixture
def forgotten_check(monkeypatch):
    """The sessions list API with its permission check gone: access_group grants everyone everything."""
    monkeypatch.setattr(sessions_api, "access_group", lambda *, user, group_id: _fake_membership(user, group_id))


def _listed(client, group) -> list[int]:
    response = client.get(f"/api/groups/{group.pk}/sessions")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_a_view_that_forgot_its_check_still_shows_only_the_callers_rows(world, forgotten_check):
    a, b = world["a"], world["b"]
    # Token requests one after another on the same connection: each runs as its own user, nothing carries over.
    assert _listed(token_client(a["member"]), a["group"]) == [a["session"].pk]
    assert _listed(token_client(b["member"]), a["group"]) == []
    assert _listed(token_client(a["member"]), b["group"]) == []
    assert _listed(token_client(b["owner"]), b["group"]) == [b["session"].pk]
    assert _is_clean()


def test_cookie_requests_in_a_row_do_not_inherit_the_previous_user(world, forgotten_check):
    a, b = world["a"], world["b"]
    client = Client()
    client.force_login(a["owner"])
    assert _listed(client, a["group"]) == [a["session"].pk]
    assert _is_clean()
    client.force_login(b["member"])
    assert _listed(client, a["group"]) == []
    client.logout()
    assert client.get(f"/api/groups/{a['group'].pk}/sessions").status_code == 401
    assert _is_clean()


def test_the_user_is_reset_when_the_view_raises(world, monkeypatch):
    def explode(**kwargs):
        assert rls.current_user_id() == world["a"]["member"].pk  # the request did run as its user
        raise RuntimeError("a bug in a view")

    monkeypatch.setattr(selectors, "list_sessions", explode)
    client = token_client(world["a"]["member"])
    client.raise_request_exception = False
    response = client.get(f"/api/groups/{world['a']['group'].pk}/sessions")
    assert response.status_code == 500
    assert _is_clean()


def test_a_streamed_export_runs_as_its_user_while_sent_and_then_resets(world):
    a = world["a"]
    client = Client()
    client.force_login(a["owner"])
    response = client.get(f"/groups/{a['group'].pk}/sessions/{a['session'].pk}/export/participants.csv")
    assert response.status_code == 200
    assert _is_clean()  # the request is over; the body is not produced yet
    body = b"".join(response.streaming_content).decode()  # produced now, as the owner again
    assert "member_a" in body and "owner_a" in body
    assert _is_clean()


def test_a_signed_out_caller_gets_401_for_a_session_token_not_404(world):
    session = world["a"]["session"]
    response = Client().get(f"/api/questions/{session.share_token}")
    assert response.status_code == 401
    assert Client().get("/api/questions/not-a-token").status_code == 404
    assert _is_clean()


def test_an_invite_link_lets_a_non_member_see_and_join_the_group(world, caplog):
    group = world["b"]["group"]
    newcomer = _user_under_bypass("newcomer")
    client = Client()
    client.force_login(newcomer)
    with caplog.at_level(logging.INFO, logger="quizsite.rls"):
        assert client.get(f"/groups/join/{group.invite_token}").status_code == 200
        assert client.post(f"/groups/join/{group.invite_token}").status_code == 302
    assert any("invite link" in message for message in caplog.messages)
    with rls.as_user(newcomer):
        assert list(Group.objects.all()) == [group]
        assert Membership.objects.get(group=group, user=newcomer).role == Role.MEMBER


def test_celery_tasks_run_under_the_bypass_and_find_what_they_need(world, caplog):
    a = world["a"]
    with rls_bypass("test setup"):
        due = GroupSessionFactory(
            group=a["group"],
            created_by=a["owner"],
            session_type="scheduled",
            status=SessionStatus.SCHEDULED,
            scheduled_at=timezone.now() - timezone.timedelta(minutes=1),
            started_at=None,
            ends_at=None,
            duration_minutes=None,
        )
    with caplog.at_level(logging.INFO, logger="quizsite.rls"):
        assert sweep_sessions_task.apply().get() == {"opened": [due.pk], "completed": []}
        # The opening email goes to every member of the group (memberships read with no user set).
        assert send_session_opened_emails_task.apply(args=(due.pk,)).get() == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["member_a@example.com", "owner_a@example.com"]
    assert "row-level security bypass: celery task sessions.tasks.sweep_sessions_task" in caplog.messages
    assert _is_clean()


def test_staff_in_the_admin_see_every_group_under_a_logged_bypass(world, caplog):
    staff = _user_under_bypass("staff", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    with caplog.at_level(logging.INFO, logger="quizsite.rls"):
        response = client.get("/admin/group_sessions/groupsession/")
    assert response.status_code == 200
    assert world["a"]["session"].title in response.content.decode()
    assert world["b"]["session"].title in response.content.decode()
    assert any(message.startswith("row-level security bypass: admin: staff GET") for message in caplog.messages)
    assert _is_clean()


def _user_under_bypass(username, **extra):
    # auth_user is not protected: no bypass needed for it.
    return UserFactory(username=username, **extra)
