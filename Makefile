# Two commands for a fresh machine: `make run` and `make test`. Both are safe to repeat.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export FLASK_APP := wsgi

.PHONY: run test lint types unit system-packages bench bench-load bench-scale

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.app: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[postgresql]'
	touch $@

$(VENV)/.test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# A local configuration with its own secret key; cookies without the Secure flag because the
# trial server speaks plain HTTP on 127.0.0.1. Behind HTTPS, set them back to True.
instance/config.py: | instance/config.example.py
	sed -e "s/^SECRET_KEY = .*/SECRET_KEY = \"$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')\"/" \
	    -e "s|^AUDIT_KEY_FILE = .*|AUDIT_KEY_FILE = \"$(CURDIR)/instance/audit.key\"|" \
	    -e "s/^SESSION_COOKIE_SECURE = True/SESSION_COOKIE_SECURE = False/" \
	    -e "s/^REMEMBER_COOKIE_SECURE = True/REMEMBER_COOKIE_SECURE = False/" \
	    -e "s/^DEMO = False/DEMO = True/" \
	    instance/config.example.py > $@

# The audit trail's key for the trial; in production keep it off the database's machine.
instance/audit.key:
	umask 077 && echo "1 $$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')" > $@

# The demo company's WHMCS, Matomo and Kayako stand-ins run beside the app and stop with it;
# `flask serve` forks the job consumer from the web process.
run: $(VENV)/.app instance/config.py instance/audit.key
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed
	$(BIN)/flask demo standins & standins=$$!; \
	    trap 'kill $$standins' EXIT INT TERM; \
	    $(BIN)/flask serve --host 127.0.0.1 --port 5000

# PostgreSQL (a second backend for the same tests), Redis (rate limits and jobs in the
# production shape), Chromium (browser tests) and Pango (the answer as PDF) from Debian.
system-packages:
	@if ! command -v chromium >/dev/null || ! command -v redis-server >/dev/null \
	        || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	        || ! ldconfig -p | grep -q libpangoft2-1.0; then \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql redis-server \
	        chromium libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; \
	fi

lint: $(VENV)/.test
	$(BIN)/ruff check .

types: $(VENV)/.test
	$(BIN)/mypy dsr workflows

# Two workers: each starts its own PostgreSQL server and browser. The production shape's tests
# share one gunicorn (xdist_group), so they all run on one worker.
unit: $(VENV)/.test system-packages
	$(BIN)/pytest -n 2 --dist loadgroup

test: lint types unit

bench: $(VENV)/.app
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/timing.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/lookup.py
	$(BIN)/python bench/access.py
	$(BIN)/python bench/corrections.py
	$(BIN)/python bench/policy.py

# The production shape under load (not part of `make test`): about a minute on 2 cores.
bench-load: $(VENV)/.test system-packages
	$(BIN)/python bench/load.py

# The targets of scale (not part of `make test`): a heavy subject, the queue page at 100,000
# requests, the embedded system's memory, an answer of 100,000 findings, and verify on
# PostgreSQL; about 12 minutes on 2 cores.
bench-scale: $(VENV)/.test system-packages
	$(BIN)/python bench/heavy.py --growth
	$(BIN)/python bench/queue_page.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/answer.py
	$(BIN)/python bench/verify.py --postgresql
