"""How gunicorn serves quizsite, in production (Procfile) and in `make bench`: one file, so the benchmark
measures the server production runs. Environment: PORT, WEB_CONCURRENCY (processes), WEB_THREADS."""

import os

wsgi_app = "quizsite.wsgi:application"
bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
# One process per core, and threads to use a core while a request waits on PostgreSQL. On the 2-core
# benchmark machine 2 processes × 4 threads served 35 % more submissions than 4 × 4, and more threads per
# process did worse: extra processes and threads only contend for the same cores (README, Benchmarks).
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
threads = int(os.environ.get("WEB_THREADS") or 4)
keepalive = 5


def post_worker_init(worker):
    """Once the app is loaded, take what it made out of the garbage collector's view (`gc.freeze`): those
    objects live as long as the process, and a full collection walking them paused every request in the
    process at once. At 50 clients in `make bench` the join's p99 went from 186–207 to 109–181 ms."""
    import gc

    gc.freeze()
