"""Every sample DAG imports cleanly, is documented, tagged, retried and has a typed trigger form."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_gtm.compat import DagBag

DAGS = Path(__file__).resolve().parents[2] / "dags"
EXPECTED = {"gtm_community_engagement_to_retention", "gtm_advocates_to_customer_base", "gtm_publish_campaign",
            "gtm_fetch_oktopost_advocates", "gtm_land_community_posts"}


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


def _ui_field_kind(schema: dict) -> str:
    """The field Airflow 3.3's trigger form renders for an array Param (ui FlexibleForm's rule):
    items of type string (or no items type) give "Enter each string on a new line", any other
    items type a JSON editor."""
    items_type = (schema.get("items") or {}).get("type")
    return "strings, one per line" if items_type in (None, "string") else "JSON editor"


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_every_param_has_title_and_description_and_object_lists_edit_as_json(bag, dag_id):
    dag = bag.dags[dag_id]
    for name in dag.params:
        schema = dag.params.get_param(name).schema
        description = dag.params.get_param(name).description or schema.get("description")
        assert schema.get("title") and description, f"{dag_id}: param {name!r}"
        if "array" in schema["type"]:
            assert "items" in schema, f"{dag_id}: array param {name!r} must say what its items are"


@pytest.mark.parametrize(("dag_id", "name"), [("gtm_community_engagement_to_retention", "extra_profiles"),
                                              ("gtm_advocates_to_customer_base", "extra_contacts")])
def test_object_list_params_take_objects_not_strings(bag, dag_id, name):
    from airflow_provider_gtm.compat import ParamValidationError

    param = bag.dags[dag_id].params.get_param(name)
    assert _ui_field_kind(param.schema) == "JSON editor"
    assert param.resolve([{"email": "x@example.com"}]) == [{"email": "x@example.com"}]
    # What the old "one string per line" field sent: now refused by the form, not later by the API.
    with pytest.raises(ParamValidationError, match="is not of type 'object'"):
        param.resolve(['{"email": "x@example.com"}'])


def test_every_oktopost_operator_shares_the_key_pool_and_waits_out_a_key_block_deferred(bag):
    # Oktopost blocks a key for 15 minutes after a 429: longer than the sample DAGs' retries last.
    from airflow_provider_gtm.examples.pools import OKTOPOST_POOL

    oktopost = [(dag_id, t) for dag_id in sorted(EXPECTED) for t in bag.dags[dag_id].tasks
                if type(t).__name__.startswith("Oktopost") or getattr(t, "operator_class", None)
                and getattr(t.operator_class, "__name__", "").startswith("Oktopost")]
    assert len(oktopost) >= 5
    for dag_id, task in oktopost:
        kwargs = getattr(task, "partial_kwargs", None) or {}
        assert task.pool == OKTOPOST_POOL, (dag_id, task.task_id)
        assert getattr(task, "deferrable", kwargs.get("deferrable")) is True, (dag_id, task.task_id)
