"""`make bench`: seed a fresh database at scale, serve it the production way, load it, print one table.

1. Drops and recreates its own PostgreSQL database (default `quizsite_bench`; the name must contain
   "bench", so a test database is never touched), migrates it and seeds it (`bench/seed.py`).
2. Serves the app with gunicorn on 127.0.0.1 as production would: DEBUG=0, hashed and compressed static
   files, persistent database connections, Redis for the cache and throttles. QUERY_COUNT=1 adds the
   query-counting middleware (quizsite/querycount.py), the one thing production does not run.
3. Runs each scenario at 1, 10 and 50 concurrent clients, each run a separate locust process
   (bench/locustfile.py) bounded by a request budget and a time limit, after an unmeasured warm-up.
   Meanwhile it samples the resident memory of gunicorn's workers.
4. Prints one table (requests/s, p50/p95/p99, throughput relative to /healthz in this same run, SQL
   queries per request, workers' peak memory), checks the targets of the performance issue, writes
   everything to bench/results.json, and stops every process it started.

Options come from the command line or BENCH_* environment variables (see `--help`).
"""

import argparse
import datetime
import json
import os
import platform
import re
import runpy
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
PYTHON = sys.executable
VENV_BIN = Path(PYTHON).parent

SCENARIOS = ["healthz", "join", "submit", "sessions_api", "sessions_tab", "results_page", "csv_export"]
DESCRIPTIONS = {
    "healthz": "GET /healthz (the floor)",
    "join": "GET /api/questions/<token> in a group session, distinct members",
    "submit": "POST /api/questions/<token>/submit, distinct members, each a new result",
    "sessions_api": "GET /api/groups/<id>/sessions over 1,000 sessions",
    "sessions_tab": "Sessions tab fragment (htmx) over 1,000 sessions",
    "results_page": "session results page, 10,000 participants (manager)",
    "csv_export": "participants CSV, 10,000 participants (streamed)",
}
# Results pages and exports are each a lot of work: budgets that keep a run within its time limit.
HEAVY = {"results_page", "csv_export"}
SUBMIT_WARMUP = 200
# "The whole group hits submit at once": this many times, as many members as the highest concurrency send
# one submission each at the same moment; what matters is how long the last of them waits.
BURSTS = 5
NOISY_PERCENT = 20
LEGEND = """\
× healthz: throughput relative to /healthz at the same concurrency, in this run. p50/p95/p99: latency
as the client saw it (nearest rank). server CPU ms/req: CPU of the web workers and of PostgreSQL per
request. queries/req: SQL queries per request (X-Query-Count; the streamed CSV's from the server log).
workers' peak RSS: summed resident memory of the gunicorn workers during the run. other CPU %: share of
the machine busy with work outside the benchmark (noise in that row's figures)."""
SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def _env(name: str, default):
    return os.environ.get(f"BENCH_{name}") or default


def parse_args(argv):
    parser = argparse.ArgumentParser(description="quizsite benchmark (make bench)")
    parser.add_argument(
        "--database-url", default=_env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/quizsite_bench")
    )
    parser.add_argument("--redis-url", default=_env("REDIS_URL", "redis://127.0.0.1:6379/1"))
    parser.add_argument("--port", type=int, default=int(_env("PORT", 0)), help="0: any free port on 127.0.0.1")
    served = runpy.run_path(str(ROOT / "gunicorn.conf.py"))  # production's processes and threads by default
    parser.add_argument(
        "--workers", type=int, default=int(_env("WORKERS", served["workers"])), help="gunicorn worker processes"
    )
    parser.add_argument(
        "--threads", type=int, default=int(_env("THREADS", served["threads"])), help="threads per worker (gthread)"
    )
    parser.add_argument("--seconds", type=float, default=float(_env("SECONDS", 10)), help="time limit of a run")
    parser.add_argument("--requests", type=int, default=int(_env("REQUESTS", 3000)), help="request budget of a run")
    parser.add_argument("--clients", default=_env("CLIENTS", "1,10,50"), help="concurrency levels")
    parser.add_argument("--scenarios", default=_env("SCENARIOS", ",".join(SCENARIOS)))
    parser.add_argument(
        "--retries",
        type=int,
        default=int(_env("RETRIES", 1)),
        help="measure a run again when other work took the machine meanwhile",
    )
    parser.add_argument("--reuse-db", action="store_true", help="skip dropping and seeding (profiling reruns)")
    parser.add_argument("--results", default=str(BENCH / "results.json"))
    args = parser.parse_args(argv)
    args.clients = [int(c) for c in args.clients.split(",")]
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if "healthz" not in args.scenarios:
        args.scenarios.insert(0, "healthz")  # every ratio is relative to it
    return args


