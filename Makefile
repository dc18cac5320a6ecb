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
# Extra pins for the install (test-min: the lowest requests/tenacity/msgspec setup.cfg declares).
PIN_DEPS ?=
# What `make venv` installs: the package's user extras (setup.cfg) and development's dependency groups
# (pyproject.toml [dependency-groups]; not published). test-oldest leaves out openlineage: with the
# lowest requests/tenacity pins pip resolves an OpenLineage provider too old for Airflow 3.3; its tests skip.
EXTRAS ?= openlineage
GROUPS ?= test bench
# `requests>=X`, `tenacity>=Y` and `msgspec>=Z` in setup.cfg's install_requires, as `requests==X ...`.
# ([[:space:]]: an sdist's setup.cfg is rewritten by setuptools, indented with tabs.)
LOWEST_DEPS := $(shell sed -nE 's/^[[:space:]]*(requests|tenacity|msgspec)>=([0-9.]+)[[:space:]]*$$/\1==\2/p' setup.cfg)
# The docs build and the release build each have their own small venv (no Airflow in them).
DOCS_VENV ?= .venv-docs
DIST_VENV ?= .venv-dist-build

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(AIRFLOW_VERSION)$(if $(PIN_DEPS),-pinned)
# "3.2" for 3.2.2: each line's constraints file pins what newer releases of its dependencies break.
AIRFLOW_LINE = $(word 1,$(subst ., ,$(AIRFLOW_VERSION))).$(word 2,$(subst ., ,$(AIRFLOW_VERSION)))
CONSTRAINTS = constraints/airflow-$(AIRFLOW_LINE).txt

.PHONY: docs dist venv system-deps system-deps-ui system-deps-distributed test test-fast test-min test-oldest test-newest test-matrix \
	test-distributed lint demo airflow-ui bench bench-quick clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@echo ">>> installing Airflow $(AIRFLOW_VERSION) and this package into $(VENV) (a few minutes the first time)"
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) "apache-airflow==$(AIRFLOW_VERSION)" \
	  -e "$(if $(strip $(EXTRAS)),.[$(EXTRAS)],.)" $(addprefix --group ,$(GROUPS)) $(PIN_DEPS)
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
	$(BIN)/ruff check airflow_provider_gtm tests dags scripts docs $(wildcard bench)
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
	  EXTRAS= GROUPS=test PIN_DEPS="$(LOWEST_DEPS)"
	.venv-2.11-py3.10/bin/python -c "from importlib.metadata import version as v; \
	  print('test-oldest ran on', *(f'{p} {v(p)}' for p in ('apache-airflow', 'requests', 'tenacity', 'msgspec')))"

test-newest:
	$(MAKE) test-fast VENV=.venv-3.3-py3.13 PYTHON=$(PYTHON_NEWEST) AIRFLOW_VERSION=3.3.2 EXTRAS=openlineage GROUPS="test bench"

# Before a release: the fast suite on every supported line (each in its own venv; the README records
# what it showed last). 2.11 runs on the oldest Python, the others on $(PYTHON).
test-matrix:
	@for version in $(MATRIX_VERSIONS); do \
	  line=$$(echo $$version | cut -d. -f1-2); \
	  if [ $$line = 2.11 ]; then $(MAKE) test-oldest || exit 1; \
	  else $(MAKE) test-fast VENV=.venv-$$line AIRFLOW_VERSION=$$version EXTRAS= GROUPS=test || exit 1; fi; \
	done

# The fast suite on the lowest supported Airflow, requests and tenacity: the oldest leg (one venv and one
# run instead of two). The slow end-to-end tests (they start Airflow processes) run once, in `make test`.
test-min: test-oldest

# Airflow distributed: Celery with two workers, PostgreSQL, Redis and S3-compatible storage (moto), all
# started on loopback by the test and stopped after. Its own virtualenv (the `distributed` extra).
test-distributed: system-deps-distributed
	$(MAKE) venv VENV=.venv-dist EXTRAS= GROUPS="test distributed"
	.venv-dist/bin/python -m pytest tests/distributed --distributed -s $(PYTEST_ARGS)

demo:
	@echo ">>> make demo: the virtualenv $(VENV) with Airflow $(AIRFLOW_VERSION) and this package (once)"
	@$(MAKE) --no-print-directory venv
	@echo ">>> make demo: the sandbox, Airflow's database, then each sample DAG (scripts/demo.py)"
	$(BIN)/python scripts/demo.py

# The docs site (docs/, Sphinx with MyST) into docs/_build/html, warnings as errors. Its own venv with
# only the pinned `docs` dependency group: the pages include the sample DAGs' text and read the
# operators' docstrings from source (docs/_ext), so nothing of Airflow is installed or imported.
# Sphinx 9 needs Python 3.11+ (PYTHON; the default python3 here is 3.11).
docs:
	test -x $(DOCS_VENV)/bin/python || $(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install -q --upgrade pip
	$(DOCS_VENV)/bin/python -m pip install -q --group docs
	rm -rf docs/_build
	$(DOCS_VENV)/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

# A release: sdist and wheel (the wheel built from the sdist), twine's metadata check, then
# scripts/check_dist.py (LICENSE, NOTICE, py.typed and the example DAGs in the wheel; tests, docs and
# the changelog in the sdist; the wheel installed into a fresh venv with Airflow 3.3.2).
dist:
	test -x $(DIST_VENV)/bin/python || $(PYTHON) -m venv $(DIST_VENV)
	$(DIST_VENV)/bin/python -m pip install -q --upgrade pip
	$(DIST_VENV)/bin/python -m pip install -q --group dist
	rm -rf dist build
	$(DIST_VENV)/bin/python -m build --outdir dist .
	$(DIST_VENV)/bin/python -m twine check --strict dist/*
	$(DIST_VENV)/bin/python scripts/check_dist.py

airflow-ui: $(STAMP)
	$(BIN)/python scripts/demo.py --ui

bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) .venv-min .venv-dist .venv-2.11-py3.10 .venv-3.3-py3.13 .venv-3.0 .venv-3.1 .venv-3.2 .venv-3.3 \
	  .demo .airflow-home build *.egg-info dist docs/_build $(DOCS_VENV) $(DIST_VENV) .venv-dist-check
