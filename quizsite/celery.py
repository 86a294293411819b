"""The Celery app: configured from Django settings (the CELERY_* names), tasks found in each app's tasks.py.

Run a worker with `celery -A quizsite worker` and the clock with `celery -A quizsite beat`. Without
REDIS_URL every task runs in-process (eager), so `make run` needs neither.
"""

import os

from celery import Celery
from celery import Task as CeleryTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quizsite.settings")


class Task(CeleryTask):
    """Every task acts for no one (it takes ids; sweeps, timers, emails), so it runs under an audited
    row-level security bypass (quizsite.rls), reset when it returns or raises; in a worker and eagerly alike."""

    def __call__(self, *args, **kwargs):
        from quizsite.rls import rls_bypass

        with rls_bypass(f"celery task {self.name}"):
            return super().__call__(*args, **kwargs)


app = Celery("quizsite", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

SWEEP_INTERVAL_SECONDS = 30.0

app.conf.beat_schedule = {
    # The safety net behind the per-session timers: a lost message or a worker that was down only delays
    # the stored status (the effective status is already right), never the opening itself.
    "sweep-sessions": {
        "task": "sessions.tasks.sweep_sessions_task",
        "schedule": SWEEP_INTERVAL_SECONDS,
        # While no worker runs, sweeps must not pile up in the queue: the next one does the same work.
        "options": {"expires": SWEEP_INTERVAL_SECONDS},
    },
}