# --- Processes we start, and only those ------------------------------------------------------------

_started: list[subprocess.Popen] = []


def _spawn(command, **kwargs) -> subprocess.Popen:
    # A session of its own: stopping it reaches its children (gunicorn's workers) and nothing else.
    process = subprocess.Popen(command, start_new_session=True, **kwargs)
    _started.append(process)
    return process


def _stop(process: subprocess.Popen, *, grace: float = 10) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
    if process in _started:
        _started.remove(process)


def _stop_all(*_args):
    for process in list(_started):
        _stop(process, grace=5)


# --- Database and Redis ----------------------------------------------------------------------------


def _db_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to use database {name!r}: the benchmark's database name must contain 'bench'")
    return name


def recreate_database(url: str) -> None:
    name = _db_name(url)
    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        try:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.errors.InsufficientPrivilege:
            user = urlsplit(url).username
            raise SystemExit(
                f"database {name!r} belongs to another role than {user!r} (made by an earlier run as another"
                f" role): drop it once, e.g. `dropdb -h 127.0.0.1 -U postgres {name}`, and run again"
            ) from None
        conn.execute(f'CREATE DATABASE "{name}"')


def clear_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


def server_env(args, prefix: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        CACHE_KEY_PREFIX=prefix,
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Plain HTTP on loopback: no TLS in front, so no redirect to https.
        SECURE_SSL_REDIRECT="0",
        CONN_MAX_AGE="600",
        QUERY_COUNT="1",
        # No scenario queues a task; if one did, it must not reach the shared Redis for another checkout's worker.
        CELERY_TASK_ALWAYS_EAGER="1",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict, *command: str) -> None:
    subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True)


def collectstatic_if_needed(env: dict) -> None:
    """The manifest the DEBUG=0 pages need; compressing every file takes a minute, so only when stale."""
    manifest = ROOT / "staticfiles" / "staticfiles.json"
    if manifest.exists():
        built = manifest.stat().st_mtime
        sources = [ROOT / "requirements.txt", *(p for p in (ROOT / "static").rglob("*") if p.is_file())]
        if all(p.stat().st_mtime <= built for p in sources):
            return
    print("collectstatic (hashed + compressed files, as in production)…", flush=True)
    manage(env, "collectstatic", "--noinput", "-v0")


# --- The server ------------------------------------------------------------------------------------


def free_port(port: int) -> int:
    """`port` if nothing listens on it (any free one for 0): never load another checkout's server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise SystemExit(f"127.0.0.1:{port} is in use (another benchmark?): pick another with --port") from None
        return probe.getsockname()[1]


def start_gunicorn(args, env: dict, log_path: Path) -> subprocess.Popen:
    # Production's settings (gunicorn.conf.py, as the Procfile runs it), on a port of our own, without the
    # access log (a line per request, not what is measured here).
    command = [
        str(VENV_BIN / "gunicorn"),
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--bind",
        f"127.0.0.1:{args.port}",
        "--no-control-socket",
    ]
    log = open(log_path, "w")
    process = _spawn(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited early; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=2) as response:
                # Ours only if our gunicorn holds the port (someone may have taken it since we checked).
                if response.status == 200 and _listens(process.pid, args.port):
                    return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer /healthz within 30 s; see {log_path}")


def _listens(master_pid: int, port: int) -> bool:
    try:
        connections = psutil.Process(master_pid).net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in connections)


class MemorySampler(threading.Thread):
    """Samples the summed RSS of gunicorn's workers (and the largest single worker) every 100 ms."""

    def __init__(self, master_pid: int):
        super().__init__(daemon=True)
        self.master = psutil.Process(master_pid)
        self.samples: list[tuple[float, int, int]] = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            total = largest = 0
            try:
                for worker in self.master.children():
                    try:
                        rss = worker.memory_info().rss
                    except psutil.Error:
                        continue
                    total += rss
                    largest = max(largest, rss)
            except psutil.Error:
                return
            self.samples.append((time.time(), total, largest))
            self.halt.wait(0.1)

    def peak(self, start: float, end: float) -> tuple[int, int]:
        window = [(t, s, m) for t, s, m in self.samples if start <= t <= end]
        if not window:
            return 0, 0
        return max(s for _, s, _ in window), max(m for _, _, m in window)

    def before(self, moment: float) -> tuple[int, int]:
        earlier = [(s, m) for t, s, m in self.samples if t <= moment]
        return earlier[-1] if earlier else (0, 0)


