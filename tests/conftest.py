"""Test-wide setup: an isolated Airflow home, and the sandbox fixtures."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Before anything imports airflow: never touch the developer's ~/airflow.
_HOME = tempfile.mkdtemp(prefix="gtm-airflow-home-")
os.environ.setdefault("AIRFLOW_HOME", _HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
# dag.test() needs the sample DAGs in the configured dags folder.
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(Path(__file__).resolve().parents[1] / "dags"))

pytest_plugins = ["airflow_provider_gtm.sandbox.pytest_plugin"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--distributed", action="store_true",
                     help="run the distributed system test (make test-distributed: Celery, PostgreSQL, Redis, S3)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The distributed system test needs its own virtualenv and servers: `make test-distributed` runs it.
    if config.getoption("--distributed"):
        return
    skip = pytest.mark.skip(reason="distributed system test: run it with `make test-distributed`")
    for item in items:
        if "distributed" in item.keywords:
            item.add_marker(skip)
