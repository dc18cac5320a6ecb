# Two commands for a newcomer: `make demo` (set up and run the sample DAGs against the bundled
# sandbox) and `make test` (set up and run the whole test suite). Both create the virtualenv first.
PYTHON ?= python3
VENV ?= .venv
AIRFLOW_VERSION ?= 3.3.2
# The lowest Airflow version the provider supports; CI runs the suite on it too.
AIRFLOW_MIN_VERSION ?= 3.3.0
PYTEST_ARGS ?=
# Extra pins for the install (test-min: the lowest requests/tenacity setup.cfg declares).
PIN_DEPS ?=
# What `make venv` installs from setup.cfg. test-min leaves out openlineage: with the lowest
# requests/tenacity pins pip resolves an OpenLineage provider too old for Airflow 3.3; its tests skip.
EXTRAS ?= test,bench,openlineage
# `requests>=X` and `tenacity>=Y` in setup.cfg's install_requires, as `requests==X tenacity==Y`.
LOWEST_DEPS := $(shell sed -nE 's/^ *(requests|tenacity)>=([0-9.]+) *$$/\1==\2/p' setup.cfg)

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(AIRFLOW_VERSION)$(if $(PIN_DEPS),-pinned)

.PHONY: venv system-deps system-deps-distributed test test-min test-distributed lint demo airflow-ui bench bench-quick clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "apache-airflow==$(AIRFLOW_VERSION)" -e ".[$(EXTRAS)]" $(PIN_DEPS)
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Servers some tests start on loopback (Debian packages): redis-server for the redis:// limiter backend.
system-deps:
	@command -v redis-server >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q redis-server; \
	  else sudo apt-get update -q && sudo apt-get install -y -q redis-server; fi; }

# PostgreSQL too, for the distributed system test (its metadata database).
system-deps-distributed: system-deps
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q postgresql; \
	  else sudo apt-get update -q && sudo apt-get install -y -q postgresql; fi; }

lint: $(STAMP)
	$(BIN)/ruff check airflow_provider_gtm tests dags scripts $(wildcard bench)
	$(BIN)/python -m mypy airflow_provider_gtm

test: lint system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite on the lowest supported Airflow, requests and tenacity, in its own virtualenv.
# The slow end-to-end tests (they start Airflow processes) run once, in `make test`.
test-min:
	$(MAKE) test VENV=.venv-min AIRFLOW_VERSION=$(AIRFLOW_MIN_VERSION) PIN_DEPS="$(LOWEST_DEPS)" EXTRAS=test,bench \
	  PYTEST_ARGS="-m 'not slow' $(PYTEST_ARGS)"
	.venv-min/bin/python -c "from importlib.metadata import version as v; \
	  print('test-min ran on', *(f'{p} {v(p)}' for p in ('apache-airflow', 'requests', 'tenacity')))"

# Airflow distributed: Celery with two workers, PostgreSQL, Redis and S3-compatible storage (moto), all
# started on loopback by the test and stopped after. Its own virtualenv (the `distributed` extra).
test-distributed: system-deps-distributed
	$(MAKE) venv VENV=.venv-dist EXTRAS=test,distributed
	.venv-dist/bin/python -m pytest tests/distributed --distributed -s $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

airflow-ui: $(STAMP)
	$(BIN)/python scripts/demo.py --ui

bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) .venv-min .venv-dist .demo .airflow-home build *.egg-info
