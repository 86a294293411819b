import csv
import datetime
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from groups.models import Membership, Role
from sessions import results
from sessions.models import GroupSession, Participant, SessionStatus, SessionType
from tests.factories import GroupSessionFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

# The factory's snapshot: question i has choices Red/Green/Blue and answer i % 3.
RIGHT = {1: 1, 2: 2, 3: 0}


def finish(session, user, choices: dict[int, int], *, seconds: int = 60, finished_ago: int = 0) -> Participant:
    """A participant who submitted `choices` ({question_id: choice}) `seconds` after joining."""
    completed_at = timezone.now() - datetime.timedelta(seconds=finished_ago)
    answers = [{"question_id": qid, "choice": choice} for qid, choice in choices.items()]
    score = sum(1 for qid, choice in choices.items() if RIGHT[qid] == choice)
    participant = ParticipantFactory(
        session=session, user=user, completed_at=completed_at, answers=answers, score=score, total=3
    )
    Participant.objects.filter(pk=participant.pk).update(joined_at=completed_at - datetime.timedelta(seconds=seconds))
    return participant


def detail_url(session) -> str:
    return f"/groups/{session.group_id}/sessions/{session.pk}"


@pytest.fixture
def played(roles):
    """An open session: member 3/3 in 90 s, other_member 1/3, owner joined without submitting."""
    session = GroupSessionFactory(group=roles["group"], title="Cells", created_by=roles["admin"])
    finish(session, roles["member"], {1: 1, 2: 2, 3: 0}, seconds=90, finished_ago=30)
    # Question 2 is the hard one: other_member picks Red (0) for it, and skips question 3.
    finish(session, roles["other_member"], {1: 1, 2: 0}, seconds=200)
    ParticipantFactory(session=session, user=roles["owner"])
    return session


def complete(session):
    GroupSession.objects.filter(pk=session.pk).update(status=SessionStatus.COMPLETED, ended_at=timezone.now())


# --- Everyone -------------------------------------------------------------------------------------------


def test_the_page_shows_the_join_link_with_a_copy_button_and_a_server_drawn_qr_code(roles, played):
    html = roles["clients"]["member"].get(detail_url(played)).content.decode()
    join = f"http://testserver/questions/{played.share_token}?groupId={played.group_id}&amp;sessionId={played.pk}"
    assert f'value="{join}"' in html
    assert f'data-copy="{join}"' in html
    assert re.search(r'<svg role="img" viewBox="[^"]+" class="qr-svg"><title>QR code to join “Cells”</title>', html)


def test_the_page_shows_status_and_a_countdown_to_the_next_change(roles, played):
    html = roles["clients"]["member"].get(detail_url(played)).content.decode()
    assert 'data-status="active"' in html
    assert "Closes in" in html
    assert f'data-countdown-to="{played.ends_at.isoformat()}"' in html


def test_a_scheduled_session_says_when_it_opens(roles):
    at = timezone.now() + datetime.timedelta(minutes=10)
    session = GroupSessionFactory(
        group=roles["group"],
        session_type=SessionType.SCHEDULED,
        status=SessionStatus.SCHEDULED,
        scheduled_at=at,
        started_at=None,
        ends_at=None,
    )
    html = roles["clients"]["member"].get(detail_url(session)).content.decode()
    assert "Opens in" in html and "in 10 min" in html
    assert f'data-due-at="{at.isoformat()}"' in html
    assert "opens by itself" in html


def test_non_members_and_other_groups_get_404(roles, played):
    assert roles["clients"]["outsider"].get(detail_url(played)).status_code == 404
    assert roles["clients"]["admin"].get(f"/groups/{roles['other_group'].id}/sessions/{played.pk}").status_code == 404
    assert roles["clients"]["admin"].get(f"/groups/{roles['group'].id}/sessions/999999").status_code == 404


# --- Managers -------------------------------------------------------------------------------------------


def test_managers_see_every_participant_with_score_and_time_taken(roles, played):
    html = roles["clients"]["owner"].get(detail_url(played)).content.decode()
    table = html[html.index('id="participants-table"') : html.index("</table>", html.index('id="participants-table"'))]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    assert len(rows) == 3
    assert "mia_member" in rows[0] and "3/3" in rows[0] and "1 min 30 s" in rows[0]
    assert "otto_member" in rows[1] and "1/3" in rows[1] and "3 min 20 s" in rows[1]
    assert "olivia_owner" in rows[2] and "still answering" in rows[2]


def test_the_leaderboard_ranks_best_score_first(roles, played):
    html = roles["clients"]["admin"].get(detail_url(played)).content.decode()
    board = html[html.index('aria-label="Leaderboard, best first"') :]
    board = board[: board.index("</ol>")]
    assert board.index("mia_member") < board.index("otto_member")
    assert 'aria-label="Rank 1"' in board and 'aria-label="Rank 2"' in board
    assert "olivia_owner" not in board


def test_question_stats_put_the_hardest_question_first(roles, played):
    html = roles["clients"]["admin"].get(detail_url(played)).content.decode()
    stats = html[html.index('id="question-stats"') :]
    stats = stats[: stats.index("</ul>\n</section>")]
    order = [int(n) for n in re.findall(r"Q(\d+)\.", stats)]
    # Q2: 1 of 2 right (50%), Q3: 1 of 2 (the skip counts as wrong), Q1: 2 of 2.
    assert order == [2, 3, 1]
    assert "50% right" in stats and "100% right" in stats
    assert "most picked wrong answer: “Red” (1)" in stats


def test_the_creator_who_is_a_member_sees_all_results(roles):
    session = GroupSessionFactory(group=roles["group"], created_by=roles["member"])
    finish(session, roles["other_member"], {1: 1})
    html = roles["clients"]["member"].get(detail_url(session)).content.decode()
    assert 'id="participants-table"' in html and "otto_member" in html
    assert "/export/participants.csv" in html


def test_managers_get_the_actions_and_export_links(roles, played):
    html = roles["clients"]["admin"].get(detail_url(played)).content.decode()
    assert f"/sessions/{played.pk}/end" in html and f"/sessions/{played.pk}/delete" in html
    assert f"/sessions/{played.pk}/export/participants.csv" in html
    assert f"/sessions/{played.pk}/export/questions.csv" in html


# --- Members --------------------------------------------------------------------------------------------


def test_a_member_sees_their_own_result_and_rank_but_nobody_elses_while_open(roles, played):
    html = roles["clients"]["other_member"].get(detail_url(played)).content.decode()
    assert '<div class="display-6 fw-semibold" id="my-score">1/3</div>' in html
    assert '<div class="fs-3 fw-semibold" id="my-rank">#2</div>' in html
    assert "of 2 who finished" in html
    assert "mia_member" not in html
    assert 'id="participants-table"' not in html and "export" not in html
    assert "The leaderboard appears here when the session is over." in html


def test_a_member_sees_no_admin_actions(roles, played):
    html = roles["clients"]["other_member"].get(detail_url(played)).content.decode()
    for action in ("start", "end", "cancel", "edit", "delete"):
        assert f"/sessions/{played.pk}/{action}" not in html


def test_a_member_sees_the_leaderboard_once_the_session_is_over(roles, played):
    complete(played)
    html = roles["clients"]["other_member"].get(detail_url(played)).content.decode()
    board = html[html.index('aria-label="Leaderboard, best first"') :]
    assert board.index("mia_member") < board.index("otto_member")
    assert 'id="participants-table"' not in html


def test_a_member_who_has_not_joined_is_invited_to_take_the_quiz(roles):
    session = GroupSessionFactory(group=roles["group"])
    html = roles["clients"]["member"].get(detail_url(session)).content.decode()
    assert "Take the quiz" in html
    assert f'href="/questions/{session.share_token}?groupId={session.group_id}&amp;sessionId={session.pk}"' in html


def test_equal_scores_share_a_rank(roles):
    session = GroupSessionFactory(group=roles["group"])
    finish(session, roles["member"], {1: 1, 2: 2})
    finish(session, roles["other_member"], {1: 1, 3: 0})
    finish(session, roles["owner"], {1: 0})
    standing = results.member_standing(session=session, user=roles["other_member"])
    assert standing.result.rank == 1
    assert [entry.rank for entry in results.leaderboard(session=session)] == [1, 1, 3]
    assert results.member_standing(session=session, user=roles["owner"]).result.rank == 3
    assert results.member_standing(session=session, user=roles["admin"]).result is None


# --- Live refresh ---------------------------------------------------------------------------------------


def live_trigger(html: str) -> str:
    return re.search(r'<div id="session-live"[^>]*hx-trigger="([^"]*)"', html, re.S).group(1)


def test_the_results_refresh_themselves_while_the_session_is_open_and_stop_after(roles, played, htmx_headers):
    client = roles["clients"]["admin"]
    assert "every 5s" in live_trigger(client.get(detail_url(played)).content.decode())
    fragment = client.get(detail_url(played), **htmx_headers("session-live")).content.decode()
    assert fragment.strip().startswith('<div id="session-live"')
    assert "<html" not in fragment and "<svg" not in fragment
    complete(played)
    assert "every" not in live_trigger(client.get(detail_url(played), **htmx_headers("session-live")).content.decode())


def test_the_live_region_is_announced_politely(roles, played):
    html = roles["clients"]["member"].get(detail_url(played)).content.decode()
    assert re.search(r'id="session-live-region"[^>]*aria-live="polite"', html)