class CpuAccount:
    """Where the machine's CPU went during a run: the web workers, PostgreSQL, the load generator, other.

    Ours: gunicorn's processes, the PostgreSQL backends connected to the benchmark's database and the
    locust process (a child this runner waits for). Everything else busy meanwhile (another test suite,
    a build, the shared Redis) is "other": noise the figures of that run carry.
    """

    def __init__(self, master_pid: int, database: str):
        self.master = psutil.Process(master_pid)
        self.database = database

    @staticmethod
    def _cpu(processes) -> float:
        total = 0.0
        for process in processes:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    def _ours(self) -> dict[str, float]:
        try:
            web = [self.master, *self.master.children(recursive=True)]
        except psutil.Error:
            web = [self.master]
        with psycopg.connect(_admin_url, autocommit=True) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database]).fetchall()
        backends = []
        for (pid,) in rows:
            try:
                backends.append(psutil.Process(pid))
            except psutil.Error:
                pass
        return {"web": self._cpu(web), "postgres": self._cpu(backends), "locust": _children_seconds()}

    def start(self):
        self._busy = _busy_seconds()
        self._start = self._ours()
        self._clock = time.monotonic()

    def stop(self) -> dict:
        capacity = (time.monotonic() - self._clock) * (psutil.cpu_count() or 1)
        busy = _busy_seconds() - self._busy
        end = self._ours()
        used = {name: max(0.0, end[name] - self._start[name]) for name in end}
        other = max(0.0, busy - sum(used.values()))
        return {
            "cpu_percent": {name: round(100 * seconds / capacity, 1) for name, seconds in used.items()}
            | {"other": round(100 * other / capacity, 1), "idle": round(max(0.0, 100 - 100 * busy / capacity), 1)},
            "other_work_percent": round(100 * other / capacity, 1),
            "cpu_seconds": {name: round(seconds, 3) for name, seconds in used.items()},
        }


def _busy_seconds() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0)


def _children_seconds() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


# --- One run ---------------------------------------------------------------------------------------


