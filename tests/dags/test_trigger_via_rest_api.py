"""What a person in the UI does: Airflow's own processes on loopback, a trigger with a form's conf.

Starts ``airflow api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` against a fresh
SQLite home and the sandbox, triggers ``gtm_publish_campaign`` through the public REST API with a
``conf`` built from its Params, waits for the run, checks its state and what the sandbox now holds,
and stops every process it started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_ID = "gtm_publish_campaign"

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


def test_trigger_a_sample_dag_through_the_rest_api(gtm_sandbox, tmp_path):
    port = free_port()
    home = tmp_path / "airflow-home"
    env = {
        **os.environ,
        **gtm_sandbox.connection_env(),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__GTM__OUTPUT_BASE_URI": f"file://{tmp_path / 'data'}",
    }
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = []
    try:
        for name, args in (("api-server", ["api-server", "--port", str(port), "--host", "127.0.0.1"]),
                           ("scheduler", ["scheduler"]), ("dag-processor", ["dag-processor"]),
                           ("triggerer", ["triggerer"])):
            out = (logs / f"{name}.log").open("w")
            processes.append(subprocess.Popen([*airflow, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        api = f"http://127.0.0.1:{port}/api/v2"

        def dag_ready():
            try:
                response = requests.get(f"{api}/dags/{DAG_ID}", timeout=5)
            except requests.ConnectionError:
                return False
            return response.status_code == 200

        wait_for(dag_ready, 180, "the api-server and the parsed DAG")
        requests.patch(f"{api}/dags/{DAG_ID}", json={"is_paused": False}, timeout=10).raise_for_status()
        conf = {"campaign_name": "From the UI", "network": "Twitter", "message": "Triggered over REST",
                "start_time": "2030-06-01T09:00:00+00:00", "post_status": "draft"}
        response = requests.post(f"{api}/dags/{DAG_ID}/dagRuns", json={"conf": conf, "logical_date": None},
                                 timeout=10)
        assert response.status_code in (200, 201), response.text
        run_id = response.json()["dag_run_id"]

        def finished():
            state = requests.get(f"{api}/dags/{DAG_ID}/dagRuns/{run_id}", timeout=10).json()["state"]
            return state if state in ("success", "failed") else None

        assert wait_for(finished, 300, "the DAG run to finish") == "success"
        tasks = requests.get(f"{api}/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", timeout=10).json()
        assert {t["task_id"]: t["state"] for t in tasks["task_instances"]}["create_campaign"] == "success"
        okto = gtm_sandbox.state()["apis"]["oktopost"]
        (campaign,) = okto["campaigns"].values()
        # The task's extra link, as the UI gets it: computed from the XCom's ids when the task ended.
        links = requests.get(f"{api}/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/create_campaign/links",
                             timeout=10).json()
        assert links["extra_links"] == {"Oktopost": f"https://app.oktopost.com/campaigns/{campaign['Id']}"}
        assert campaign["Name"] == "From the UI"
        (message,) = okto["messages"].values()
        assert message["Network"] == "Twitter" and message["Message"] == "Triggered over REST"
        assert okto["posts"] and all(p["Status"] == "draft" for p in okto["posts"].values())
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
