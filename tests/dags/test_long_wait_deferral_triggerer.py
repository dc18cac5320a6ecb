"""A batch write that meets Oktopost key blocks defers through Airflow's real triggerer and resumes.

Starts ``api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` on loopback against the
sandbox (its clock 900 times faster, so a 15-minute key block lasts a second), runs a one-task DAG
whose ``OktopostCreateOperator`` is deferrable, and checks that it deferred on the blocks (a
``DateTimeTrigger`` in the triggerer), was resumed by the scheduler, used a single try, and created
every campaign exactly once.
"""

from __future__ import annotations

from collections import Counter

import pytest
from airflow_processes import AirflowProcesses

DAG_ID = "gtm_test_long_wait_deferral"
NAMES = [f"Blocked launch {i}" for i in range(10)]

DAG_FILE = f'''
from datetime import datetime

from airflow_provider_gtm.compat import DAG

from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator

with DAG("{DAG_ID}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    OktopostCreateOperator(
        task_id="create_campaigns", kind="campaigns", records=[{{"name": n}} for n in {NAMES!r}],
        deferrable=True, defer_waits_longer_than=0.5,
    )
'''

pytestmark = pytest.mark.slow


def test_key_blocks_wait_in_the_triggerer(gtm_sandbox, tmp_path):
    # A 900 s block lasts 10 s here: long enough that the deferred try's process has exited and been
    # accounted for by the scheduler before the trigger fires (with a 1 s block, a loaded scheduler
    # could see the first process's "success" only after the task was queued again, and fail it).
    gtm_sandbox.configure(time_scale=90, rate_limits={"oktopost": {"windows": [[4, 60]], "block_seconds": 900,
                                                                    "retry_after": True}})
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "long_wait_deferral.py").write_text(DAG_FILE)
    env = {**gtm_sandbox.connection_env(), "AIRFLOW__CORE__PARALLELISM": "2",
           "AIRFLOW__GTM__OUTPUT_BASE_URI": f"file://{tmp_path / 'data'}"}
    with AirflowProcesses(tmp_path, env, dags_folder=dags) as airflow:
        airflow.migrate().start("api-server", "scheduler", "dag-processor", "triggerer")
        airflow.wait_until_parsed(DAG_ID)
        airflow.unpause(DAG_ID)
        run_id = airflow.trigger(DAG_ID)
        assert airflow.wait_for_run(DAG_ID, run_id) == "success", airflow.log_tail("scheduler")
        ti = airflow.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/create_campaigns")
        assert ti["state"] == "success" and ti["try_number"] == 1  # deferring is not a retry
        task_logs = airflow.task_logs(DAG_ID, "create_campaigns")
        assert "instead of holding a worker slot" in task_logs, task_logs[-5000:]
        assert "The rate-limit wait ended" in task_logs, task_logs[-5000:]
        summary = airflow.xcom(DAG_ID, run_id, "create_campaigns")
    state = gtm_sandbox.state()
    assert state["rate_limited"]["oktopost"] >= 2  # the key was blocked on the way, more than once
    stored = Counter(c.get("Name") for c in state["apis"]["oktopost"]["campaigns"].values())
    assert stored == Counter(NAMES)  # every campaign exactly once
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (10, 10, 0)
