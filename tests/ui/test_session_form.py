import datetime
import json
import re
from html import unescape

import pytest
from django.utils import timezone

from sessions.models import GroupSession, SessionStatus, SessionType
from tests.factories import GroupSessionFactory, QuestionSetFactory

pytestmark = pytest.mark.django_db

MODAL = "session-modal-content"


def create_url(group) -> str:
    return f"/groups/{group.id}/sessions/new"


def preview_url(group) -> str:
    return f"/groups/{group.id}/sessions/preview"


def triggers(response) -> dict:
    return json.loads(response.get("HX-Trigger", "{}"))


def field_error(html: str, field: str) -> str:
    """The error text rendered under a field and tied to it by aria-describedby (empty if none)."""
    assert f'id="id_{field}"' in html, f"no field {field}"
    block = re.search(rf'<div id="id_{field}_error"[^>]*>(.*?)</div>', html, re.S)
    if block is None:
        return ""
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error', html)
    return unescape(re.sub(r"<[^>]+>", " ", block.group(1))).strip()


@pytest.fixture
def question_set(roles):
    return QuestionSetFactory(created_by=roles["admin"], title="Photosynthesis")


TEXT = "What do plants need?\n* Light\nSalt\n> Light drives photosynthesis.\n\nWhat is H2O?\nSalt\n* Water\n"


# --- Opening the form -----------------------------------------------------------------------------------


def test_the_modal_content_is_the_form_alone(roles, htmx_headers):
    response = roles["clients"]["admin"].get(create_url(roles["group"]), **htmx_headers(MODAL))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="session-form"' in html and 'class="modal-header"' in html
    for field in ("title", "session_type", "scheduled_at", "duration_minutes", "source", "share", "question_set"):
        assert f'name="{field}"' in html
    # Every control has a label.
    for control in ("id_title", "id_scheduled_at", "id_duration_minutes", "id_share", "id_question_set"):
        assert f'for="{control}"' in html


def test_without_javascript_the_form_is_a_page_of_its_own(roles):
    html = roles["clients"]["admin"].get(create_url(roles["group"])).content.decode()
    assert "<html" in html and 'id="session-form"' in html
    assert f'<a class="btn btn-outline-secondary" href="/groups/{roles["group"].id}">Cancel</a>' in html


def test_the_date_picker_is_hidden_until_scheduled_is_chosen(roles, htmx_headers):
    html = roles["clients"]["admin"].get(create_url(roles["group"]), **htmx_headers(MODAL)).content.decode()
    assert re.search(r'class="form-panel d-none"\s+data-schedule-panel="scheduled"', html)
    assert re.search(r'class="form-panel"\s+data-source-panel="share"', html)


def test_my_question_sets_are_offered_and_not_other_peoples(roles, htmx_headers, question_set):
    QuestionSetFactory(created_by=roles["member"], title="Somebody else's set")
    html = roles["clients"]["admin"].get(create_url(roles["group"]), **htmx_headers(MODAL)).content.decode()
    assert "Photosynthesis (3 questions)" in html
    assert "Somebody else&#x27;s set" not in html


def test_outsider_gets_404_and_member_gets_403_where_members_may_not_create(roles, htmx_headers):
    group = roles["group"]
    assert roles["clients"]["outsider"].get(create_url(group)).status_code == 404
    assert roles["clients"]["outsider"].post(preview_url(group), {"source": "text"}).status_code == 404
    group.members_can_create_sessions = False
    group.save(update_fields=["members_can_create_sessions"])
    member = roles["clients"]["member"]
    assert member.get(create_url(group)).status_code == 403
    refused = member.post(create_url(group), {"source": "text", "questions_text": TEXT}, **htmx_headers(MODAL))
    assert refused.status_code == 403
    assert triggers(refused)["toast"]["level"] == "error"
    assert not GroupSession.objects.exists()


# --- Creating -------------------------------------------------------------------------------------------


