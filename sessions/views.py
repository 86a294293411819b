"""Pages of group sessions: the Sessions tab, the create/edit modal, the session page and its actions.

Thin callers: reads come from `sessions.selectors` / `sessions.results`, writes go through
`sessions.services` (which check permissions again), and what a member may do comes from
`groups.permissions`. Every page works as a plain page; with htmx the same views answer with the
fragment that changed (a `{% partialdef %}` of the page) and say what happened through `HX-Trigger`
events that `static/js/site.js` and `static/js/sessions.js` listen to:

- `toast` `{"level", "text"}`: feedback for an action;
- `sessionsChanged`: lists and session pages on screen refresh themselves;
- `closeModal`: the create/edit modal closes after a success.
"""

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Func, IntegerField
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url, reswap, trigger_client_event

from groups.permissions import (
    GroupAction,
    SessionAction,
    access_group,
    allowed_session_actions,
    can_group,
    require_group,
    require_session,
)
from questions.selectors import get_question_set, question_dicts
from questions.text_format import QuestionTextError, parse_questions_text
from quizsite.errors import DomainError, InvalidInput, NotFound

from . import results, services
from .forms import SessionEditForm, SessionFilterForm, SessionForm, browser_timezone, share_token_from
from .models import GroupSession, SessionStatus
from .qr import join_qr_svg, join_qr_svg_document
from .selectors import access_session, list_sessions

PAGE_SIZE = 20
POLL_SECONDS = 5
# A scheduled session this close to opening keeps the page polling, so it flips to active on time
# even when the browser's countdown is off (a sleeping laptop, a skewed clock).
DUE_WITHIN = timedelta(seconds=60)
LEADERBOARD_SIZE = 10
# A session's page lists its participants a page at a time: rendering 10,000 table rows took seconds
# (and megabytes of HTML) on every refresh; the CSV export has everyone.
PARTICIPANTS_PAGE_SIZE = 100

LIST_TARGET = "session-list"
LIVE_TARGET = "session-live"
FILTER_FORM = "session-filters"


# --- Small helpers -----------------------------------------------------------------------------------


def request_timezone(request):
    """The zone to show and read wall-clock times in: what the browser told us, else TIME_ZONE.

    sessions.js sends it as `X-Timezone` on every htmx request and stores it in the `tz` cookie for
    full page loads; forms also carry it in a hidden `timezone` field.
    """
    return browser_timezone(
        request.headers.get("X-Timezone") or request.POST.get("timezone") or request.COOKIES.get("tz")
    )


def relative_time(moment: datetime, now: datetime) -> str:
    """ "in 5 min", "3 h ago": the same wording sessions.js keeps fresh in the browser."""
    seconds = (moment - now).total_seconds()
    future = seconds > 0
    seconds = abs(seconds)
    if seconds < 45:
        return "in less than a minute" if future else "just now"
    if seconds < 60 * 60:
        amount = f"{max(1, round(seconds / 60))} min"
    elif seconds < 36 * 60 * 60:
        amount = f"{round(seconds / 3600)} h"
    else:
        days = round(seconds / 86400)
        amount = f"{days} day{'s' if days != 1 else ''}"
    return f"in {amount}" if future else f"{amount} ago"


def toast(response: HttpResponse, text: str, level: str = "success") -> HttpResponse:
    return trigger_client_event(response, "toast", {"level": level, "text": text})


