"""A person marks a running write task failed in the UI: the task stops sending at once.

Airflow's own processes on loopback (api-server, scheduler with its LocalExecutor, dag-processor)
run a DAG whose one task creates Oktopost campaigns, one call each, slowed down by the sandbox.
While it is sending, the test marks the task instance failed through the REST API, as the UI's
"Mark as failed" does. At its next heartbeat Airflow's task runner SIGTERMs the task process, which
calls the operator's ``on_kill``, and gives it a few seconds before SIGKILL. Before ``on_kill``
existed, the task sent campaign after campaign in those seconds (and, within one ledger chunk of a
one-call-per-record API, until the chunk ended); now it stops before its next call: at most the
campaign in flight at ``on_kill`` lands afterwards, and every campaign that landed was sent once.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests
from airflow_processes import AirflowProcesses, wait_for

DAG_ID = "gtm_test_marked_failed"
CAMPAIGNS = 40
ON_KILL = "on_kill: stopping before the next call"

DAG_FILE = f'''
from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import DAG
from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator

with DAG("{DAG_ID}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):
    OktopostCreateOperator(
        task_id="create_campaigns", kind="campaigns", retries=0,
        records=[{{"name": f"Marked failed {{i}}"}} for i in range({CAMPAIGNS})],
    )
'''

pytestmark = pytest.mark.slow


def test_a_task_marked_failed_stops_sending_before_its_next_call(gtm_sandbox, tmp_path):
    # Each create is applied at once and its answer held back 1 s: one call is in flight at a time.
    gtm_sandbox.set_faults([{"kind": "delay", "api": "oktopost", "method": "POST", "path": "/v2/campaign",
                             "delay": 1}])
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "marked_failed.py").write_text(DAG_FILE)
    env = {**gtm_sandbox.connection_env(), "AIRFLOW__GTM__OUTPUT_BASE_URI": f"file://{tmp_path / 'data'}"}

    def created() -> Counter[str]:
        campaigns = gtm_sandbox.state()["apis"]["oktopost"]["campaigns"].values()
        return Counter(str(c.get("Name")) for c in campaigns if str(c.get("Name")).startswith("Marked failed"))

    with AirflowProcesses(tmp_path, env, dags_folder=dags) as airflow:
        airflow.migrate().start("api-server", "scheduler", "dag-processor")
        airflow.wait_until_parsed(DAG_ID)
        airflow.unpause(DAG_ID)
        run_id = airflow.trigger(DAG_ID)
        wait_for(lambda: sum(created().values()) >= 3, 240, "the task sending its third campaign", every=0.1)
        response = requests.patch(
            f"{airflow.api}/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/create_campaigns",
            json={"new_state": "failed"}, timeout=30)
        assert response.status_code == 200, response.text
        # Airflow tells the task process at its next heartbeat (SIGTERM, then on_kill); what it sent
        # until then is Airflow's latency. From on_kill on, nothing but the call in flight may land.
        wait_for(lambda: ON_KILL in airflow.task_logs(DAG_ID, "create_campaigns"), 120, "on_kill", every=0.05)
        killed_with = sum(created().values())
        assert airflow.wait_for_run(DAG_ID, run_id) == "failed"
        # Past Airflow's grace between SIGTERM and SIGKILL: whatever the task still sent has landed.
        time.sleep(8)
    after = created()
    assert sum(after.values()) - killed_with <= 1, (killed_with, after)  # at most the call in flight
    assert sum(after.values()) < CAMPAIGNS
    assert all(count == 1 for count in after.values()), after  # nothing sent twice
