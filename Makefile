# Two commands a newcomer needs: `make run` and `make test`. Each installs what is missing first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# apt-get needs root; use sudo when we are not root.
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch first and pinned, so no dependency pulls a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# System packages the tests use: Debian's Chromium for the Mirror's browser tests (Playwright
# cannot download browsers here) and PostgreSQL 15's server binaries for the throwaway clusters.
system-deps:
	@command -v chromium >/dev/null && [ -x /usr/lib/postgresql/15/bin/initdb ] || \
	  ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium postgresql-15)

run: $(STAMP)
	$(VENV)/bin/selfmodel demo --db demo.db

# Lint and types first, fail fast: a style or type error stops before the slow tests start.
test: lint system-deps
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests scripts
	$(VENV)/bin/ruff format --check src tests scripts
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm
