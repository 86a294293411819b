"""Session emails go out once per member per session per kind, however often they are asked for."""

import datetime
import threading

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone

from quizsite.rls import rls_bypass
from sessions import notifications
from sessions.models import NotificationKind, SessionNotification, SessionStatus, SessionType
from tests.factories import GroupSessionFactory, MembershipFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _active_session(study_group, **fields):
    fields.setdefault("created_by", study_group["owner"])
    return GroupSessionFactory(group=study_group["group"], **fields)


def _scheduled_session(study_group, starts_in=datetime.timedelta(minutes=10)):
    scheduled_at = timezone.now() + starts_in
    return GroupSessionFactory(
        group=study_group["group"],
        created_by=study_group["owner"],
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=scheduled_at,
        started_at=None,
        ends_at=scheduled_at + datetime.timedelta(minutes=30),
    )


def _recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def _member_addresses(study_group) -> list[str]:
    return sorted(user.email for user in study_group["members"])


def test_opened_email_goes_to_every_member_with_the_absolute_join_link(study_group, settings):
    settings.SITE_URL = "https://quiz.example.org"
    session = _active_session(study_group)

    sent = notifications.notify_session_opened(session_id=session.pk)

    assert sent == 3
    assert _recipients() == _member_addresses(study_group)
    join_link = f"https://quiz.example.org{session.join_url}"
    for message in mail.outbox:
        assert session.title in message.subject
        assert join_link in message.body
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html"
        assert f'href="{join_link.replace("&", "&amp;")}"' in html


def test_opened_email_is_sent_once_per_member_however_often_it_is_asked_for(study_group):
    session = _active_session(study_group)

    first = notifications.notify_session_opened(session_id=session.pk)
    second = notifications.notify_session_opened(session_id=session.pk)

    assert (first, second) == (3, 0)
    assert len(mail.outbox) == 3
    assert SessionNotification.objects.filter(session=session, kind=NotificationKind.OPENED).count() == 3


def test_member_who_joins_the_group_later_gets_the_opened_email_on_the_next_call(study_group):
    session = _active_session(study_group)
    notifications.notify_session_opened(session_id=session.pk)
    newcomer = MembershipFactory(group=study_group["group"]).user

    assert notifications.notify_session_opened(session_id=session.pk) == 1
    assert mail.outbox[-1].to == [newcomer.email]


def test_members_without_an_email_address_or_inactive_are_skipped(study_group):
    MembershipFactory(group=study_group["group"], user=UserFactory(email=""))
    MembershipFactory(group=study_group["group"], user=UserFactory(is_active=False))
    session = _active_session(study_group)

    assert notifications.notify_session_opened(session_id=session.pk) == 3
    assert _recipients() == _member_addresses(study_group)


def test_opened_email_is_not_sent_for_a_session_that_is_over_or_not_open(study_group):
    ended = _active_session(study_group, status=SessionStatus.COMPLETED, ended_at=timezone.now())
    cancelled = _scheduled_session(study_group)
    cancelled.status = SessionStatus.CANCELLED
    cancelled.save()
    waiting = _scheduled_session(study_group)

    for session in (ended, cancelled, waiting):
        assert notifications.notify_session_opened(session_id=session.pk) == 0
    assert notifications.notify_session_opened(session_id=987654321) == 0
    assert mail.outbox == []


def test_a_refused_send_records_nothing_so_a_retry_sends_it(study_group, settings):
    session = _active_session(study_group)
    settings.EMAIL_BACKEND = "tests.celery.email_backends.RefusingEmailBackend"

    with pytest.raises(ConnectionRefusedError):
        notifications.notify_session_opened(session_id=session.pk)
    assert not SessionNotification.objects.filter(session=session).exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications.notify_session_opened(session_id=session.pk) == 3
    assert _recipients() == _member_addresses(study_group)


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_send_one_opened_email_per_member(study_group):
    session = _active_session(study_group)
    callers = 6
    barrier = threading.Barrier(callers)
    sent, errors = [], []

    def notify():
        try:
            barrier.wait(5)
            # As the email task runs it: each thread is a task of its own, under the row-level security bypass.
            with rls_bypass("notifications, as the Celery task"):
                sent.append(notifications.notify_session_opened(session_id=session.pk))
        except Exception as error:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=notify) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert errors == []
    assert sum(sent) == 3
    assert _recipients() == _member_addresses(study_group)
    assert SessionNotification.objects.filter(session=session, kind=NotificationKind.OPENED).count() == 3


def test_reminder_goes_to_every_member_once_while_the_session_waits(study_group):
    session = _scheduled_session(study_group)

    assert notifications.notify_session_reminder(session_id=session.pk) == 3
    assert notifications.notify_session_reminder(session_id=session.pk) == 0
    assert _recipients() == _member_addresses(study_group)
    assert all("starts" in message.body for message in mail.outbox)


def test_no_reminder_once_the_session_has_started(study_group):
    session = _scheduled_session(study_group, starts_in=datetime.timedelta(seconds=-1))

    assert notifications.notify_session_reminder(session_id=session.pk) == 0
    assert mail.outbox == []


def test_results_email_goes_to_the_creator_once_with_the_leaderboard(study_group):
    session = _active_session(study_group, status=SessionStatus.COMPLETED, ended_at=timezone.now())
    best, second, late = study_group["members"][1], study_group["members"][2], study_group["owner"]
    ParticipantFactory(session=session, user=best, completed_at=timezone.now(), score=3, total=3)
    ParticipantFactory(session=session, user=second, completed_at=timezone.now(), score=1, total=3)
    ParticipantFactory(session=session, user=late)

    assert notifications.notify_session_completed(session_id=session.pk) == 1
    assert notifications.notify_session_completed(session_id=session.pk) == 0

    (message,) = mail.outbox
    assert message.to == [study_group["owner"].email]
    assert "2 of 3 participants finished" in message.body
    assert message.body.index(f"{best.username}: 3/3") < message.body.index(f"{second.username}: 1/3")


def test_results_email_waits_until_the_session_is_over(study_group):
    session = _active_session(study_group)

    assert notifications.notify_session_completed(session_id=session.pk) == 0
    assert mail.outbox == []


def test_results_email_is_skipped_when_the_creator_is_gone(study_group):
    session = _active_session(study_group, status=SessionStatus.COMPLETED, ended_at=timezone.now(), created_by=None)

    assert notifications.notify_session_completed(session_id=session.pk) == 0
