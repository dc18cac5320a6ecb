"""Deferrable person enrichment through Airflow's real triggerer process.

Starts ``api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` on loopback against the
sandbox, triggers ``gtm_advocates_to_customer_base`` with enrichment on, and checks that
``enrich_people`` submitted every enrichment, deferred, was resumed after the triggerer's one
trigger saw every answer complete, and wrote one line per person.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from airflow_provider_gtm.operators.base import _safe

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_ID = "gtm_advocates_to_customer_base"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_enrichments_wait_in_the_triggerer(gtm_sandbox, tmp_path):
    port = free_port()
    data = tmp_path / "data"
    env = {
        **os.environ,
        **gtm_sandbox.connection_env(),
        "AIRFLOW_HOME": str(tmp_path / "airflow-home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__GTM__OUTPUT_BASE_URI": f"file://{data}",
    }
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = []
    try:
        for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
            out = (logs / f"{name}.log").open("w")
            processes.append(subprocess.Popen([*airflow, name], env=env, stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        api = f"http://127.0.0.1:{port}/api/v2"

        def dag_ready():
            try:
                return requests.get(f"{api}/dags/{DAG_ID}", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(dag_ready, 180, "the api-server and the parsed DAG")
        requests.patch(f"{api}/dags/{DAG_ID}", json={"is_paused": False}, timeout=10).raise_for_status()
        conf = {"source": "leads", "max_people": 6, "enrich_people": True, "max_enrichments": 3}
        response = requests.post(f"{api}/dags/{DAG_ID}/dagRuns", json={"conf": conf, "logical_date": None},
                                 timeout=10)
        assert response.status_code in (200, 201), response.text
        run_id = response.json()["dag_run_id"]

        def finished():
            state = requests.get(f"{api}/dags/{DAG_ID}/dagRuns/{run_id}", timeout=10).json()["state"]
            return state if state in ("success", "failed") else None

        assert wait_for(finished, 300, "the DAG run to finish") == "success"
        ti = requests.get(f"{api}/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/enrich_people", timeout=10).json()
        assert ti["state"] == "success" and ti["try_number"] == 1
        log_files = [p for p in (tmp_path / "airflow-home" / "logs").rglob("*")
                     if p.is_file() and "enrich_people" in str(p)]
        task_logs = "\n".join(p.read_text(errors="replace") for p in log_files)
        assert "Deferring: the triggerer waits for the 3 pending answers together" in task_logs, task_logs[-5000:]
        # The triggerer writes what it ran for the task into the task's log.
        assert f'"event":"trigger {DAG_ID}/{run_id}' in task_logs, task_logs[-5000:]
        enrichments = gtm_sandbox.state()["apis"]["customeros"]["enrichments"]
        assert len(enrichments) == 3 and all(e["complete"] for e in enrichments.values())
        # Unpausing also lets the scheduler start a scheduled run (enrichment off): take the triggered run's file.
        (output,) = data.glob(f"{DAG_ID}/{_safe(run_id)}/enrich_people/records.jsonl")
        rows = [json.loads(line) for line in output.read_text().splitlines()]
        assert len(rows) == 3 and all(row["result"].get("isComplete", True) is not False for row in rows)
        assert not list(data.glob(f"{DAG_ID}/*/enrich_people/*.submitted.jsonl"))
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