def htmx_errors(view):
    """For htmx requests, a domain error becomes a toast (with its status code) instead of an error
    page that htmx would not show; plain requests still get the finished error page."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            if not request.htmx:
                raise
            response = reswap(HttpResponse(status=error.status_code), "none")
            return toast(response, error.message, "error")

    return wrapper


def _fragment(request, target: str) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request and request.htmx.target == target


def _render(request, template: str, context: dict, *, partial: str | None = None, status: int = 200):
    response = render(request, f"{template}#{partial}" if partial else template, context, status=status)
    # The same URL answers with a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


class _JSONArrayLength(Func):
    """How many questions a snapshot holds, counted by the database instead of loading the snapshot."""

    function = "jsonb_array_length"
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="json_array_length", **extra_context)


# --- Presenting sessions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionView:
    """A session as a page shows it at one moment: its true status, its times and what the viewer may do."""

    session: GroupSession
    status: str
    actions: frozenset
    now: datetime

    @property
    def is_live(self) -> bool:
        """Counts or status may change any second: worth polling for."""
        if self.status == SessionStatus.ACTIVE:
            return True
        return self.status == SessionStatus.SCHEDULED and self.session.scheduled_at - self.now <= DUE_WITHIN

    @property
    def moment(self) -> tuple[str, datetime | None]:
        """What to say about its timing: ("Opens", t), ("Closes", t), ("Open until ended", None), …"""
        session, now = self.session, self.now
        if self.status == SessionStatus.SCHEDULED:
            return "Opens", session.scheduled_at
        if self.status == SessionStatus.ACTIVE:
            return ("Closes", session.ends_at) if session.ends_at else ("Open until ended", None)
        if self.status == SessionStatus.COMPLETED:
            return "Closed", session.effective_ended_at(now)
        return "Cancelled", session.scheduled_at

    @property
    def moment_label(self) -> str:
        return self.moment[0]

    @property
    def moment_at(self) -> datetime | None:
        return self.moment[1]

    @property
    def moment_relative(self) -> str:
        return relative_time(self.moment_at, self.now) if self.moment_at else ""

    @property
    def countdown_to(self) -> datetime | None:
        """The next moment the status changes by itself (the page refreshes when it passes)."""
        if self.status == SessionStatus.SCHEDULED:
            return self.session.scheduled_at
        if self.status == SessionStatus.ACTIVE:
            return self.session.ends_at
        return None

    @property
    def countdown_text(self) -> str:
        """ "4:05", "1:02:03", "2d 3h 04m": what sessions.js counts down from, second by second."""
        if self.countdown_to is None:
            return ""
        total = max(0, math.ceil((self.countdown_to - self.now).total_seconds()))
        if total == 0:
            return "now"
        days, rest = divmod(total, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, seconds = divmod(rest, 60)
        if days:
            return f"{days}d {hours}h {minutes:02d}m"
        if hours:
            return f"{hours}:{minutes:02d}:{seconds:02d}"
        return f"{minutes}:{seconds:02d}"

    @property
    def started_at(self) -> datetime | None:
        return self.session.effective_started_at(self.now)

    def can(self, action: str) -> bool:
        return action in self.actions

    # Buttons, by what makes sense in this status (the services refuse the rest anyway).
    @property
    def can_start(self) -> bool:
        return self.status == SessionStatus.SCHEDULED and self.can(SessionAction.START)

    @property
    def can_end(self) -> bool:
        return self.status == SessionStatus.ACTIVE and self.can(SessionAction.END)

    @property
    def can_cancel(self) -> bool:
        return self.status == SessionStatus.SCHEDULED and self.can(SessionAction.CANCEL)

    @property
    def can_edit(self) -> bool:
        return self.status in (SessionStatus.SCHEDULED, SessionStatus.ACTIVE) and self.can(SessionAction.EDIT)

    @property
    def can_delete(self) -> bool:
        return self.can(SessionAction.DELETE)

    @property
    def can_view_all_results(self) -> bool:
        return self.can(SessionAction.VIEW_ALL_RESULTS)

    @property
    def has_manage_actions(self) -> bool:
        return self.can_start or self.can_end or self.can_cancel or self.can_edit or self.can_delete


def present(session: GroupSession, membership, now: datetime) -> SessionView:
    return SessionView(
        session=session,
        status=session.effective_status(now),
        actions=allowed_session_actions(membership, session),
        now=now,
    )


# --- The Sessions tab --------------------------------------------------------------------------------


@login_required
@require_GET
def group_sessions_tab(request, group_id: int):
    """`/groups/<id>`: the group page's default tab, or (htmx) just its list."""
    membership = access_group(user=request.user, group_id=group_id)
    require_group(membership, GroupAction.LIST_SESSIONS)
    now = timezone.now()

    filter_form = SessionFilterForm(request.GET or None)
    filters = filter_form.values()
    sessions = (
        list_sessions(group=membership.group, now=now, **SessionFilterForm.selector_kwargs(filters, user=request.user))
        .defer("questions_data", "loop_data")
        .annotate(snapshot_size=_JSONArrayLength("questions_data"))
    )
    page = Paginator(sessions, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [present(session, membership, now) for session in page.object_list]

    base_url = reverse("sessions:group", args=[group_id])
    querystring = SessionFilterForm.querystring(filters)
    page_suffix = f"page={page.number}" if page.number > 1 else ""
    list_url = base_url + "?" + "&".join(part for part in (querystring, page_suffix) if part)

    context = {
        "group": membership.group,
        "membership": membership,
        "active_tab": "sessions",
        "filter_form": filter_form,
        "filters": filters,
        "filtered": bool(querystring),
        "page": page,
        "rows": rows,
        "live": any(row.is_live for row in rows),
        "poll_seconds": POLL_SECONDS,
        "list_url": list_url.rstrip("?"),
        "page_url_prefix": base_url + "?" + (querystring + "&" if querystring else ""),
        "can_create": can_group(membership, GroupAction.CREATE_SESSION),
        "now": now,
    }
    with timezone.override(request_timezone(request)):
        if not _fragment(request, LIST_TARGET):
            return _render(request, "sessions/group_tab.html", context)
        response = _render(request, "sessions/group_tab.html", context, partial="session-list")
    if request.htmx.trigger == FILTER_FORM:
        # The address bar gets the tidy URL (defaults left out), not the raw form fields.
        push_url(response, context["list_url"])
    return response


# --- Creating and editing ----------------------------------------------------------------------------


def _created_response(request, session: GroupSession) -> HttpResponse:
    join_url = request.build_absolute_uri(session.join_url)
    context = {"session": session, "join_url": join_url, "group": session.group}
    response = _render(request, "sessions/session_form.html", context, partial="created-banner")
    # The body only carries the out-of-band banner with the join link; the modal itself closes.
    reswap(response, "none")
    toast(response, f"Session “{session.title}” created. Its join link is ready to share.")
    trigger_client_event(response, "sessionsChanged", {"id": session.pk})
    trigger_client_event(response, "closeModal", {})
    return response


@login_required
@require_http_methods(["GET", "POST"])
@htmx_errors
def session_create(request, group_id: int):
    """The create-session form: the modal's content with htmx, a page of its own without."""
    membership = access_group(user=request.user, group_id=group_id)
    require_group(membership, GroupAction.CREATE_SESSION)
    preview_url = reverse("sessions:preview", args=[group_id])
    zone = request_timezone(request)

    if request.method == "POST":
        form = SessionForm(request.POST, user=request.user, preview_url=preview_url)
        if form.is_valid():
            try:
                session = services.create_session(membership=membership, **form.service_kwargs())
            except InvalidInput as error:
                form.add_service_error(error)
            except NotFound as error:
                form.add_error(form.source_field(), error.message)
            else:
                if request.htmx:
                    return _created_response(request, session)
                messages.success(request, f"Session “{session.title}” created. Share its join link below.")
                return HttpResponseRedirect(reverse("sessions:detail", args=[group_id, session.pk]))
    else:
        form = SessionForm(user=request.user, preview_url=preview_url, initial={"timezone": str(zone)})

    context = {
        "group": membership.group,
        "membership": membership,
        "active_tab": "sessions",
        "form": form,
        "preview": _preview_of(form) if form.is_bound else None,
    }
    # Errors come back into the modal with 200: htmx swaps 2xx only, and the modal is where they belong.
    partial = "modal-content" if request.htmx else None
    return _render(request, "sessions/session_form.html", context, partial=partial)


@dataclass(frozen=True)
class Preview:
    title: str = ""
    questions: tuple = ()
    error: str = ""
    error_line: int | None = None
    empty: bool = False


def _preview_of(form: SessionForm) -> Preview:
    """What the chosen question source holds right now, or why it cannot be used."""
    source = form.chosen_source
    if source == SessionForm.SOURCE_TEXT:
        text = form.data.get("questions_text", "")
        if not text.strip():
            return Preview(empty=True)
        try:
            return Preview(title="Your questions", questions=tuple(parse_questions_text(text)))
        except QuestionTextError as error:
            return Preview(error=error.message, error_line=error.line)

    if source == SessionForm.SOURCE_SET:
        set_id = form.data.get("question_set")
        if not set_id:
            return Preview(empty=True)
        question_set = form.fields["question_set"].queryset.filter(pk=set_id).first() if set_id.isdigit() else None
        if question_set is None:
            return Preview(error="Choose one of your question sets.")
    else:
        pasted = form.data.get("share", "")
        if not pasted.strip():
            return Preview(empty=True)
        token = share_token_from(pasted)
        if token is None:
            return Preview(error="This is not a share link: it should look like https://…/questions/<token>.")
        try:
            question_set = get_question_set(token=token)
        except NotFound:
            return Preview(error="No question set has this link. Check that you copied all of it.")
    questions = question_dicts(question_set=question_set)
    if not questions:
        return Preview(title=question_set.title, error="This question set has no questions.")
    return Preview(title=question_set.title, questions=tuple(questions))


@login_required
@require_POST
@htmx_errors
def questions_preview(request, group_id: int):
    """The questions the form would use, shown before the session is created."""
    membership = access_group(user=request.user, group_id=group_id)
    require_group(membership, GroupAction.CREATE_SESSION)
    form = SessionForm(request.POST, user=request.user)
    return _render(request, "sessions/session_form.html", {"preview": _preview_of(form)}, partial="preview")


@login_required
@require_http_methods(["GET", "POST"])
@htmx_errors
def session_edit(request, group_id: int, session_id: int):
    membership, session = access_session(user=request.user, group_id=group_id, session_id=session_id)
    require_session(membership, SessionAction.EDIT, session)
    now = timezone.now()
    zone = request_timezone(request)
    can_reschedule = session.effective_status(now) == SessionStatus.SCHEDULED

    if request.method == "POST":
        form = SessionEditForm(request.POST, session=session, zone=zone, can_reschedule=can_reschedule)
        if form.is_valid():
            try:
                session = services.update_session(membership=membership, session=session, **form.service_kwargs())
            except InvalidInput as error:
                form.add_service_error(error)
            else:
                if request.htmx:
                    response = reswap(HttpResponse(), "none")
                    toast(response, f"Session “{session.title}” saved.")
                    trigger_client_event(response, "sessionsChanged", {"id": session.pk})
                    return trigger_client_event(response, "closeModal", {})
                messages.success(request, f"Session “{session.title}” saved.")
                return HttpResponseRedirect(reverse("sessions:detail", args=[group_id, session.pk]))
    else:
        form = SessionEditForm(session=session, zone=zone, can_reschedule=can_reschedule)

    context = {
        "group": membership.group,
        "membership": membership,
        "active_tab": "sessions",
        "form": form,
        "session": session,
    }
    partial = "modal-content" if request.htmx else None
    return _render(request, "sessions/session_edit.html", context, partial=partial)


# --- Lifecycle actions -------------------------------------------------------------------------------


def _action(service, done: str):
    """A POST that runs one lifecycle service: a toast and a `sessionsChanged` event for htmx, a
    redirect with a message otherwise. Permissions are checked by the service itself."""

    @login_required
    @require_POST
    @htmx_errors
    def view(request, group_id: int, session_id: int):
        membership, session = access_session(user=request.user, group_id=group_id, session_id=session_id)
        service(membership=membership, session=session)
        text = done.format(title=session.title)
        if request.htmx:
            response = HttpResponse(status=204)
            toast(response, text)
            return trigger_client_event(response, "sessionsChanged", {"id": session_id})
        messages.success(request, text)
        return HttpResponseRedirect(_safe_next(request, reverse("sessions:detail", args=[group_id, session_id])))

    return view


start_session = _action(services.start_session, "“{title}” is open: members can join now.")
end_session = _action(services.end_session, "“{title}” has ended.")
cancel_session = _action(services.cancel_session, "“{title}” was cancelled.")


@login_required
@require_POST
@htmx_errors
def delete_session(request, group_id: int, session_id: int):
    membership, session = access_session(user=request.user, group_id=group_id, session_id=session_id)
    services.delete_session(membership=membership, session=session)
    text = f"“{session.title}” was deleted."
    tab_url = reverse("sessions:group", args=[group_id])
    detail_url = reverse("sessions:detail", args=[group_id, session_id])
    if request.htmx and request.htmx.current_url_abs_path != detail_url:
        response = HttpResponse(status=204)
        toast(response, text)
        return trigger_client_event(response, "sessionsChanged", {"id": session_id})
    # From the session's own page there is nothing left to show: back to the tab, message in tow.
    messages.success(request, text)
    if request.htmx:
        return HttpResponseClientRedirect(tab_url)
    return HttpResponseRedirect(tab_url)


# --- The session page --------------------------------------------------------------------------------


@login_required
@require_GET
def session_detail(request, group_id: int, session_id: int):
    """Join link, QR code and status for everyone; results by role, refreshed while the session is live."""
    membership, session = access_session(user=request.user, group_id=group_id, session_id=session_id)
    now = timezone.now()
    view = present(session, membership, now)
    fragment = _fragment(request, LIVE_TARGET)

    context = {
        "group": membership.group,
        "membership": membership,
        "active_tab": "sessions",
        "session": session,
        "view": view,
        "live": view.is_live,
        "poll_seconds": POLL_SECONDS,
        "detail_url": reverse("sessions:detail", args=[group_id, session_id]),
    }
    if view.can_view_all_results:
        summary = results.summarize(session=session)
        # Paginated over the count the summary already has: no second COUNT query.
        page = Paginator(range(summary.joined), PARTICIPANTS_PAGE_SIZE).get_page(request.GET.get("page"))
        participants = results.participant_results(
            session=session, offset=(page.number - 1) * PARTICIPANTS_PAGE_SIZE, limit=PARTICIPANTS_PAGE_SIZE
        )
        if page.number > 1:
            # The live refresh keeps showing the page the manager is on.
            context["detail_url"] += f"?page={page.number}"
        if page.number == 1:
            # Those who submitted come first in this order: the top of page 1 is the leaderboard.
            leaderboard = [p for p in participants if p.finished][:LEADERBOARD_SIZE]
        else:
            leaderboard = results.leaderboard(session=session, limit=LEADERBOARD_SIZE)
        context.update(
            participants=participants,
            participants_page=page,
            leaderboard=leaderboard,
            question_stats=results.question_stats(session=session),
            summary=summary,
        )
    else:
        context["standing"] = results.member_standing(session=session, user=request.user)
        if view.status == SessionStatus.COMPLETED:
            context["leaderboard"] = results.leaderboard(session=session, limit=LEADERBOARD_SIZE)
    if not fragment:
        join_url = request.build_absolute_uri(session.join_url)
        context.update(join_url=join_url, qr_svg=join_qr_svg(join_url, title=f"QR code to join “{session.title}”"))

    with timezone.override(request_timezone(request)):
        return _render(request, "sessions/session_detail.html", context, partial="live" if fragment else None)


@login_required
@require_GET
def session_qr(request, group_id: int, session_id: int):
    """The join link's QR code as an SVG file, to print or put on a slide."""
    _membership, session = access_session(user=request.user, group_id=group_id, session_id=session_id)
    response = HttpResponse(join_qr_svg_document(request.build_absolute_uri(session.join_url)))
    response["Content-Type"] = "image/svg+xml"
    response["Content-Disposition"] = f'inline; filename="session-{session.pk}-qr.svg"'
    return response


def _export(kind: str):
    @login_required
    @require_GET
    def view(request, group_id: int, session_id: int):
        membership, session = access_session(user=request.user, group_id=group_id, session_id=session_id)
        require_session(membership, SessionAction.VIEW_ALL_RESULTS, session)
        if kind == "participants":
            return results.participants_csv_response(session=session)
        return results.questions_csv_response(session=session)

    return view


export_participants = _export("participants")
export_questions = _export("questions")
