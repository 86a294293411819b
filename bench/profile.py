"""Profile one benchmark scenario in-process: `python -m bench.profile join [--repeat 50] [--sql]`.

Runs against the database `make bench` left behind (DATABASE_URL, default quizsite_bench), with the
production settings the benchmark serves (DEBUG=0), through Django's test client, under pyinstrument.
`--sql` prints each query with its time instead (and EXPLAIN ANALYZE of the slowest one).
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/quizsite_bench")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("CONN_MAX_AGE", "600")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quizsite.settings")

from bench.run import SECRET_KEY  # noqa: E402

os.environ.setdefault("SECRET_KEY", SECRET_KEY)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

CONTEXT = json.loads((Path(__file__).parent / "out" / "context.json").read_text())
GROUP, SESSION, TOKEN = CONTEXT["group_id"], CONTEXT["session_id"], CONTEXT["share_token"]
QUERY = f"groupId={GROUP}&sessionId={SESSION}"
# Submissions take members from the end of the list (the benchmark's runs take them from the start);
# --skip passes over those earlier profiling runs used.
_unsubmitted = iter(reversed(CONTEXT["unsubmitted_tokens"]))


def request(client: Client, scenario: str, n: int):
    member = CONTEXT["member_tokens"][n % len(CONTEXT["member_tokens"])]
    admin = CONTEXT["admin_cookies"][0]
    if scenario == "healthz":
        return client.get("/healthz")
    if scenario == "join":
        return client.get(f"/api/questions/{TOKEN}?{QUERY}", HTTP_AUTHORIZATION=f"Token {member}")
    if scenario == "submit":
        answers = [{"question_id": q["id"], "choice": random.randrange(q["choices"])} for q in CONTEXT["questions"]]
        return client.post(
            f"/api/questions/{TOKEN}/submit?{QUERY}",
            data=json.dumps({"answers": answers}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {next(_unsubmitted)}",
        )
    if scenario == "sessions_api":
        return client.get(f"/api/groups/{GROUP}/sessions", HTTP_AUTHORIZATION=f"Token {member}")
    if scenario == "sessions_tab":
        client.cookies["sessionid"] = CONTEXT["member_cookies"][0]
        return client.get(f"/groups/{GROUP}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="session-list")
    client.cookies["sessionid"] = admin
    if scenario == "results_page":
        return client.get(f"/groups/{GROUP}/sessions/{SESSION}")
    if scenario == "csv_export":
        return client.get(f"/groups/{GROUP}/sessions/{SESSION}/export/participants.csv")
    raise SystemExit(f"unknown scenario {scenario}")


def consume(response) -> int:
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--sql", action="store_true", help="list the queries and EXPLAIN ANALYZE the slowest")
    parser.add_argument("--skip", type=int, default=0, help="submit: members to pass over (used by earlier runs)")
    args = parser.parse_args(argv)
    for _ in range(args.skip):
        next(_unsubmitted)
    client = Client()
    for n in range(3):  # warm: connections, templates, url resolvers
        consume(request(client, args.scenario, n))

    if args.sql:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = request(client, args.scenario, 99)
            size = consume(response)
            elapsed = time.perf_counter() - started
        print(f"{response.status_code}, {size} bytes, {elapsed * 1000:.1f} ms, {len(captured)} queries")
        for query in captured.captured_queries:
            print(f"{float(query['time']) * 1000:8.1f} ms  {query['sql'][:300]}")
        slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
        if slowest["sql"].lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
                print("\n".join(row[0] for row in cursor.fetchall()))
        return 0

    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with profiler:
        for n in range(args.repeat):
            consume(request(client, args.scenario, 100 + n))
    elapsed = time.perf_counter() - started
    print(f"{args.repeat} requests, {elapsed / args.repeat * 1000:.1f} ms each")
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
