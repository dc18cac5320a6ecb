"""Each sample DAG runs (``dag.test()`` against the sandbox) on the Airflow line installed here.

The test ids name the line (``airflow-2.11-...``, ``airflow-3.3-...``) so that each leg of CI's version
matrix (``make test-oldest``, ``make test``, ``make test-newest``, ``make test-matrix``) shows which line
ran which DAG. tests/dags/test_sample_dags_run.py checks what the runs wrote; this checks that every
task of every sample DAG succeeds on every line, including ``gtm_fetch_oktopost_advocates`` and its Asset
(a Dataset on Airflow 2.11).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_gtm.compat import AIRFLOW_LINE, DagBag, prepare_dag_test

DAGS = Path(__file__).resolve().parents[2] / "dags"

pytestmark = pytest.mark.airflow_db

#: The form values of each run: small, so that four runs stay quick on every line.
CONF: dict[str, dict[str, Any]] = {
    "gtm_fetch_oktopost_advocates": {"max_people": 10},
    "gtm_advocates_to_customer_base": {"source": "leads", "max_people": 10, "enrich_people": True,
                                       "max_enrichments": 1},
    "gtm_community_engagement_to_retention": {"since": "2000-01-01T00:00:00+00:00", "max_posts": 10},
    "gtm_publish_campaign": {"campaign_name": "Every line", "network": "LinkedIn", "message": "Hello",
                             "start_time": "2030-01-01T09:00:00Z"},
    "gtm_land_community_posts": {"since": "2000-01-01T00:00:00+00:00", "max_posts": 10},
}


def test_the_sample_dags_are_the_ones_run_here():
    assert sorted(CONF) == sorted(p.stem for p in DAGS.glob("gtm_*.py"))


@pytest.mark.parametrize("dag_id", sorted(CONF), ids=lambda dag_id: f"airflow-{AIRFLOW_LINE}-{dag_id}")
def test_the_sample_dag_runs_on_this_airflow_line(airflow_db, sandbox_connections, tmp_path, dag_id):
    bag = DagBag(dag_folder=str(DAGS / f"{dag_id}.py"))
    assert not bag.import_errors
    prepare_dag_test(bag)
    dr = bag.dags[dag_id].test(run_conf=CONF[dag_id])
    states = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dr.get_task_instances()}
    assert dr.state == "success", states
    assert "failed" not in states.values() and "upstream_failed" not in states.values()
    if dag_id == "gtm_fetch_oktopost_advocates":
        (records,) = tmp_path.glob(f"{dag_id}/*/*/**/records.jsonl")
        advocates = [json.loads(line) for line in records.read_text().splitlines() if line.strip()]
        assert len(advocates) == 10
