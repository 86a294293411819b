"""The server-rendered group quiz page at /questions/<share_token>."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from sessions.models import GroupSession, Participant, ParticipantRound, SessionStatus
from tests.sessions.helpers import active_session, scheduled_session, study_loop_session

pytestmark = pytest.mark.django_db


def page_url(session, **query) -> str:
    query = {"groupId": session.group_id, "sessionId": session.pk, **query}
    return f"/questions/{session.share_token}?" + "&".join(f"{k}={v}" for k, v in query.items())


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(session, choices: dict[int, int], round=1) -> dict:
    return {"round": round, **{f"question_{qid}": choice for qid, choice in choices.items()}}


def right(session, ids=None) -> dict[int, int]:
    return {q["id"]: q["answer"] for q in session.questions_data if ids is None or q["id"] in ids}


def wrong(session, ids=None) -> dict[int, int]:
    return {q["id"]: (q["answer"] + 1) % 3 for q in session.questions_data if ids is None or q["id"] in ids}


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def roles(group_with_roles):
    return group_with_roles


@pytest.fixture
def member(roles):
    return client_for(roles["member"])


def test_signed_out_visitors_are_sent_to_sign_in_and_back(roles):
    session = active_session(group=roles["group"], created_by=roles["owner"])

    response = Client().get(page_url(session))

    assert response.status_code == 302
    assert response.url.startswith("/account/login")
    assert "next=/questions/" in response.url
    assert not Participant.objects.exists()


@pytest.mark.parametrize("who", ["outsider"])
def test_outsiders_get_the_not_found_page(roles, who):
    session = active_session(group=roles["group"], created_by=roles["owner"])

    response = client_for(roles[who]).get(page_url(session))

    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()


@pytest.mark.parametrize("query", [{"groupId": 999999}, {"sessionId": 999999}, {"sessionId": "x"}])
def test_links_with_mismatched_ids_are_not_found(roles, member, query):
    session = active_session(group=roles["group"], created_by=roles["owner"])

    assert member.get(page_url(session, **query)).status_code == 404
    assert not Participant.objects.exists()


def test_an_open_session_shows_the_quiz_and_records_the_join(roles, member):
    session = active_session(group=roles["group"], created_by=roles["owner"], title="Cell biology")

    response = member.get(page_url(session))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Cell biology" in html and "Biology 101" in html
    assert 'name="question_1"' in html and 'name="question_3"' in html
    assert 'name="round" value="1"' in html
    assert "Snapshot question 2?" in html
    assert Participant.objects.filter(session=session, user=roles["member"]).exists()


def test_a_scheduled_session_says_when_it_opens_and_shows_no_questions(roles, member):
    session = scheduled_session(group=roles["group"], created_by=roles["owner"])

    html = member.get(page_url(session)).content.decode()

    assert "not open yet" in html
    assert session.scheduled_at.strftime("%Y") in html
    assert "question_1" not in html
    assert "Snapshot question 1?" not in html


def test_a_scheduled_session_opens_on_time_without_a_worker(roles, member):
    session = scheduled_session(group=roles["group"], created_by=roles["owner"])
    GroupSession.objects.filter(pk=session.pk).update(scheduled_at=timezone.now() - datetime.timedelta(seconds=1))

    html = member.get(page_url(session)).content.decode()

    assert 'name="question_1"' in html


def test_submitting_shows_the_result_with_explanations(roles, member):
    session = active_session(group=roles["group"], created_by=roles["owner"])

    response = member.post(page_url(session), form_data(session, right(session, ids={1, 2})))

    assert response.status_code == 302
    assert "you scored 2 of 3" in flashes(response)[0]
    html = member.get(response.url).content.decode()
    assert "2 / 3" in html
    assert "Explained 1." in html and "Explained 3." in html
    assert "Not answered" in html
    assert 'name="question_1"' not in html
    participant = Participant.objects.get(session=session, user=roles["member"])
    assert (participant.score, participant.total) == (2, 3)


def test_a_second_submission_is_refused_and_the_first_stays(roles, member):
    session = active_session(group=roles["group"], created_by=roles["owner"])
    member.post(page_url(session), form_data(session, right(session)))

    response = member.post(page_url(session), form_data(session, wrong(session)))

    assert "already submitted" in flashes(response)[-1]
    assert Participant.objects.get(session=session).score == 3
    assert ParticipantRound.objects.count() == 1


def test_a_closed_session_refuses_the_form(roles, member):
    session = active_session(group=roles["group"], created_by=roles["owner"])
    member.get(page_url(session))
    GroupSession.objects.filter(pk=session.pk).update(status=SessionStatus.COMPLETED, ended_at=timezone.now())

    response = member.post(page_url(session), form_data(session, right(session)))

    assert "has ended" in flashes(response)[0]
    html = member.get(page_url(session)).content.decode()
    assert "This session has ended" in html
    assert "did not submit" in html


def test_a_cancelled_session_says_so(roles, member):
    session = scheduled_session(group=roles["group"], created_by=roles["owner"])
    GroupSession.objects.filter(pk=session.pk).update(status=SessionStatus.CANCELLED)

    html = member.get(page_url(session)).content.decode()

    assert "was cancelled" in html


def test_the_study_loop_offers_the_missed_questions_as_the_next_round(roles, member):
    session = study_loop_session(group=roles["group"], created_by=roles["owner"], max_rounds=2)
    member.post(page_url(session), form_data(session, right(session, ids={1}) | wrong(session, ids={2})))

    html = member.get(page_url(session)).content.decode()
    assert "1 / 3" in html
    assert "Round 2 of 2" in html
    assert 'name="round" value="2"' in html
    assert 'name="question_2"' in html and 'name="question_3"' in html
    assert 'name="question_1"' not in html

    response = member.post(page_url(session), form_data(session, right(session, ids={2, 3}), round=2))
    assert "Round 2 submitted" in flashes(response)[0]
    html = member.get(page_url(session)).content.decode()
    assert "Mastered" in html
    assert "Round 2: answers and explanations" in html
    assert 'name="round"' not in html
    participant = Participant.objects.get(session=session)
    assert (participant.score, participant.mastered) == (1, True)


def test_a_bad_round_number_is_refused_without_a_crash(roles, member):
    session = active_session(group=roles["group"], created_by=roles["owner"])

    response = member.post(page_url(session), {"round": "zero", "question_1": "1"})

    assert response.status_code == 302
    assert "not submitted" in flashes(response)[0]
    assert not ParticipantRound.objects.exists()


def test_an_out_of_range_choice_is_refused_without_a_crash(roles, member):
    session = active_session(group=roles["group"], created_by=roles["owner"])

    response = member.post(page_url(session), {"round": "1", "question_1": "7"})

    assert response.status_code == 302
    assert "check the form" in flashes(response)[0]
    assert not ParticipantRound.objects.exists()
