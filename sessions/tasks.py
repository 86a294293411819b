"""Celery tasks: the worker persists and announces what the clock already decided.

A session's effective status is derived from its stored times (`GroupSession.effective_status`), so
nothing here is needed for correctness; the tasks write the transition down and send the emails. They
take ids, call `sessions.services` / `sessions.notifications`, and can run twice, late or concurrently:
the transitions are conditional updates and every email is recorded before it is sent.

The services call the three hooks at the bottom after commit. A hook only queues; if the broker is
unreachable it logs and returns, because the beat sweep catches up on the bookkeeping.
"""

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from . import notifications, services
from .models import GroupSession, SessionStatus

logger = logging.getLogger(__name__)

# What a retry may cure: the database or the mail server being briefly away (SMTPException is an OSError).
TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)
RETRY_OPTIONS = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
    "ignore_result": True,
}

# An ETA message waits unacknowledged in a worker; Redis hands it to another worker once the
# visibility timeout (1 h by default) passes, duplicating it. Timers further off than this hop instead
# wake early, find nothing to do yet and queue themselves again for at most one hop later.
TIMER_HOP = timedelta(minutes=30)


# Timers: each carries the time it was queued for; a session rescheduled since makes it a no-op.


@shared_task(bind=True, **RETRY_OPTIONS)
def open_session_task(self, session_id: int, scheduled_for: str) -> bool:
    """True if this run made the transition (the service then announces it, after commit)."""
    session = _current_session(session_id)
    if session is None or session.status != SessionStatus.SCHEDULED:
        return False  # deleted, cancelled, started by hand or already opened by the sweep
    if session.scheduled_at != _parse(scheduled_for):
        return False  # rescheduled: the task queued for the new time opens it
    if _wait_for(self, session.scheduled_at, session_id, scheduled_for):
        return False
    return services.open_due_session(session_id=session_id)


@shared_task(bind=True, **RETRY_OPTIONS)
def remind_session_task(self, session_id: int, scheduled_for: str) -> int:
    """How many reminders this run sent."""
    session = _current_session(session_id)
    if session is None or session.status != SessionStatus.SCHEDULED or session.scheduled_at != _parse(scheduled_for):
        return 0
    if _wait_for(self, session.scheduled_at - notifications.REMINDER_LEAD, session_id, scheduled_for):
        return 0
    return notifications.notify_session_reminder(session_id=session_id)


@shared_task(bind=True, **RETRY_OPTIONS)
def complete_session_task(self, session_id: int, ends_for: str) -> bool:
    """True if this run made the transition (the service then announces it, after commit)."""
    session = _current_session(session_id)
    if session is None or session.status not in (SessionStatus.SCHEDULED, SessionStatus.ACTIVE):
        return False
    if session.ends_at is None or session.ends_at != _parse(ends_for):
        return False  # the duration or start changed: a newer timer (or the sweep) completes it
    if _wait_for(self, session.ends_at, session_id, ends_for):
        return False
    return services.complete_expired_session(session_id=session_id)


@shared_task(**RETRY_OPTIONS)
def sweep_sessions_task() -> dict:
    """Run by beat every 30 s: persist every transition the clock has made (the services announce them)."""
    transitioned = services.sweep_sessions()
    if transitioned["opened"] or transitioned["completed"]:
        logger.info("Sweep opened %s, completed %s", transitioned["opened"], transitioned["completed"])
    return transitioned


# Announcements are tasks of their own, so a mail server outage retries the emails, not the transition.


@shared_task(**RETRY_OPTIONS)
def send_session_opened_emails_task(session_id: int) -> int:
    return notifications.notify_session_opened(session_id=session_id)


@shared_task(**RETRY_OPTIONS)
def send_session_results_email_task(session_id: int) -> int:
    return notifications.notify_session_completed(session_id=session_id)


# Hooks the services call after commit.


def schedule_session_timers(session_id: int) -> None:
    """Queue the reminder and the opening of a scheduled session, and the closing of any timed session."""
    session = _current_session(session_id)
    if session is None:
        return
    now = timezone.now()
    if session.status == SessionStatus.SCHEDULED and session.scheduled_at is not None:
        scheduled_for = session.scheduled_at.isoformat()
        remind_at = session.scheduled_at - notifications.REMINDER_LEAD
        # Scheduled less than 10 minutes ahead: the "open now" email follows too soon for a reminder to help.
        if remind_at > now and not _enqueue(remind_session_task, (session_id, scheduled_for), when=remind_at, now=now):
            return  # the broker is down: the next two would only wait for the same timeout
        if not _enqueue(open_session_task, (session_id, scheduled_for), when=session.scheduled_at, now=now):
            return
    if session.status in (SessionStatus.SCHEDULED, SessionStatus.ACTIVE) and session.ends_at is not None:
        _enqueue(complete_session_task, (session_id, session.ends_at.isoformat()), when=session.ends_at, now=now)


def announce_session_opened(session_id: int) -> None:
    """Email every member the join link, once per member."""
    _enqueue(send_session_opened_emails_task, (session_id,))


def announce_session_completed(session_id: int) -> None:
    """Email the creator the results, once."""
    _enqueue(send_session_results_email_task, (session_id,))


def _current_session(session_id: int) -> GroupSession | None:
    return GroupSession.objects.only("status", "scheduled_at", "ends_at").filter(pk=session_id).first()


def _parse(iso_time: str) -> datetime:
    return datetime.fromisoformat(iso_time)


def _wait_for(task, due: datetime, *args) -> bool:
    """True when `due` is still ahead: the task queues itself again (at most one hop) and must stop."""
    now = timezone.now()
    if due <= now:
        return False
    # Eager mode runs a task the moment it is queued; the effective status already opens the session
    # on time there, and re-queueing would just recurse.
    if not task.request.is_eager:
        _enqueue(task, args, when=due, now=now)
    return True


def _enqueue(task, args: tuple, *, when: datetime | None = None, now: datetime | None = None) -> bool:
    """Queue `task`; never raise, so a down broker cannot fail the request that already committed."""
    options = {}
    if when is not None:
        options["eta"] = min(when, (now or timezone.now()) + TIMER_HOP)
    try:
        task.apply_async(args=args, **options)
    except Exception:
        logger.warning("Could not queue %s%s; the sweep will catch up", task.name, args, exc_info=True)
        return False
    return True
