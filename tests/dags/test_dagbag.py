"""Every sample DAG imports cleanly, is documented, tagged, retried and has a typed trigger form."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

DAGS = Path(__file__).resolve().parents[2] / "dags"
EXPECTED = {"gtm_community_engagement_to_retention", "gtm_advocates_to_customer_base", "gtm_publish_campaign",
            "gtm_fetch_oktopost_advocates"}


@pytest.fixture(scope="module")
def bag() -> DagBag:
    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(bag):
    assert bag.import_errors == {}
    assert EXPECTED <= set(bag.dag_ids)


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_is_documented_tagged_retried_and_has_typed_params(bag, dag_id):
    dag = bag.dags[dag_id]
    assert dag.doc_md and len(dag.doc_md) > 200
    assert "gtm" in dag.tags and "sample" in dag.tags
    assert all(t.retries >= 1 for t in dag.tasks)
    # No task runs forever, even against a list that never ends (issue #10).
    assert all(t.execution_timeout is not None for t in dag.tasks), dag_id
    assert dag.params
    for name in dag.params:
        schema = dag.params.get_param(name).schema
        assert schema.get("type"), f"{dag_id}: param {name!r} has no type"
        assert schema.get("title") or schema.get("description"), f"{dag_id}: param {name!r} is undocumented"
