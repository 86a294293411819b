# quizsite: `make run` to try it, `make test` for the whole suite. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Each checkout gets its own test database and Redis key space, so two clones can test side by side.
CHECKOUT_ID := $(shell printf '%s' "$(CURDIR)" | md5sum | cut -c1-8)
# The tests connect as quizsite_app, an ordinary role (scripts/ensure-test-services.sh creates it): a superuser
# would skip the row-level security policies the suite must run under.
TEST_DATABASE_URL ?= postgres://quizsite_app@127.0.0.1:5432/quizsite_$(CHECKOUT_ID)
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: run test lint bench venv services clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:8000

services:
	@bash scripts/ensure-test-services.sh

test: venv services
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" CACHE_KEY_PREFIX="qs-$(CHECKOUT_ID)" \
		DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest $(PYTEST_ARGS)

# The benchmark owns its database (dropped and reseeded each run; the name must contain "bench") and stops
# everything it starts. Not part of `make test`: timings belong in bench/results.json, not in assertions.
# Served as quizsite_app, like production, so the benchmark pays for row-level security.
BENCH_DATABASE_URL ?= postgres://quizsite_app@127.0.0.1:5432/quizsite_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/1
BENCH_ARGS ?=

bench: venv services
	BENCH_DATABASE_URL="$(BENCH_DATABASE_URL)" BENCH_REDIS_URL="$(BENCH_REDIS_URL)" $(PY) -m bench.run $(BENCH_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 .pytest_cache
