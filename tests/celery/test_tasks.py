"""The tasks on their own: what they queue, and that stale, duplicate or early runs change nothing.

Run in-process (no worker): `task.apply()` executes a task here and now, as a worker would.
"""

import base64
import datetime
import json
import threading

import pytest
import redis
from django.core import mail
from django.db import connections
from django.utils import timezone

from sessions import services, tasks
from sessions.models import GroupSession, NotificationKind, SessionNotification, SessionStatus, SessionType
from tests.factories import GroupSessionFactory

from .conftest import broker_at, own_redis_server

pytestmark = pytest.mark.django_db


def _scheduled(study_group, *, starts_in: datetime.timedelta, duration_minutes=None) -> GroupSession:
    scheduled_at = timezone.now() + starts_in
    return GroupSessionFactory(
        group=study_group["group"],
        created_by=study_group["owner"],
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=scheduled_at,
        started_at=None,
        duration_minutes=duration_minutes,
        ends_at=scheduled_at + datetime.timedelta(minutes=duration_minutes) if duration_minutes else None,
    )


def _status(session) -> str:
    return GroupSession.objects.values_list("status", flat=True).get(pk=session.pk)


def _run(task, *args):
    outcome = task.apply(args=args)
    if outcome.failed():
        raise outcome.result
    return outcome.result


def test_open_task_opens_a_due_session_and_its_announcement_emails_every_member(
    study_group, django_capture_on_commit_callbacks
):
    session = _scheduled(study_group, starts_in=datetime.timedelta(seconds=-1))

    with django_capture_on_commit_callbacks(execute=True):
        opened = _run(tasks.open_session_task, session.pk, session.scheduled_at.isoformat())

    assert opened is True
    session.refresh_from_db()
    assert (session.status, session.started_at) == (SessionStatus.ACTIVE, session.scheduled_at)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in study_group["members"])


def test_open_task_queued_for_an_outdated_time_does_nothing(study_group):
    session = _scheduled(study_group, starts_in=datetime.timedelta(seconds=-1))
    outdated = (session.scheduled_at - datetime.timedelta(minutes=5)).isoformat()

    assert _run(tasks.open_session_task, session.pk, outdated) is False
    assert _status(session) == SessionStatus.SCHEDULED
    assert mail.outbox == []


def test_open_task_leaves_cancelled_started_and_deleted_sessions_alone(study_group):
    cancelled = _scheduled(study_group, starts_in=datetime.timedelta(seconds=-1))
    GroupSession.objects.filter(pk=cancelled.pk).update(status=SessionStatus.CANCELLED)
    started = GroupSessionFactory(group=study_group["group"])

    assert _run(tasks.open_session_task, cancelled.pk, cancelled.scheduled_at.isoformat()) is False
    assert _run(tasks.open_session_task, started.pk, timezone.now().isoformat()) is False
    assert _run(tasks.open_session_task, 987654321, timezone.now().isoformat()) is False
    assert _status(cancelled) == SessionStatus.CANCELLED


def test_open_task_that_runs_before_the_time_in_eager_mode_waits_for_the_clock(study_group):
    session = _scheduled(study_group, starts_in=datetime.timedelta(minutes=5))

    # Eager mode runs a timer the moment it is queued, so it must not open the session early.
    assert _run(tasks.open_session_task, session.pk, session.scheduled_at.isoformat()) is False
    assert _status(session) == SessionStatus.SCHEDULED


@pytest.mark.django_db(transaction=True)
def test_open_task_run_concurrently_makes_one_transition_and_one_email_per_member(study_group):
    session = _scheduled(study_group, starts_in=datetime.timedelta(seconds=-1))
    runs = 6
    barrier = threading.Barrier(runs)
    results, errors = [], []

    def run():
        try:
            barrier.wait(5)
            results.append(_run(tasks.open_session_task, session.pk, session.scheduled_at.isoformat()))
        except Exception as error:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert errors == []
    assert sorted(results) == [False] * (runs - 1) + [True]
    assert SessionNotification.objects.filter(session=session, kind=NotificationKind.OPENED).count() == 3
    assert len(mail.outbox) == 3