# --- Exports --------------------------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def test_participants_csv_has_one_row_per_participant_in_rank_order(roles, played):
    response = roles["clients"]["admin"].get(f"{detail_url(played)}/export/participants.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="session-{played.pk}-participants.csv"'
    rows = read_csv(response)
    assert [(r["rank"], r["username"], r["score"], r["total"], r["percent"]) for r in rows] == [
        ("1", "mia_member", "3", "3", "100"),
        ("2", "otto_member", "1", "3", "33"),
        ("", "olivia_owner", "", "", ""),
    ]
    assert rows[0]["time_taken_seconds"] == "90" and rows[1]["time_taken_seconds"] == "200"
    assert datetime.datetime.fromisoformat(rows[0]["completed_at"]).tzinfo is not None
    assert rows[2]["completed_at"] == ""


def test_questions_csv_lists_questions_hardest_first(roles, played):
    rows = read_csv(roles["clients"]["admin"].get(f"{detail_url(played)}/export/questions.csv"))
    assert [r["question"] for r in rows] == ["2", "3", "1"]
    assert rows[0] == {
        "hardest_rank": "1",
        "question": "2",
        "prompt": "Snapshot question 2?",
        "correct_answer": "Blue",
        "finished": "2",
        "answered": "2",
        "correct": "1",
        "correct_percent": "50",
        "most_chosen_wrong_answer": "Red",
        "most_chosen_wrong_count": "1",
    }
    assert rows[1]["answered"] == "1" and rows[1]["correct_percent"] == "50"


def test_csv_cells_that_look_like_formulas_stay_text(roles):
    sly = get_user_model().objects.create(username="=cmd|calc")
    Membership.objects.create(group=roles["group"], user=sly, role=Role.MEMBER)
    session = GroupSessionFactory(group=roles["group"])
    finish(session, sly, {1: 1})
    rows = read_csv(roles["clients"]["admin"].get(f"{detail_url(session)}/export/participants.csv"))
    assert rows[0]["username"] == "'=cmd|calc"


def test_exports_are_for_managers_and_the_creator_only(roles, played):
    for kind in ("participants", "questions"):
        path = f"{detail_url(played)}/export/{kind}.csv"
        assert roles["clients"]["member"].get(path).status_code == 403
        assert roles["clients"]["outsider"].get(path).status_code == 404


def test_the_qr_code_downloads_as_an_svg_file(roles, played):
    response = roles["clients"]["member"].get(f"{detail_url(played)}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<?xml") and b"<svg" in response.content
    assert roles["clients"]["outsider"].get(f"{detail_url(played)}/qr.svg").status_code == 404


# --- Cost ---------------------------------------------------------------------------------------------


def session_with_participants(count: int, *, admin, group) -> GroupSession:
    session = GroupSessionFactory(group=group, created_by=admin)
    users = get_user_model().objects.bulk_create(get_user_model()(username=f"s{session.pk}-u{i}") for i in range(count))
    now = timezone.now()
    Participant.objects.bulk_create(
        Participant(
            session=session,
            user=user,
            completed_at=now if i % 4 else None,
            answers=[{"question_id": 1 + i % 3, "choice": i % 3}] if i % 4 else None,
            score=(i % 2) if i % 4 else None,
            total=3 if i % 4 else None,
        )
        for i, user in enumerate(users)
    )
    Membership.objects.bulk_create(Membership(group=group, user=user) for user in users[:1])
    return session


def count_queries(client, url, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **headers).status_code == 200
    return len(queries)


@pytest.mark.parametrize("viewer", ["manager", "member"])
def test_results_page_costs_the_same_queries_for_1_or_500_participants(
    make_group_with_admin, django_assert_max_num_queries, viewer
):
    small_group, small_admin = make_group_with_admin("Small")
    big_group, big_admin = make_group_with_admin("Big")
    small = session_with_participants(1, admin=small_admin, group=small_group)
    big = session_with_participants(500, admin=big_admin, group=big_group)
    for session in (small, big):
        complete(session)

    def client_for(group, admin, session):
        client = Client()
        if viewer == "manager":
            client.force_login(admin)
        else:
            member = Membership.objects.filter(group=group, role=Role.MEMBER).first().user
            client.force_login(member)
        return client

    small_client = client_for(small_group, small_admin, small)
    big_client = client_for(big_group, big_admin, big)
    baseline = count_queries(small_client, detail_url(small))
    with django_assert_max_num_queries(baseline):
        big_client.get(detail_url(big))
    with django_assert_max_num_queries(baseline):
        big_client.get(detail_url(big), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="session-live")
    if viewer == "manager":
        with django_assert_max_num_queries(baseline):
            read_csv(big_client.get(f"{detail_url(big)}/export/participants.csv"))
