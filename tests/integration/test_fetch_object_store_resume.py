"""A fetch to an object store resumes after a failed try, like a local file (operators/output.py).

fsspec's memory store stands in for S3 here (objects written whole, no append, no local rename);
``make test-distributed`` runs the same with a SIGKILL on moto's S3 server. Calls are counted in
the sandbox, so "resumed" means fewer pages fetched again, not a faster run.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from airflow_provider_gtm.compat import AirflowFailException, ObjectStoragePath
from airflow_provider_gtm.operators.octy import OctyFetchOperator
from airflow_provider_gtm.operators.output import PartedJsonLinesWriter

PROFILES = "/v1/retention/profiles"


@pytest.fixture
def store(monkeypatch):
    from fsspec.implementations.memory import MemoryFileSystem

    from airflow_provider_gtm.compat import io_fs as sdk_fs

    memory = MemoryFileSystem()
    monkeypatch.setitem(sdk_fs._register_filesystems(), "memory", lambda conn_id: memory)
    yield memory
    memory.store.clear()
    memory.pseudo_dirs.clear()
    memory.pseudo_dirs.append("")


def context(run_id: str = "run1") -> dict:
    return {"ti": SimpleNamespace(dag_id="d", run_id=run_id, task_id="profiles", map_index=-1)}


def ids(uri: str) -> list[str]:
    return [json.loads(line)["profile_id"] for line in ObjectStoragePath(uri).read_text().splitlines()]


def page_calls(sandbox) -> int:
    return sandbox.state()["calls"].get("octy", 0)


def fetch(uri: str, run_id: str = "run1", **arguments) -> dict:
    return OctyFetchOperator(task_id="profiles", resource="profiles", output_uri=uri, **arguments).execute(
        context(run_id))


def fail_on_call(sandbox, call: int) -> None:
    sandbox.set_faults([{"api": "octy", "path": PROFILES, "method": "GET", "kind": "status", "status": 401,
                         "calls": [call]}])


@pytest.mark.parametrize("part_bytes", [1, PartedJsonLinesWriter.part_bytes], ids=["part per page", "default parts"])
def test_a_failed_fetch_to_an_object_store_resumes_after_its_last_complete_page(
    gtm_sandbox_connections, store, monkeypatch, part_bytes
):
    gtm_sandbox_connections.configure(records=600, octy={"page_size": 50})
    expected = ids(fetch("memory://clean/profiles.jsonl")["uri"])
    assert len(expected) == 600

    monkeypatch.setattr(PartedJsonLinesWriter, "part_bytes", part_bytes)
    uri = "memory://runs/d/run1/profiles/records.jsonl"
    fail_on_call(gtm_sandbox_connections, 5)  # pages 1-4 complete, the 5th call is refused
    with pytest.raises(AirflowFailException):
        fetch(uri)
    checkpoint = json.loads(ObjectStoragePath(f"{uri}.checkpoint.json").read_bytes())
    assert (checkpoint["pages"], checkpoint["records"]) == (4, 200)
    assert checkpoint["parts"] == (4 if part_bytes == 1 else 1)  # the failing try stored what was complete
    assert not ObjectStoragePath(uri).exists()  # the output appears whole, on success only

    gtm_sandbox_connections.set_faults([])
    before = page_calls(gtm_sandbox_connections)
    result = fetch(uri)  # Airflow's retry: same task instance, same arguments
    assert page_calls(gtm_sandbox_connections) - before == 8  # pages 5-12 only
    assert ids(uri) == expected and (result["records"], result["pages"]) == (600, 12)
    assert not ObjectStoragePath(f"{uri}.checkpoint.json").exists()
    assert not [p for p in store.store if ".parts/" in p]  # the parts are removed


def test_another_run_on_the_same_object_starts_over_and_clears_the_stale_parts(gtm_sandbox_connections, store,
                                                                                monkeypatch):
    gtm_sandbox_connections.configure(records=1500, octy={"page_size": 50})
    monkeypatch.setattr(PartedJsonLinesWriter, "part_bytes", 1)
    low = ids(fetch("memory://clean/low.jsonl", filters={"churn_prob": "low"})["uri"])
    uri = "memory://fixed/profiles.jsonl"
    fail_on_call(gtm_sandbox_connections, 6)
    with pytest.raises(AirflowFailException):
        fetch(uri, "run1", filters={"churn_prob": "high"})
    assert json.loads(ObjectStoragePath(f"{uri}.checkpoint.json").read_bytes())["parts"] == 5

    gtm_sandbox_connections.set_faults([])
    result = fetch(uri, "run2", filters={"churn_prob": "low"})  # another run, another query
    assert ids(uri) == low and result["records"] == len(low)  # nothing of run 1's query
    assert not [p for p in store.store if ".parts/" in p]
