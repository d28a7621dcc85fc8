# closedloop: the two commands are `make demo` and `make test`.
# Everything else is bootstrapped here from a machine that only has python3.

PY ?= python3
UV := $(PY) -m uv
RUN := $(UV) run --frozen
# use the OS trust store (TLS goes through a re-signing proxy on some machines)
export UV_SYSTEM_CERTS ?= 1
# machines set PYTHONDONTWRITEBYTECODE=1: without compiled bytecode every process re-compiles the stack
export UV_COMPILE_BYTECODE ?= 1
export RUNTIME__DLTHUB_TELEMETRY ?= false
export DO_NOT_TRACK ?= 1
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export WAREHOUSE_PATH ?= $(CURDIR)/warehouse.duckdb
export CLOSEDLOOP_WORLD ?= $(CURDIR)/data/world
PEOPLE ?= 20000
SEED ?= 42
BENCH_PEOPLE ?= 100000,1000000
BENCH_IDENTITY_PEOPLE ?= 1000000
BENCH_MARTS_PEOPLE ?= 1000000

.PHONY: bootstrap sync lint format test test-fast demo dev bench clean

bootstrap:
	@$(UV) --version >/dev/null 2>&1 || $(PY) -m pip install --quiet "uv>=0.13,<0.14"

sync: bootstrap
	$(UV) sync --frozen

lint: sync
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) python -m orchestration.lint_sql

format: sync
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

test: sync
	$(RUN) pytest -q -ra

demo: sync
	$(RUN) closedloop demo --people $(PEOPLE) --seed $(SEED)

dev: sync
	$(RUN) closedloop dev

bench: sync
	$(RUN) python -m benchmarks.run --people $(BENCH_PEOPLE)
	$(RUN) python -m benchmarks.identity --people $(BENCH_IDENTITY_PEOPLE)
	$(RUN) python -m benchmarks.clv --people 1000000 --customers 1000000
	$(RUN) python -m benchmarks.marts --people $(BENCH_MARTS_PEOPLE)

clean:
	rm -rf data .dlt_pipelines warehouse.duckdb warehouse.duckdb.wal dbt_project/target dbt_project/logs
