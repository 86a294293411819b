"""Session emails: a reminder before a scheduled start, the join link when a session opens, results to
the creator when it completes.

Each email is sent at most once per (session, user, kind), however often a task is retried or run twice
at once: the SessionNotification row is inserted first, inside the same transaction as the send, and
only the call that created the row sends. A concurrent call blocks on the unique index until the first
commits and then finds the row; if the send fails the row is rolled back, so a retry sends it.
One transaction per recipient keeps one bad address from re-sending to everyone else on retry.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from groups.models import Membership

from .models import GroupSession, NotificationKind, SessionNotification, SessionStatus
from .selectors import session_participants

logger = logging.getLogger(__name__)

REMINDER_LEAD = timedelta(minutes=10)
RESULTS_TOP = 10


def notify_session_reminder(*, session_id: int, now: datetime | None = None) -> int:
    """Remind every member that the session starts soon, once each; returns how many emails went out."""
    now = now or timezone.now()
    session = _get_session(session_id)
    # A reminder only makes sense for a session that is still waiting for its start.
    if session is None or session.effective_status(now) != SessionStatus.SCHEDULED:
        return 0
    context = {"session": session, "group": session.group, "group_url": _absolute(_group_path(session))}
    return _send_each(session, _member_recipients(session), NotificationKind.REMINDER, "session_reminder", context)


def notify_session_opened(*, session_id: int, now: datetime | None = None) -> int:
    """Send every member the join link, once each; returns how many emails went out."""
    now = now or timezone.now()
    session = _get_session(session_id)
    # Announcing a session that has already ended (a task that ran very late) would only mislead.
    if session is None or session.effective_status(now) != SessionStatus.ACTIVE:
        return 0
    context = {"session": session, "group": session.group, "join_url": _absolute(session.join_url)}
    return _send_each(session, _member_recipients(session), NotificationKind.OPENED, "session_opened", context)


def notify_session_completed(*, session_id: int, now: datetime | None = None) -> int:
    """Send the creator the results, once; returns how many emails went out (0 or 1)."""
    now = now or timezone.now()
    session = _get_session(session_id)
    if session is None or session.effective_status(now) != SessionStatus.COMPLETED:
        return 0
    creator = session.created_by
    if creator is None or not creator.is_active or not creator.email:
        return 0
    participants = list(session_participants(session=session))
    finished = [p for p in participants if p.completed_at is not None]
    context = {
        "session": session,
        "group": session.group,
        "participant_count": len(participants),
        "completed_count": len(finished),
        "leaders": finished[:RESULTS_TOP],
        "results_url": _absolute(
            reverse("sessions:detail", kwargs={"group_id": session.group_id, "session_id": session.pk})
        ),
    }
    return _send_each(session, [creator], NotificationKind.RESULTS, "session_results", context)


def _get_session(session_id: int) -> GroupSession | None:
    return GroupSession.objects.select_related("group", "created_by").filter(pk=session_id).first()


def _member_recipients(session: GroupSession) -> list:
    User = get_user_model()
    member_ids = Membership.objects.filter(group_id=session.group_id).values("user_id")
    return list(User.objects.filter(pk__in=member_ids, is_active=True).exclude(email="").order_by("pk"))


def _send_each(session: GroupSession, recipients: list, kind: str, template: str, context: dict) -> int:
    sent = 0
    for user in recipients:
        with transaction.atomic():
            _, created = SessionNotification.objects.get_or_create(session=session, user=user, kind=kind)
            if not created:
                continue
            # Sent inside the transaction: if the mail server refuses, the row goes too and a retry sends.
            _build_message(user, template, {**context, "recipient": user}).send(fail_silently=False)
        sent += 1
    if sent:
        logger.info("Sent %s email for session %s to %d recipient(s)", kind, session.pk, sent)
    return sent


def _build_message(user, template: str, context: dict) -> EmailMultiAlternatives:
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    return message


def _group_path(session: GroupSession) -> str:
    return reverse("sessions:group", kwargs={"group_id": session.group_id})


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path