def run_locust(
    args, scenario: str, clients: int, *, budget: int, seconds: float, offset: int, tag: str, burst: bool = False
) -> dict:
    samples_path = OUT / f"samples-{tag}.json"
    log_path = OUT / f"locust-{tag}.log"
    samples_path.unlink(missing_ok=True)
    env = dict(os.environ)
    env.update(
        BENCH_CONTEXT=str(OUT / "context.json"),
        BENCH_SCENARIO=scenario,
        BENCH_MAX_REQUESTS=str(budget),
        BENCH_SECONDS=str(seconds),
        BENCH_OFFSET=str(offset),
        BENCH_SAMPLES=str(samples_path),
        BENCH_BURST_OF=str(clients if burst else 0),
        PYTHONUNBUFFERED="1",
    )
    command = [
        str(VENV_BIN / "locust"),
        "--locustfile",
        str(BENCH / "locustfile.py"),
        "--headless",
        "--host",
        f"http://127.0.0.1:{args.port}",
        "--users",
        str(clients),
        # Every client at once: the measured window is all at full concurrency.
        "--spawn-rate",
        str(max(clients * 10, 100)),
        # A hard stop past the clients' own time limit, letting requests in flight finish.
        "--run-time",
        f"{int(seconds + 60)}s",
        "--stop-timeout",
        "60",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    with open(log_path, "w") as log:
        process = _spawn(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            process.wait(seconds + 150)
        except subprocess.TimeoutExpired:
            print(f"  locust run {tag} did not finish in time: stopped", flush=True)
        finally:
            _stop(process)
    if not samples_path.exists():
        raise SystemExit(f"locust run {tag} wrote no samples; see {log_path}")
    data = json.loads(samples_path.read_text())
    data["cpu_warning"] = "CPU usage" in log_path.read_text()
    return data


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation): the value a q-fraction of requests stayed under."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 1))))
    return sorted_values[rank - 1]


def summarize(samples: list[list]) -> dict:
    if not samples:
        return {"requests": 0, "errors": 0}
    start = min(s[0] for s in samples)
    end = max(s[0] + s[1] for s in samples)
    durations = sorted(s[1] * 1000 for s in samples)
    errors = sum(1 for s in samples if not (s[2] and 200 <= s[2] < 300))
    counts = [s[3] for s in samples if s[3] is not None]
    status_counts: dict[str, int] = {}
    for s in samples:
        status_counts[str(s[2])] = status_counts.get(str(s[2]), 0) + 1
    return {
        "requests": len(samples),
        "errors": errors,
        "statuses": status_counts,
        "seconds": round(end - start, 3),
        "rps": round(len(samples) / (end - start), 1) if end > start else None,
        "p50_ms": round(_percentile(durations, 0.50), 1),
        "p95_ms": round(_percentile(durations, 0.95), 1),
        "p99_ms": round(_percentile(durations, 0.99), 1),
        "max_ms": round(durations[-1], 1),
        "queries": _query_summary(counts),
        "window": [start, end],
    }


def _query_summary(counts: list[int]) -> dict | None:
    if not counts:
        return None
    return {"median": statistics.median_low(counts), "min": min(counts), "max": max(counts)}


_STREAMED = re.compile(r"streamed path=(\S+) queries=(\d+)")


def streamed_query_counts(log_path: Path, start_offset: int) -> list[int]:
    with open(log_path, errors="replace") as log:
        log.seek(start_offset)
        return [int(m.group(2)) for m in _STREAMED.finditer(log.read())]


# --- Report ----------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with psycopg.connect(_admin_url, autocommit=True) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "cpu": cpu or platform.processor(),
        "cores": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": postgres,
    }


def _ms(value) -> str:
    return "-" if value is None else (f"{value:.0f}" if value >= 100 else f"{value:.1f}")


def _queries(q: dict | None) -> str:
    if not q:
        return "-"
    return str(q["median"]) if q["min"] == q["max"] else f"{q['median']} ({q['min']}–{q['max']})"


