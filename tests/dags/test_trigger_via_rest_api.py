"""What a person in the UI does: Airflow's own processes on loopback, a trigger with a form's conf.

Starts ``airflow api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` against a fresh
SQLite home and the sandbox, triggers ``gtm_publish_campaign`` through the public REST API with a
``conf`` built from its Params, waits for the run, checks its state and what the sandbox now holds,
and stops every process it started.
"""

from __future__ import annotations

import pytest
import requests
from airflow_processes import AirflowProcesses

DAG_ID = "gtm_publish_campaign"

pytestmark = pytest.mark.slow


def test_trigger_a_sample_dag_through_the_rest_api(gtm_sandbox, tmp_path):
    env = {**gtm_sandbox.connection_env(), "AIRFLOW__GTM__OUTPUT_BASE_URI": f"file://{tmp_path / 'data'}"}
    with AirflowProcesses(tmp_path, env) as airflow:
        airflow.migrate().start("api-server", "scheduler", "dag-processor", "triggerer")
        airflow.wait_until_parsed(DAG_ID)
        airflow.unpause(DAG_ID)
        conf = {"campaign_name": "From the UI", "network": "Twitter", "message": "Triggered over REST",
                "start_time": "2030-06-01T09:00:00+00:00", "post_status": "draft"}
        run_id = airflow.trigger(DAG_ID, conf)
        assert airflow.wait_for_run(DAG_ID, run_id) == "success"
        assert airflow.task_instances(DAG_ID, run_id)["create_campaign"]["state"] == "success"
        okto = gtm_sandbox.state()["apis"]["oktopost"]
        (campaign,) = okto["campaigns"].values()
        # The task's extra link, as the UI gets it: computed from the XCom's ids when the task ended.
        links = requests.get(f"{airflow.api}/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/create_campaign/links",
                             timeout=10).json()
        assert links["extra_links"] == {"Oktopost": f"https://app.oktopost.com/campaigns/{campaign['Id']}"}
        assert campaign["Name"] == "From the UI"
        (message,) = okto["messages"].values()
        assert message["Network"] == "Twitter" and message["Message"] == "Triggered over REST"
        assert okto["posts"] and all(p["Status"] == "draft" for p in okto["posts"].values())
