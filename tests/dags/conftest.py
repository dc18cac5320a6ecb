"""Real Airflow on SQLite for the DAG tests: one migrated metadata DB per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate the (temporary, per test session) SQLite metadata DB once."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, env=dict(os.environ),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture
def sandbox_connections(gtm_sandbox, monkeypatch, tmp_path):
    """The four connections pointing at a fresh sandbox, and outputs under tmp_path."""
    for name, value in gtm_sandbox.connection_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AIRFLOW__GTM__OUTPUT_BASE_URI", f"file://{tmp_path}")
    # The SQL table gtm_land_community_posts lands in (the sqlite provider reads the file from the host).
    warehouse = {"conn_type": "sqlite", "host": str(tmp_path / "warehouse.db")}
    monkeypatch.setenv("AIRFLOW_CONN_GTM_WAREHOUSE", json.dumps(warehouse))
    return gtm_sandbox
