"""The watermark of an incremental Octopus fetch, against the sandbox: where a run starts, what a
retried try of the same run does, ties at the same millisecond, and the Variable it keeps."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from airflow_provider_gtm.operators import watermark as watermark_module
from airflow_provider_gtm.operators.octopus import OctopusFetchOperator
from airflow_provider_gtm.operators.watermark import Watermark, WatermarkTracker

BASE_MS, STEP_MS = 1_767_225_600_000, 3_600_000


class Variables:
    """Airflow's Variable API as the task SDK offers it (get/set), kept in a dict."""

    def __init__(self):
        self.values: dict[str, str] = {}

    def get(self, key, default=None, default_var=None):  # default_var: Variable.get's keyword on Airflow 2
        return self.values.get(key, default if default is not None else default_var)

    def set(self, key, value, description=None):
        self.values[key] = value


@pytest.fixture
def variables(monkeypatch):
    from airflow_provider_gtm import compat

    store = Variables()
    monkeypatch.setattr(compat, "Variable", store)  # where the provider takes Variable from, on every line
    return store


def fetch(tmp_path, run_id: str, try_number: int = 1) -> tuple[dict, list[str]]:
    uri = f"file://{tmp_path}/{run_id}-{try_number}.jsonl"
    op = OctopusFetchOperator(task_id="posts", feed="all_posts", order="Asc", watermark_field="createdAt",
                              since_last_watermark=True, output_uri=uri, resume=False)
    xcom = op.execute({"ti": SimpleNamespace(dag_id="d", run_id=run_id, task_id="posts", map_index=-1)})
    ids = [json.loads(line)["id"] for line in open(uri.removeprefix("file://"))]
    return xcom, ids


def test_runs_continue_and_a_retry_of_the_same_run_starts_where_that_run_started(
        gtm_sandbox_connections, variables, tmp_path):
    sandbox = gtm_sandbox_connections
    sandbox.configure(records=5)
    xcom, ids = fetch(tmp_path, "run1")
    assert ids == [f"post-{i:08d}" for i in range(5)]
    assert xcom["watermark"] == {"value": BASE_MS + 4 * STEP_MS, "ids": ["post-00000004"]}
    stored = json.loads(variables.values["gtm_watermark__d__posts"])
    assert stored["run_id"] == "run1" and stored["started_from"] is None

    sandbox.configure(records=8)
    assert fetch(tmp_path, "run2")[1] == ["post-00000005", "post-00000006", "post-00000007"]
    sandbox.configure(records=9)
    # run2 retried (or cleared) after it recorded its watermark: it rewrites its own posts, plus the new one.
    assert fetch(tmp_path, "run2", try_number=2)[1] == [f"post-{i:08d}" for i in range(5, 9)]
    assert fetch(tmp_path, "run3")[1] == []
    assert json.loads(variables.values["gtm_watermark__d__posts"])["value"] == BASE_MS + 8 * STEP_MS


def test_posts_at_the_same_millisecond_are_neither_lost_nor_repeated():
    mark = Watermark(value=1000, ids=["a"])
    assert not mark.admits(1000, "a")
    assert mark.admits(1000, "b")  # created in the same millisecond, after the last fetch
    assert mark.admits(1001, "c")
    assert not mark.admits(999, "d")  # an API counting the origin inclusively sends it again
    tracker = WatermarkTracker("createdAt", start=mark)
    tracker.observe([{"id": "b", "createdAt": 1000}, {"id": "x", "createdAt": None}])
    assert tracker.to_json() == {"value": 1000, "ids": ["a", "b"]}
    tracker.observe([{"id": "c", "createdAt": 1001}])
    assert tracker.to_json() == {"value": 1001, "ids": ["c"]}
    assert WatermarkTracker("t").to_json() is None
    # ISO-8601 strings compare in time order too.
    assert Watermark("2026-01-02T00:00:00Z").admits("2026-01-03T00:00:00Z", "z")


def test_since_last_watermark_needs_a_field():
    with pytest.raises(ValueError, match="needs watermark_field"):
        OctopusFetchOperator(task_id="p", feed="all_posts", since_last_watermark=True)
    assert watermark_module.default_variable_key("d", "t") == "gtm_watermark__d__t"