def test_complete_task_completes_an_expired_session_and_the_creator_gets_the_results(
    study_group, django_capture_on_commit_callbacks
):
    session = GroupSessionFactory(
        group=study_group["group"],
        created_by=study_group["owner"],
        started_at=timezone.now() - datetime.timedelta(minutes=31),
        duration_minutes=30,
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert _run(tasks.complete_session_task, session.pk, session.ends_at.isoformat()) is True
        assert _run(tasks.complete_session_task, session.pk, session.ends_at.isoformat()) is False

    session.refresh_from_db()
    assert (session.status, session.ended_at) == (SessionStatus.COMPLETED, session.ends_at)
    assert [m.to for m in mail.outbox] == [[study_group["owner"].email]]


def test_complete_task_for_an_end_that_has_since_changed_does_nothing(study_group):
    session = GroupSessionFactory(
        group=study_group["group"],
        started_at=timezone.now() - datetime.timedelta(minutes=31),
        duration_minutes=30,
    )
    old_end = (session.ends_at - datetime.timedelta(minutes=10)).isoformat()

    assert _run(tasks.complete_session_task, session.pk, old_end) is False
    assert _status(session) == SessionStatus.ACTIVE


def test_reminder_task_reminds_every_member_once_when_ten_minutes_are_left(study_group):
    session = _scheduled(study_group, starts_in=datetime.timedelta(minutes=9))
    scheduled_for = session.scheduled_at.isoformat()

    assert _run(tasks.remind_session_task, session.pk, scheduled_for) == 3
    assert _run(tasks.remind_session_task, session.pk, scheduled_for) == 0
    assert len(mail.outbox) == 3
    assert all(m.subject.startswith("Starting in 10 minutes") for m in mail.outbox)


def test_reminder_task_does_nothing_early_or_for_an_outdated_time(study_group):
    later = _scheduled(study_group, starts_in=datetime.timedelta(minutes=30))
    moved = _scheduled(study_group, starts_in=datetime.timedelta(minutes=5))

    assert _run(tasks.remind_session_task, later.pk, later.scheduled_at.isoformat()) == 0
    outdated = (moved.scheduled_at - datetime.timedelta(hours=1)).isoformat()
    assert _run(tasks.remind_session_task, moved.pk, outdated) == 0
    assert mail.outbox == []


def test_sweep_task_persists_every_lagging_status_and_a_second_sweep_finds_nothing(
    study_group, django_capture_on_commit_callbacks
):
    due = _scheduled(study_group, starts_in=datetime.timedelta(seconds=-5))
    expired = GroupSessionFactory(
        group=study_group["group"],
        created_by=study_group["owner"],
        started_at=timezone.now() - datetime.timedelta(minutes=31),
        duration_minutes=30,
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = _run(tasks.sweep_sessions_task)
        second = _run(tasks.sweep_sessions_task)

    assert first == {"opened": [due.pk], "completed": [expired.pk]}
    assert second == {"opened": [], "completed": []}
    assert (_status(due), _status(expired)) == (SessionStatus.ACTIVE, SessionStatus.COMPLETED)
    assert len(mail.outbox) == 3 + 1  # join links to the members, results to the creator


def test_in_eager_mode_a_scheduled_session_waits_for_its_time_without_a_worker(
    study_group, django_capture_on_commit_callbacks
):
    scheduled_at = timezone.now() + datetime.timedelta(minutes=20)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        session = services.create_session(
            membership=study_group["membership"],
            session_type="scheduled",
            question_set=study_group["question_set"],
            scheduled_at=scheduled_at,
            duration_minutes=15,
        )

    assert callbacks  # the timers were queued, and eager mode ran them at once
    assert _status(session) == SessionStatus.SCHEDULED
    assert mail.outbox == []
    assert session.effective_status(scheduled_at) == SessionStatus.ACTIVE


def test_in_eager_mode_an_instant_session_emails_the_join_link_at_once(study_group, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        session = services.create_session(
            membership=study_group["membership"],
            session_type="instant",
            question_set=study_group["question_set"],
            duration_minutes=15,
        )

    assert _status(session) == SessionStatus.ACTIVE
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in study_group["members"])


def _queued(url: str) -> list[tuple[str, datetime.datetime | None, list]]:
    """(task name, eta, args) of every message waiting in the default queue of the broker at `url`."""
    queued = []
    for raw in redis.Redis.from_url(url).lrange("celery", 0, -1):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        eta = message["headers"].get("eta")
        queued.append((message["headers"]["task"], eta and datetime.datetime.fromisoformat(eta), args))
    return sorted(queued, key=lambda item: item[1])


def test_scheduling_queues_the_reminder_the_opening_and_the_closing_for_their_times(
    study_group, django_capture_on_commit_callbacks
):
    scheduled_at = timezone.now() + datetime.timedelta(minutes=25)
    with own_redis_server() as (url, _server), broker_at(url):
        before = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            session = services.create_session(
                membership=study_group["membership"],
                session_type="scheduled",
                question_set=study_group["question_set"],
                scheduled_at=scheduled_at,
                duration_minutes=15,
            )
        after = timezone.now()
        (reminder, opening, closing) = _queued(url)

    at, ends_at = scheduled_at.isoformat(), scheduled_at + datetime.timedelta(minutes=15)
    assert reminder == (
        "sessions.tasks.remind_session_task",
        scheduled_at - datetime.timedelta(minutes=10),
        [session.pk, at],
    )
    assert opening == ("sessions.tasks.open_session_task", scheduled_at, [session.pk, at])
    name, eta, args = closing
    assert (name, args) == ("sessions.tasks.complete_session_task", [session.pk, ends_at.isoformat()])
    # Further off than one hop: the timer wakes one hop from now and queues itself again.
    assert before + tasks.TIMER_HOP <= eta <= after + tasks.TIMER_HOP


def test_a_session_starting_within_ten_minutes_gets_no_reminder(study_group, django_capture_on_commit_callbacks):
    scheduled_at = timezone.now() + datetime.timedelta(minutes=5)
    with own_redis_server() as (url, _server), broker_at(url):
        with django_capture_on_commit_callbacks(execute=True):
            session = services.create_session(
                membership=study_group["membership"],
                session_type="scheduled",
                question_set=study_group["question_set"],
                scheduled_at=scheduled_at,
            )
        queued = _queued(url)

    assert queued == [("sessions.tasks.open_session_task", scheduled_at, [session.pk, scheduled_at.isoformat()])]
