"""Races against real PostgreSQL: many requests for the same session at the same moment.

Requests run in threads, each with its own database connection (closed when the thread's call ends), and
the transactions really commit (`transaction=True`), so row locks, unique constraints and conditional
updates are what keep the outcome straight. The after-commit hooks (emails, timers) run for real too.

One member submitting 20 times at once through the API, end-versus-end and start-versus-cancel are in
tests/sessions/test_concurrency.py; these add the crowd, the page form, and end/edit/delete racing.
"""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from groups.models import Membership, Role
from sessions.models import GroupSession, Participant, ParticipantRound
from tests.security.clients import browser_client, extension_client
from tests.sessions.helpers import active_session, quiz_api_url, right_answers, wrong_answers

pytestmark = pytest.mark.django_db(transaction=True)

# Every thread holds a PostgreSQL connection while it works, and the server is shared: 20 at a time.
CONNECTIONS = 20


def all_at_once(calls, *, workers: int = CONNECTIONS):
    """Start every call as soon as a connection is free, all released by the same signal."""
    go = threading.Event()

    def run(call):
        go.wait(timeout=30)
        try:
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=min(workers, len(calls))) as pool:
        futures = [pool.submit(run, call) for call in calls]
        go.set()
        return [future.result() for future in futures]


def status_of(send):
    def call():
        return send().status_code

    return call


@pytest.fixture
def crowd(group_with_roles):
    """200 members of the group, each with an API token."""
    group = group_with_roles["group"]
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"crowd{number:03d}", password="!") for number in range(200)
    )
    Membership.objects.bulk_create(Membership(group=group, user=user, role=Role.MEMBER) for user in users)
    return users


def test_two_hundred_members_submitting_at_once_leave_two_hundred_results(group_with_roles, crowd):
    group = group_with_roles["group"]
    session = active_session(group=group, created_by=group_with_roles["owner"], duration_minutes=None, ends_at=None)
    url = quiz_api_url(session, submit=True)
    clients = [extension_client(user) for user in crowd]
    answers = [right_answers(session) if n % 2 else wrong_answers(session) for n in range(len(crowd))]

    statuses = all_at_once(
        [
            status_of(lambda c=c, a=a: c.post(url, {"answers": a}, format="json"))
            for c, a in zip(clients, answers, strict=True)
        ]
    )

    assert Counter(statuses) == {200: 200}
    finished = Participant.objects.filter(session=session, completed_at__isnull=False)
    assert finished.count() == 200
    assert Counter(finished.values_list("score", flat=True)) == {3: 100, 0: 100}
    assert ParticipantRound.objects.filter(participant__session=session).count() == 200
    detail = extension_client(group_with_roles["owner"]).get(f"/api/groups/{group.pk}/sessions/{session.pk}").json()
    assert (detail["participant_count"], detail["completed_count"], len(detail["participants"])) == (200, 200, 200)


def test_one_member_sending_the_quiz_form_twenty_times_at_once_gets_one_result(group_with_roles):
    session = active_session(group=group_with_roles["group"], created_by=group_with_roles["owner"])
    member = group_with_roles["member"]
    form = {"round": "1", **{f"question_{q['id']}": str(q["answer"]) for q in session.questions_data}}
    clients = [browser_client(member) for _ in range(20)]

    statuses = all_at_once([status_of(lambda c=c: c.post(session.join_url, form)) for c in clients])

    assert statuses == [302] * 20  # back to the quiz page, with "submitted" once and "already submitted" after
    (participant,) = Participant.objects.filter(session=session, user=member)
    assert (participant.score, participant.total) == (3, 3)
    assert ParticipantRound.objects.filter(participant=participant).count() == 1


def _api_end(client, url):
    return lambda: client.patch(url, {"status": "completed"}, format="json")


def _api_rename(client, url):
    return lambda: client.patch(url, {"title": "Renamed"}, format="json")


def _api_delete(client, url):
    return lambda: client.delete(url)


def _page(client, url, action, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return lambda: client.post(f"{url}/{action}", **headers)


RACES = {
    # (first admin's request, second admin's request), by the API and through the pages
    "api end vs delete": (_api_end, _api_delete),
    "api delete vs delete": (_api_delete, _api_delete),
    "api rename vs delete": (_api_rename, _api_delete),
    "page end vs delete": (
        lambda c, url: _page(c, url, "end", htmx=False),
        lambda c, url: _page(c, url, "delete", htmx=False),
    ),
    "htmx end vs delete": (
        lambda c, url: _page(c, url, "end", htmx=True),
        lambda c, url: _page(c, url, "delete", htmx=True),
    ),
    "htmx delete vs delete": (
        lambda c, url: _page(c, url, "delete", htmx=True),
        lambda c, url: _page(c, url, "delete", htmx=True),
    ),
}


def test_two_admins_ending_editing_and_deleting_the_same_session_get_a_clean_outcome(group_with_roles):
    """Every race, three times over: whoever comes second finds the work done or the session gone (404),
    never a 500, and the session ends up deleted with its participation rows."""
    group = group_with_roles["group"]
    owner, admin = group_with_roles["owner"], group_with_roles["admin"]
    api_clients = (extension_client(owner), extension_client(admin))
    page_clients = (browser_client(owner), browser_client(admin))
    outcomes: dict[str, Counter] = {}
    for name, (first, second) in RACES.items():
        outcomes[name] = Counter()
        for _ in range(3):
            session = active_session(group=group, created_by=group_with_roles["member"])
            Participant.objects.create(session=session, user=group_with_roles["member"])
            if name.startswith("api"):
                (a, b), url = api_clients, f"/api/groups/{group.pk}/sessions/{session.pk}"
            else:
                (a, b), url = page_clients, f"/groups/{group.pk}/sessions/{session.pk}"

            statuses = all_at_once([status_of(first(a, url)), status_of(second(b, url))])

            outcomes[name].update(statuses)
            assert any(status in (200, 204, 302) for status in statuses), (name, statuses)
            assert not GroupSession.objects.filter(pk=session.pk).exists(), name
            assert not Participant.objects.filter(session_id=session.pk).exists(), name

    assert all(set(counts) <= {200, 204, 302, 404, 409} for counts in outcomes.values()), outcomes


def test_members_submitting_while_an_admin_deletes_the_session_never_get_a_500(group_with_roles):
    group = group_with_roles["group"]
    members = [group_with_roles["member"], group_with_roles["other_member"]]
    submitters = [extension_client(member) for member in members]
    admin = extension_client(group_with_roles["admin"])
    outcomes = Counter()
    for _ in range(5):
        session = active_session(group=group, created_by=group_with_roles["owner"])
        submit, detail = quiz_api_url(session, submit=True), f"/api/groups/{group.pk}/sessions/{session.pk}"
        calls = [status_of(lambda c=c, u=submit: c.post(u, {"answers": []}, format="json")) for c in submitters]
        calls.append(status_of(lambda u=detail: admin.delete(u)))

        *submitted, deleted = all_at_once(calls)

        outcomes.update(submitted)
        assert deleted == 204
        assert set(submitted) <= {200, 404}, submitted
        assert not Participant.objects.filter(session_id=session.pk).exists()
    assert 500 not in outcomes
