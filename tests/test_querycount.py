"""The benchmark's query counter (quizsite/querycount.py): on only when QUERY_COUNT=1 installs it."""

import logging

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from tests.factories import GroupSessionFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

COUNTER = "quizsite.querycount.QueryCountMiddleware"


@pytest.fixture
def counting(settings):
    settings.MIDDLEWARE = [COUNTER, *settings.MIDDLEWARE]


def test_the_counter_is_off_unless_the_benchmark_turns_it_on(client):
    assert COUNTER not in django_settings.MIDDLEWARE
    assert "X-Query-Count" not in client.get("/healthz")


def test_a_response_says_how_many_queries_it_took(counting, client):
    assert client.get("/healthz")["X-Query-Count"] == "1"


def test_a_streamed_export_logs_its_count_once_the_body_is_sent(counting, client, group_with_roles, caplog):
    session = GroupSessionFactory(group=group_with_roles["group"], created_by=group_with_roles["owner"])
    ParticipantFactory(session=session, user=group_with_roles["member"], completed_at=timezone.now(), score=1, total=3)
    client.force_login(group_with_roles["owner"])
    url = f"/groups/{session.group_id}/sessions/{session.pk}/export/participants.csv"

    with caplog.at_level(logging.INFO, logger="quizsite.querycount"):
        response = client.get(url)
        assert "X-Query-Count" not in response
        assert not [r for r in caplog.records if r.name == "quizsite.querycount"]
        body = b"".join(response.streaming_content)

    assert b"mia_member" in body
    (record,) = [r for r in caplog.records if r.name == "quizsite.querycount"]
    assert record.getMessage().startswith(f"streamed path={url} queries=")
    assert int(record.getMessage().rsplit("=", 1)[1]) >= 4  # session, user, membership, session, participants
