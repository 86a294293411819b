"""Forms of the Sessions tab: the filter bar, the create-session form and the edit form.

They only turn what a person typed into the arguments of `sessions.services`; the rules (a future
start time, the duration range, the question rules) live in the services, whose InvalidInput errors
are put back next to the field they name (`add_service_error`).
"""

import re
import zoneinfo

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Field, Layout, Row
from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from questions.selectors import list_question_sets_for_user
from questions.text_format import QuestionTextError, parse_questions_text
from quizsite.errors import InvalidInput

from .models import MAX_DURATION_MINUTES, SessionStatus, SessionType

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

# What the filter bar says -> the effective status `sessions.selectors.list_sessions` filters on.
STATUS_FILTERS = {
    "all": None,
    "upcoming": SessionStatus.SCHEDULED,
    "active": SessionStatus.ACTIVE,
    "past": SessionStatus.COMPLETED,
    "cancelled": SessionStatus.CANCELLED,
}


def browser_timezone(name: str | None) -> zoneinfo.ZoneInfo:
    """The IANA zone the browser reported, or the server's TIME_ZONE when it sent none we know."""
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


class SessionFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("all", "All"),
            ("upcoming", "Upcoming"),
            ("active", "Active"),
            ("past", "Past"),
            ("cancelled", "Cancelled"),
        ],
    )
    type = forms.ChoiceField(required=False, label="Type", choices=[("", "Any type"), *SessionType.choices])
    mine = forms.BooleanField(required=False, label="Created by me")
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search titles",
        widget=forms.SearchInput(attrs={"placeholder": "Title contains…"}),
    )

    def values(self) -> dict:
        """The filters in force: a value that does not validate is dropped, never an error page."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            "status": cleaned.get("status") or "all",
            "type": cleaned.get("type") or "",
            "mine": bool(cleaned.get("mine")),
            "q": cleaned.get("q") or "",
        }

    @staticmethod
    def selector_kwargs(values: dict, *, user) -> dict:
        return {
            "status": STATUS_FILTERS[values["status"]],
            "session_type": values["type"] or None,
            "created_by": user if values["mine"] else None,
            "search": values["q"] or None,
        }

    @staticmethod
    def querystring(values: dict) -> str:
        """The filters as they appear in a shareable URL (defaults left out)."""
        query = QueryDict(mutable=True)
        if values["status"] != "all":
            query["status"] = values["status"]
        if values["type"]:
            query["type"] = values["type"]
        if values["mine"]:
            query["mine"] = "on"
        if values["q"]:
            query["q"] = values["q"]
        return query.urlencode()


_SHARE_PATH = re.compile(r"/questions/([A-Za-z0-9_-]{1,64})(?:[/?#]|$)")
_BARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def share_token_from(value: str) -> str | None:
    """The token in a pasted share link (`https://…/questions/<token>?…`, `/questions/<token>`) or a bare token."""
    value = value.strip()
    match = _SHARE_PATH.search(value)
    if match:
        return match.group(1)
    if _BARE_TOKEN.fullmatch(value):
        return value
    return None


class _BrowserTimeMixin:
    """`scheduled_at` arrives as the browser's wall-clock time (datetime-local has no zone); the form
    reads it in the zone the browser reported in the hidden `timezone` field, else the server's."""

    def full_clean(self):
        zone = browser_timezone(self.data.get("timezone") if self.is_bound else None)
        with timezone.override(zone):
            super().full_clean()


def _scheduled_at_field() -> forms.DateTimeField:
    return forms.DateTimeField(
        required=False,
        label="Opens at",
        help_text="Your local time.",
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
    )


def _duration_field() -> forms.IntegerField:
    return forms.IntegerField(
        required=False,
        label="Duration (minutes)",
        help_text="Leave empty to keep it open until you end it.",
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_DURATION_MINUTES, "step": 1, "inputmode": "numeric"}),
    )


