"""Each sample DAG run end to end on real Airflow (SQLite, ``dag.test()``) against the sandbox.

The assertions are what a DAG author checks after a run: the run succeeded, the API (the sandbox)
now holds exactly the records the run should have written, and every seeded bad record is in a
failures file with the API's own reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_gtm.compat import DagBag, prepare_dag_test

DAGS = Path(__file__).resolve().parents[2] / "dags"

pytestmark = pytest.mark.airflow_db


def run_dag(dag_id: str, conf: dict[str, Any]) -> Any:
    bag = DagBag(dag_folder=str(DAGS / f"{dag_id}.py"))
    assert not bag.import_errors
    prepare_dag_test(bag)
    dag = bag.dags[dag_id]
    return dag.test(run_conf=conf)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def task_files(base: Path, dag_id: str, task_id: str, name: str) -> list[Path]:
    return sorted(base.glob(f"{dag_id}/*/{task_id}/**/{name}"))  # ** also matches no directory


def report(base: Path, dag_id: str) -> dict[str, Any]:
    (path,) = base.glob(f"{dag_id}/*/report/report.json")
    return json.loads(path.read_text())


def all_failures(base: Path, dag_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted(base.glob(f"{dag_id}/**/failures.jsonl")):
        found.extend(lines(path))
    return found


@pytest.fixture
def env(airflow_db, sandbox_connections, tmp_path):
    return sandbox_connections, tmp_path


def test_community_engagement_to_retention(env):
    sandbox, base = env
    dag_id = "gtm_community_engagement_to_retention"
    bad = {"customer_id": "bad,customer", "profile_data": {"nickname": "x"}, "platform_info": {"community": "x"}}
    dr = run_dag(dag_id, {"since": "2000-01-01T00:00:00+00:00", "max_posts": 60, "extra_profiles": [bad]})
    assert dr.state == "success"
    # The refused profile is within the failure policy: no step failed, so the run check never ran.
    assert {ti.task_id: ti.state for ti in dr.get_task_instances()}["check_run"] == "skipped"

    (posts_file,) = task_files(base, dag_id, "fetch_new_posts", "records.jsonl")
    posts = lines(posts_file)
    assert len(posts) == 60

    octy = sandbox.state()["apis"]["octy"]
    created_customers = {p["customer_id"] for p in octy["profiles"].values()}
    assert "bad,customer" not in created_customers
    # Exactly one profile per distinct author, and one event per post, all of the custom type.
    assert len(created_customers) == len(octy["profiles"])
    assert len(octy["events"]) == len(posts)
    assert {e["event_type"] for e in octy["events"].values()} == {"community_post"}
    assert any(t["event_type"] == "community_post" for t in octy["event_types"].values())

    failures = all_failures(base, dag_id)
    assert [f["identifier"] for f in failures] == ["bad,customer"]
    assert failures[0]["error_message"].startswith("Illegal character(s) found in provided customer identifier")

    summary = report(base, dag_id)
    profiles_step = summary["steps"]["create_profiles"]
    assert profiles_step["submitted"] == profiles_step["succeeded"] + profiles_step["failed"]
    assert profiles_step["failed"] == 1


def test_advocates_to_customer_base_with_enrichment(env):
    sandbox, base = env
    dag_id = "gtm_advocates_to_customer_base"
    dr = run_dag(dag_id, {"source": "leads", "max_people": 40, "enrich_people": True, "max_enrichments": 2,
                          "extra_contacts": [{"email": "not-an-email"}]})
    assert dr.state == "success"

    (people_file,) = task_files(base, dag_id, "fetch_people", "records.jsonl")
    assert len(lines(people_file)) == 40
    cos = sandbox.state()["apis"]["customeros"]
    summary = report(base, dag_id)
    contacts = summary["steps"]["create_contacts"]
    assert contacts["failed"] == 1
    assert len(cos["contacts"]) == contacts["succeeded"]
    orgs = summary["steps"]["create_organizations"]
    assert orgs["failed"] == 0 and len(cos["organizations"]) == orgs["succeeded"]
    assert len(cos["enrichments"]) == 2 and all(e["complete"] for e in cos["enrichments"].values())

    failures = all_failures(base, dag_id)
    assert [f["identifier"] for f in failures] == ["not-an-email"]
    assert failures[0]["error_message"]

    # A second run creates nothing twice: organizations already exist (409 → existing id).
    before = len(cos["organizations"])
    dr = run_dag(dag_id, {"source": "leads", "max_people": 40})
    assert dr.state == "success"
    assert len(sandbox.state()["apis"]["customeros"]["organizations"]) == before


def test_publish_campaign(env):
    sandbox, base = env
    dag_id = "gtm_publish_campaign"
    dr = run_dag(dag_id, {"campaign_name": "Launch", "network": "LinkedIn", "message": "Hello",
                          "start_time": "2030-01-01T09:00:00+00:00"})
    assert dr.state == "success"

    okto = sandbox.state()["apis"]["oktopost"]
    (campaign,) = okto["campaigns"].values()
    assert campaign["Name"] == "Launch"
    (message,) = okto["messages"].values()
    assert message["CampaignId"] == campaign["Id"] and message["Message"] == "Hello"
    posts = list(okto["posts"].values())
    assert posts and all(p["MessageId"] == message["Id"] for p in posts)
    assert sandbox.state()["rate_limited"].get("oktopost", 0) == 0


def test_publish_campaign_reports_refused_posts(env):
    sandbox, base = env
    dag_id = "gtm_publish_campaign"
    dr = run_dag(dag_id, {"campaign_name": "Launch", "network": "LinkedIn", "message": "Hello",
                          "credential_ids": ["003-nosuch-profile"]})
    states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
    # The only post was refused and on_failures defaults to "fail": the report still ran, and the
    # run itself ends "failed" so that nobody mistakes it for a good one.
    assert states["create_posts"] == "failed" and states["report"] == "success"
    assert states["check_run"] == "failed" and dr.state == "failed"
    failures = all_failures(base, dag_id)
    assert len(failures) == 1 and failures[0]["error_message"]
    assert failures[0]["record"]["credentialIds"] == ["003-nosuch-profile"]
