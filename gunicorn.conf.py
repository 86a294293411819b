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
