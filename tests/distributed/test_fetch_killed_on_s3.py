"""A fetch writing to S3 is SIGKILLed mid-list and run again: it resumes after its last stored part.

moto's S3 server on loopback, reached through ``apache-airflow-providers-amazon`` and
``ObjectStoragePath`` (``s3://aws_default@bucket/...``), as a Celery or Kubernetes deployment with
``[gtm] output_base_uri`` on S3 would. Each try runs in its own process, as Airflow's retry on
another worker would; nothing is shared between them but S3.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from services import moto_s3_server

pytestmark = pytest.mark.distributed

BUCKET = "gtm-fetch"
PROFILES = "/v1/retention/profiles"
OUTPUT = f"s3://aws_default@{BUCKET}/runs/d/run1/profiles/records.jsonl"
KEY = "runs/d/run1/profiles/records.jsonl"

# One part per page (part_bytes = 1), so a kill lands between parts; the same task instance each time.
CHILD = """
import sys
from types import SimpleNamespace
from airflow_provider_gtm.operators.octy import OctyFetchOperator
from airflow_provider_gtm.operators.output import PartedJsonLinesWriter
PartedJsonLinesWriter.part_bytes = 1
ti = SimpleNamespace(dag_id="d", run_id="run1", task_id="profiles", map_index=-1)
print(OctyFetchOperator(task_id="profiles", resource="profiles", output_uri=sys.argv[1]).execute({"ti": ti}),
      flush=True)
"""


@pytest.fixture
def s3(gtm_sandbox_connections) -> Iterator[tuple[object, dict[str, str]]]:
    import boto3

    with moto_s3_server() as endpoint:
        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                              aws_secret_access_key="testing", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        env = {**os.environ, "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({
            "conn_type": "aws", "login": "testing", "password": "testing",
            "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"}})}
        yield client, env


def keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def checkpoint(client) -> dict | None:
    try:
        body = client.get_object(Bucket=BUCKET, Key=f"{KEY}.checkpoint.json")["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def run_child(env: dict[str, str], uri: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, uri], env=env, capture_output=True, text=True, timeout=180)


def test_fetch_to_s3_killed_mid_list_resumes_from_its_parts_exactly(gtm_sandbox_connections, s3):
    client, env = s3
    gtm_sandbox_connections.configure(records=600, octy={"page_size": 50})
    clean = run_child(env, f"s3://aws_default@{BUCKET}/clean/records.jsonl")
    assert clean.returncode == 0, clean.stderr[-3000:]
    expected = client.get_object(Bucket=BUCKET, Key="clean/records.jsonl")["Body"].read().decode().splitlines()
    assert len(expected) == 600

    # The 5th page hangs, so the kill lands mid-list with a request in flight and 4 parts stored.
    gtm_sandbox_connections.set_faults([{"api": "octy", "path": PROFILES, "method": "GET", "kind": "delay",
                                         "delay": 5.0, "calls": [5]}])
    process = subprocess.Popen([sys.executable, "-c", CHILD, OUTPUT], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while (checkpoint(client) or {}).get("pages", 0) < 4:
            assert process.poll() is None, "the fetch ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoint of 4 pages on S3"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    state = checkpoint(client)
    assert state is not None and (state["pages"], state["parts"], state["records"]) == (4, 4, 200)
    assert KEY not in keys(client)  # no partial output object

    gtm_sandbox_connections.set_faults([])
    calls_before = gtm_sandbox_connections.state()["calls"].get("octy", 0)
    retry = run_child(env, OUTPUT)  # Airflow's retry, in a new process (another worker)
    assert retry.returncode == 0, retry.stderr[-3000:]
    assert "Resuming Octy profiles after 4 complete pages" in retry.stdout + retry.stderr
    assert gtm_sandbox_connections.state()["calls"].get("octy", 0) - calls_before == 8  # pages 5-12
    output = client.get_object(Bucket=BUCKET, Key=KEY)["Body"].read().decode().splitlines()
    assert output == expected  # nothing lost, nothing twice, same order
    assert [k for k in keys(client) if k.startswith(KEY)] == [KEY]  # parts and checkpoint removed