def table(rows: list[dict]) -> str:
    header = [
        "scenario",
        "clients",
        "requests",
        "errors",
        "req/s",
        "× healthz",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "server CPU ms/req",
        "queries/req",
        "workers' peak RSS MiB",
        "other CPU %",
    ]
    lines = [header]
    for row in rows:
        lines.append(
            [
                row["scenario"],
                str(row["clients"]),
                str(row["requests"]),
                str(row["errors"]),
                "-" if row.get("rps") is None else f"{row['rps']:.0f}",
                "-" if row.get("ratio") is None else f"{row['ratio']:.2f}",
                _ms(row.get("p50_ms")),
                _ms(row.get("p95_ms")),
                _ms(row.get("p99_ms")),
                _ms(row.get("server_cpu_ms_per_request")),
                _queries(row.get("queries")),
                f"{row['peak_rss_mib']:.0f}",
                f"{row['other_work_percent']:.0f}",
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for number, line in enumerate(lines):
        cells = [cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)]
        out.append("| " + " | ".join(cells) + " |")
        if number == 0:
            out.append("|" + "|".join("-" * (w + 1) + ("-" if i == 0 else ":") for i, w in enumerate(widths)) + "|")
    return "\n".join(out)


def check_targets(rows: list[dict], memory: dict) -> list[dict]:
    def row(scenario, clients):
        return next((r for r in rows if r["scenario"] == scenario and r["clients"] == clients), None)

    checks = []

    def check(name: str, ok: bool | None, measured: str, *measured_rows):
        # A miss while other work was taking the machine may be that work's, not ours: say so.
        busy = max((r.get("other_work_percent", 0) for r in measured_rows if r), default=0)
        if not ok and busy >= NOISY_PERCENT:
            measured += f" (other work took {busy:.0f}% of the machine meanwhile: rerun on a quiet one)"
        checks.append({"target": name, "ok": ok, "measured": measured, "other_work_percent": busy})

    floor = row("healthz", 50)
    # A closed loop of 50 clients with no pause queues behind 2 cores: the floor's own p99 says how much of
    # a p99 is waiting in line rather than work.
    floor_p99 = f"; /healthz itself: p99 {floor['p99_ms']:.0f} ms" if floor else ""
    submit = row("submit", 50)
    if submit:
        check(
            "submit @50: ≥ 50% of /healthz, p99 < 100 ms, no errors",
            submit["ratio"] >= 0.5 and submit["p99_ms"] < 100 and submit["errors"] == 0,
            f"{submit['ratio']:.0%}, p99 {submit['p99_ms']:.0f} ms, {submit['errors']} errors{floor_p99}",
            submit,
            row("healthz", 50),
        )
    join = row("join", 50)
    if join:
        check(
            "group join @50: ≥ 60% of /healthz, p99 < 100 ms",
            join["ratio"] >= 0.6 and join["p99_ms"] < 100,
            f"{join['ratio']:.0%}, p99 {join['p99_ms']:.0f} ms{floor_p99}",
            join,
            row("healthz", 50),
        )
    for scenario in ("sessions_api", "sessions_tab"):
        one = row(scenario, 1)
        if one:
            most = max((r["queries"] or {}).get("max", 0) for r in rows if r["scenario"] == scenario)
            check(
                f"{scenario}: ≤ 10 queries per request, p95 < 50 ms @1",
                most <= 10 and one["p95_ms"] < 50,
                f"{most} queries, p95 {one['p95_ms']:.1f} ms",
                one,
            )
    for scenario, limit in (("results_page", 300), ("csv_export", 1000)):
        one = row(scenario, 1)
        if one:
            check(f"{scenario}: p95 < {limit} ms @1", one["p95_ms"] < limit, f"p95 {one['p95_ms']:.0f} ms", one)
    if memory:
        check(
            "csv_export: memory flat (largest worker grows < 25 MiB while exporting)",
            memory["csv_growth_mib"] < 25,
            f"+{memory['csv_growth_mib']:.0f} MiB (results page: +{memory['results_growth_mib']:.0f} MiB)",
        )
    return checks


# --- Main ------------------------------------------------------------------------------------------

_admin_url = ""


def main(argv=None) -> int:
    global _admin_url
    args = parse_args(argv)
    _db_name(args.database_url)
    _admin_url = urlunsplit(urlsplit(args.database_url)._replace(path="/postgres"))
    OUT.mkdir(exist_ok=True)
    args.port = free_port(args.port)
    prefix = f"qs-bench-{os.getpid()}"
    env = server_env(args, prefix)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    try:
        seed_info = {}
        if not args.reuse_db:
            print(f"fresh database {_db_name(args.database_url)}: migrate and seed…", flush=True)
            recreate_database(args.database_url)
            manage(env, "migrate", "--noinput", "-v0")
            started = time.monotonic()
            subprocess.run(
                [PYTHON, "-m", "bench.seed", "--context", str(OUT / "context.json")], cwd=ROOT, env=env, check=True
            )
            seed_info["seed_command_seconds"] = round(time.monotonic() - started, 1)
        context = json.loads((OUT / "context.json").read_text())
        seed_info.update(seconds=context["seed_seconds"], rows=context["counts"])
        collectstatic_if_needed(env)

        idle_load = os.getloadavg()[0]
        if idle_load > 1.5:
            print(f"note: load average {idle_load:.1f} before starting: other work is running, figures will be noisy")
        unsubmitted = len(context["unsubmitted_tokens"])
        # Members who have not submitted, each used once: the measured runs, then the warm-up, then the bursts.
        burst_members = BURSTS * max(args.clients)
        submit_budget = min(
            args.requests,
            (unsubmitted - SUBMIT_WARMUP - burst_members) // (len(args.clients) * (1 + args.retries)),
        )
        warmup_offset = len(args.clients) * (1 + args.retries) * submit_budget
        clear_redis_keys(args.redis_url, prefix)
        log_path = OUT / "gunicorn.log"
        print(
            f"gunicorn: {args.workers} workers × {args.threads} threads (gthread) on 127.0.0.1:{args.port}", flush=True
        )
        server = start_gunicorn(args, env, log_path)
        sampler = MemorySampler(server.pid)
        sampler.start()
        cpu = CpuAccount(server.pid, _db_name(args.database_url))

        warm = max(args.clients)
        print(f"warm-up: every scenario, unmeasured ({warm} clients; 10 for the heavy pages)…", flush=True)
        for scenario in args.scenarios:
            clients = min(warm, 10) if scenario in HEAVY else warm
            budget = 2 * clients if scenario in HEAVY else 10 * clients
            offset = warmup_offset if scenario == "submit" else 0
            budget = min(budget, SUBMIT_WARMUP) if scenario == "submit" else budget
            run_locust(args, scenario, clients, budget=budget, seconds=3, offset=offset, tag=f"warmup-{scenario}")

        def measure(scenario: str, clients: int, *, budget: int, offset: int) -> dict:
            log_offset = log_path.stat().st_size
            time.sleep(0.5)
            cpu.start()
            data = run_locust(
                args, scenario, clients, budget=budget, seconds=args.seconds, offset=offset, tag=f"{scenario}-{clients}"
            )
            summary = summarize(data["samples"])
            summary.update(cpu.stop())
            if summary["requests"]:
                # What a request costs the server (web workers + PostgreSQL), whatever else the machine
                # was doing: the figure that stays comparable between runs on a busy machine.
                server_cpu = summary["cpu_seconds"]["web"] + summary["cpu_seconds"]["postgres"]
                summary["server_cpu_ms_per_request"] = round(1000 * server_cpu / summary["requests"], 2)
            if scenario == "csv_export":
                summary["queries"] = _query_summary(streamed_query_counts(log_path, log_offset))
            start, end = summary.get("window", (0, 0))
            peak_sum, peak_worker = sampler.peak(start, end + 0.2)
            summary.update(
                scenario=scenario,
                clients=clients,
                budget=budget,
                peak_rss_mib=peak_sum / 2**20,
                peak_worker_rss_mib=peak_worker / 2**20,
                baseline_worker_rss_mib=sampler.before(start)[1] / 2**20,
                load_generator_cpu_warning=data["cpu_warning"],
            )
            print(
                f"  {scenario:<13} {clients:>3} clients: {summary['requests']:>5} requests, "
                f"{summary.get('rps') or 0:>7.1f}/s, p95 {summary.get('p95_ms', 0):>7.1f} ms, "
                f"{summary['errors']} errors; CPU "
                + ", ".join(f"{name} {value:.0f}%" for name, value in summary["cpu_percent"].items()),
                flush=True,
            )
            return summary

        rows = []
        submit_runs = 0
        for scenario in args.scenarios:
            for level, clients in enumerate(args.clients):
                attempts = []
                # On a shared machine another job may take the CPU mid-run: measure again (up to --retries
                # times) and keep the attempt that had the machine most to itself.
                while len(attempts) <= args.retries:
                    if scenario == "submit":
                        budget, offset = submit_budget, submit_runs * submit_budget
                        submit_runs += 1
                    else:
                        budget, offset = args.requests, (level * 3 + len(attempts)) * 1000
                    attempts.append(measure(scenario, clients, budget=budget, offset=offset))
                    if attempts[-1]["other_work_percent"] < NOISY_PERCENT:
                        break
                best = min(attempts, key=lambda a: a["other_work_percent"])
                best["attempts"] = len(attempts)
                rows.append(best)
        bursts = []
        if "submit" in args.scenarios:
            group_size = max(args.clients)
            for number in range(BURSTS):
                time.sleep(0.5)
                offset = warmup_offset + SUBMIT_WARMUP + number * group_size
                data = run_locust(
                    args,
                    "submit",
                    group_size,
                    budget=group_size,
                    seconds=args.seconds,
                    offset=offset,
                    tag=f"burst-{number}",
                    burst=True,
                )
                summary = summarize(data["samples"])
                bursts.append({k: summary.get(k) for k in ("requests", "errors", "statuses", "p50_ms", "max_ms")})
            slowest = sorted(b["max_ms"] for b in bursts)
            print(
                f"  submit burst  {group_size:>3} members at once, {BURSTS} times: the last answer after "
                f"{statistics.median(slowest):.0f} ms (median; {slowest[0]:.0f}–{slowest[-1]:.0f} ms), "
                f"{sum(b['errors'] for b in bursts)} errors",
                flush=True,
            )
        sampler.halt.set()

        floor = {r["clients"]: r["rps"] for r in rows if r["scenario"] == "healthz"}
        for row in rows:
            row["ratio"] = round(row["rps"] / floor[row["clients"]], 3) if row.get("rps") else None

        memory = {}
        csv_rows = [r for r in rows if r["scenario"] == "csv_export"]
        results_rows = [r for r in rows if r["scenario"] == "results_page"]
        if csv_rows and results_rows:
            memory = {
                "csv_growth_mib": max(r["peak_worker_rss_mib"] - r["baseline_worker_rss_mib"] for r in csv_rows),
                "results_growth_mib": max(
                    r["peak_worker_rss_mib"] - r["baseline_worker_rss_mib"] for r in results_rows
                ),
            }
        checks = check_targets(rows, memory)
        report = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "server": {
                "gunicorn": f"gthread, {args.workers} workers × {args.threads} threads",
                "debug": False,
                "conn_max_age": 600,
            },
            "load": {
                "tool": "locust (FastHttpUser), one process per run, closed loop",
                "clients": args.clients,
                "request_budget": args.requests,
                "submit_budget": submit_budget,
                "retries_when_busy": args.retries,
                "seconds_limit": args.seconds,
            },
            "load_average_at_start": round(idle_load, 2),
            "seed": seed_info,
            "scenarios": DESCRIPTIONS,
            "rows": [{k: v for k, v in row.items() if k != "window"} for row in rows],
            "memory": memory,
            "targets": checks,
            "submit_bursts": bursts,
        }
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
        Path(args.results).write_text(text)
        (OUT / f"results-{report['date'].replace(':', '')}.json").write_text(text)  # every run kept, uncommitted

        print()
        m = report["machine"]
        print(
            f"quizsite benchmark, {report['date']}: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
            f"PostgreSQL {m['postgresql']}, Python {m['python']}; gunicorn {report['server']['gunicorn']}"
        )
        print(table(rows))
        print(LEGEND)
        print()
        for c in checks:
            print(f"{'PASS' if c['ok'] else 'MISS'}  {c['target']}: {c['measured']}")
        if bursts:
            print(
                f"\nsubmit burst: {max(args.clients)} members submit at the same moment, {BURSTS} times; the last of "
                "them had their result after " + ", ".join(f"{b['max_ms']:.0f}" for b in bursts) + " ms"
                f" ({sum(b['errors'] for b in bursts)} errors)"
            )
        print(f"\nwritten to {os.path.relpath(args.results, ROOT)}")
        return 0
    finally:
        _stop_all()
        try:
            clear_redis_keys(args.redis_url, prefix)
        except Exception as error:  # cleanup must not hide the real outcome
            print(f"could not clear the benchmark's Redis keys: {error}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
