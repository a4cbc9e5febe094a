# The two commands: `make demo` runs the demo, `make test` runs every check. Both are idempotent.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PG_TEST_URL := postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: demo test install lint pytest pytest-postgres chromium deploy-tools java node clean

# No pip upgrade and no bytecode compiled at install: Python compiles what it imports, when it
# imports it, and both cost CI more time than they save.
$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -e '.[dev]'
	@touch $@

install: $(BIN)/.installed

# npm's own cache first: a package it already holds is not fetched again.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent --ignore-scripts --prefer-offline
	@touch $@

node: node_modules/.installed

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	fi

# The deployment tests run Debian's nginx in front of the app, with a certificate from openssl.
deploy-tools:
	@if [ ! -x /usr/sbin/nginx ] || ! command -v openssl >/dev/null; then \
		echo "Installing Debian's nginx and openssl for the deployment tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx openssl >/dev/null; \
	fi

# The Nu HTML checker (npm vnu-jar) checks every page the browser tests visit; it runs on Java.
java:
	@if ! command -v java >/dev/null 2>&1; then \
		echo "Installing Debian's Java runtime for the Nu HTML checker"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq default-jre-headless >/dev/null; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The suite runs on PYTEST_WORKERS processes (pytest-xdist; each has its own SQLite file or
# PostgreSQL database). PYTEST_WORKERS=0 runs it in this process, PYTEST_ARGS adds options.
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
# The PostgreSQL pass runs every test that opens the database, except the browser suite (the
# same pages, already driven on SQLite) unless a browser test says it needs PostgreSQL.
PG_MARKERS := database and (not browser or postgres_only)

# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
define run_pytest
	@$(1) $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(2) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc
endef

pytest: install node chromium deploy-tools java
	$(call run_pytest,,)

# TEST_DATABASE_URL names the database; each test process uses its own copy (`test_gw0`, ...).
pytest-postgres: install node chromium deploy-tools java
	$(call run_pytest,TEST_DATABASE_URL=$${TEST_DATABASE_URL:-$(PG_TEST_URL)},-m "$(PG_MARKERS)")

test: lint pytest

demo: install
	@bin/demo $(PORT)

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .mypy_cache .ruff_cache
