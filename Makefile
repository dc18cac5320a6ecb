# Two commands for a newcomer: `make demo` (set up and run the sample DAGs against the bundled
# sandbox) and `make test` (set up and run the whole test suite). Both create the virtualenv first.
PYTHON ?= python3
VENV ?= .venv
AIRFLOW_VERSION ?= 3.3.2
# The lowest supported Airflow (setup.cfg's floor): CI's oldest leg runs it on the oldest Python with the
# lowest requests and tenacity (test-oldest; test-min is the same leg).
AIRFLOW_MIN_VERSION ?= 2.11.2
# The release of each supported Airflow line that test-matrix runs (the README's install commands).
MATRIX_VERSIONS ?= 2.11.2 3.0.6 3.1.8 3.2.2 3.3.2
# The interpreters of the oldest and the newest CI leg (pyenv's, else whatever is on PATH).
PYTHON_OLDEST ?= $(firstword $(wildcard /root/.pyenv/versions/3.10.*/bin/python) python3.10)
PYTHON_NEWEST ?= $(firstword $(wildcard /root/.pyenv/versions/3.13.*/bin/python) python3.13)
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
# "3.2" for 3.2.2: each line's constraints file pins what newer releases of its dependencies break.
AIRFLOW_LINE = $(word 1,$(subst ., ,$(AIRFLOW_VERSION))).$(word 2,$(subst ., ,$(AIRFLOW_VERSION)))
CONSTRAINTS = constraints/airflow-$(AIRFLOW_LINE).txt

.PHONY: venv system-deps system-deps-ui system-deps-distributed test test-fast test-min test-oldest test-newest test-matrix \
	test-distributed lint demo airflow-ui bench bench-quick clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml $(CONSTRAINTS)
	@echo "Installing Airflow $(AIRFLOW_VERSION) and the provider into $(VENV) (a few minutes the first time)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) "apache-airflow==$(AIRFLOW_VERSION)" -e ".[$(EXTRAS)]" $(PIN_DEPS)
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Servers some tests start on loopback (Debian packages): redis-server for the redis:// limiter backend.
system-deps:
	@command -v redis-server >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q redis-server; \
	  else sudo apt-get update -q && sudo apt-get install -y -q redis-server; fi; }

# Headless Chromium and its driver from Debian, for the browser tests of the trigger forms and the
# Test button (`make test`; a test tool's own browser download needs the internet).
system-deps-ui:
	@{ test -x /usr/bin/chromium && test -x /usr/bin/chromedriver; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium chromium-driver; \
	  else sudo apt-get update -q && sudo apt-get install -y -q chromium chromium-driver; fi; }

# PostgreSQL too, for the distributed system test (its metadata database).
system-deps-distributed: system-deps
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q postgresql; \
	  else sudo apt-get update -q && sudo apt-get install -y -q postgresql; fi; }

lint: $(STAMP)
	$(BIN)/ruff check airflow_provider_gtm tests dags scripts $(wildcard bench)
	$(BIN)/python -m mypy airflow_provider_gtm

test: lint system-deps system-deps-ui
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite without the slow end-to-end tests (they start Airflow processes), on whatever VENV holds.
test-fast: $(STAMP) system-deps
	$(BIN)/python -m pytest -m 'not slow' $(PYTEST_ARGS)
	$(BIN)/python -c "import sys, airflow; print('test-fast ran on Airflow', airflow.__version__, 'Python', sys.version.split()[0])"

# CI's version legs: the oldest supported Airflow (with the lowest requests and tenacity setup.cfg
# declares) on the oldest Python, the newest line on the newest Python.
test-oldest:
	$(MAKE) test-fast VENV=.venv-2.11-py3.10 PYTHON=$(PYTHON_OLDEST) AIRFLOW_VERSION=$(AIRFLOW_MIN_VERSION) \
	  EXTRAS=test PIN_DEPS="$(LOWEST_DEPS)"
	.venv-2.11-py3.10/bin/python -c "from importlib.metadata import version as v; \
	  print('test-oldest ran on', *(f'{p} {v(p)}' for p in ('apache-airflow', 'requests', 'tenacity')))"

test-newest:
	$(MAKE) test-fast VENV=.venv-3.3-py3.13 PYTHON=$(PYTHON_NEWEST) AIRFLOW_VERSION=3.3.2 EXTRAS=test,bench,openlineage

# Before a release: the fast suite on every supported line (each in its own venv; the README records
# what it showed last). 2.11 runs on the oldest Python, the others on $(PYTHON).
test-matrix:
	@for version in $(MATRIX_VERSIONS); do \
	  line=$$(echo $$version | cut -d. -f1-2); \
	  if [ $$line = 2.11 ]; then $(MAKE) test-oldest || exit 1; \
	  else $(MAKE) test-fast VENV=.venv-$$line AIRFLOW_VERSION=$$version EXTRAS=test || exit 1; fi; \
	done

# The fast suite on the lowest supported Airflow, requests and tenacity: the oldest leg (one venv and one
# run instead of two). The slow end-to-end tests (they start Airflow processes) run once, in `make test`.
test-min: test-oldest

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
	rm -rf $(VENV) .venv-min .venv-dist .venv-2.11-py3.10 .venv-3.3-py3.13 .venv-3.0 .venv-3.1 .venv-3.2 .venv-3.3 \
	  .demo .airflow-home build *.egg-info