class SessionForm(_BrowserTimeMixin, forms.Form):
    SOURCE_SHARE = "share"
    SOURCE_SET = "set"
    SOURCE_TEXT = "text"

    title = forms.CharField(
        required=False,
        max_length=200,
        label="Title",
        help_text="Leave empty to use the question set's title.",
    )
    session_type = forms.ChoiceField(
        label="When",
        choices=[(SessionType.INSTANT, "Start now"), (SessionType.SCHEDULED, "Schedule for later")],
        initial=SessionType.INSTANT,
        widget=forms.RadioSelect,
    )
    scheduled_at = _scheduled_at_field()
    duration_minutes = _duration_field()
    source = forms.ChoiceField(
        label="Questions",
        choices=[
            (SOURCE_SHARE, "Import from an extension share"),
            (SOURCE_SET, "One of my question sets"),
            (SOURCE_TEXT, "Write them here"),
        ],
        initial=SOURCE_SHARE,
        widget=forms.RadioSelect,
    )
    share = forms.CharField(
        required=False,
        max_length=2000,
        label="Share link or token",
        help_text="The link the browser extension gave you, or just its token.",
    )
    question_set = forms.ModelChoiceField(
        queryset=None, required=False, label="Question set", empty_label="Choose one of your sets…"
    )
    questions_text = forms.CharField(
        required=False,
        max_length=400_000,
        label="Questions",
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "true", "class": "font-monospace"}),
        help_text=(
            "A question line, then one line per choice with * before the right one; "
            "optionally a line starting with > for the explanation. A blank line between questions."
        ),
    )
    timezone = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    _SOURCE_FIELDS = {SOURCE_SHARE: "share", SOURCE_SET: "question_set", SOURCE_TEXT: "questions_text"}

    # Service error fields -> the form field a person can fix.
    _SERVICE_FIELDS = {
        "title": "title",
        "session_type": "session_type",
        "scheduled_at": "scheduled_at",
        "duration_minutes": "duration_minutes",
    }

    def __init__(self, *args, user, preview_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["question_set"].queryset = list_question_sets_for_user(user=user)
        self.fields["question_set"].label_from_instance = lambda qs: (
            f"{qs.title} ({qs.question_count} question{'s' if qs.question_count != 1 else ''})"
        )
        self.fields["share"].widget.attrs.update({"placeholder": "https://…/questions/…", "autocomplete": "off"})
        preview = {
            "hx-post": preview_url,
            "hx-target": "#questions-preview",
            "hx-swap": "innerHTML",
        }
        if preview_url:
            self.fields["share"].widget.attrs.update(preview, **{"hx-trigger": "input changed delay:400ms, change"})
            self.fields["question_set"].widget.attrs.update(preview, **{"hx-trigger": "change"})
            self.fields["questions_text"].widget.attrs.update(preview, **{"hx-trigger": "input changed delay:600ms"})
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Field("title"),
            Row(
                Column(InlineRadios("session_type"), css_class="col-md-6"),
                Column(Field("duration_minutes"), css_class="col-md-6"),
            ),
            Div(
                Field("scheduled_at"),
                css_class=self._panel_class(self.chosen_session_type == SessionType.SCHEDULED),
                data_schedule_panel=SessionType.SCHEDULED,
            ),
            InlineRadios("source"),
            *(
                Div(Field(name), css_class=self._panel_class(self.chosen_source == source), data_source_panel=source)
                for source, name in self._SOURCE_FIELDS.items()
            ),
            Field("timezone"),
        )

    @staticmethod
    def _panel_class(shown: bool) -> str:
        # Hidden on the server too, so the right panel shows before (and without) JavaScript.
        return "form-panel" if shown else "form-panel d-none"

    @property
    def chosen_source(self) -> str:
        value = self.data.get("source") if self.is_bound else None
        return value if value in (self.SOURCE_SHARE, self.SOURCE_SET, self.SOURCE_TEXT) else self.SOURCE_SHARE

    @property
    def chosen_session_type(self) -> str:
        value = self.data.get("session_type") if self.is_bound else None
        return value if value in SessionType.values else SessionType.INSTANT

    def clean_share(self):
        value = self.cleaned_data.get("share") or ""
        if self.data.get("source") != self.SOURCE_SHARE:
            return None
        if not value.strip():
            raise forms.ValidationError("Paste the share link or token the browser extension gave you.")
        token = share_token_from(value)
        if token is None:
            raise forms.ValidationError("This is not a share link: it should look like https://…/questions/<token>.")
        return token

    def clean_question_set(self):
        question_set = self.cleaned_data.get("question_set")
        if self.data.get("source") != self.SOURCE_SET:
            return None
        if question_set is None:
            raise forms.ValidationError("Choose one of your question sets.")
        return question_set

    def clean_questions_text(self):
        text = self.cleaned_data.get("questions_text") or ""
        if self.data.get("source") != self.SOURCE_TEXT:
            return None
        try:
            return parse_questions_text(text)
        except QuestionTextError as error:
            raise forms.ValidationError(str(error)) from error

    def clean_scheduled_at(self):
        # An instant session takes no start time: a hidden, stale value must not make it an error.
        if self.data.get("session_type") != SessionType.SCHEDULED:
            return None
        return self.cleaned_data.get("scheduled_at")

    def service_kwargs(self) -> dict:
        """Arguments for `sessions.services.create_session` (besides the membership)."""
        data = self.cleaned_data
        kwargs = {
            "title": data.get("title") or "",
            "session_type": data["session_type"],
            "scheduled_at": data.get("scheduled_at"),
            "duration_minutes": data.get("duration_minutes"),
        }
        source = data["source"]
        if source == self.SOURCE_SHARE:
            kwargs["share_token"] = data["share"]
        elif source == self.SOURCE_SET:
            kwargs["question_set"] = data["question_set"]
        else:
            kwargs["questions"] = data["questions_text"]
        return kwargs

    def source_field(self) -> str:
        return self._SOURCE_FIELDS[self.chosen_source]

    def add_service_error(self, error: InvalidInput) -> None:
        """Show a service's InvalidInput next to the field it is about."""
        if error.field in self._SERVICE_FIELDS:
            field = self._SERVICE_FIELDS[error.field]
        elif error.field in ("share_token", "question_set", "questions"):
            field = self.source_field()
        else:
            field = None
        self.add_error(field, error.message)


