# fecflow developer entry points. `make demo` and `make test` are the two documented commands.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
RUNTIME_STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

# The demo backfills the bundled real 2020 FEC sample from a local mirror (no network).
DEMO_MIRROR := file://$(CURDIR)/tests/fixtures/bulk
DEMO_FILES := cm,cn,ccl,indiv,pas2,oth,weball,webk,webl
CYCLES ?= 2020
FILES ?= cm,cn,ccl,indiv,pas2,oth
BENCH_ROWS ?= 2000000
FECFLOW := $(VENV)/bin/fecflow

.PHONY: help install demo serve test test-unit test-integration lint format docs docs-check bench bench-scale bench-explorer wrk calibrate clean \
	ingest-backfill ingest-daily replay-range

help:
	@echo "make demo    - install, start the embedded PostgreSQL, run the demo pipeline"
	@echo "make serve   - the score explorer on http://127.0.0.1:8000/ (after make demo)"
	@echo "make test    - install dev extras, run ruff, mypy and pytest"
	@echo "make lint    - ruff + mypy"
	@echo "make docs    - regenerate generated docs (docs/cli.md, docs/data/files, schema.md, counting-rules.md)"
	@echo "make docs-check - fail when a generated doc is stale (what tests/meta checks)"
	@echo "make bench   - performance benchmark (writes bench/results.json; BENCH_ROWS=$(BENCH_ROWS))"
	@echo "make bench-scale - backfill and its steps at SCALES=2000000,8000000,16000000 rows (log-log slopes; bench/scale.json; about 45 min and 25 GB of disk; SCALES=500000,1000000 for a quick look)"
	@echo "make bench-explorer - only the explorer row (bench/explorer.json: page p50/p95, 50 clients for 30 s, a crawl of first views)"
	@echo "make calibrate - leaning intervals on simulated data with known truth (bench/calibration.json)"
	@echo "make ingest-backfill CYCLES=2016-2020 [FILES=...]  - fecflow backfill"
	@echo "make ingest-daily                                  - fecflow ingest-daily"
	@echo "make replay-range START=YYYY-MM-DD END=YYYY-MM-DD   - fecflow replay-range"

# Runtime install for the demo; dev extras (pytest, ruff, mypy, moto, ...) for tests and lint.
$(RUNTIME_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e . 2>&1 | grep -v '^WARNING: Location' || true
	@$(PY) -c 'import fecflow' && touch $(RUNTIME_STAMP)

$(STAMP): pyproject.toml $(RUNTIME_STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
	@$(VENV)/bin/pytest --version >/dev/null && touch $(STAMP)

install: $(RUNTIME_STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests scripts $(wildcard bench)
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(VENV)/bin/pytest -q tests/unit tests/meta $(PYTEST_ARGS)

test-integration: $(STAMP)
	$(VENV)/bin/pytest -q tests/integration tests/e2e $(PYTEST_ARGS)

format: $(STAMP)
	$(VENV)/bin/ruff format src tests scripts $(wildcard bench)
	$(VENV)/bin/ruff check --fix src tests scripts $(wildcard bench)

docs: $(STAMP)
	$(PY) scripts/gen_docs.py

docs-check: $(STAMP)
	$(PY) scripts/gen_docs.py --check

demo: $(RUNTIME_STAMP)
	$(FECFLOW) db start
	$(FECFLOW) db upgrade
	FECFLOW_BULK_BASE_URL=$(DEMO_MIRROR) $(FECFLOW) backfill --cycles 2020 --files $(DEMO_FILES) --as-of 2019-03-31
	$(FECFLOW) scores compute --from 2019-01-31 --to 2019-03-31 --every month
	$(FECFLOW) report summary
	@echo "Explore the scores: make serve, then open http://127.0.0.1:8000/"

serve: $(RUNTIME_STAMP)
	$(FECFLOW) serve $(SERVE_ARGS)

ingest-backfill: $(RUNTIME_STAMP)
	$(FECFLOW) db upgrade
	$(FECFLOW) backfill --cycles $(CYCLES) --files $(FILES)

ingest-daily: $(RUNTIME_STAMP)
	$(FECFLOW) db upgrade
	$(FECFLOW) ingest-daily

replay-range: $(RUNTIME_STAMP)
	@test -n "$(START)" -a -n "$(END)" || { echo "usage: make replay-range START=YYYY-MM-DD END=YYYY-MM-DD"; exit 2; }
	$(FECFLOW) replay-range --start $(START) --end $(END)

# The bench extra (pandas, for the peer_pandas row) is installed for make bench only.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]' 2>&1 | grep -v '^WARNING: Location' || true
	@$(PY) -c 'import pandas' && touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) wrk
	$(PY) bench/run.py --rows $(BENCH_ROWS)

# Cost growth (issue #18): backfill and each step at several scales, with realistic vocabulary growth.
SCALES ?= 2000000,8000000,16000000
bench-scale: $(STAMP)
	$(PY) bench/scale.py --scales $(SCALES)

bench-explorer: $(STAMP) wrk
	$(PY) bench/run.py --explorer-only

# The explorer's load row uses wrk (a C load client) when it is installed: a Python client would
# spend most of the 2 cores it shares with the server. Installed here when run as root with apt.
wrk:
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
	  echo "wrk not found (Debian/Ubuntu: apt-get install wrk): the load row uses the Python client"

calibrate: $(STAMP)
	$(PY) bench/sim.py

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist
