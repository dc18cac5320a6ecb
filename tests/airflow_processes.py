"""Airflow's own processes on loopback, for the tests that go through the paths Airflow takes.

One :class:`AirflowProcesses` is one Airflow installation: a home, a metadata database (SQLite by
default, or any SQLAlchemy URL such as PostgreSQL), the environment every component shares, and the
components started from it (``api-server``, ``scheduler``, ``dag-processor``, ``triggerer``, Celery
workers). It talks to the public REST API the way the UI does, and :meth:`stop` ends every process
it started, their children included, even when a test fails.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import requests

DAGS = Path(__file__).resolve().parents[1] / "dags"
AIRFLOW = [sys.executable, "-m", "airflow"]
T = TypeVar("T")


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], T], timeout: float, what: str, every: float = 1.0) -> T:
    """``predicate()``'s first truthy value, polled until ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def worker_hostname() -> str:
    """``[core] hostname_callable`` for several workers on one machine: ``$GTM_TEST_HOSTNAME`` if set.

    Airflow records it as the task instance's ``hostname``, so a test can tell which worker ran what.
    """
    return os.environ.get("GTM_TEST_HOSTNAME") or socket.getfqdn()


class AirflowProcesses:
    """An Airflow home on loopback and the components started from it."""

    def __init__(self, root: Path, env: Mapping[str, str] | None = None, *, inherit_connections: bool = True,
                 dags_folder: Path | None = DAGS) -> None:
        self.root = root
        self.home = root / "airflow-home"
        self.logs = root / "process-logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        base = dict(os.environ)
        if not inherit_connections:
            base = {k: v for k, v in base.items() if not k.startswith("AIRFLOW_CONN_")}
        self.env: dict[str, str] = {
            **base,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            **(env or {}),
        }
        if dags_folder is not None:
            self.env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.api = f"{self.base_url}/api/v2"

    # -- processes -------------------------------------------------------------------------------

    def airflow(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run one ``airflow`` command with this installation's environment."""
        done = subprocess.run([*AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"airflow {' '.join(args)} exited {done.returncode}:\n{done.stderr[-4000:]}")
        return done

    def migrate(self) -> AirflowProcesses:
        """Create the metadata database, and the pools the sample DAGs run in."""
        from airflow_provider_gtm.examples.pools import pool_commands

        self.airflow("db", "migrate")
        for command in pool_commands():
            self.airflow(*command)
        return self

    def start(self, *components: str | tuple[str, list[str]], env: Mapping[str, str] | None = None
              ) -> AirflowProcesses:
        """Start components: a name (``"scheduler"``) or ``(name, airflow arguments)``.

        ``env`` is added to this installation's environment for these components only (what would
        differ between two hosts). Each component leads its own process group.
        """
        for component in components:
            name, args = (component, [component]) if isinstance(component, str) else component
            if name == "api-server" and args == ["api-server"]:
                args = ["api-server", "--port", str(self.port), "--host", "127.0.0.1"]
            out = (self.logs / f"{name}.log").open("wb")
            self.processes[name] = subprocess.Popen([*AIRFLOW, *args], env={**self.env, **(env or {})}, stdout=out,
                                                    stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def stop(self, names: Iterable[str] | None = None, sig: int = signal.SIGTERM) -> None:
        """Stop the named components (all by default) and their process groups."""
        chosen = list(self.processes) if names is None else list(names)
        for name in chosen:
            try:
                os.killpg(self.processes[name].pid, sig)
            except ProcessLookupError:
                continue
        for name in chosen:
            process = self.processes.pop(name)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            try:  # children that outlived their leader (task runners of a killed worker)
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def check_running(self) -> None:
        """Fail with its log tail when a component this test started has exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"airflow {name} exited with {process.returncode}:\n{self.log_tail(name)}")

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def task_logs(self, dag_id: str, task_id: str) -> str:
        """Every log file the tasks wrote for ``task_id`` of ``dag_id`` (all runs and tries)."""
        files = [p for p in (self.home / "logs").rglob("*")
                 if p.is_file() and f"dag_id={dag_id}" in str(p) and f"task_id={task_id}" in str(p)]
        return "\n".join(p.read_text(errors="replace") for p in sorted(files))

    # -- the REST API ----------------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        """``GET /api/v2{path}``'s JSON; a 5xx (SQLite's one writer under load) is asked again."""
        response = None
        for _ in range(10):
            response = requests.get(f"{self.api}{path}", params=params, timeout=30)
            if response.status_code < 500:
                break
            time.sleep(1)
        assert response is not None and response.status_code == 200, (
            path, getattr(response, "status_code", None), getattr(response, "text", "")[:500],
            self.log_tail("api-server"))
        return response.json()

    def wait_until_parsed(self, *dag_ids: str, timeout: float = 240) -> None:
        def parsed() -> bool:
            self.check_running()
            try:
                return all(requests.get(f"{self.api}/dags/{d}", timeout=5).status_code == 200 for d in dag_ids)
            except requests.ConnectionError:
                return False

        wait_for(parsed, timeout, f"the api-server and the parsed DAGs {dag_ids}")

    def unpause(self, dag_id: str) -> None:
        requests.patch(f"{self.api}/dags/{dag_id}", json={"is_paused": False}, timeout=30).raise_for_status()

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Trigger a run as the UI's Trigger button does; its run id."""
        response = requests.post(f"{self.api}/dags/{dag_id}/dagRuns",
                                 json={"conf": dict(conf or {}), "logical_date": None}, timeout=30)
        assert response.status_code in (200, 201), response.text
        return str(response.json()["dag_run_id"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> str:
        """The run's final state (``success`` or ``failed``)."""
        def finished() -> str | None:
            self.check_running()
            state = self.get(f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
            return state if state in ("success", "failed") else None

        return wait_for(lambda: finished(), timeout, f"the run {run_id} of {dag_id} to finish")

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        """The run's task instances by task id (a mapped task's instances under ``task_id[i]``)."""
        found = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000)["task_instances"]
        return {t["task_id"] if t.get("map_index", -1) < 0 else f"{t['task_id']}[{t['map_index']}]": t
                for t in found}

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
        entry = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
                         deserialize="true", map_index=map_index)
        value = entry["value"]
        return json.loads(value) if isinstance(value, str) else value

    def __enter__(self) -> AirflowProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
