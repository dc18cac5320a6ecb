"""OpenLineage events from a sample DAG run on real Airflow, written by OpenLineage's file transport.

Runs ``airflow dags test gtm_advocates_to_customer_base`` (a fetch, a lookup and two batch writes)
against the sandbox with ``apache-airflow-providers-openlineage`` installed and
``AIRFLOW__OPENLINEAGE__TRANSPORT`` pointing at a file, then reads the COMPLETE events back and checks
what a lineage backend would show: the API endpoints and files as datasets, the schema inferred
from the records written, the output statistics and the batch counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.providers.openlineage", reason="needs the openlineage extra (make venv installs it)")

pytestmark = pytest.mark.airflow_db
DAG_ID = "gtm_advocates_to_customer_base"


def task_events(path: Path, event_type: str) -> dict[str, dict[str, Any]]:
    """Task events of one type by task id (the job name is ``<dag_id>.<task_id>``)."""
    events = {}
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        event = json.loads(line)
        name = event.get("job", {}).get("name", "")
        if event.get("eventType") == event_type and name.startswith(f"{DAG_ID}."):
            events[name.split(".", 1)[1]] = event
    return events


def run_with_file_transport(conf: dict[str, Any], events_file: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "gtm-tests",
    }
    return subprocess.run([sys.executable, "-m", "airflow", "dags", "test", DAG_ID, "-c", json.dumps(conf)],
                          env=env, capture_output=True, text=True, timeout=300)


def test_lineage_events_of_a_sample_dag_run(airflow_db, sandbox_connections, tmp_path):
    sandbox = sandbox_connections
    events_file = tmp_path / "openlineage.jsonl"
    conf = {"source": "leads", "max_people": 30, "extra_contacts": [{"email": "not-an-email"}],
            "on_failures": "warn"}
    run = run_with_file_transport(conf, events_file)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    events = task_events(events_file, "COMPLETE")
    sandbox_netloc = sandbox.url.split("://", 1)[1].rstrip("/")

    # The fetch: the Oktopost endpoint in, the JSON Lines file out, with schema and statistics.
    fetch = events["fetch_people"]
    (source,) = fetch["inputs"]
    assert source["namespace"] == f"oktopost://{sandbox_netloc}"
    assert source["name"] == "oktopost/v2/lead"
    (output,) = fetch["outputs"]
    assert output["namespace"] == "file" and output["name"].endswith("/fetch_people/records.jsonl")
    written = Path(output["name"]).read_text().splitlines()
    stats = output["outputFacets"]["outputStatistics"]
    assert stats["rowCount"] == len(written) == 30
    assert stats["size"] == Path(output["name"]).stat().st_size
    schema = {f["name"]: f["type"] for f in output["facets"]["schema"]["fields"]}
    first = json.loads(written[0])
    assert set(first) <= set(schema)
    assert schema["Email"] == "string"
    assert fetch["run"]["facets"]["gtm"]["records"] == 30

    # A batch: the file read in, the CustomerOS endpoint and the failures file out, with the counts.
    contacts = events["create_contacts"]
    (read,) = contacts["inputs"]
    assert read["namespace"] == "file" and read["name"].endswith("contacts.jsonl")
    api_out, failures_out = contacts["outputs"]
    assert api_out["namespace"] == f"customeros://{sandbox_netloc}"
    assert api_out["name"] == "customeros/customerbase/v1/contacts"
    counts = contacts["run"]["facets"]["gtm"]
    assert counts["submitted"] == counts["succeeded"] + counts["failed"] and counts["failed"] == 1
    assert api_out["outputFacets"]["outputStatistics"]["rowCount"] == counts["succeeded"]
    assert failures_out["name"].endswith("/create_contacts/failures.jsonl")
    assert failures_out["outputFacets"]["outputStatistics"]["rowCount"] == 1
    failure_fields = {f["name"] for f in failures_out["facets"]["schema"]["fields"]}
    assert failure_fields == {"record", "identifier", "error_message", "status", "outcome"}

    organizations = events["create_organizations"]
    assert organizations["outputs"][0]["name"] == "customeros/customerbase/v1/organizations"
    assert organizations["run"]["facets"]["gtm"]["failed"] == 0


def test_a_batch_failing_on_its_policy_still_reports_the_failures_file(airflow_db, sandbox_connections, tmp_path):
    events_file = tmp_path / "openlineage.jsonl"
    conf = {"source": "leads", "max_people": 5, "extra_contacts": [{"email": "not-an-email"}],
            "on_failures": "fail"}
    run = run_with_file_transport(conf, events_file)
    assert run.returncode != 0  # the refused contact fails create_contacts, and so the run
    failed = task_events(events_file, "FAIL")["create_contacts"]
    api_out, failures_out = failed["outputs"]
    assert api_out["name"] == "customeros/customerbase/v1/contacts"
    assert failures_out["name"].endswith("/create_contacts/failures.jsonl")
    assert failures_out["outputFacets"]["outputStatistics"]["rowCount"] == 1
    assert failed["run"]["facets"]["gtm"]["failed"] == 1