class SessionEditForm(_BrowserTimeMixin, forms.Form):
    title = forms.CharField(max_length=200, label="Title")
    scheduled_at = _scheduled_at_field()
    duration_minutes = _duration_field()
    timezone = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    _SERVICE_FIELDS = ("title", "scheduled_at", "duration_minutes")

    def __init__(self, *args, session, zone: zoneinfo.ZoneInfo, can_reschedule: bool, **kwargs):
        initial = {
            "title": session.title,
            "duration_minutes": session.duration_minutes,
            "timezone": str(zone),
        }
        if session.scheduled_at is not None:
            # datetime-local shows wall-clock time: the browser's, not the server's.
            initial["scheduled_at"] = timezone.localtime(session.scheduled_at, zone).strftime(DATETIME_LOCAL_FORMAT)
        super().__init__(*args, initial=initial, **kwargs)
        self.can_reschedule = can_reschedule
        if can_reschedule:
            self.fields["scheduled_at"].required = True
        else:
            del self.fields["scheduled_at"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        fields = [Field("title")]
        if can_reschedule:
            fields.append(Field("scheduled_at"))
        fields += [Field("duration_minutes"), Field("timezone")]
        self.helper.layout = Layout(*fields)

    def service_kwargs(self) -> dict:
        """Arguments for `sessions.services.update_session`: only what this form can change."""
        kwargs = {"title": self.cleaned_data["title"], "duration_minutes": self.cleaned_data.get("duration_minutes")}
        if self.can_reschedule:
            kwargs["scheduled_at"] = self.cleaned_data["scheduled_at"]
        return kwargs

    def add_service_error(self, error: InvalidInput) -> None:
        field = error.field if error.field in self._SERVICE_FIELDS and error.field in self.fields else None
        self.add_error(field, error.message)
