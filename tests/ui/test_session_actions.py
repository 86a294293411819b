import datetime
import json

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from sessions.models import GroupSession, SessionStatus, SessionType
from tests.factories import GroupSessionFactory

pytestmark = pytest.mark.django_db


def url(session, action: str) -> str:
    return f"/groups/{session.group_id}/sessions/{session.pk}/{action}"


def upcoming(group, **kwargs) -> GroupSession:
    at = timezone.now() + datetime.timedelta(hours=3)
    return GroupSessionFactory(
        group=group,
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=at,
        started_at=None,
        ends_at=at + datetime.timedelta(minutes=30),
        **kwargs,
    )


def triggers(response) -> dict:
    return json.loads(response.get("HX-Trigger", "{}"))


@pytest.mark.parametrize(
    ("make", "action", "expected"),
    [
        (upcoming, "start", SessionStatus.ACTIVE),
        (upcoming, "cancel", SessionStatus.CANCELLED),
        (lambda group: GroupSessionFactory(group=group), "end", SessionStatus.COMPLETED),
    ],
)
def test_admin_lifecycle_actions_answer_htmx_with_a_toast_and_a_refresh_event(
    roles, htmx_headers, make, action, expected
):
    session = make(roles["group"])
    response = roles["clients"]["admin"].post(url(session, action), **htmx_headers())

    assert response.status_code == 204
    events = triggers(response)
    assert events["toast"]["level"] == "success" and session.title in events["toast"]["text"]
    assert events["sessionsChanged"] == {"id": session.pk}
    session.refresh_from_db()
    assert session.status == expected


def test_delete_from_the_list_removes_the_session_and_refreshes_the_list(roles, htmx_headers):
    session = upcoming(roles["group"])
    response = roles["clients"]["owner"].post(
        url(session, "delete"), **htmx_headers(current_url=f"http://testserver/groups/{roles['group'].id}")
    )
    assert response.status_code == 204
    assert "sessionsChanged" in triggers(response)
    assert not GroupSession.objects.filter(pk=session.pk).exists()


def test_delete_from_the_session_page_goes_back_to_the_tab(roles, htmx_headers):
    session = upcoming(roles["group"])
    detail = f"http://testserver/groups/{roles['group'].id}/sessions/{session.pk}"
    response = roles["clients"]["admin"].post(url(session, "delete"), **htmx_headers(current_url=detail))
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/groups/{roles['group'].id}"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"“{session.title}” was deleted."]


def test_member_cannot_act_on_someone_elses_session(roles, htmx_headers):
    session = upcoming(roles["group"], created_by=roles["admin"])
    member = roles["clients"]["member"]
    for action in ("start", "cancel", "delete"):
        response = member.post(url(session, action), **htmx_headers())
        assert response.status_code == 403
        assert triggers(response)["toast"]["level"] == "error"
        assert response["HX-Reswap"] == "none"
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_the_creator_may_run_their_own_session_but_not_delete_it(roles, htmx_headers):
    session = upcoming(roles["group"], created_by=roles["member"])
    member = roles["clients"]["member"]
    assert member.post(url(session, "start"), **htmx_headers()).status_code == 204
    assert member.post(url(session, "end"), **htmx_headers()).status_code == 204
    assert member.post(url(session, "delete"), **htmx_headers()).status_code == 403
    assert GroupSession.objects.filter(pk=session.pk, status=SessionStatus.COMPLETED).exists()


def test_non_members_get_404_for_every_action(roles, htmx_headers):
    session = upcoming(roles["group"])
    for action in ("start", "end", "cancel", "delete", "edit"):
        assert roles["clients"]["outsider"].post(url(session, action), **htmx_headers()).status_code == 404
        assert roles["clients"]["outsider"].post(url(session, action)).status_code == 404


def test_a_session_of_another_group_is_404_under_this_groups_url(roles):
    foreign = upcoming(roles["other_group"])
    response = roles["clients"]["admin"].post(f"/groups/{roles['group'].id}/sessions/{foreign.pk}/start")
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == SessionStatus.SCHEDULED


def test_an_action_that_no_longer_fits_the_status_is_a_409_with_an_explanation(roles, htmx_headers):
    session = upcoming(roles["group"])
    response = roles["clients"]["admin"].post(url(session, "end"), **htmx_headers())
    assert response.status_code == 409
    assert "cancel it instead" in triggers(response)["toast"]["text"]
    plain = roles["clients"]["admin"].post(url(session, "end"))
    assert plain.status_code == 409
    assert "cancel it instead" in plain.content.decode()


def test_actions_only_accept_post(roles):
    session = upcoming(roles["group"])
    for action in ("start", "end", "cancel", "delete"):
        assert roles["clients"]["admin"].get(url(session, action)).status_code == 405


def test_actions_require_the_csrf_token(roles):
    session = upcoming(roles["group"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(roles["admin"])
    assert client.post(url(session, "start")).status_code == 403
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_without_javascript_an_action_redirects_with_a_message(roles):
    session = upcoming(roles["group"])
    client = roles["clients"]["admin"]
    response = client.post(url(session, "start"))
    assert response.status_code == 302
    assert response["Location"] == f"/groups/{roles['group'].id}/sessions/{session.pk}"
    tab = f"/groups/{roles['group'].id}"
    assert client.post(url(session, "end"), {"next": tab})["Location"] == tab
    other = upcoming(roles["group"])
    assert client.post(url(other, "cancel"), {"next": "https://evil.example/"})["Location"].startswith("/groups/")
