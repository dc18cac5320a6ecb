"""Deferrable person enrichment through Airflow's real triggerer process.

Starts ``api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` on loopback against the
sandbox, triggers ``gtm_advocates_to_customer_base`` with enrichment on, and checks that
``enrich_people`` submitted every enrichment, deferred, was resumed after the triggerer's one
trigger saw every answer complete, and wrote one line per person.
"""

from __future__ import annotations

import json

import pytest
from airflow_processes import AirflowProcesses

from airflow_provider_gtm.operators.output import _safe

DAG_ID = "gtm_advocates_to_customer_base"

pytestmark = pytest.mark.slow


def test_enrichments_wait_in_the_triggerer(gtm_sandbox, tmp_path):
    data = tmp_path / "data"
    env = {**gtm_sandbox.connection_env(), "AIRFLOW__CORE__PARALLELISM": "2",
           "AIRFLOW__GTM__OUTPUT_BASE_URI": f"file://{data}"}
    with AirflowProcesses(tmp_path, env) as airflow:
        airflow.migrate().start("api-server", "scheduler", "dag-processor", "triggerer")
        airflow.wait_until_parsed(DAG_ID)
        airflow.unpause(DAG_ID)
        conf = {"source": "leads", "max_people": 6, "enrich_people": True, "max_enrichments": 3}
        run_id = airflow.trigger(DAG_ID, conf)
        assert airflow.wait_for_run(DAG_ID, run_id) == "success"
        ti = airflow.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/enrich_people")
        assert ti["state"] == "success" and ti["try_number"] == 1
        task_logs = airflow.task_logs(DAG_ID, "enrich_people")
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
