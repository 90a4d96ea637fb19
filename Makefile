# One entry point for people and CI. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck unit install requirements bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# The deep extra (PyTorch, CPU build) is installed too so that CI tests the sequence model.
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[dev,deep]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/loanrecovery run --out out

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks main.py scripts
	$(VENV)/bin/ruff format --check src tests benchmarks main.py scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest

test: lint typecheck unit

requirements: $(STAMP)
	$(PY) scripts/make_requirements.py > requirements.txt

# The bench extra (CatBoost, only for bench_auc_ceiling.py) is installed once, like dev.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[dev,deep,bench]'
	touch $(BENCH_STAMP)

bench: $(STAMP) $(BENCH_STAMP)
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
