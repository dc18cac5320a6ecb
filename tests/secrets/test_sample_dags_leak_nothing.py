"""The sample DAGs on real Airflow (SQLite, ``dag.test()``) with planted secrets leak nothing.

The DAG runs are the expensive part: one module fixture runs each sample DAG once on its success
path and once on failure paths (error bodies echoing the credentials, a redirect to another host,
a read timeout), then the tests scan what the runs left behind: the task logs in the Airflow home,
every table of the SQLite metadata DB (XComs, rendered fields, task-instance notes, ...), every
output/failures/results/report file, and every log record of the process.
"""

from __future__ import annotations

import io
import logging
import os
import sqlite3
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from secret_scan import FAST_EXTRA, connection_env, hits, scan_files

pytestmark = [pytest.mark.slow, pytest.mark.airflow_db]

DAGS = Path(__file__).resolve().parents[2] / "dags"

RUNS: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    # Success paths (the same confs as tests/dags/test_sample_dags_run.py).
    ("gtm_community_engagement_to_retention",
     {"since": "2000-01-01T00:00:00+00:00", "max_posts": 30,
      "extra_profiles": [{"customer_id": "bad,customer", "profile_data": {}, "platform_info": {}}]}, []),
    ("gtm_advocates_to_customer_base",
     {"source": "leads", "max_people": 20, "enrich_people": True, "max_enrichments": 1,
      "extra_contacts": [{"email": "not-an-email"}]}, []),
    ("gtm_publish_campaign", {"campaign_name": "Launch", "network": "LinkedIn", "message": "Hello"}, []),
    # Failure paths: every write answered with an error body that echoes the credentials.
    ("gtm_community_engagement_to_retention", {"since": "2000-01-01T00:00:00+00:00", "max_posts": 20},
     [{"api": "octy", "method": "POST", "kind": "echo_credentials", "status": 400},
      {"api": "octopus", "kind": "echo_credentials", "status": 500, "calls": [1]}]),
    ("gtm_advocates_to_customer_base", {"source": "leads", "max_people": 10},
     [{"api": "customeros", "method": "POST", "kind": "echo_credentials", "status": 401},
      {"api": "oktopost", "kind": "redirect", "status": 302, "calls": [1, 2]}]),
    ("gtm_publish_campaign", {"campaign_name": "Refused", "network": "LinkedIn", "message": "Hi"},
     [{"api": "oktopost", "kind": "echo_credentials", "status": 401}]),
    # A redirect to another host on every call, and a read timeout.
    ("gtm_publish_campaign", {"campaign_name": "Redirected", "network": "LinkedIn", "message": "Hi"},
     [{"api": "oktopost", "kind": "redirect", "status": 307}]),
    ("gtm_community_engagement_to_retention", {"since": "2000-01-01T00:00:00+00:00", "max_posts": 5},
     [{"api": "octopus", "kind": "delay", "delay": 1.5}]),
]


class Artifacts:
    def __init__(self, home: Path, output: Path, logs: str, console: str,
                 states: list[tuple[str, str, dict[str, str]]]) -> None:
        self.home = home
        self.output = output
        self.logs = logs
        self.console = console
        self.states = states


