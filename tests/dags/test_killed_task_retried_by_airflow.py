"""A write task killed part-way through a sample DAG run, and retried by Airflow itself.

Airflow's own processes on loopback (api-server, scheduler with its LocalExecutor, dag-processor)
run ``gtm_publish_campaign`` from a REST trigger. Every post create is slowed down in the sandbox,
so ``create_posts`` is still writing when the test SIGKILLs its task process (the process the
supervisor forked, titled ``airflow worker -- <task instance id>``), as the kernel's OOM killer
would, while the second post is in flight: the sandbox has applied it and holds its answer back,
so the first try dies with a post applied that it never heard about. Airflow
marks the try failed and retries it after the DAG's ``retry_delay``; the retry resumes from the
write ledger. The run must succeed with every planned post in Oktopost exactly once, and the
task's XCom and files must account for each of them.
"""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from airflow_processes import AirflowProcesses, wait_for

DAG_ID = "gtm_publish_campaign"

pytestmark = pytest.mark.slow


def task_process(ti_id: str) -> int | None:
    """The pid of the task runner process of one task instance try, found by its process title."""
    title = f"airflow worker -- {ti_id}".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().replace(b"\0", b" ").strip().startswith(title):
                    return int(entry.name)
            except OSError:
                continue
    return None


def test_create_posts_killed_mid_batch_is_retried_by_airflow_exactly_once(gtm_sandbox, tmp_path):
    data = tmp_path / "data"
    env = {**gtm_sandbox.connection_env(), "AIRFLOW__GTM__OUTPUT_BASE_URI": f"file://{data}"}
    # Slow post creates (the sandbox waits before it applies each one), so the kill lands mid-batch.
    gtm_sandbox.set_faults([{"kind": "delay", "api": "oktopost", "method": "POST", "path": "/v2/post", "delay": 2}])
    with AirflowProcesses(tmp_path, env) as airflow:
        airflow.migrate().start("api-server", "scheduler", "dag-processor")
        airflow.wait_until_parsed(DAG_ID)
        airflow.unpause(DAG_ID)
        run_id = airflow.trigger(DAG_ID, {"campaign_name": "Killed and retried", "post_status": "draft"})

        def message_posts() -> list[dict]:
            messages = gtm_sandbox.state()["apis"]["oktopost"]["messages"]
            ids = {m["Id"] for m in messages.values() if m.get("Message")}
            return [p for p in gtm_sandbox.state()["apis"]["oktopost"]["posts"].values() if p["MessageId"] in ids]

        def running_try() -> tuple[dict, int] | None:
            ti = airflow.task_instances(DAG_ID, run_id).get("create_posts[0]")
            if not ti or ti["state"] != "running":
                return None
            pid = task_process(ti["id"])
            return (ti, pid) if pid else None

        def post_in_flight() -> bool:
            # The sandbox applies a post at once and holds its answer back (the delay fault): with two
            # applied, the first was answered and the second is in flight.
            created = len(message_posts())
            return created >= 2

        ti, pid = wait_for(running_try, 240, "create_posts[0] running", every=0.2)
        plan = airflow.xcom(DAG_ID, run_id, "plan_posts")
        planned = [c for chunk in plan for post in chunk for c in post["credentialIds"]]
        assert len(planned) >= 3, plan
        wait_for(post_in_flight, 120, "the second post applied, its answer held back", every=0.05)
        os.kill(pid, signal.SIGKILL)
        killed_with = len(message_posts())

        state = airflow.wait_for_run(DAG_ID, run_id, timeout=420)
        tis = airflow.task_instances(DAG_ID, run_id)
        assert state == "success", (tis, airflow.task_logs(DAG_ID, "create_posts")[-6000:])
        # Airflow itself ran the task again: the killed try failed, the second one succeeded.
        assert tis["create_posts[0]"]["try_number"] == 2, tis["create_posts[0]"]
        task_log = airflow.task_logs(DAG_ID, "create_posts")
        assert "Resuming" in task_log and "write ledger" in task_log, task_log[-4000:]

        posts = message_posts()
        assert 0 < killed_with < len(planned)
        per_credential = Counter(c for post in posts for c in post["CredentialIds"])
        assert per_credential == Counter(planned), "every planned post exactly once"
        summaries = [airflow.xcom(DAG_ID, run_id, "create_posts", map_index=i) for i in range(len(plan))]
        assert sum(s["submitted"] for s in summaries) == len(planned)
        assert sum(s["succeeded"] for s in summaries) == len(planned)
        assert sum(s["failed"] for s in summaries) == 0
        for summary in summaries:
            results = Path(summary["results_uri"].removeprefix("file://")).read_text().splitlines()
            assert sorted(json.loads(line)["Id"] for line in results) == sorted(summary["ids"])
        assert sorted(i for s in summaries for i in s["ids"]) == sorted(p["Id"] for p in posts)
