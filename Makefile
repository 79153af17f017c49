# OpenCMK developer commands. The README names two of them: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test install install-python install-node install-browser lint

run: install
	$(BIN)/python scripts/run_stack.py

test: install install-browser
	bash scripts/test.sh $(PYTEST_ARGS)

install: install-python install-node

install-python: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install-node: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	npm run build
	touch $@

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser).
install-browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

lint: install-python
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .

