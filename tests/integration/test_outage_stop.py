"""An outage met by a one-call-per-record write: stop after a few server errors, retry resumes once each.

Counted in the sandbox's calls, not in time.
"""

from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_gtm.compat import AirflowException, AirflowFailException
from airflow_provider_gtm.core.batching import MAX_CONSECUTIVE_OUTAGE_ERRORS
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


#: api -> (path, extra fault fields, the operator for the records, the names the API stored)
CASES = {
    "customeros organizations": (
        "/customerbase/v1/organizations", {},
        lambda records, base: CustomerOSBatchOperator(task_id="w", operation="organizations.create",
                                                      records=records, output_base_uri=base),
        lambda apis: [o.get("name") for o in apis["customeros"]["organizations"].values()]),
    # A 5xx to a create Oktopost does not deduplicate is not retried in the call: one call per record.
    "oktopost campaigns": (
        "/v2/campaign", {"handler": False},
        lambda records, base: OktopostCreateOperator(task_id="w", kind="campaigns", records=records,
                                                     output_base_uri=base),
        lambda apis: [c.get("Name") for c in apis["oktopost"]["campaigns"].values()]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_write_stops_during_an_outage_and_the_retry_creates_each_once(sandbox, tmp_path, name):
    path, fault, make, stored = CASES[name]
    api = name.split()[0]
    records = [{"name": f"Outage {i}", "website": f"https://o{i}.outage.example"} if api == "customeros"
               else {"name": f"Outage {i}"} for i in range(12)]
    sandbox.set_faults([{"api": api, "path": path, "method": "POST", "kind": "status", "status": 503, **fault}])

    before = calls(sandbox, api)
    with pytest.raises(AirflowException) as info:
        make(records, f"file://{tmp_path}/out").execute(context())
    assert not isinstance(info.value, AirflowFailException)  # Airflow retries it
    during = calls(sandbox, api) - before
    print(f"\n{name}: 12 records during an outage: {during} calls, then the task failed retryably")
    assert during <= MAX_CONSECUTIVE_OUTAGE_ERRORS * MAX_ATTEMPTS
    assert not [n for n in stored(sandbox.state()["apis"]) if str(n).startswith("Outage")]

    sandbox.set_faults([])  # the outage ends; Airflow's retry runs the task again
    summary = make(records, f"file://{tmp_path}/out").execute(context())
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (12, 12, 0)
    names = Counter(stored(sandbox.state()["apis"]))
    assert {r["name"]: names[r["name"]] for r in records} == {r["name"]: 1 for r in records}
