"""Queries a connection runs again and again are prepared: PostgreSQL plans them once per connection
(quizsite/settings.py; Django leaves psycopg's prepared statements off unless asked)."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from sessions import selectors
from tests.factories import GroupSessionFactory

pytestmark = pytest.mark.django_db


def _prepared_on_this_connection(fragment: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{fragment}%"])
        return [statement for (statement,) in cursor.fetchall()]


def test_the_join_lookup_is_prepared_once_it_has_run_five_times():
    session = GroupSessionFactory()
    marker = "WHERE s.share_token = $3"
    for run in range(1, 7):
        assert selectors.get_session_by_token(share_token=session.share_token, user=session.created_by) == session
        assert bool(_prepared_on_this_connection(marker)) is (run == 6), run


def test_a_proxy_that_cannot_keep_prepared_statements_can_turn_them_off():
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'quizsite.settings'); django.setup();"
        "from django.db import connection; print(sorted(connection.settings_dict.get('OPTIONS', {})))"
    )

    def options(**env) -> str:
        run = subprocess.run(
            [sys.executable, "-c", code],
            env={**_environment(), **env},
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout.strip()

    assert options() == "['prepare_threshold', 'server_side_binding']"
    assert options(DATABASE_PREPARED_STATEMENTS="0") == "[]"


def _environment() -> dict:
    import os

    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    inherited = {name: value for name, value in os.environ.items() if name != "DATABASE_PREPARED_STATEMENTS"}
    return {**inherited, "DATABASE_URL": url}
