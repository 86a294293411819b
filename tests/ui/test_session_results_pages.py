"""The results page lists participants a page at a time; ranks and the CSV export still cover everyone."""

import csv
import datetime
import io
import re

import pytest
from django.utils import timezone

from sessions import views
from tests.factories import GroupSessionFactory, MembershipFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_finished(roles, monkeypatch):
    """Five participants who scored 5, 4, 3, 2, 1, shown two to a page."""
    monkeypatch.setattr(views, "PARTICIPANTS_PAGE_SIZE", 2)
    session = GroupSessionFactory(group=roles["group"], created_by=roles["owner"])
    now = timezone.now()
    for score in (5, 4, 3, 2, 1):
        user = UserFactory(username=f"scorer_{score}")
        MembershipFactory(group=roles["group"], user=user)
        ParticipantFactory(
            session=session, user=user, completed_at=now - datetime.timedelta(minutes=score), score=score, total=5
        )
    return session


def participant_rows(html: str) -> list[str]:
    table = html[html.index('id="participants-table"') :]
    table = table[: table.index("</table>")]
    return re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)


def test_managers_see_participants_a_page_at_a_time_ranked_over_everyone(roles, five_finished):
    url = f"/groups/{five_finished.group_id}/sessions/{five_finished.pk}"
    first = roles["clients"]["owner"].get(url).content.decode()
    second = roles["clients"]["owner"].get(f"{url}?page=2").content.decode()
    last = roles["clients"]["owner"].get(f"{url}?page=3").content.decode()

    assert [("scorer_5" in row, "scorer_4" in row) for row in participant_rows(first)] == [(True, False), (False, True)]
    second_rows = participant_rows(second)
    assert "scorer_3" in second_rows[0] and re.search(r">\s*3\s*</td>", second_rows[0])
    assert len(participant_rows(last)) == 1 and "scorer_1" in participant_rows(last)[0]
    assert "3–4 of 5" in second
    assert f'href="{url}?page=1"' in second and f'href="{url}?page=3"' in second


def test_the_live_refresh_stays_on_the_page_the_manager_is_reading(roles, five_finished):
    url = f"/groups/{five_finished.group_id}/sessions/{five_finished.pk}"
    html = roles["clients"]["owner"].get(f"{url}?page=2").content.decode()
    assert f'hx-get="{url}?page=2"' in html


def test_a_page_number_out_of_range_shows_the_last_page(roles, five_finished):
    url = f"/groups/{five_finished.group_id}/sessions/{five_finished.pk}"
    response = roles["clients"]["owner"].get(f"{url}?page=99")
    assert response.status_code == 200
    assert "scorer_1" in participant_rows(response.content.decode())[0]


def test_the_leaderboard_and_the_csv_export_still_cover_everyone(roles, five_finished):
    url = f"/groups/{five_finished.group_id}/sessions/{five_finished.pk}"
    html = roles["clients"]["owner"].get(f"{url}?page=3").content.decode()
    board = html[html.index('aria-label="Leaderboard, best first"') :]
    assert board.index("scorer_5") < board.index("scorer_1")

    body = b"".join(roles["clients"]["owner"].get(f"{url}/export/participants.csv").streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [(row["rank"], row["username"]) for row in rows] == [
        ("1", "scorer_5"),
        ("2", "scorer_4"),
        ("3", "scorer_3"),
        ("4", "scorer_2"),
        ("5", "scorer_1"),
    ]
