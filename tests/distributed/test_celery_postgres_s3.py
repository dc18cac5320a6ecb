"""The sample DAGs on a distributed Airflow: Celery with two workers, PostgreSQL, Redis, S3 storage.

Everything runs on loopback and is started and stopped by the test: a PostgreSQL cluster (the
metadata database and Celery's result backend), ``redis-server`` (Celery's broker, and the
provider's ``redis://`` rate-limit backend), moto's S3 server (every output, checkpoint and write
ledger goes to ``s3://`` through ``apache-airflow-providers-amazon`` and ``ObjectStoragePath``), the
api-server, scheduler, dag-processor and triggerer, and two Celery workers that stand for two
hosts: each has its own hostname (``[core] hostname_callable``) and its own local rate-limit folder,
so only Redis can give them one Oktopost budget.

The sandbox enforces a tight limit on the Oktopost key (4 calls in 10 minutes, a 15-minute block) on a
clock running ``SCALE`` times faster (the connection's windows are scaled the same way). The
sample DAGs run their Oktopost tasks in the ``gtm_oktopost`` pool (one slot); the limiter's state
in Redis is what carries the key's call history from one worker to the other.

The three sample DAGs run: two triggered through the REST API, the daily one by the scheduler.
While ``gtm_publish_campaign`` is creating its posts (each slowed down in the sandbox), while the
second post is in flight (applied, its answer held back), the worker running the task is
SIGKILLed with all its processes, as a lost host would be: the scheduler notices the missing
heartbeats, Airflow retries the task on the other worker, and the retry resumes from the write
ledger on S3.

Asserted: every run succeeds; tasks ran on both workers; every record is in the sandbox exactly
once and the XComs account for each; Oktopost answered 0 times with 429; the outputs are on S3.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from airflow_processes import AirflowProcesses, wait_for
from services import moto_s3_server, postgres_server, redis_server

pytestmark = pytest.mark.distributed

TESTS = Path(__file__).resolve().parents[1]
BUCKET = "gtm-outputs"
SCALE = 20.0  # the sandbox's minute lasts 3 s
# A key far tighter than Oktopost's (4 calls in 10 minutes, a breach blocks it for 15 minutes): the
# sample DAGs' dozen Oktopost calls, made by tasks on both workers, must be paced across the two
# hosts. Only the Redis backend carries the call history from one worker to the other (with each
# worker's local backend instead, the sandbox answered 429).
KEY_LIMIT = {"windows": [[4, 600]], "block_seconds": 900, "retry_after": True}
# The connection's windows in real seconds, with a 10% margin for the network between the two clocks.
WINDOWS = [[4, 600 / SCALE * 1.1]]
PUBLISH, ADVOCATES, COMMUNITY = "gtm_publish_campaign", "gtm_advocates_to_customer_base", \
    "gtm_community_engagement_to_retention"
LAND = "gtm_land_community_posts"
WORKERS = ("worker-a", "worker-b")


def task_instances(airflow: AirflowProcesses, dag_id: str) -> list[dict[str, Any]]:
    return [ti for run in airflow.get(f"/dags/{dag_id}/dagRuns")["dag_runs"]
            for ti in airflow.task_instances(dag_id, run["dag_run_id"]).values()]


def warehouse_connection(database: str) -> dict[str, Any]:
    """The Airflow connection (postgres) of the test's PostgreSQL database, from its SQLAlchemy URL."""
    from urllib.parse import urlsplit

    url = urlsplit(database)
    return {"conn_type": "postgres", "host": url.hostname, "port": url.port, "login": url.username,
            "schema": url.path.lstrip("/")}


def landed_ids(database: str, table: str) -> set[str]:
    import psycopg2

    with psycopg2.connect(database.replace("postgresql+psycopg2://", "postgresql://")) as connection, \
            connection.cursor() as cursor:
        cursor.execute(f"SELECT id, record FROM {table}")
        rows = cursor.fetchall()
    assert all(json.loads(record)["id"] == key for key, record in rows)
    return {key for key, _ in rows}


