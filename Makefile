# Parley: `make run` serves the demo, `make test` runs the whole suite.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

# The first Python >= 3.12 found (`python3` honours .python-version under pyenv).
PYTHON := $(shell for p in python3 python3.13 python3.12 python; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; \
	then echo $$p; break; fi; done)

# Local use: debug on, a development key, the SQLite file unless DATABASE_URL says otherwise.
LOCAL_ENV := DEBUG=$${DEBUG:-1}

# `make serve`: gunicorn workers (WORKERS=4 make serve), each a process of its own.
WORKERS ?= 2

.PHONY: pg-server redis-server help install run serve test lint format bench clean

help:
	@echo "make run    - set up (venv, install, migrate, demo data) and serve on http://$(HOST):$(PORT)"
	@echo "make serve  - production-like: DEBUG off, migrate, collectstatic, gunicorn on $(HOST):$(PORT) (needs SECRET_KEY)"
	@echo "make test   - run the whole test suite (SQLite, or PostgreSQL when DATABASE_URL is set)"
	@echo "make lint   - ruff check and format check"
	@echo "make bench  - page, import, HTTP and browser figures at 100 and 10,000 rounds, against their targets"
	@echo "make format - apply ruff's fixes and formatting"

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then echo "Parley needs Python 3.12 or newer: install python3.13 (or 3.12) and run make again."; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changed.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

# axe-core, for the accessibility checks of the browser tests.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The browser tests drive Debian's Chromium (Playwright's own download does not work here).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "The browser tests need Chromium: sudo apt-get install chromium"; exit 1; fi

# The outage test starts a throwaway PostgreSQL cluster of its own: it needs the server
# binaries (initdb, pg_ctl) and the postgres system user, which Debian's package brings.
PG_SERVER := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))
pg-server:
	@if [ -z "$(PG_SERVER)" ] || ! id postgres >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
		else echo "The outage test needs PostgreSQL's server: sudo apt-get install postgresql"; exit 1; fi; \
	fi

# The shared cache test starts a throwaway Redis of its own: it needs redis-server.
redis-server:
	@if ! command -v redis-server >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
		else echo "The shared cache test needs Redis's server: sudo apt-get install redis-server"; exit 1; fi; \
	fi

install: $(VENV)/.installed node_modules/.installed $(CHROMIUM) pg-server redis-server

run: $(VENV)/.installed
	$(LOCAL_ENV) $(BIN)/python manage.py migrate --no-input
	$(LOCAL_ENV) $(BIN)/python manage.py setup_roles
	$(LOCAL_ENV) $(BIN)/python manage.py load_demo
	$(LOCAL_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production-like serving: DEBUG off whatever the environment says, every other setting
# from the environment. SECRET_KEY must be set (no throwaway key: several servers, or a
# restart, must share one); ALLOWED_HOSTS defaults to this machine's loopback names, which
# lets a local try-out through and turns away every other host. To try it on plain HTTP:
#   SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))') \
#   SECURE_SSL_REDIRECT=0 make serve
serve: $(VENV)/.installed
	@if [ -z "$$SECRET_KEY" ]; then \
		echo "make serve needs SECRET_KEY (the same on every server). For a local try:"; \
		echo "  SECRET_KEY=\$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))') SECURE_SSL_REDIRECT=0 make serve"; \
		exit 1; fi
	export DEBUG=0 ALLOWED_HOSTS="$${ALLOWED_HOSTS:-localhost,127.0.0.1,[::1]}" && \
	$(BIN)/python manage.py migrate --no-input && \
	$(BIN)/python manage.py collectstatic --no-input && \
	exec $(BIN)/gunicorn config.wsgi --workers $(WORKERS) --bind $(HOST):$(PORT) \
		--no-control-socket --access-logfile -

test: install
	@# CONN_MAX_AGE=0: the live server's request threads must not keep connections open
	$(LOCAL_ENV) CONN_MAX_AGE=0 CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest $(PYTEST_ARGS)

# The report alone on stdout (progress on stderr), also written to benchmarks/latest.md.
bench: $(VENV)/.installed
	@$(LOCAL_ENV) $(BIN)/python benchmarks/run.py

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
