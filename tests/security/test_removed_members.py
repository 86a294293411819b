"""A member who is removed (or leaves) loses access at once, on every page and endpoint, while the results
they already handed in stay in the session's record for the people who run it."""

import pytest

from sessions.models import Participant

from .conftest import api_client, page_client


def _submit_all_right(world, role):
    session = world["session"]
    answers = [{"question_id": q["id"], "choice": q["answer"]} for q in session.questions_data]
    url = session.join_url.replace("/questions/", "/api/questions/", 1).replace("?", "/submit?")
    return api_client(world, role).post(url, {"answers": answers}, format="json")


def _everything_of_the_group(world) -> dict[str, tuple[str, str]]:
    group, session = world["group"], world["session"]
    api_quiz = session.join_url.replace("/questions/", "/api/questions/", 1)
    return {
        "api sessions": ("api", f"/api/groups/{group.pk}/sessions"),
        "api session": ("api", f"/api/groups/{group.pk}/sessions/{session.pk}"),
        "api quiz": ("api", api_quiz),
        "api submit": ("api post", api_quiz.replace("?", "/submit?")),
        "sessions tab": ("page", f"/groups/{group.pk}"),
        "members": ("page", f"/groups/{group.pk}/members"),
        "session page": ("page", f"/groups/{group.pk}/sessions/{session.pk}"),
        "qr code": ("page", f"/groups/{group.pk}/sessions/{session.pk}/qr.svg"),
        "quiz page": ("page", session.join_url),
    }


def _statuses(world, role) -> dict[str, int]:
    api, page = api_client(world, role), page_client(world, role)
    got = {}
    for name, (kind, url) in _everything_of_the_group(world).items():
        if kind == "api":
            got[name] = api.get(url).status_code
        elif kind == "api post":
            got[name] = api.post(url, {"answers": []}, format="json").status_code
        else:
            got[name] = page.get(url).status_code
    return got


@pytest.mark.parametrize("how", ["removed by the API", "removed on the members page", "left by themselves"])
def test_a_removed_member_loses_access_at_once_but_their_result_stays(world, how):
    assert _submit_all_right(world, "member").status_code == 200
    group, member = world["group"], world["member"]

    if how == "removed by the API":
        response = api_client(world, "admin").delete(f"/api/groups/{group.pk}/members/{member.pk}")
        assert response.status_code == 204
    elif how == "removed on the members page":
        response = page_client(world, "owner").post(f"/groups/{group.pk}/members/{member.pk}/remove")
        assert response.status_code == 302
    else:
        response = page_client(world, "member").post(f"/groups/{group.pk}/members/{member.pk}/remove")
        assert response.url == "/groups/"

    got = _statuses(world, "member")
    assert got == dict.fromkeys(got, 404)
    assert group.name not in api_client(world, "member").get("/api/user/groups").content.decode()

    # The record keeps what they handed in, for those who run the session.
    participant = Participant.objects.get(session=world["session"], user=member)
    assert (participant.score, participant.total) == (3, 3)
    detail = api_client(world, "owner").get(f"/api/groups/{group.pk}/sessions/{world['session'].pk}").json()
    rows = {row["user"]["username"]: row["score"] for row in detail["participants"]}
    assert rows[member.username] == 3
    assert detail["completed_count"] == 1
    export = page_client(world, "creator").get(
        f"/groups/{group.pk}/sessions/{world['session'].pk}/export/participants.csv"
    )
    assert member.username in b"".join(export.streaming_content).decode()
    page = page_client(world, "owner").get(f"/groups/{group.pk}/sessions/{world['session'].pk}")
    assert member.username in page.content.decode()


def test_a_removed_member_who_is_invited_back_sees_the_group_again(world):
    group, member = world["group"], world["member"]
    api_client(world, "owner").delete(f"/api/groups/{group.pk}/members/{member.pk}")
    assert api_client(world, "member").get(f"/api/groups/{group.pk}/sessions").status_code == 404

    page_client(world, "member").post(f"/groups/join/{group.invite_token}")

    assert api_client(world, "member").get(f"/api/groups/{group.pk}/sessions").status_code == 200
