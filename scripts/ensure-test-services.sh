#!/usr/bin/env bash
# Make sure what `make test` needs is running: PostgreSQL and Redis on 127.0.0.1, Debian's Chromium.
# Starts services that are installed but stopped; says clearly what is missing otherwise.
set -uo pipefail
missing=()

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is not answering on 127.0.0.1:5432: starting it."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  pg_up || missing+=("PostgreSQL on 127.0.0.1:5432 (Debian: apt-get install postgresql; trust auth for user postgres)")
fi

if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "Redis is not answering on 127.0.0.1:6379: starting it."
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
    for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
  fi
  redis_up || missing+=("Redis on 127.0.0.1:6379 (Debian: apt-get install redis-server)")
fi

# The application's role: an ordinary one (superusers and BYPASSRLS roles skip row-level security), so the
# tests and the benchmark run with the policies in force. CREATEDB: pytest-django creates test_<name>.
if pg_up; then
  psql -q -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL' \
    || missing+=("the PostgreSQL role quizsite_app (could not create it as user postgres)")
DO $$
DECLARE
  leftover record;
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'quizsite_app') THEN
    CREATE ROLE quizsite_app LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS;
  ELSE
    ALTER ROLE quizsite_app LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS;
  END IF;
  -- Test and benchmark databases an older checkout made as postgres: quizsite_app must own them to drop
  -- and recreate them.
  FOR leftover IN
    SELECT d.datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
     WHERE (d.datname LIKE 'quizsite\_%' OR d.datname LIKE 'test\_quizsite\_%') AND r.rolname <> 'quizsite_app'
  LOOP
    EXECUTE format('ALTER DATABASE %I OWNER TO quizsite_app', leftover.datname);
  END LOOP;
END
$$;
SQL
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "Chromium is missing: installing Debian's chromium for the browser tests."
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/tmp/quizsite-chromium.log 2>&1 \
      || { tail -n 20 /tmp/quizsite-chromium.log; }
  else
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || true
  fi
  [ -x /usr/bin/chromium ] || missing+=("Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "make test cannot run; missing:" >&2
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  exit 1
fi
echo "Test services ready: PostgreSQL 127.0.0.1:5432 (role quizsite_app), Redis 127.0.0.1:6379, /usr/bin/chromium."
