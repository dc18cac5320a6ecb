"""Data-aware scheduling through Airflow's own scheduler: a producer's asset event starts the consumer.

Starts ``airflow api-server``, ``scheduler`` and ``dag-processor`` on a fresh SQLite home against the
sandbox, unpauses ``gtm_fetch_oktopost_advocates`` (producer, ``@daily``: the scheduler starts its
latest interval at once) and ``gtm_advocates_to_customer_base`` (consumer, scheduled on the
producer's Asset), and checks through the REST API that the consumer ran *because of* the asset
event (run type ``asset_triggered``, the event among its upstream events), read the file the event
names instead of fetching again, and that the event's extra carries ``records`` and ``uri``
(advocates have no creation time, hence no ``watermark``). Stops every process it started.
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
from typing import Any

import pytest
import requests

DAGS = Path(__file__).resolve().parents[2] / "dags"
PRODUCER = "gtm_fetch_oktopost_advocates"
CONSUMER = "gtm_advocates_to_customer_base"
ASSET_URI = "x-gtm-oktopost://api.oktopost.com/advocates"

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


def test_consumer_runs_on_the_producers_asset_event(gtm_sandbox, tmp_path):
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
    api = f"http://127.0.0.1:{port}/api/v2"

    def get(path: str, **params: Any) -> Any:
        # SQLite allows one writer: under load a read may meet the scheduler's write lock (a 500).
        for _ in range(10):
            response = requests.get(f"{api}{path}", params=params, timeout=10)
            if response.status_code < 500:
                break
            time.sleep(1)
        assert response.status_code == 200, (path, response.status_code, response.text[:500],
                                             (logs / "api-server.log").read_text()[-3000:])
        return response.json()

    def runs(dag_id: str) -> list[dict[str, Any]]:
        return get(f"/dags/{dag_id}/dagRuns")["dag_runs"]

    def finished_run(dag_id: str) -> dict[str, Any] | None:
        done = [r for r in runs(dag_id) if r["state"] in ("success", "failed")]
        return done[0] if done else None

    def xcom(dag_id: str, run_id: str, task_id: str) -> Any:
        entry = get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
                    deserialize="true")
        value = entry["value"]
        return json.loads(value) if isinstance(value, str) else value

    try:
        for name, args in (("api-server", ["api-server", "--port", str(port), "--host", "127.0.0.1"]),
                           ("scheduler", ["scheduler"]), ("dag-processor", ["dag-processor"])):
            out = (logs / f"{name}.log").open("w")
            processes.append(subprocess.Popen([*airflow, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True))

        def dags_ready() -> bool:
            try:
                return all(requests.get(f"{api}/dags/{d}", timeout=5).status_code == 200 for d in (PRODUCER, CONSUMER))
            except requests.ConnectionError:
                return False

        wait_for(dags_ready, 180, "the api-server and both parsed DAGs")
        assert runs(CONSUMER) == []
        # The consumer first, so that it is listening when the producer's event lands.
        for dag_id in (CONSUMER, PRODUCER):
            requests.patch(f"{api}/dags/{dag_id}", json={"is_paused": False}, timeout=10).raise_for_status()

        produced = wait_for(lambda: finished_run(PRODUCER), 300, "the producer's scheduled run")
        assert produced["state"] == "success"
        assert produced["run_type"] == "scheduled"
        fetched = xcom(PRODUCER, produced["dag_run_id"], "fetch_advocates")
        assert fetched["records"] > 0

        # The asset event the producer's task emitted, with its metadata.
        (event,) = get("/assets/events", source_dag_id=PRODUCER)["asset_events"]
        assert event["uri"] == ASSET_URI
        assert event["extra"]["uri"] == fetched["uri"]
        assert event["extra"]["records"] == fetched["records"]
        advocates = [json.loads(line) for line in Path(fetched["uri"].removeprefix("file://")).read_text().splitlines()]
        # Oktopost advocates carry no creation time (only leads, posts, ... do), so no watermark.
        assert all("Created" not in a for a in advocates) and "watermark" not in event["extra"]

        consumed = wait_for(lambda: finished_run(CONSUMER), 300, "the consumer's asset-triggered run")
        assert consumed["run_type"] == "asset_triggered", consumed
        assert consumed["state"] == "success"
        upstream = get(f"/dags/{CONSUMER}/dagRuns/{consumed['dag_run_id']}/upstreamAssetEvents")["asset_events"]
        assert [e["id"] for e in upstream] == [event["id"]]

        tasks = get(f"/dags/{CONSUMER}/dagRuns/{consumed['dag_run_id']}/taskInstances")["task_instances"]
        states = {t["task_id"]: t["state"] for t in tasks}
        assert states["fetch_people"] == "skipped"  # no second fetch: the event named the file
        assert states["people_from_asset_event"] == "success" and states["build_contacts"] == "success"
        read = xcom(CONSUMER, consumed["dag_run_id"], "people_from_asset_event")
        assert read["uri"] == fetched["uri"] and read["records"] == fetched["records"]
        # The consumer's contacts are the producer's advocates (one per e-mail address).
        created = xcom(CONSUMER, consumed["dag_run_id"], "create_contacts")
        built = xcom(CONSUMER, consumed["dag_run_id"], "build_contacts")
        assert sorted(built["emails"]) == sorted(a["Email"] for a in advocates if "@" in str(a.get("Email", "")))
        assert created["submitted"] == built["contacts"] > 0
        contacts = gtm_sandbox.state()["apis"]["customeros"]["contacts"]
        assert len(contacts) == created["succeeded"] > 0
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
