# The README's commands. A fresh clone needs Python 3.11 and the package registry, nothing else.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
PEOPLE ?= 2000
SEED ?= 42
SAMPLE := data/sample

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export DAGSTER_HOME ?= $(CURDIR)/dagster_home
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export PYTHONUNBUFFERED := 1

.PHONY: setup setup-spark java demo demo-spark test test-fast bench bench-spark dev lint clean

## setup: the environment, exactly as uv.lock pins it
setup: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# --compile-bytecode: the packages' .pyc are written once here; without them every run (and the
# dbt process it starts) compiles the sources again where Python may not write its cache
# (PYTHONDONTWRITEBYTECODE, a read-only install): about 2 s a process
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --inexact --compile-bytecode --extra dev --python $(PYTHON)
	touch $@

## setup-spark: the same with Apache Spark (the spark extra; Java 17+ from the OS packages when missing)
setup-spark: $(VENV)/.spark-synced java

$(VENV)/.spark-synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode --extra dev --extra spark --python $(PYTHON)
	touch $@ $(VENV)/.synced

# Spark 4 runs on Java 17 or 21: installed with apt when this is root, else the command to run
java:
	@if java -version 2>&1 | grep -Eq 'version "(1[7-9]|2[0-9])'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Apache Spark needs Java 17 or newer: installing it from the OS packages"; \
		apt-get update -qq && (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
			|| DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-21-jre-headless >/dev/null); \
	else \
		echo "Apache Spark needs Java 17 or newer; install it first: sudo apt-get install openjdk-17-jre-headless" >&2; \
		exit 1; \
	fi

## demo: generate the bundled sample, run the whole pipeline, print a summary
demo: setup
	$(BIN)/scrm generate --people $(PEOPLE) --seed $(SEED) --out $(SAMPLE)
	$(BIN)/scrm run

## demo-spark: the same demo with the dbt models on local Apache Spark (README, "On Apache Spark")
demo-spark: setup-spark
	$(BIN)/scrm generate --people $(PEOPLE) --seed $(SEED) --out $(SAMPLE)
	$(BIN)/scrm run --engine spark

## test: the whole test suite (what CI runs), the Spark equivalence test included
test: setup-spark
	$(BIN)/pytest

## test-fast: everything but the tests that run the whole pipeline (under a minute)
test-fast: setup
	$(BIN)/pytest -m "not slow"

## bench: N people (default 1M) end to end in benchmarks/scratch, figures per stage as JSON
bench: setup
	$(BIN)/python benchmarks/bench.py --people $(or $(BENCH_PEOPLE),1000000)

## bench-spark: N people (default 20,000) on DuckDB and on local Spark, figures per stage side by side
bench-spark: setup-spark
	$(BIN)/python benchmarks/engines.py --people $(or $(BENCH_PEOPLE),20000)

## dev: the Dagster UI on http://127.0.0.1:3000 (the manifest is written first: orchestration/project.py)
dev: setup
	$(BIN)/python -c "from orchestration.project import prepare_dbt; prepare_dbt()"
	$(BIN)/dg dev --host 127.0.0.1 --port 3000

## lint: Python (ruff) and SQL (sqlfluff, dbt templater; the identity seeds go into a scratch
## warehouse first, because the blocklist is read when the models compile)
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SCRM_DUCKDB_PATH=target/lint.duckdb DBT_TARGET_PATH=target/lint $(BIN)/dbt seed --quiet --no-partial-parse --profiles-dir dbt_project
	SCRM_DUCKDB_PATH=target/lint.duckdb DBT_TARGET_PATH=target/lint $(BIN)/sqlfluff lint dbt_project/models

clean:
	rm -rf $(VENV) $(TOOLS) target logs benchmarks/scratch data/sample data/lake data/*.duckdb* dagster_home/storage dagster_home/history dagster_home/schedules dagster_home/logs
