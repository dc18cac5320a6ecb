"""``gtm_land_community_posts`` on real Airflow against the sandbox: fetched posts land in a SQLite table through
the sqlite provider's common.sql hook, one row per post, and the next run lands only the posts past the watermark."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from airflow_provider_gtm.operators.watermark import default_variable_key
from tests.dags.test_sample_dags_run import lines, run_dag, task_files

pytestmark = pytest.mark.airflow_db
DAG_ID = "gtm_land_community_posts"


@pytest.fixture
def warehouse(airflow_db, sandbox_connections, tmp_path):
    from airflow.models.variable import Variable

    Variable.delete(default_variable_key(DAG_ID, "fetch_posts"))  # another test of this session may have run it
    # tests/dags/conftest.py points the gtm_warehouse connection at this SQLite file.
    return sandbox_connections, tmp_path, tmp_path / "warehouse.db"


def rows(path: Path) -> dict[str, tuple[str, dict]]:
    with sqlite3.connect(path) as db:
        return {key: (mark, json.loads(record))
                for key, mark, record in db.execute("SELECT id, watermark, record FROM community_posts")}


def test_posts_land_once_each_and_the_watermark_drives_the_next_load(warehouse):
    sandbox, base, path = warehouse
    sandbox.configure(records=12)
    assert run_dag(DAG_ID, {}).state == "success"
    landed = rows(path)
    (first_file,) = task_files(base, DAG_ID, "fetch_posts", "records.jsonl")
    posts = lines(first_file)
    assert len(posts) == 12 and set(landed) == {p["id"] for p in posts}
    assert all(landed[p["id"]] == (str(p["createdAt"]), p) for p in posts)

    sandbox.configure(records=20)  # eight new posts
    assert run_dag(DAG_ID, {}).state == "success"
    second_file = next(f for f in task_files(base, DAG_ID, "fetch_posts", "records.jsonl") if f != first_file)
    assert len(lines(second_file)) == 8, "only the posts past the watermark are fetched, and landed"
    landed = rows(path)
    assert len(landed) == 20

    # A replay from the start (the form's "since") lands the same posts again: still one row each, with
    # the content fetched last.
    assert run_dag(DAG_ID, {"since": "2000-01-01T00:00:00+00:00"}).state == "success"
    replay = max(task_files(base, DAG_ID, "fetch_posts", "records.jsonl"), key=lambda f: f.stat().st_mtime)
    again = rows(path)
    assert set(again) == set(landed) and len(lines(replay)) == 20
    assert all(again[p["id"]][1] == p for p in lines(replay))
