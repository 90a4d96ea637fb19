# One entry point for people and CI. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo serve-demo test lint typecheck unit install requirements bench clean chromium

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# The deep extra (PyTorch, CPU build) is installed too so that CI tests the sequence model,
# and the scale extra (Dask) so that CI tests `--engine dask` on a real local cluster.
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[dev,deep,scale]'
	touch $(STAMP)

install: $(STAMP) chromium

# The report test renders report.html in Debian's headless Chromium (never a downloaded browser).
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "chromium is missing: install Debian's chromium package (the report test skips without it)"; \
		fi; \
	fi

demo: $(STAMP)
	$(VENV)/bin/loanrecovery run --out out/run

# The recovery service on the built-in book: a fresh SQLite file, the book imported and then
# scored and planned by the monthly `refresh` (which fits the bundle on the stored book), one
# manager whose token is printed, then `serve` on http://127.0.0.1:8000 (docs/service.md).
DEMO_DB := sqlite:///out/service-demo.db
serve-demo: $(STAMP)
	mkdir -p out && rm -f out/service-demo.db out/service-demo.db-wal out/service-demo.db-shm
	$(VENV)/bin/loanrecovery db upgrade --db $(DEMO_DB)
	$(VENV)/bin/loanrecovery users add demo-collector --role collector --db $(DEMO_DB) > out/collector.token
	$(VENV)/bin/loanrecovery import --db $(DEMO_DB) --rejects out/import-rejects
	$(VENV)/bin/loanrecovery refresh --db $(DEMO_DB) --bundle-out out/demo.bundle
	$(VENV)/bin/loanrecovery users add demo-manager --role manager --db $(DEMO_DB) | tail -1 > out/manager.token
	@echo "manager token: $$(cat out/manager.token)  (also in out/manager.token)"
	@echo "collector token: $$(tail -1 out/collector.token)"
	$(VENV)/bin/loanrecovery serve --db $(DEMO_DB) --bundle out/demo.bundle

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks main.py scripts
	$(VENV)/bin/ruff format --check src tests benchmarks main.py scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP) chromium
	$(VENV)/bin/pytest

test: lint typecheck unit

requirements: $(STAMP)
	$(PY) scripts/make_requirements.py > requirements.txt

# The bench extra (CatBoost, only for bench_auc_ceiling.py) is installed once, like dev.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[dev,deep,scale,bench]'
	touch $(BENCH_STAMP)

bench: $(STAMP) $(BENCH_STAMP)
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
