"""Incremental loading on Airflow 3: ``gtm_community_engagement_to_retention`` run after run (real
Airflow, SQLite, ``dag.test()``), with posts created in the sandbox between runs, fetches every post
exactly once: runs at a schedule's (zero-length) data intervals, manual runs with defaults, a run
that fails after its fetch, and a run with nothing new."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pendulum
import pytest

from airflow_provider_gtm.compat import DAG_TEST_DATE_ARG, DagBag
from airflow_provider_gtm.operators.watermark import default_variable_key

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_ID = "gtm_community_engagement_to_retention"
KEY = default_variable_key(DAG_ID, "fetch_new_posts")

pytestmark = pytest.mark.airflow_db


def fetched_ids(base: Path, run_id: str) -> list[str]:
    safe = run_id.replace(":", "_").replace("+", "_")
    (path,) = [p for p in base.glob(f"{DAG_ID}/*/fetch_new_posts/records.jsonl") if p.parts[-3] == safe]
    return [json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()]


def test_every_post_fetched_exactly_once_across_runs(airflow_db, sandbox_connections, tmp_path):
    from airflow.models.variable import Variable

    sandbox, base = sandbox_connections, tmp_path
    Variable.delete(KEY)  # another test of this session may have run the DAG
    all_fetched: list[str] = []

    def run(posts_in_api: int, conf: dict | None = None, logical_date=None, expect: str = "success") -> list[str]:
        sandbox.configure(records=posts_in_api)
        kwargs = {DAG_TEST_DATE_ARG: logical_date} if logical_date is not None else {}
        # A DAG parsed afresh for each run, as the scheduler does (dag.test keeps a run's conf in its params).
        dag = DagBag(dag_folder=str(DAGS / f"{DAG_ID}.py")).dags[DAG_ID]
        dr = dag.test(run_conf=conf or {}, **kwargs)
        assert dr.state == expect, {ti.task_id: ti.state for ti in dr.get_task_instances()}
        ids = fetched_ids(base, dr.run_id)
        all_fetched.extend(ids)
        return ids

    # The first run (no watermark yet, no "since") takes every post.
    first = run(12)
    assert first == [f"post-{i:08d}" for i in range(12)]
    # Runs as the @daily schedule makes them: a zero-length data interval would have fetched nothing.
    day = pendulum.datetime(2026, 11, 1, tz="UTC")
    assert run(20, logical_date=day) == [f"post-{i:08d}" for i in range(12, 20)]
    assert run(23, logical_date=day.add(days=1)) == [f"post-{i:08d}" for i in range(20, 23)]
    # A run whose fetch succeeds and whose later step fails: its posts are in its file (clear the
    # failed step to finish it); the next run does not fetch them again.
    refused = {"customer_id": "bad,customer", "profile_data": {"n": 1}, "platform_info": {"c": 1}}
    assert run(30, {"on_failures": "fail", "extra_profiles": [refused]}, expect="failed") == [
        f"post-{i:08d}" for i in range(23, 30)]
    # A manual run with the form's defaults and nothing new: nothing fetched, the watermark stays.
    assert run(30) == []
    assert run(31) == ["post-00000030"]

    counts = Counter(all_fetched)
    assert set(counts) == {f"post-{i:08d}" for i in range(31)}
    assert max(counts.values()) == 1
    stored = json.loads(Variable.get(KEY))
    assert stored["ids"] == ["post-00000030"]
    assert stored["value"] == 1_767_225_600_000 + 30 * 3_600_000  # the sandbox's createdAt of post 30
