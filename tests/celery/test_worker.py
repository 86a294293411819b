"""What a real worker does with the timers and the sweep, against the real Redis and PostgreSQL."""

import datetime
import time

import pytest
from django.core import mail
from django.utils import timezone

from quizsite.celery import app
from sessions import services, tasks
from sessions.models import GroupSession, NotificationKind, SessionNotification, SessionStatus, SessionType
from tests.factories import GroupSessionFactory

from .conftest import create_scheduled_session, wait_until

pytestmark = pytest.mark.worker


def _status(session) -> str:
    return GroupSession.objects.values_list("status", flat=True).get(pk=session.pk)


def _sent(session, kind) -> int:
    return SessionNotification.objects.filter(session=session, kind=kind).count()


def _opened_emails_to(study_group) -> list[str]:
    return sorted(address for message in mail.outbox if "Open now" in message.subject for address in message.to)


def _settle():
    """Give a duplicate that was going to misbehave the time to do it."""
    time.sleep(1)


def test_worker_persists_a_session_scheduled_three_seconds_ahead_as_active_within_two_seconds(
    celery_worker, study_group, django_capture_on_commit_callbacks
):
    session = create_scheduled_session(study_group, starts_in=3, capture=django_capture_on_commit_callbacks)
    assert _status(session) == SessionStatus.SCHEDULED

    wait_until(lambda: _status(session) == SessionStatus.ACTIVE, timeout=3 + 2)
    persisted_at = timezone.now()

    assert persisted_at <= session.scheduled_at + datetime.timedelta(seconds=2)
    session.refresh_from_db()
    assert session.started_at == session.scheduled_at


