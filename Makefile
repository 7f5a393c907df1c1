# fecflow developer entry points. `make demo` and `make test` are the two documented commands.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help install demo test test-unit test-integration lint format docs bench clean

help:
	@echo "make demo    - install, start the embedded PostgreSQL, run the demo pipeline"
	@echo "make test    - install dev extras, run ruff, mypy and pytest"
	@echo "make lint    - ruff + mypy"
	@echo "make docs    - regenerate generated docs (docs/cli.md, docs/data/files, schema.md)"
	@echo "make bench   - performance benchmark (writes bench/results.json)"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

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

demo: $(STAMP)
	$(VENV)/bin/fecflow db start
	$(VENV)/bin/fecflow db upgrade
	$(VENV)/bin/fecflow db status

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist
