"""The load generator of `make bench`: one scenario at one concurrency per locust process.

Run only by `bench/run.py`, never imported by the app or the tests: locust patches the standard
library with gevent as it starts, which must stay out of every other process.

Each simulated client sends its next request as soon as the last one answered (a closed loop), until
the run's request budget or its time is used up, whichever comes first; the last client to stop ends
the run. Every request is written to BENCH_SAMPLES as `[start, seconds, status, query_count]`; `run.py`
computes the figures from those.

Environment: BENCH_CONTEXT (the seed's JSON), BENCH_SCENARIO, BENCH_MAX_REQUESTS, BENCH_SECONDS,
BENCH_OFFSET (where this run starts in the token lists, so no two runs submit as the same member),
BENCH_SAMPLES (output path), BENCH_BURST_OF (a burst: that many clients send one request each, all at once).
"""

import gc
import itertools
import json
import os
import random
import time

import gevent
import gevent.event
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

CONTEXT = json.load(open(os.environ["BENCH_CONTEXT"]))
SCENARIO = os.environ["BENCH_SCENARIO"]
MAX_REQUESTS = int(os.environ["BENCH_MAX_REQUESTS"])
SECONDS = float(os.environ["BENCH_SECONDS"])
OFFSET = int(os.environ.get("BENCH_OFFSET", "0"))
SAMPLES = os.environ["BENCH_SAMPLES"]
# A burst: this many clients, each sends one request, all at the same moment (0: the closed loop).
BURST_OF = int(os.environ.get("BENCH_BURST_OF", "0"))
QUERY_HEADER = "X-Query-Count"

GROUP = CONTEXT["group_id"]
SESSION = CONTEXT["session_id"]
CONTEXT_QUERY = f"groupId={GROUP}&sessionId={SESSION}"

_issued = itertools.count()
_member = itertools.count(OFFSET)
_deadline = [None]
_running = [0]
_samples: list[list] = []
_everyone_started = gevent.event.Event()


def _next_token(tokens: list[str], *, wrap: bool) -> str:
    index = next(_member)
    if not wrap and index >= len(tokens):
        raise StopUser()  # no member left who has not submitted: never resubmit as someone
    return tokens[index % len(tokens)]


def _token_headers(token: str) -> dict:
    return {"Authorization": f"Token {token}"}


def _cookie_headers(session_key: str, **extra) -> dict:
    return {"Cookie": f"sessionid={session_key}", **extra}


def healthz(client):
    return "GET", "/healthz", {}, None


def join(client):
    token = _next_token(CONTEXT["member_tokens"], wrap=True)
    return "GET", f"/api/questions/{CONTEXT['share_token']}?{CONTEXT_QUERY}", _token_headers(token), None


def submit(client):
    token = _next_token(CONTEXT["unsubmitted_tokens"], wrap=False)
    answers = [{"question_id": q["id"], "choice": random.randrange(q["choices"])} for q in CONTEXT["questions"]]
    headers = _token_headers(token) | {"Content-Type": "application/json"}
    path = f"/api/questions/{CONTEXT['share_token']}/submit?{CONTEXT_QUERY}"
    return "POST", path, headers, json.dumps({"answers": answers})


def sessions_api(client):
    return "GET", f"/api/groups/{GROUP}/sessions", _token_headers(client.member_token), None


def sessions_tab(client):
    headers = _cookie_headers(client.member_cookie, **{"HX-Request": "true", "HX-Target": "session-list"})
    return "GET", f"/groups/{GROUP}", headers, None


def results_page(client):
    return "GET", f"/groups/{GROUP}/sessions/{SESSION}", _cookie_headers(client.admin_cookie), None


def csv_export(client):
    path = f"/groups/{GROUP}/sessions/{SESSION}/export/participants.csv"
    return "GET", path, _cookie_headers(client.admin_cookie), None


REQUESTS = {
    "healthz": healthz,
    "join": join,
    "submit": submit,
    "sessions_api": sessions_api,
    "sessions_tab": sessions_tab,
    "results_page": results_page,
    "csv_export": csv_export,
}
_clients = itertools.count()


class BenchClient(FastHttpUser):
    wait_time = constant(0)
    # A slow page must show up as a slow sample, not as a client-side timeout.
    network_timeout = 120.0
    connection_timeout = 10.0

    def on_start(self):
        number = next(_clients)
        self.member_token = CONTEXT["member_tokens"][(OFFSET + number) % len(CONTEXT["member_tokens"])]
        self.member_cookie = CONTEXT["member_cookies"][number % len(CONTEXT["member_cookies"])]
        self.admin_cookie = CONTEXT["admin_cookies"][number % len(CONTEXT["admin_cookies"])]
        _running[0] += 1
        if BURST_OF and _running[0] >= BURST_OF:
            _everyone_started.set()
        if _deadline[0] is None:
            _deadline[0] = time.monotonic() + SECONDS

    def on_stop(self):
        _running[0] -= 1
        if _running[0] == 0:
            # The last client out ends the run; quitting from a greenlet of its own lets this one finish.
            gevent.spawn(self.environment.runner.quit)

    @task
    def request(self):
        if BURST_OF:
            _everyone_started.wait()
        if next(_issued) >= MAX_REQUESTS or time.monotonic() >= _deadline[0]:
            raise StopUser()
        method, path, headers, body = REQUESTS[SCENARIO](self)
        started = time.time()
        clock = time.perf_counter()
        with self.client.request(method, path, headers=headers, data=body, name=SCENARIO, catch_response=True) as r:
            elapsed = time.perf_counter() - clock
            count = r.headers.get(QUERY_HEADER) if r.headers else None
            _samples.append([started, elapsed, r.status_code, int(count) if count else None])
            if not 200 <= (r.status_code or 0) < 300:
                r.failure(f"HTTP {r.status_code}: {(r.text or '')[:200]}")


@events.test_start.add_listener
def _no_collector_pauses(environment, **_kwargs):
    # A garbage collection here would hold up every response in flight at once and show up as server
    # latency. A run is bounded (seconds, a few thousand requests), so the collector waits until it ends.
    gc.freeze()
    gc.disable()


@events.quitting.add_listener
def _write_samples(environment, **_kwargs):
    with open(SAMPLES, "w") as out:
        json.dump({"scenario": SCENARIO, "samples": _samples}, out)
