# The two commands: `make demo` runs the demo, `make test` runs every check. Both are idempotent.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PG_TEST_URL := postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: demo test install lint pytest pytest-postgres chromium deploy-tools node clean

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(BIN)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
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

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
pytest: install node chromium deploy-tools
	@$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

pytest-postgres:
	TEST_DATABASE_URL=$(PG_TEST_URL) $(MAKE) pytest

test: lint pytest

demo: install
	@bin/demo $(PORT)

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .mypy_cache .ruff_cache
