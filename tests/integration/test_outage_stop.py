"""An outage met by a one-call-per-record write: stop after a few server errors, retry resumes once each.

Counted in the sandbox's calls, not in time.
"""

from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_gtm.core.batching import MAX_CONSECUTIVE_SERVER_ERRORS
from airflow_provider_gtm.operators.customeros import CustomerOSBatchOperator
from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator

MAX_ATTEMPTS = 3


class Ti(SimpleNamespace):
    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def context() -> dict[str, Any]:
    return {"ti": Ti(dag_id="outage", run_id="r1", task_id="w", map_index=-1, pushed={})}


@pytest.fixture
def sandbox(gtm_sandbox_connections, monkeypatch):
    gtm_sandbox_connections.configure(rate_limits=False)
    for name, conn in gtm_sandbox_connections.connections().items():
        conn["extra"] = {**(conn.get("extra") or {}), "max_attempts": MAX_ATTEMPTS, "retry_backoff": 0.01,
                         "rate_limits": []}
        monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}", json.dumps(conn))
    return gtm_sandbox_connections


def calls(sandbox, api: str) -> int:
    return sandbox.state()["calls"].get(api, 0)


def test_customeros_organizations_stop_during_an_outage_and_the_retry_creates_each_once(sandbox, tmp_path):
    records = [{"name": f"Outage {i}", "website": f"https://o{i}.outage.example"} for i in range(12)]
    sandbox.set_faults([{"api": "customeros", "path": "/customerbase/v1/organizations", "method": "POST",
                         "kind": "status", "status": 503}])

    def operator() -> CustomerOSBatchOperator:
        return CustomerOSBatchOperator(task_id="w", operation="organizations.create", records=records,
                                       output_base_uri=f"file://{tmp_path}/out")

    before = calls(sandbox, "customeros")
    with pytest.raises(AirflowException) as info:
        operator().execute(context())
    assert not isinstance(info.value, AirflowFailException)  # Airflow retries it
    during = calls(sandbox, "customeros") - before
    print(f"\n12 organizations during an outage: {during} calls, then the task failed retryably")
    assert during <= MAX_CONSECUTIVE_SERVER_ERRORS * MAX_ATTEMPTS
    assert not sandbox.state()["apis"]["customeros"]["organizations"] or all(
        not str(o.get("name", "")).startswith("Outage")
        for o in sandbox.state()["apis"]["customeros"]["organizations"].values())

    sandbox.set_faults([])  # the outage ends; Airflow's retry runs the task again
    summary = operator().execute(context())
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (12, 12, 0)
    names = Counter(o.get("name") for o in sandbox.state()["apis"]["customeros"]["organizations"].values())
    assert {r["name"]: names[r["name"]] for r in records} == {r["name"]: 1 for r in records}


def test_oktopost_campaigns_stop_during_an_outage_and_the_retry_creates_each_once(sandbox, tmp_path):
    records = [{"name": f"Outage {i}"} for i in range(12)]
    sandbox.set_faults([{"api": "oktopost", "path": "/v2/campaign", "method": "POST", "kind": "status",
                         "status": 503, "handler": False}])

    def operator() -> OktopostCreateOperator:
        return OktopostCreateOperator(task_id="w", kind="campaigns", records=records,
                                      output_base_uri=f"file://{tmp_path}/out")

    before = calls(sandbox, "oktopost")
    with pytest.raises(AirflowException) as info:
        operator().execute(context())
    assert not isinstance(info.value, AirflowFailException)
    # A 5xx to a create Oktopost does not deduplicate is not retried in the call: one call per record.
    assert calls(sandbox, "oktopost") - before <= MAX_CONSECUTIVE_SERVER_ERRORS * MAX_ATTEMPTS

    sandbox.set_faults([])
    summary = operator().execute(context())
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (12, 12, 0)
    names = Counter(c.get("Name") for c in sandbox.state()["apis"]["oktopost"]["campaigns"].values())
    assert {r["name"]: names[r["name"]] for r in records} == {r["name"]: 1 for r in records}
