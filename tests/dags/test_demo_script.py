"""``make demo`` (scripts/demo.py): a failed run names the failing task, its reason and log tail, and
its whole log is really where the demo says; the sandbox's call counts are printed (not ``{}``)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest
import requests

from airflow_provider_gtm.compat import AirflowFailException

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"


@pytest.fixture(scope="module")
def demo():
    spec = importlib.util.spec_from_file_location("gtm_demo_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_sandbox_calls_reads_the_calls_key(demo, gtm_sandbox):
    requests.get(f"{gtm_sandbox.url}/octy/v1/retention/profiles", timeout=10)
    assert demo.sandbox_calls(gtm_sandbox.state()) == "octy 1"
    assert demo.sandbox_calls({}) == "none"


@pytest.mark.airflow_db
def test_failed_run_prints_task_reason_tail_and_log_location(demo, airflow_db, sandbox_connections, tmp_path,
                                                             monkeypatch, capsys):
    monkeypatch.setattr(demo, "LOGS", tmp_path / "demo-logs")
    # A refused profile with on_failures=fail: create_profiles fails with Octy's reason.
    conf = {"since": "2000-01-01T00:00:00+00:00", "max_posts": 10, "on_failures": "fail",
            "extra_profiles": [{"customer_id": "bad,x", "profile_data": {"n": 1}, "platform_info": {"c": 1}}]}
    code, log_path = demo.run_dag("gtm_community_engagement_to_retention", conf, dict(os.environ))
    assert code != 0
    assert log_path == tmp_path / "demo-logs" / "gtm_community_engagement_to_retention.log"
    assert "create_profiles" in log_path.read_text()

    demo.print_failure(log_path)
    out = capsys.readouterr().out
    fail = f"{AirflowFailException.__module__}.{AirflowFailException.__qualname__}"  # this line's home
    if fail not in log_path.read_text():  # Airflow 3.0's task log renders the exception's bare class name
        fail = AirflowFailException.__qualname__
    assert f"task create_profiles failed: {fail}: Octy profiles.create: 1 of " in out
    assert "last lines of its log:" in out
    assert f"whole log of this run: {log_path}" in out
    tasks = [f["task"] for f in demo.failed_tasks(log_path.read_text())]
    assert tasks == ["create_profiles", "check_run"]


def test_failed_tasks_names_a_mapped_task_and_skips_successful_ones(demo):
    output = "\n".join([
        "x [info] [DAG TEST] starting task_id=a map_index=-1 [airflow]",
        "x [info] Task instance state updated new_state=success",
        "x [info] [DAG TEST] starting task_id=b map_index=2 [airflow]",
        "x [error] Task failed with exception [task]",
        "Traceback (most recent call last):",
        "airflow.sdk.exceptions.AirflowException: Sending x: HTTP 503",
    ])
    (failure,) = demo.failed_tasks(output)
    assert failure["task"] == "b[2]"
    assert failure["reason"] == "airflow.sdk.exceptions.AirflowException: Sending x: HTTP 503"


@pytest.mark.airflow_db
def test_demo_lands_the_fetched_posts_in_sqlite(demo, airflow_db, sandbox_connections, tmp_path, monkeypatch):
    import json

    monkeypatch.setattr(demo, "LOGS", tmp_path / "demo-logs")
    # The demo's own connection, its own form values, and the query it prints; the file is tests/dags/conftest.py's.
    warehouse = json.loads(demo.airflow_env({})["AIRFLOW_CONN_GTM_WAREHOUSE"])
    assert warehouse == {"conn_type": "sqlite", "host": str(demo.DEMO / "warehouse.db")}
    assert demo.landed_rows(tmp_path / "warehouse.db") is None
    code, log_path = demo.run_dag("gtm_land_community_posts", demo.RUNS["gtm_land_community_posts"], dict(os.environ))
    assert code == 0, log_path.read_text()[-3000:]
    (fetched,) = tmp_path.glob("gtm_land_community_posts/*/fetch_posts/records.jsonl")
    posts = [json.loads(line)["id"] for line in fetched.read_text().splitlines() if line.strip()]
    assert posts and demo.landed_rows(tmp_path / "warehouse.db") == len(set(posts))