def s3_objects(endpoint: str) -> list[str]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                      region_name="us-east-1")
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def read_s3_lines(endpoint: str, uri: str) -> list[Any]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                      region_name="us-east-1")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    bucket = bucket.rpartition("@")[2]
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def test_sample_dags_on_celery_workers_with_postgres_redis_and_s3(gtm_sandbox, tmp_path):
    import boto3

    gtm_sandbox.configure(records=400, time_scale=SCALE, rate_limits={"oktopost": KEY_LIMIT})
    # Slow post creates (the sandbox waits before applying each), so the kill lands mid-batch.
    gtm_sandbox.set_faults([{"kind": "delay", "api": "oktopost", "method": "POST", "path": "/v2/post", "delay": 3}])
    connections = gtm_sandbox.connection_env()
    oktopost = json.loads(connections["AIRFLOW_CONN_OKTOPOST_DEFAULT"])
    oktopost["extra"] = {**(oktopost.get("extra") or {}), "rate_limits": WINDOWS, "max_wait_seconds": 600}
    connections["AIRFLOW_CONN_OKTOPOST_DEFAULT"] = json.dumps(oktopost)

    with redis_server() as redis, postgres_server() as database, moto_s3_server() as s3_endpoint:
        boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        env = {
            **connections,
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({
                "conn_type": "aws", "login": "testing", "password": "testing",
                "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}}),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CELERY__BROKER_URL": f"{redis}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__GTM__OUTPUT_BASE_URI": f"s3://aws_default@{BUCKET}/runs",
            "AIRFLOW__GTM__RATE_LIMIT_BACKEND": f"{redis}/1",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "airflow_processes.worker_hostname",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
            # A lost worker is noticed after 30 s without heartbeats (default 300 s).
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            # gtm_land_community_posts lands in this PostgreSQL (the postgres provider's common.sql hook).
            "AIRFLOW_CONN_GTM_WAREHOUSE": json.dumps(warehouse_connection(database)),
        }
        with AirflowProcesses(tmp_path, env) as airflow:
            airflow.migrate()
            airflow.start("api-server", "scheduler", "dag-processor", "triggerer")
            for index, name in enumerate(WORKERS):
                airflow.start((name, ["celery", "worker", "--concurrency", "2", "--celery-hostname",
                                      f"{name}@%h", "--without-mingle", "--without-gossip"]),
                              env={"GTM_TEST_HOSTNAME": name,
                                   "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(8793 + 10 + index),
                                   "AIRFLOW__GTM__RATE_LIMIT_STATE_DIR": str(tmp_path / f"{name}-ratelimit")})
            airflow.wait_until_parsed(PUBLISH, ADVOCATES, COMMUNITY, LAND)
            for dag_id in (PUBLISH, ADVOCATES, COMMUNITY, LAND):
                airflow.unpause(dag_id)
            runs = {
                PUBLISH: airflow.trigger(PUBLISH, {"campaign_name": "Distributed launch", "post_status": "draft"}),
                ADVOCATES: airflow.trigger(ADVOCATES, {"source": "leads"}),
                # Daily, without catchup: unpausing starts its latest interval, which takes every post.
                COMMUNITY: wait_for(lambda: [r["dag_run_id"] for r in airflow.get(f"/dags/{COMMUNITY}/dagRuns")[
                    "dag_runs"]], 120, "the scheduled run of the community DAG")[0],
                LAND: wait_for(lambda: [r["dag_run_id"] for r in airflow.get(f"/dags/{LAND}/dagRuns")["dag_runs"]],
                               120, "the scheduled run of the landing DAG")[0],
            }

            # -- kill the worker that is creating the posts, in the middle of the batch ---------------
            def posts_running() -> dict[str, Any] | None:
                ti = airflow.task_instances(PUBLISH, runs[PUBLISH]).get("create_posts[0]")
                return ti if ti and ti["state"] == "running" and ti.get("hostname") in WORKERS else None

            def post_in_flight() -> bool:
                # The sandbox applies a post at once and holds its answer back (the delay fault): with two
                # applied, the first was answered and the second is in flight.
                created = len(gtm_sandbox.state()["apis"]["oktopost"]["posts"])
                return created >= 2

            ti = wait_for(posts_running, 600, "create_posts[0] running on a worker", every=0.3)
            plan = airflow.xcom(PUBLISH, runs[PUBLISH], "plan_posts")
            planned = [c for chunk in plan for post in chunk for c in post["credentialIds"]]
            assert len(planned) >= 3, plan
            wait_for(post_in_flight, 120, "the second post applied, its answer held back", every=0.05)
            killed = ti["hostname"]
            airflow.stop([killed], sig=signal.SIGKILL)
            killed_at = time.monotonic()

            states = {dag_id: airflow.wait_for_run(dag_id, run_id, timeout=900) for dag_id, run_id in runs.items()}
            print(f"\nall runs ended {time.monotonic() - killed_at:.0f}s after the kill: {states}")
            everything = {dag_id: task_instances(airflow, dag_id) for dag_id in runs}
            assert states == dict.fromkeys(runs, "success"), (
                states, {d: {t["task_id"]: t["state"] for t in tis} for d, tis in everything.items()},
                airflow.log_tail("scheduler"))

            # -- the killed task: retried by Airflow on the other worker, resumed from the ledger -----
            retried = airflow.task_instances(PUBLISH, runs[PUBLISH])["create_posts[0]"]
            survivor = next(w for w in WORKERS if w != killed)
            assert retried["try_number"] == 2 and retried["hostname"] == survivor, retried
            log = airflow.task_logs(PUBLISH, "create_posts")
            assert "Resuming Oktopost posts from its write ledger s3://" in log, log[-4000:]
            hosts = Counter(t.get("hostname") for tis in everything.values() for t in tis if t["state"] == "success")
            assert set(WORKERS) <= set(hosts), hosts
            print(f"task instances that succeeded, per worker: {dict(hosts)}")

            # -- exactly once: the sandbox against what the XComs say was written ---------------------
            state = gtm_sandbox.state()
            posts = list(state["apis"]["oktopost"]["posts"].values())
            assert Counter(c for p in posts for c in p["CredentialIds"]) == Counter(planned)
            summaries = [airflow.xcom(PUBLISH, runs[PUBLISH], "create_posts", map_index=i) for i in range(len(plan))]
            assert sum(s["succeeded"] for s in summaries) == len(planned) == len(posts)
            assert sorted(i for s in summaries for i in s["ids"]) == sorted(p["Id"] for p in posts)
            assert len(state["apis"]["oktopost"]["campaigns"]) == len(state["apis"]["oktopost"]["messages"]) == 1

            cos = state["apis"]["customeros"]
            contacts = airflow.xcom(ADVOCATES, runs[ADVOCATES], "create_contacts")
            emails = [c.get("email") for c in cos["contacts"].values()]
            assert len(emails) == len(set(emails)) == contacts["succeeded"] > 0
            organizations = airflow.xcom(ADVOCATES, runs[ADVOCATES], "create_organizations")
            assert len(cos["organizations"]) == organizations["succeeded"] > 0

            octy = state["apis"]["octy"]
            customers = [p["customer_id"] for p in octy["profiles"].values()]
            assert len(customers) == len(set(customers)) > 0
            fetched = airflow.xcom(COMMUNITY, runs[COMMUNITY], "fetch_new_posts")
            assert len(octy["events"]) == fetched["records"] > 0
            for dag_id, run_id in runs.items():
                for task in everything[dag_id]:
                    if task["dag_run_id"] != run_id or task["state"] != "success":
                        continue
                    value = airflow.xcom(dag_id, run_id, task["task_id"], map_index=task.get("map_index", -1)) \
                        if task["task_id"].startswith("create_") else None
                    if isinstance(value, dict) and "submitted" in value:
                        assert value["submitted"] == value["succeeded"] + value["failed"], (task["task_id"], value)
                        assert value["failures_uri"].startswith("s3://"), value

            # -- the fetched posts landed in PostgreSQL, one row each -------------------------------------
            landed = airflow.xcom(LAND, runs[LAND], "land_posts")
            fetched_posts = airflow.xcom(LAND, runs[LAND], "fetch_posts")
            ids = {p["id"] for p in read_s3_lines(s3_endpoint, fetched_posts["uri"])}
            assert landed["rows"] == fetched_posts["records"] == len(ids) > 0, (landed, fetched_posts)
            assert landed_ids(database, landed["table"]) == ids

            # -- one Oktopost budget for both workers ------------------------------------------------
            print(f"Oktopost calls {state['calls'].get('oktopost', 0)}, "
                  f"429 answers {state['rate_limited'].get('oktopost', 0)}")
            assert state["rate_limited"].get("oktopost", 0) == 0

            # -- outputs, checkpoints and ledgers are on S3 --------------------------------------------
            keys = s3_objects(s3_endpoint)
            assert any("/_ledger/" in k for k in keys) and any(k.endswith("records.jsonl") for k in keys)
            results = read_s3_lines(s3_endpoint, summaries[0]["results_uri"])
            assert sorted(r["Id"] for r in results) == sorted(summaries[0]["ids"])
