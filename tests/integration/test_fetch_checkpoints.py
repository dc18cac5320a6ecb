"""Fetch checkpoints against the sandbox: bound to their run and query, exact after a SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from airflow_provider_gtm.compat import AirflowFailException
from airflow_provider_gtm.operators.octy import OctyFetchOperator

PROFILES = "/v1/retention/profiles"


def context(run_id: str) -> dict:
    return {"ti": SimpleNamespace(dag_id="d", run_id=run_id, task_id="profiles", map_index=-1)}


def ids(path: Path) -> list[str]:
    return [json.loads(line)["profile_id"] for line in path.read_text(encoding="utf-8").splitlines()]


def clean_fetch(tmp_path: Path, name: str, **arguments) -> list[str]:
    uri = f"file://{tmp_path}/{name}.jsonl"
    OctyFetchOperator(task_id="clean", resource="profiles", output_uri=uri, **arguments).execute(context(name))
    return ids(tmp_path / f"{name}.jsonl")


def test_fixed_output_uri_across_two_runs_with_different_arguments(gtm_sandbox_connections, tmp_path):
    gtm_sandbox_connections.configure(records=1500, octy={"page_size": 50})
    high = clean_fetch(tmp_path, "high", filters={"churn_prob": "high"})
    low = clean_fetch(tmp_path, "low", filters={"churn_prob": "low"})
    assert len(high) > 150 and len(low) > 150 and not set(high) & set(low)

    fixed = tmp_path / "fixed" / "profiles.jsonl"
    # Run 1 (high churn) dies after 3 pages: its checkpoint stays next to the fixed output.
    gtm_sandbox_connections.set_faults([{"api": "octy", "path": PROFILES, "method": "GET", "kind": "status",
                                         "status": 401, "calls": [4]}])
    with pytest.raises(AirflowFailException):
        OctyFetchOperator(task_id="profiles", resource="profiles", filters={"churn_prob": "high"},
                          output_uri=f"file://{fixed}").execute(context("run1"))
    assert json.loads(fixed.with_name("profiles.jsonl.checkpoint.json").read_text())["pages"] == 3
    gtm_sandbox_connections.set_faults([])

    # Run 2 (another run, low churn) writes exactly its own query's records.
    result = OctyFetchOperator(task_id="profiles", resource="profiles", filters={"churn_prob": "low"},
                               output_uri=f"file://{fixed}").execute(context("run2"))
    assert ids(fixed) == low and result["records"] == len(low)

    # The same run retried with other arguments starts over too.
    gtm_sandbox_connections.set_faults([{"api": "octy", "path": PROFILES, "method": "GET", "kind": "status",
                                         "status": 401, "calls": [3]}])
    with pytest.raises(AirflowFailException):
        OctyFetchOperator(task_id="profiles", resource="profiles", filters={"churn_prob": "low"},
                          output_uri=f"file://{fixed}").execute(context("run3"))
    gtm_sandbox_connections.set_faults([])
    OctyFetchOperator(task_id="profiles", resource="profiles", filters={"churn_prob": "high"},
                      output_uri=f"file://{fixed}").execute(context("run3"))
    assert ids(fixed) == high


CHILD = """
import sys
from types import SimpleNamespace
from airflow_provider_gtm.operators.octy import OctyFetchOperator
uri = sys.argv[1]
ti = SimpleNamespace(dag_id="d", run_id="run1", task_id="profiles", map_index=-1)
print(OctyFetchOperator(task_id="profiles", resource="profiles", output_uri=uri).execute({"ti": ti}), flush=True)
"""


def wait_for_pages(checkpoint: Path, pages: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the fetch ended before it could be killed"
        if checkpoint.exists():
            try:
                if json.loads(checkpoint.read_text())["pages"] >= pages:
                    return
            except ValueError:
                pass  # read between open and write: try again
        time.sleep(0.02)
    raise AssertionError(f"no checkpoint of {pages} pages within {timeout}s")


@pytest.mark.parametrize("killed_after_pages", [1, 4])
def test_fetch_killed_mid_list_resumes_exactly(gtm_sandbox_connections, tmp_path, killed_after_pages):
    gtm_sandbox_connections.configure(records=800, octy={"page_size": 50})
    expected = clean_fetch(tmp_path, "clean")
    assert len(expected) == 800

    out = tmp_path / "fixed" / "profiles.jsonl"
    checkpoint = out.with_name("profiles.jsonl.checkpoint.json")
    # The page after the one we wait for hangs, so the kill lands mid-list, with a request in flight.
    gtm_sandbox_connections.set_faults([{"api": "octy", "path": PROFILES, "method": "GET", "kind": "delay",
                                         "delay": 3.0, "calls": [killed_after_pages + 1]}])
    process = subprocess.Popen([sys.executable, "-c", CHILD, f"file://{out}"], env=dict(os.environ),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_pages(checkpoint, killed_after_pages, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    state = json.loads(checkpoint.read_text())
    assert state["pages"] == killed_after_pages and state["records"] == killed_after_pages * 50
    assert state["bytes"] <= out.stat().st_size

    # Airflow's retry: the same task instance, same arguments, a new process.
    gtm_sandbox_connections.set_faults([])
    retry = subprocess.run([sys.executable, "-c", CHILD, f"file://{out}"], env=dict(os.environ),
                           capture_output=True, text=True, timeout=120)
    assert retry.returncode == 0, retry.stderr[-2000:]
    assert f"Resuming Octy profiles after {killed_after_pages} complete pages" in retry.stdout + retry.stderr
    assert ids(out) == expected  # nothing lost, nothing twice, same order
    assert not checkpoint.exists()