def test_opening_emails_every_member_once_with_the_join_link(
    celery_worker, study_group, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://quiz.example.org"
    session = create_scheduled_session(study_group, starts_in=1, capture=django_capture_on_commit_callbacks)

    wait_until(lambda: _sent(session, NotificationKind.OPENED) == 3, timeout=6)
    _settle()

    assert _opened_emails_to(study_group) == sorted(user.email for user in study_group["members"])
    assert all(f"https://quiz.example.org{session.join_url}" in message.body for message in mail.outbox)


def test_the_same_open_task_queued_twice_makes_one_transition_and_one_email_per_member(celery_worker, study_group):
    scheduled_at = timezone.now() + datetime.timedelta(seconds=1)
    session = GroupSessionFactory(
        group=study_group["group"],
        created_by=study_group["owner"],
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=scheduled_at,
        started_at=None,
        ends_at=None,
        duration_minutes=None,
    )
    # Two copies at the same moment on a four-thread worker: they race for the same row.
    copies = [
        tasks.open_session_task.apply_async(args=(session.pk, scheduled_at.isoformat()), eta=scheduled_at)
        for _ in range(2)
    ]
    assert len({copy.id for copy in copies}) == 2

    wait_until(lambda: _sent(session, NotificationKind.OPENED) == 3, timeout=6)
    _settle()

    assert _status(session) == SessionStatus.ACTIVE
    assert _sent(session, NotificationKind.OPENED) == 3
    assert _opened_emails_to(study_group) == sorted(user.email for user in study_group["members"])


def test_rescheduling_moves_the_opening_and_the_old_timer_does_nothing(
    celery_worker, study_group, django_capture_on_commit_callbacks
):
    session = create_scheduled_session(study_group, starts_in=1.5, capture=django_capture_on_commit_callbacks)
    old_time = session.scheduled_at
    new_time = old_time + datetime.timedelta(seconds=3)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_session(membership=study_group["membership"], session=session, scheduled_at=new_time)

    # The old timer fires at old_time and finds the session waiting for another time.
    wait_until(lambda: timezone.now() > old_time + datetime.timedelta(seconds=1), timeout=4)
    assert _status(session) == SessionStatus.SCHEDULED
    assert _sent(session, NotificationKind.OPENED) == 0

    wait_until(lambda: _status(session) == SessionStatus.ACTIVE, timeout=5)
    assert timezone.now() <= new_time + datetime.timedelta(seconds=2)
    session.refresh_from_db()
    assert session.started_at == new_time


def test_a_timed_session_is_completed_at_its_end_and_the_creator_gets_the_results(
    celery_worker, study_group, django_capture_on_commit_callbacks
):
    session = create_scheduled_session(study_group, starts_in=0.5, capture=django_capture_on_commit_callbacks)
    # Durations are whole minutes: pull the end close instead of waiting one out.
    ends_at = session.scheduled_at + datetime.timedelta(seconds=1.5)
    GroupSession.objects.filter(pk=session.pk).update(ends_at=ends_at)
    tasks.schedule_session_timers(session.pk)

    wait_until(lambda: _status(session) == SessionStatus.COMPLETED, timeout=5)
    assert timezone.now() <= ends_at + datetime.timedelta(seconds=2)
    wait_until(lambda: _sent(session, NotificationKind.RESULTS) == 1, timeout=5)
    results = [message for message in mail.outbox if message.subject.startswith("Results")]
    assert [message.to for message in results] == [[study_group["owner"].email]]


def test_the_sweep_opens_due_sessions_completes_expired_ones_and_announces_them(celery_worker, study_group):
    now = timezone.now()
    # Sessions whose timers were lost (the broker was down when they were made): only the sweep is left.
    due = GroupSessionFactory(
        group=study_group["group"],
        created_by=study_group["owner"],
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=now - datetime.timedelta(seconds=5),
        started_at=None,
        duration_minutes=None,
        ends_at=None,
    )
    expired = GroupSessionFactory(
        group=study_group["group"],
        created_by=study_group["owner"],
        started_at=now - datetime.timedelta(minutes=31),
        duration_minutes=30,
    )
    still_running = GroupSessionFactory(group=study_group["group"], created_by=study_group["owner"])

    tasks.sweep_sessions_task.delay()

    wait_until(lambda: _status(expired) == SessionStatus.COMPLETED and _status(due) == SessionStatus.ACTIVE, timeout=5)
    wait_until(lambda: _sent(due, NotificationKind.OPENED) == 3 and _sent(expired, NotificationKind.RESULTS), timeout=5)
    assert _status(still_running) == SessionStatus.ACTIVE
    expired.refresh_from_db()
    assert expired.ended_at == expired.ends_at

    tasks.sweep_sessions_task.delay()  # a second sweep finds nothing left to do
    _settle()
    assert len(mail.outbox) == 3 + 1


def test_a_far_off_timer_waits_in_hops_shorter_than_the_redis_visibility_timeout(celery_worker, study_group):
    visibility_timeout = datetime.timedelta(hours=1)  # Redis transport default
    assert tasks.TIMER_HOP < visibility_timeout
    scheduled_at = timezone.now() + datetime.timedelta(hours=5)
    session = GroupSessionFactory(
        group=study_group["group"],
        created_by=study_group["owner"],
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=scheduled_at,
        started_at=None,
        ends_at=None,
        duration_minutes=None,
    )
    # As if the previous hop had just woken: the task runs now, hours early.
    tasks.open_session_task.delay(session.pk, scheduled_at.isoformat())

    inspector = app.control.inspect(destination=[celery_worker.hostname], timeout=1)
    waiting = wait_until(lambda: (inspector.scheduled() or {}).get(celery_worker.hostname), timeout=5)

    (timer,) = waiting
    assert timer["request"]["name"] == "sessions.tasks.open_session_task"
    assert timer["request"]["args"] == [session.pk, scheduled_at.isoformat()]
    eta = datetime.datetime.fromisoformat(timer["eta"])
    assert eta <= timezone.now() + tasks.TIMER_HOP
    assert _status(session) == SessionStatus.SCHEDULED


def test_beat_runs_the_sweep_every_thirty_seconds():
    (entry,) = app.conf.beat_schedule.values()
    assert entry["task"] == tasks.sweep_sessions_task.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 30
