# Aegis: `make demo` and `make test` are the two commands a fresh machine needs.
# Both install what is missing (venv, jars, PostgreSQL, Prometheus) and are safe to re-run.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
AEGIS  := $(VENV)/bin/aegis
PYTEST := $(VENV)/bin/pytest

.PHONY: install stack demo test lint unit integration rules bench down clean

install: $(VENV)/.installed

# one resolve for every Python dependency (apache-beam pins cloudpickle; a second resolve breaks PyFlink)
$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (set PYTHON=... to another 3.11 interpreter)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

stack: install
	$(AEGIS) stack up

demo: stack
	$(AEGIS) demo

lint: install
	$(VENV)/bin/ruff check .

unit: install
	$(PYTEST) -q tests/unit

rules: install
	$(PYTEST) -q tests/unit -k "monitoring or rules"

# integration tests bring the stack up themselves (once per session) and reuse it when healthy
integration: install
	$(PYTEST) -q tests/integration

test: install lint
	$(PYTEST) -q tests

bench: stack
	$(PY) benchmarks/ingest.py

down:
	-$(AEGIS) stack down

clean: down
	rm -rf .aegis $(VENV)