def test_importing_a_share_link_creates_an_open_session_and_closes_the_modal(roles, htmx_headers, question_set):
    response = roles["clients"]["admin"].post(
        create_url(roles["group"]),
        {
            "title": "",
            "session_type": "instant",
            "duration_minutes": "15",
            "source": "share",
            "share": f"https://quiz.example.com/questions/{question_set.token}?utm=x",
        },
        **htmx_headers(MODAL),
    )

    session = GroupSession.objects.get()
    assert response.status_code == 200
    assert session.title == "Photosynthesis"
    assert session.status == SessionStatus.ACTIVE and session.duration_minutes == 15
    assert session.created_by == roles["admin"] and session.group == roles["group"]
    assert [q["prompt"] for q in session.questions_data] == ["Question 1?", "Question 2?", "Question 3?"]
    events = triggers(response)
    assert events["toast"]["level"] == "success"
    assert {"sessionsChanged", "closeModal"} <= set(events)
    assert response["HX-Reswap"] == "none"
    html = response.content.decode()
    assert 'id="session-created-banner" hx-swap-oob="true"' in html
    assert f"/questions/{session.share_token}?groupId={roles['group'].id}&amp;sessionId={session.pk}" in html


def test_a_bare_token_is_accepted_too(roles, htmx_headers, question_set):
    roles["clients"]["member"].post(
        create_url(roles["group"]),
        {"title": "Mine", "session_type": "instant", "source": "share", "share": f"  {question_set.token} "},
        **htmx_headers(MODAL),
    )
    session = GroupSession.objects.get()
    assert session.title == "Mine" and session.created_by == roles["member"]


def test_one_of_my_sets_can_be_the_source(roles, htmx_headers, question_set):
    roles["clients"]["admin"].post(
        create_url(roles["group"]),
        {"session_type": "instant", "source": "set", "question_set": question_set.pk},
        **htmx_headers(MODAL),
    )
    assert GroupSession.objects.get().source_set == question_set


def test_someone_elses_set_cannot_be_picked_by_id(roles, htmx_headers, question_set):
    response = roles["clients"]["member"].post(
        create_url(roles["group"]),
        {"session_type": "instant", "source": "set", "question_set": question_set.pk},
        **htmx_headers(MODAL),
    )
    assert response.status_code == 200
    assert "valid choice" in field_error(response.content.decode(), "question_set")
    assert not GroupSession.objects.exists()


def test_questions_written_in_the_form_become_the_snapshot(roles, htmx_headers):
    roles["clients"]["admin"].post(
        create_url(roles["group"]),
        {"title": "Written", "session_type": "instant", "source": "text", "questions_text": TEXT},
        **htmx_headers(MODAL),
    )
    session = GroupSession.objects.get()
    assert [(q["prompt"], q["answer"]) for q in session.questions_data] == [
        ("What do plants need?", 0),
        ("What is H2O?", 1),
    ]
    assert session.questions_data[0]["explanation"] == "Light drives photosynthesis."


def test_a_bad_line_in_written_questions_shows_next_to_the_field_with_its_number(roles, htmx_headers):
    response = roles["clients"]["admin"].post(
        create_url(roles["group"]),
        {"session_type": "instant", "source": "text", "questions_text": TEXT.replace("* Water", "Water")},
        **htmx_headers(MODAL),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="session-form"' in html
    assert field_error(html, "questions_text").startswith("Line 6:")
    assert re.search(r'class="form-panel"\s+data-source-panel="text"', html)
    # The text is kept, so it can be fixed rather than retyped.
    assert "What is H2O?" in html
    assert not GroupSession.objects.exists()


def test_an_unknown_share_token_is_an_error_next_to_the_share_field(roles, htmx_headers):
    response = roles["clients"]["admin"].post(
        create_url(roles["group"]),
        {"session_type": "instant", "source": "share", "share": "https://x.test/questions/no-such-token"},
        **htmx_headers(MODAL),
    )
    assert "No question set has this token." in field_error(response.content.decode(), "share")


def test_something_that_is_not_a_link_or_token_is_refused(roles, htmx_headers):
    response = roles["clients"]["admin"].post(
        create_url(roles["group"]),
        {"session_type": "instant", "source": "share", "share": "hello there!"},
        **htmx_headers(MODAL),
    )
    assert "not a share link" in field_error(response.content.decode(), "share")


def test_scheduled_needs_a_time_and_it_must_be_in_the_future(roles, htmx_headers):
    client = roles["clients"]["admin"]
    data = {"session_type": "scheduled", "source": "text", "questions_text": TEXT, "timezone": "UTC"}

    missing = client.post(create_url(roles["group"]), data, **htmx_headers(MODAL)).content.decode()
    past = client.post(
        create_url(roles["group"]), {**data, "scheduled_at": "2001-01-01T10:00"}, **htmx_headers(MODAL)
    ).content.decode()

    assert "Required for a scheduled session." in field_error(missing, "scheduled_at")
    assert "Must be in the future." in field_error(past, "scheduled_at")
    assert re.search(r'class="form-panel"\s+data-schedule-panel="scheduled"', past)
    assert not GroupSession.objects.exists()


def test_the_start_time_is_read_in_the_browsers_timezone(roles, htmx_headers):
    roles["clients"]["admin"].post(
        create_url(roles["group"]),
        {
            "session_type": "scheduled",
            "scheduled_at": "2031-06-01T09:00",
            "timezone": "America/New_York",
            "source": "text",
            "questions_text": TEXT,
        },
        **htmx_headers(MODAL),
    )
    session = GroupSession.objects.get()
    # 09:00 in New York in June (EDT, UTC-4) is 13:00 UTC.
    assert session.scheduled_at == datetime.datetime(2031, 6, 1, 13, 0, tzinfo=datetime.UTC)
    assert session.status == SessionStatus.SCHEDULED


def test_an_unknown_timezone_falls_back_to_the_servers(roles, htmx_headers, settings):
    roles["clients"]["admin"].post(
        create_url(roles["group"]),
        {
            "session_type": "scheduled",
            "scheduled_at": "2031-06-01T09:00",
            "timezone": "Mars/Olympus_Mons",
            "source": "text",
            "questions_text": TEXT,
        },
        **htmx_headers(MODAL),
    )
    assert GroupSession.objects.get().scheduled_at == datetime.datetime(2031, 6, 1, 9, 0, tzinfo=datetime.UTC)


def test_a_stale_start_time_is_ignored_for_an_instant_session(roles, htmx_headers):
    roles["clients"]["admin"].post(
        create_url(roles["group"]),
        {"session_type": "instant", "scheduled_at": "2001-01-01T10:00", "source": "text", "questions_text": TEXT},
        **htmx_headers(MODAL),
    )
    assert GroupSession.objects.get().status == SessionStatus.ACTIVE


def test_duration_out_of_range_is_shown_on_the_duration_field(roles, htmx_headers):
    response = roles["clients"]["admin"].post(
        create_url(roles["group"]),
        {"session_type": "instant", "duration_minutes": "0", "source": "text", "questions_text": TEXT},
        **htmx_headers(MODAL),
    )
    assert "between 1 and 10080" in field_error(response.content.decode(), "duration_minutes")


def test_without_javascript_success_goes_to_the_session_page(roles, question_set):
    response = roles["clients"]["admin"].post(
        create_url(roles["group"]), {"session_type": "instant", "source": "share", "share": question_set.token}
    )
    session = GroupSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/groups/{roles['group'].id}/sessions/{session.pk}"


# --- Preview --------------------------------------------------------------------------------------------


def test_preview_lists_the_questions_of_a_pasted_share_link(roles, question_set):
    response = roles["clients"]["admin"].post(
        preview_url(roles["group"]), {"source": "share", "share": f"http://h/questions/{question_set.token}"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-preview="ok"' in html
    assert "Photosynthesis · 3 questions" in html
    assert "Question 1?" in html and "Question 3?" in html
    assert html.count("Right answer:") == 3


def test_preview_of_written_questions_points_at_the_bad_line(roles):
    ok = roles["clients"]["admin"].post(preview_url(roles["group"]), {"source": "text", "questions_text": TEXT})
    bad = roles["clients"]["admin"].post(
        preview_url(roles["group"]), {"source": "text", "questions_text": "Q?\n* a\n* b"}
    )
    assert "What is H2O?" in ok.content.decode()
    assert 'data-preview="error"' in bad.content.decode()
    assert "<strong>Line 3:</strong>" in bad.content.decode()


def test_preview_says_when_a_link_leads_nowhere_or_nothing_is_entered(roles, question_set):
    client = roles["clients"]["admin"]
    unknown = client.post(preview_url(roles["group"]), {"source": "share", "share": "abc-not-a-set"})
    empty = client.post(preview_url(roles["group"]), {"source": "share", "share": ""})
    my_set = client.post(preview_url(roles["group"]), {"source": "set", "question_set": str(question_set.pk)})
    assert "No question set has this link" in unknown.content.decode()
    assert 'data-preview="empty"' in empty.content.decode()
    assert "Photosynthesis · 3 questions" in my_set.content.decode()


# --- Editing --------------------------------------------------------------------------------------------


def edit_url(session) -> str:
    return f"/groups/{session.group_id}/sessions/{session.pk}/edit"


def scheduled_session(group, **kwargs):
    at = timezone.now() + datetime.timedelta(days=2)
    return GroupSessionFactory(
        group=group,
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=at,
        started_at=None,
        duration_minutes=20,
        ends_at=at + datetime.timedelta(minutes=20),
        **kwargs,
    )


def test_the_edit_form_shows_the_start_time_in_the_browsers_zone(roles, htmx_headers):
    session = scheduled_session(roles["group"])
    session.scheduled_at = datetime.datetime(2031, 1, 10, 15, 0, tzinfo=datetime.UTC)
    session.save(update_fields=["scheduled_at"])
    response = roles["clients"]["admin"].get(edit_url(session), **htmx_headers(MODAL), HTTP_X_TIMEZONE="Europe/Paris")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'value="2031-01-10T16:00"' in html
    assert f'value="{session.title}"' in html


def test_editing_saves_and_tells_the_page_to_refresh(roles, htmx_headers):
    session = scheduled_session(roles["group"])
    response = roles["clients"]["admin"].post(
        edit_url(session),
        {"title": "Renamed", "scheduled_at": "2031-02-01T08:30", "duration_minutes": "45", "timezone": "Europe/Paris"},
        **htmx_headers(MODAL),
    )
    session.refresh_from_db()
    assert response.status_code == 200
    assert session.title == "Renamed" and session.duration_minutes == 45
    assert session.scheduled_at == datetime.datetime(2031, 2, 1, 7, 30, tzinfo=datetime.UTC)
    assert {"toast", "sessionsChanged", "closeModal"} <= set(triggers(response))


def test_an_open_session_cannot_be_rescheduled_in_the_form(roles, htmx_headers):
    session = GroupSessionFactory(group=roles["group"])
    html = roles["clients"]["admin"].get(edit_url(session), **htmx_headers(MODAL)).content.decode()
    assert 'name="scheduled_at"' not in html
    assert "can no longer change" in html


def test_edit_errors_come_back_into_the_modal(roles, htmx_headers):
    session = scheduled_session(roles["group"])
    response = roles["clients"]["admin"].post(
        edit_url(session),
        {"title": "  ", "scheduled_at": "2001-02-01T08:30", "duration_minutes": "", "timezone": "UTC"},
        **htmx_headers(MODAL),
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="session-edit-form"' in html
    assert "required" in field_error(html, "title").lower()


def test_edit_service_errors_land_on_their_field(roles, htmx_headers):
    session = scheduled_session(roles["group"])
    response = roles["clients"]["admin"].post(
        edit_url(session),
        {"title": "Ok", "scheduled_at": "2001-02-01T08:30", "duration_minutes": "", "timezone": "UTC"},
        **htmx_headers(MODAL),
    )
    assert "Must be in the future." in field_error(response.content.decode(), "scheduled_at")


def test_only_managers_and_the_creator_may_edit(roles, htmx_headers):
    session = scheduled_session(roles["group"], created_by=roles["member"])
    assert roles["clients"]["member"].get(edit_url(session), **htmx_headers(MODAL)).status_code == 200
    refused = roles["clients"]["other_member"].post(edit_url(session), {"title": "Hijack"}, **htmx_headers(MODAL))
    assert refused.status_code == 403
    assert triggers(refused)["toast"]["level"] == "error"
    assert roles["clients"]["other_member"].get(edit_url(session)).status_code == 403
    assert roles["clients"]["outsider"].get(edit_url(session)).status_code == 404
    session.refresh_from_db()
    assert session.title != "Hijack"
