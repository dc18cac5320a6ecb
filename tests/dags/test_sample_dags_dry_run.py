"""The trigger form's dry-run toggle, end to end on real Airflow against the sandbox: nothing is written to any
API, every write task says so and leaves a plan, the run's watermark stays where it was, and the real run after it
writes what the plan said."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.dags.test_sample_dags_run import report, run_dag, task_files

pytestmark = pytest.mark.airflow_db


@pytest.fixture
def env(airflow_db, sandbox_connections, tmp_path):
    return sandbox_connections, tmp_path


def written(sandbox: Any, api: str, *kinds: str) -> dict[str, int]:
    state = sandbox.state()["apis"][api]
    return {kind: len(state.get(kind, {})) for kind in kinds}


def watermark(key: str) -> Any:
    from airflow.models.variable import Variable

    return Variable.get(key, default_var=None)


def test_community_dag_dry_run_writes_nothing_and_keeps_the_watermark(env):
    from airflow.models.variable import Variable

    sandbox, base = env
    dag_id = "gtm_community_engagement_to_retention"
    key = f"gtm_watermark__{dag_id}__fetch_new_posts"
    Variable.delete(key)  # another test of this session may have run the DAG
    conf = {"since": "2000-01-01T00:00:00+00:00", "max_posts": 30}
    before = written(sandbox, "octy", "profiles", "events", "event_types")
    dr = run_dag(dag_id, {**conf, "dry_run": True})
    assert dr.state == "success"
    states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
    assert states["build_events"] == states["create_events"] == "skipped"
    assert written(sandbox, "octy", "profiles", "events", "event_types") == before
    assert watermark(key) is None

    steps = report(base, dag_id)["steps"]
    assert steps["create_profiles"]["dry_run"] is True and steps["create_profiles"]["would_create"] > 0
    (plan_file,) = task_files(base, dag_id, "create_profiles", "plan.json")
    plan = json.loads(plan_file.read_text())
    assert plan["dry_run"] is True and plan["counts"]["would_create"] == len(plan["would_create"])

    real = run_dag(dag_id, conf)
    assert real.state == "success"
    created = {p["customer_id"] for p in sandbox.state()["apis"]["octy"]["profiles"].values()}
    assert created == set(plan["would_create"])
    assert watermark(key) is not None


def test_publish_campaign_dry_run_creates_no_campaign(env):
    sandbox, base = env
    dr = run_dag("gtm_publish_campaign", {"campaign_name": "Launch", "network": "LinkedIn", "message": "Hello",
                                          "dry_run": True})
    assert dr.state == "success"
    states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
    assert states["create_campaign"] == "success" and states["message_record"] == "skipped"
    assert written(sandbox, "oktopost", "campaigns", "messages", "posts") == {"campaigns": 0, "messages": 0,
                                                                               "posts": 0}
    (plan_file,) = task_files(base, "gtm_publish_campaign", "create_campaign", "plan.json")
    assert json.loads(plan_file.read_text())["would_create"] == ["Launch"]
