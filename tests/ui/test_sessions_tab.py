import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions.models import GroupSession, SessionStatus, SessionType
from sessions.views import PAGE_SIZE, relative_time
from tests.factories import GroupSessionFactory, ParticipantFactory, snapshot_questions

pytestmark = pytest.mark.django_db


def tab_url(group) -> str:
    return f"/groups/{group.id}"


def scheduled(group, *, in_minutes: float, **kwargs) -> GroupSession:
    at = timezone.now() + datetime.timedelta(minutes=in_minutes)
    return GroupSessionFactory(
        group=group,
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=at,
        started_at=None,
        ends_at=at + datetime.timedelta(minutes=30),
        **kwargs,
    )


def completed(group, **kwargs) -> GroupSession:
    started = timezone.now() - datetime.timedelta(hours=2)
    return GroupSessionFactory(
        group=group,
        status=SessionStatus.COMPLETED,
        started_at=started,
        ends_at=started + datetime.timedelta(minutes=30),
        ended_at=started + datetime.timedelta(minutes=30),
        **kwargs,
    )


def cancelled(group, **kwargs) -> GroupSession:
    session = scheduled(group, in_minutes=120, **kwargs)
    session.status = SessionStatus.CANCELLED
    session.save(update_fields=["status"])
    return session


def row_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'id="session-row-(\d+)"', response.content.decode())]


# --- Access -------------------------------------------------------------------------------------------


def test_signed_out_visitor_is_sent_to_sign_in(client, group_with_roles):
    response = client.get(tab_url(group_with_roles["group"]))
    assert response.status_code == 302
    assert "/login" in response["Location"] or "login" in response["Location"]


def test_non_member_gets_404_for_the_tab_and_its_fragment(roles, htmx_headers):
    outsider = roles["clients"]["outsider"]
    assert outsider.get(tab_url(roles["group"])).status_code == 404
    assert outsider.get(tab_url(roles["group"]), **htmx_headers("session-list")).status_code == 404


def test_unknown_group_is_404(roles):
    assert roles["clients"]["owner"].get("/groups/999999").status_code == 404


# --- What the list shows -------------------------------------------------------------------------------