@pytest.fixture(scope="module")
def dag_runs(planted_sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Artifacts]:
    from airflow_provider_gtm.compat import DagBag
    from airflow_provider_gtm.core.ratelimit_shared import reset_shared_limiters

    home = Path(os.environ["AIRFLOW_HOME"])
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, env=dict(os.environ),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    output = tmp_path_factory.mktemp("secret-outputs")
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    states: list[tuple[str, str, dict[str, str]]] = []
    with pytest.MonkeyPatch.context() as mp:
        for name, value in connection_env(planted_sandbox, **{**FAST_EXTRA, "read_timeout": 0.5}).items():
            mp.setenv(name, value)
        mp.setenv("AIRFLOW__GTM__OUTPUT_BASE_URI", f"file://{output}")
        root.addHandler(handler)
        previous_level = root.level
        root.setLevel(logging.DEBUG)
        # dag.test() prints the task logs to the process's stdout/stderr (a worker would write them
        # under the logs folder): catch both at the file-descriptor level.
        console = output.parent / "console.txt"
        sys.stdout.flush()
        sys.stderr.flush()
        saved = (os.dup(1), os.dup(2))
        sink = open(console, "wb")  # noqa: SIM115 - closed in finally, after the descriptors are restored
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        text_sink = open(console.with_suffix(".py.txt"), "w")  # noqa: SIM115 - closed in finally
        mp.setattr(sys, "stdout", text_sink)
        mp.setattr(sys, "stderr", text_sink)
        try:
            for dag_id, conf, faults in RUNS:
                reset_shared_limiters()
                planted_sandbox.reset()
                planted_sandbox.configure(rate_limits=False, customeros={"enrichment_polls": 1})
                planted_sandbox.set_faults(faults)
                bag = DagBag(dag_folder=str(DAGS / f"{dag_id}.py"))
                assert not bag.import_errors
                dag = bag.dags[dag_id]
                for task in dag.tasks:  # Airflow's retries still run, without minutes of waiting
                    task.retry_delay = timedelta(seconds=0)
                    task.retry_exponential_backoff = False
                run = dag.test(run_conf=conf)
                states.append((dag_id, run.state, {ti.task_id: ti.state for ti in run.get_task_instances()}))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.close()
            text_sink.close()
            mp.undo()
            root.removeHandler(handler)
            root.setLevel(previous_level)
    printed = console.read_text(errors="replace") + console.with_suffix(".py.txt").read_text(errors="replace")
    yield Artifacts(home, output, captured.getvalue(), printed, states)


def test_the_runs_took_both_paths(dag_runs):
    """The scans below are meaningful: the success runs succeeded, the faulted ones failed."""
    outcomes = [state for _, state, _ in dag_runs.states]
    assert outcomes[:3] == ["success", "success", "success"], dag_runs.states
    assert "failed" in outcomes[3:], dag_runs.states
    failed_tasks = [task for _, _, tasks in dag_runs.states[3:] for task, state in tasks.items() if state == "failed"]
    assert len(failed_tasks) >= 3, dag_runs.states


def test_task_logs_hold_no_secret(dag_runs):
    """The log files under the Airflow home's logs folder, and every record the process logged."""
    logs = dag_runs.home / "logs"
    assert (scan_files(logs) if logs.exists() else {}) == {}
    assert hits(dag_runs.logs) == []
    # The task logs dag.test() printed: the echoed errors are there, masked.
    assert "Invalid credentials" in dag_runs.console and "redirect to another origin refused" in dag_runs.console
    assert hits(dag_runs.console) == []


def test_the_metadata_db_holds_no_secret(dag_runs):
    """Every text of every table (XCom values, rendered fields, ...), compressed blobs unpacked."""
    db = dag_runs.home / "airflow.db"
    assert db.exists()
    found: dict[str, list[str]] = {}
    with sqlite3.connect(db) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        xcoms = conn.execute("SELECT count(*) FROM xcom").fetchone()[0]
        for table in tables:
            if table == "connection":
                continue  # the connections are env variables here; a stored connection is Airflow's to encrypt
            texts = []
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                texts.extend(_text(value) for value in row)
            if hit := hits("\n".join(texts)):
                found[table] = hit
    assert xcoms > 0  # the runs did push XComs, which were scanned
    assert found == {}


def test_outputs_failures_results_and_reports_hold_no_secret(dag_runs):
    files = [p for p in dag_runs.output.rglob("*") if p.is_file()]
    assert any(p.name == "failures.jsonl" for p in files) and any(p.name == "report.json" for p in files)
    failures = "".join(p.read_text() for p in files if p.name == "failures.jsonl")
    assert "***" in failures  # the echoed credentials were there, and were masked
    assert scan_files(dag_runs.output) == {}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        try:
            value = zlib.decompress(value)
        except zlib.error:
            pass
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)
