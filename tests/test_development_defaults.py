"""`make run`'s path: the embedded defaults (SQLite, Celery eager) migrate, seed the demo and answer a join.

The suite itself runs on PostgreSQL, so this drives a separate process with DATABASE_URL and REDIS_URL
unset the way `make run` leaves them; code that only PostgreSQL understands (row locks, triggers,
row-level security) must degrade cleanly there.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
from rest_framework.test import APIClient
from django.contrib.auth import get_user_model
from sessions.models import GroupSession

for session in GroupSession.objects.all():
    counted = (session.participants.count(), session.participants.filter(completed_at__isnull=False).count())
    assert (session.participant_count, session.completed_count) == counted, (session.title, counted)

session = GroupSession.objects.get(status="active")
client = APIClient()
client.force_authenticate(get_user_model().objects.get(username="dave"))
url = f"/api/questions/{session.share_token}?groupId={session.group_id}&sessionId={session.pk}"
body = client.get(url).json()
assert body["open"] and body["context"]["participant"]["completed_at"] is None, body
answers = [{"question_id": q["id"], "choice": 0} for q in body["questions"]]
result = client.post(url.replace("?", "/submit?"), {"answers": answers}, format="json")
assert result.status_code == 200, result.content
session.refresh_from_db()
print("ok", session.participant_count, session.completed_count)
"""


def test_sqlite_and_eager_celery_migrate_seed_and_serve_a_join_and_a_submit(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX", "DJANGO_SETTINGS_MODULE"}
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"  # where make run's default file would be
    manage = [sys.executable, str(ROOT / "manage.py")]

    def run(*args):
        return subprocess.run([*manage, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"], ["shell", "-c", CHECK]):
        done = run(*command)
        assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-4000:]}"
    assert done.stdout.split()[-3:] == ["ok", "2", "2"]
