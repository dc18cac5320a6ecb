"""Data-aware scheduling through Airflow's own scheduler: a producer's asset event starts the consumer.

Starts ``airflow api-server``, ``scheduler`` and ``dag-processor`` on a fresh SQLite home against the
sandbox, unpauses ``gtm_fetch_oktopost_advocates`` (producer, ``@daily``: the scheduler starts its
latest interval at once) and ``gtm_advocates_to_customer_base`` (consumer, scheduled on the
producer's Asset), and checks through the REST API that the consumer ran *because of* the asset
event (run type ``asset_triggered``, the event among its upstream events), read the file the event
names instead of fetching again, and that the event's extra carries ``records`` and ``uri``
(advocates have no creation time, hence no ``watermark``). Stops every process it started.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow_processes import AirflowProcesses, wait_for

PRODUCER = "gtm_fetch_oktopost_advocates"
CONSUMER = "gtm_advocates_to_customer_base"
ASSET_URI = "x-gtm-oktopost://api.oktopost.com/advocates"

pytestmark = pytest.mark.slow


def test_consumer_runs_on_the_producers_asset_event(gtm_sandbox, tmp_path):
    env = {**gtm_sandbox.connection_env(), "AIRFLOW__GTM__OUTPUT_BASE_URI": f"file://{tmp_path / 'data'}"}
    with AirflowProcesses(tmp_path, env) as airflow:

        def runs(dag_id: str) -> list[dict[str, Any]]:
            return airflow.get(f"/dags/{dag_id}/dagRuns")["dag_runs"]

        def finished_run(dag_id: str) -> dict[str, Any] | None:
            done = [r for r in runs(dag_id) if r["state"] in ("success", "failed")]
            return done[0] if done else None

        airflow.migrate().start("api-server", "scheduler", "dag-processor")
        airflow.wait_until_parsed(PRODUCER, CONSUMER)
        assert runs(CONSUMER) == []
        # The consumer first, so that it is listening when the producer's event lands.
        for dag_id in (CONSUMER, PRODUCER):
            airflow.unpause(dag_id)

        produced = wait_for(lambda: finished_run(PRODUCER), 300, "the producer's scheduled run")
        assert produced["state"] == "success"
        assert produced["run_type"] == "scheduled"
        fetched = airflow.xcom(PRODUCER, produced["dag_run_id"], "fetch_advocates")
        assert fetched["records"] > 0

        # The asset event the producer's task emitted, with its metadata.
        (event,) = airflow.get("/assets/events", source_dag_id=PRODUCER)["asset_events"]
        assert event["uri"] == ASSET_URI
        assert event["extra"]["uri"] == fetched["uri"]
        assert event["extra"]["records"] == fetched["records"]
        advocates = [json.loads(line) for line in Path(fetched["uri"].removeprefix("file://")).read_text().splitlines()]
        # Oktopost advocates carry no creation time (only leads, posts, ... do), so no watermark.
        assert all("Created" not in a for a in advocates) and "watermark" not in event["extra"]

        consumed = wait_for(lambda: finished_run(CONSUMER), 300, "the consumer's asset-triggered run")
        assert consumed["run_type"] == "asset_triggered", consumed
        assert consumed["state"] == "success"
        upstream = airflow.get(f"/dags/{CONSUMER}/dagRuns/{consumed['dag_run_id']}/upstreamAssetEvents")["asset_events"]
        assert [e["id"] for e in upstream] == [event["id"]]

        tasks = airflow.get(f"/dags/{CONSUMER}/dagRuns/{consumed['dag_run_id']}/taskInstances")["task_instances"]
        states = {t["task_id"]: t["state"] for t in tasks}
        assert states["fetch_people"] == "skipped"  # no second fetch: the event named the file
        assert states["people_from_asset_event"] == "success" and states["build_contacts"] == "success"
        read = airflow.xcom(CONSUMER, consumed["dag_run_id"], "people_from_asset_event")
        assert read["uri"] == fetched["uri"] and read["records"] == fetched["records"]
        # The consumer's contacts are the producer's advocates (one per e-mail address).
        created = airflow.xcom(CONSUMER, consumed["dag_run_id"], "create_contacts")
        built = airflow.xcom(CONSUMER, consumed["dag_run_id"], "build_contacts")
        assert sorted(built["emails"]) == sorted(a["Email"] for a in advocates if "@" in str(a.get("Email", "")))
        assert created["submitted"] == built["contacts"] > 0
        contacts = gtm_sandbox.state()["apis"]["customeros"]["contacts"]
        assert len(contacts) == created["succeeded"] > 0