def test_members_see_the_groups_sessions_with_status_times_counts_and_creator(roles):
    group = roles["group"]
    active = GroupSessionFactory(group=group, title="Cell biology", created_by=roles["admin"])
    ParticipantFactory(session=active, user=roles["member"])
    ParticipantFactory(
        session=active, user=roles["other_member"], completed_at=timezone.now(), score=2, total=3, answers=[]
    )
    upcoming = scheduled(group, in_minutes=5, title="Genetics quiz", created_by=roles["owner"])
    GroupSessionFactory(group=roles["other_group"], title="Chemistry secret")

    response = roles["clients"]["member"].get(tab_url(group))

    assert response.status_code == 200
    page = response.content.decode()
    assert row_ids(response) == [upcoming.pk, active.pk]
    assert "Chemistry secret" not in page
    row = page[page.index(f'id="session-row-{active.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Cell biology" in row and "adam_admin" in row
    assert 'data-status="active"' in row
    assert '<span data-count="joined">2</span>' in row
    assert '<span data-count="finished">1</span>' in row
    assert "Closes" in row and "in 30 min" in row
    upcoming_row = page[page.index(f'id="session-row-{upcoming.pk}"') :]
    assert "Opens" in upcoming_row[: upcoming_row.index("</tr>")]
    assert "in 5 min" in upcoming_row[: upcoming_row.index("</tr>")]


def test_direct_load_is_the_full_group_page_and_htmx_gets_only_the_list(roles, htmx_headers):
    GroupSessionFactory(group=roles["group"])
    client = roles["clients"]["member"]

    full = client.get(tab_url(roles["group"])).content.decode()
    fragment = client.get(tab_url(roles["group"]), **htmx_headers("session-list")).content.decode()

    assert "<html" in full and 'id="session-filters"' in full and "Members" in full
    assert "<html" not in fragment and 'id="session-filters"' not in fragment
    assert fragment.strip().startswith('<div id="session-list"')


def test_an_htmx_request_aimed_elsewhere_and_a_history_restore_get_the_full_page(roles, htmx_headers):
    client = roles["clients"]["member"]
    assert "<html" in client.get(tab_url(roles["group"]), **htmx_headers("main")).content.decode()
    restore = client.get(
        tab_url(roles["group"]), **htmx_headers("session-list"), HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in restore.content.decode()


def test_the_page_varies_on_htmx_headers(roles):
    response = roles["clients"]["member"].get(tab_url(roles["group"]))
    assert "HX-Request" in response["Vary"] and "HX-Target" in response["Vary"]


def test_times_are_shown_in_the_browsers_timezone(roles):
    at = datetime.datetime(2031, 3, 4, 18, 30, tzinfo=datetime.UTC)
    GroupSessionFactory(
        group=roles["group"],
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=at,
        started_at=None,
        ends_at=None,
    )
    page = roles["clients"]["member"].get(tab_url(roles["group"]), HTTP_X_TIMEZONE="Asia/Tokyo").content.decode()
    # 18:30 UTC is 03:30 the next morning in Tokyo.
    assert "Wed 5 Mar, 03:30" in page
    assert 'datetime="2031-03-05T03:30:00+09:00"' in page


# --- Filters and pages ---------------------------------------------------------------------------------


@pytest.fixture
def one_of_each(roles):
    group = roles["group"]
    return {
        "active": GroupSessionFactory(group=group, title="Open now", created_by=roles["member"]),
        "upcoming": scheduled(group, in_minutes=90, title="Later today", created_by=roles["admin"]),
        "past": completed(group, title="Last week", created_by=roles["admin"]),
        "cancelled": cancelled(group, title="Called off", created_by=roles["owner"]),
        # Scheduled for a time that has passed, never persisted as active: it is active.
        "due": GroupSession.objects.create(
            group=group,
            title="Due by the clock",
            session_type=SessionType.SCHEDULED,
            status=SessionStatus.SCHEDULED,
            scheduled_at=timezone.now() - datetime.timedelta(minutes=1),
            questions_data=snapshot_questions(),
            created_by=roles["owner"],
        ),
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("upcoming", ["upcoming"]),
        ("active", ["due", "active"]),
        ("past", ["past"]),
        ("cancelled", ["cancelled"]),
        ("all", ["due", "cancelled", "past", "upcoming", "active"]),
        ("nonsense", ["due", "cancelled", "past", "upcoming", "active"]),
    ],
)
def test_status_filter_uses_the_true_status(roles, one_of_each, status, expected):
    response = roles["clients"]["member"].get(tab_url(roles["group"]), {"status": status})
    assert row_ids(response) == [one_of_each[name].pk for name in expected]


def test_type_mine_and_search_filters_combine(roles, one_of_each):
    client = roles["clients"]["member"]
    group = roles["group"]
    assert set(row_ids(client.get(tab_url(group), {"type": "scheduled"}))) == {
        one_of_each[n].pk for n in ("upcoming", "cancelled", "due")
    }
    assert row_ids(client.get(tab_url(group), {"mine": "on"})) == [one_of_each["active"].pk]
    assert row_ids(client.get(tab_url(group), {"q": "LATER"})) == [one_of_each["upcoming"].pk]
    assert row_ids(client.get(tab_url(group), {"q": "a", "type": "instant", "status": "past"})) == [
        one_of_each["past"].pk
    ]


def test_filtered_list_with_no_match_says_so_and_offers_to_clear(roles, one_of_each):
    page = roles["clients"]["member"].get(tab_url(roles["group"]), {"q": "zzz-nothing"}).content.decode()
    assert "No sessions match these filters." in page
    assert f'href="/groups/{roles["group"].id}">Show all sessions' in page


def test_filter_form_keeps_its_state_from_the_url(roles):
    page = roles["clients"]["member"].get(tab_url(roles["group"]), {"status": "past", "q": "bio", "mine": "on"})
    html = page.content.decode()
    assert '<option value="past" selected>' in html
    assert 'value="bio"' in html
    assert re.search(r'name="mine"[^>]*checked', html)


def test_filtering_pushes_a_tidy_url_to_the_address_bar(roles, one_of_each):
    response = roles["clients"]["member"].get(
        tab_url(roles["group"]),
        {"status": "all", "type": "", "q": "Later"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="session-list",
        HTTP_HX_TRIGGER="session-filters",
    )
    assert response["HX-Push-Url"] == f"/groups/{roles['group'].id}?q=Later"
    polled = roles["clients"]["member"].get(
        tab_url(roles["group"]), {"q": "Later"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="session-list"
    )
    assert "HX-Push-Url" not in polled


def test_pages_hold_twenty_sessions_and_page_links_keep_the_filters(roles):
    group = roles["group"]
    GroupSession.objects.bulk_create(
        GroupSession(
            group=group,
            title=f"Quiz {i:02d}",
            session_type=SessionType.INSTANT,
            status=SessionStatus.COMPLETED,
            started_at=timezone.now(),
            questions_data=snapshot_questions(),
            created_by=roles["owner"],
        )
        for i in range(45)
    )
    client = roles["clients"]["member"]

    first = client.get(tab_url(group), {"status": "past", "q": "Quiz"})
    third = client.get(tab_url(group), {"status": "past", "q": "Quiz", "page": 3})

    assert len(row_ids(first)) == PAGE_SIZE
    assert len(row_ids(third)) == 45 - 2 * PAGE_SIZE
    html = first.content.decode()
    assert f'href="/groups/{group.id}?status=past&amp;q=Quiz&amp;page=2"' in html
    assert "Page 1 of 3" in html
    # The list refreshes itself at the same URL it shows.
    assert f'hx-get="/groups/{group.id}?status=past&amp;q=Quiz&amp;page=3"' in third.content.decode()
    assert len(row_ids(client.get(tab_url(group), {"page": "999"}))) == 45 - 2 * PAGE_SIZE


# --- Live refresh ---------------------------------------------------------------------------------------


def list_trigger(response) -> str:
    return re.search(r'<div id="session-list"[^>]*hx-trigger="([^"]*)"', response.content.decode(), re.S).group(1)


def test_list_polls_while_a_visible_session_is_active(roles):
    GroupSessionFactory(group=roles["group"])
    trigger = list_trigger(roles["clients"]["member"].get(tab_url(roles["group"])))
    assert "every 5s" in trigger
    assert "sessionsChanged from:body" in trigger


def test_list_polls_when_a_scheduled_session_is_about_to_open(roles):
    scheduled(roles["group"], in_minutes=0.5)
    assert "every 5s" in list_trigger(roles["clients"]["member"].get(tab_url(roles["group"])))


def test_list_does_not_poll_when_nothing_is_live(roles):
    completed(roles["group"])
    cancelled(roles["group"])
    scheduled(roles["group"], in_minutes=60)
    trigger = list_trigger(roles["clients"]["member"].get(tab_url(roles["group"])))
    assert "every" not in trigger
    # It still refreshes when one of its countdowns passes or an action changes something.
    assert "sessionsDue from:body" in trigger and "sessionsChanged from:body" in trigger


def test_list_stops_polling_when_the_live_session_is_filtered_away(roles):
    GroupSessionFactory(group=roles["group"])
    completed(roles["group"])
    response = roles["clients"]["member"].get(tab_url(roles["group"]), {"status": "past"})
    assert "every" not in list_trigger(response)


def test_list_region_announces_changes_politely(roles):
    html = roles["clients"]["member"].get(tab_url(roles["group"])).content.decode()
    assert re.search(r'id="session-list-region"[^>]*aria-live="polite"', html)


# --- Actions by role ------------------------------------------------------------------------------------


def actions_of(response, session) -> str:
    html = response.content.decode()
    row = html[html.index(f'id="session-row-{session.pk}"') :]
    return row[: row.index("</tr>")]


def test_member_sees_only_the_copy_link_on_someone_elses_session(roles):
    session = scheduled(roles["group"], in_minutes=30, created_by=roles["admin"])
    row = actions_of(roles["clients"]["member"].get(tab_url(roles["group"])), session)
    assert "data-copy=" in row
    for action in ("start", "end", "cancel", "edit", "delete"):
        assert f"/sessions/{session.pk}/{action}" not in row


def test_admin_sees_the_actions_that_fit_each_status(roles):
    upcoming = scheduled(roles["group"], in_minutes=30)
    active = GroupSessionFactory(group=roles["group"])
    past = completed(roles["group"])
    response = roles["clients"]["admin"].get(tab_url(roles["group"]))

    upcoming_row = actions_of(response, upcoming)
    assert all(f"/{a}" in upcoming_row for a in ("start", "cancel", "edit", "delete"))
    assert "/end" not in upcoming_row
    active_row = actions_of(response, active)
    assert all(f"/{a}" in active_row for a in ("end", "edit", "delete"))
    assert "/start" not in active_row and "/cancel" not in active_row
    past_row = actions_of(response, past)
    assert "/delete" in past_row
    assert not any(f"/{a}" in past_row for a in ("start", "end", "cancel", "edit"))
    assert "data-copy=" not in past_row


def test_the_creator_who_is_a_member_manages_their_own_session_but_cannot_delete_it(roles):
    own = scheduled(roles["group"], in_minutes=30, created_by=roles["member"])
    row = actions_of(roles["clients"]["member"].get(tab_url(roles["group"])), own)
    assert all(f"/{a}" in row for a in ("start", "cancel", "edit"))
    assert "/delete" not in row


def test_destructive_actions_ask_for_confirmation(roles):
    session = scheduled(roles["group"], in_minutes=30)
    row = actions_of(roles["clients"]["admin"].get(tab_url(roles["group"])), session)
    for action in ("cancel", "delete"):
        button = re.search(rf'<button[^>]*/{action}"[^>]*>', row, re.S).group(0)
        assert "hx-confirm=" in button


def test_new_session_button_follows_the_group_setting(roles):
    group = roles["group"]
    assert 'id="new-session-button"' in roles["clients"]["member"].get(tab_url(group)).content.decode()
    group.members_can_create_sessions = False
    group.save(update_fields=["members_can_create_sessions"])
    assert 'id="new-session-button"' not in roles["clients"]["member"].get(tab_url(group)).content.decode()
    assert 'id="new-session-button"' in roles["clients"]["admin"].get(tab_url(group)).content.decode()


def test_empty_state_tells_each_role_what_to_do_next(roles):
    group = roles["group"]
    group.members_can_create_sessions = False
    group.save(update_fields=["members_can_create_sessions"])
    admin_page = roles["clients"]["admin"].get(tab_url(group)).content.decode()
    member_page = roles["clients"]["member"].get(tab_url(group)).content.decode()
    assert "No sessions yet." in admin_page and "Create the first session" in admin_page
    assert "No sessions yet." in member_page and "When an owner or admin starts a session" in member_page


# --- Cost ---------------------------------------------------------------------------------------------


def make_sessions(group, creator, count: int) -> None:
    now = timezone.now()
    GroupSession.objects.bulk_create(
        GroupSession(
            group=group,
            title=f"Session {i}",
            session_type=SessionType.INSTANT,
            status=SessionStatus.ACTIVE,
            started_at=now,
            questions_data=snapshot_questions(),
            created_by=creator,
        )
        for i in range(count)
    )


def count_queries(client, url, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **headers).status_code == 200
    return len(queries)


def test_tab_costs_the_same_queries_for_1_or_500_sessions(roles, make_group_with_admin, django_assert_max_num_queries):
    from django.test import Client

    small, small_admin = make_group_with_admin("Small")
    big, big_admin = make_group_with_admin("Big")
    make_sessions(small, small_admin, 1)
    make_sessions(big, big_admin, 500)
    # Participants on many sessions, each creator a different user: nothing may be loaded per row.
    users = get_user_model().objects.bulk_create(get_user_model()(username=f"p{i}") for i in range(30))
    for session, participant in zip(GroupSession.objects.filter(group=big)[:30], users, strict=True):
        ParticipantFactory(session=session, user=participant)

    small_client, big_client = Client(), Client()
    small_client.force_login(small_admin)
    big_client.force_login(big_admin)
    baseline = count_queries(small_client, tab_url(small))

    with django_assert_max_num_queries(baseline):
        big_client.get(tab_url(big))
    with django_assert_max_num_queries(baseline):
        big_client.get(
            tab_url(big), {"page": 7, "status": "active"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="session-list"
        )


# --- Wording -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (10, "in less than a minute"),
        (-10, "just now"),
        (5 * 60, "in 5 min"),
        (-90 * 60, "2 h ago"),
        (3 * 3600, "in 3 h"),
        (3 * 86400, "in 3 days"),
        (-86400 * 2, "2 days ago"),
    ],
)
def test_relative_time_wording(seconds, text):
    now = timezone.now()
    assert relative_time(now + datetime.timedelta(seconds=seconds), now) == text
