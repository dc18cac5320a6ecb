"""Deferral against the sandbox: real 429s and key blocks on a scaled clock, real triggers, real kills.

- An Oktopost batch write meets key blocks (the sandbox blocks the key after a breach; its clock runs
  900 times faster, so the 15-minute block lasts a second): the operator defers with a
  ``DateTimeTrigger``, the trigger's wait runs for real, the resume method carries on; every
  campaign is in the sandbox exactly once.
- A deferrable CustomerOS enrichment lookup whose first try is SIGKILLed after submitting: the
  retry submits nothing again, polls the requests the first try started, and writes one line per person.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_gtm.compat import DateTimeTrigger, TaskDeferred
from airflow_provider_gtm.operators.customeros import CustomerOSLookupOperator
from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator
from airflow_provider_gtm.triggers.customeros import CustomerOSPersonEnrichmentsTrigger


class Ti(SimpleNamespace):
    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def context() -> dict[str, Any]:
    return {"ti": Ti(dag_id="d", run_id="r", task_id="t", map_index=-1, pushed={})}


def first_event(trigger: Any) -> Any:
    async def run() -> Any:
        async for event in trigger.run():
            return event.payload
        return None

    return asyncio.run(run())


def run_through_deferrals(op: Any, ctx: dict[str, Any]) -> tuple[Any, int]:
    """Run ``op`` as Airflow would: each deferral's ``DateTimeTrigger`` waits for real, then it resumes.

    Returns the task's result and how many times it deferred.
    """
    step = lambda: op.execute(ctx)  # noqa: E731
    deferrals = 0
    while True:
        try:
            return step(), deferrals
        except TaskDeferred as deferred:
            deferrals += 1
            assert deferrals <= 10, "deferring without progress"
            assert isinstance(deferred.trigger, DateTimeTrigger)
            assert deferred.method_name == "resume_after_wait"
            # The trigger's own wait, on the real clock (about a second: the scaled block).
            event = first_event(deferred.trigger)
            step = lambda event=event, kwargs=deferred.kwargs: op.resume_after_wait(ctx, event=event, **kwargs)  # noqa: E731


def test_oktopost_writes_defer_through_key_blocks_and_create_every_campaign_once(gtm_sandbox_connections, tmp_path):
    sandbox = gtm_sandbox_connections
    # 4 calls per sandbox minute, then the key is blocked for 900 sandbox seconds (1 real second at
    # x900); the 429 says Retry-After in real seconds, as the sandbox converts its clock for clients.
    sandbox.configure(time_scale=900, rate_limits={"oktopost": {"windows": [[4, 60]], "block_seconds": 900,
                                                                "retry_after": True}})
    records = [{"name": f"Deferred launch {i}"} for i in range(10)]
    op = OktopostCreateOperator(task_id="t", kind="campaigns", records=records, deferrable=True,
                                defer_waits_longer_than=0.5, output_base_uri=f"file://{tmp_path}")
    summary, deferrals = run_through_deferrals(op, context())
    assert deferrals >= 2  # 10 creates at 4 per window: the key was blocked on the way, more than once
    state = sandbox.state()
    assert state["rate_limited"]["oktopost"] >= deferrals
    stored = Counter(c.get("Name") for c in state["apis"]["oktopost"]["campaigns"].values())
    assert stored == Counter(r["name"] for r in records)  # every campaign exactly once
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (10, 10, 0)


def _first_try_killed_after_submitting(inputs: list[Any], base: str) -> None:
    """A child process: the first try submits, then dies (SIGKILL) where it would defer."""
    op = CustomerOSLookupOperator(task_id="t", lookup="person_enrichment", inputs=inputs, deferrable=True,
                                  output_base_uri=base)
    op.defer = lambda **kwargs: os.kill(os.getpid(), signal.SIGKILL)  # type: ignore[method-assign]
    op.execute(context())


def test_a_retried_enrichment_lookup_polls_the_first_tries_requests(gtm_sandbox_connections, tmp_path):
    sandbox = gtm_sandbox_connections
    # Every submission starts a pending enrichment (none "not found"), so the sandbox counts submissions.
    sandbox.configure(customeros={"enrichment_polls": 2, "not_found_percent": 0})
    inputs = [{"email": f"person{i}@acme.example"} for i in range(5)]
    base = f"file://{tmp_path}"
    child = multiprocessing.get_context("fork").Process(target=_first_try_killed_after_submitting, args=(inputs, base))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    submitted = sandbox.state()["apis"]["customeros"]["enrichments"]
    assert len(submitted) == 5

    op = CustomerOSLookupOperator(task_id="t", lookup="person_enrichment", inputs=inputs, deferrable=True,
                                  output_base_uri=base)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context())
    assert sandbox.state()["apis"]["customeros"]["enrichments"].keys() == submitted.keys()  # 0 new submissions
    trigger = deferred.value.trigger
    assert isinstance(trigger, CustomerOSPersonEnrichmentsTrigger) and len(trigger.result_urls) == 5
    trigger.poll_interval = 0.05
    event = first_event(trigger)
    assert event["status"] == "success"
    xcom = op.execute_complete(context(), event)
    with open(xcom["uri"].removeprefix("file://")) as fh:
        rows = [json.loads(line) for line in fh]
    assert [row["input"] for row in rows] == inputs  # one line per person, in order
    assert all(row["result"].get("isComplete", True) is not False for row in rows)
    assert len(sandbox.state()["apis"]["customeros"]["enrichments"]) == 5


def test_an_oktopost_fetch_defers_through_key_blocks_and_resumes_after_its_last_page(gtm_sandbox_connections,
                                                                                     tmp_path):
    from airflow_provider_gtm.operators.oktopost import OktopostFetchOperator

    sandbox = gtm_sandbox_connections
    sandbox.configure(time_scale=900, records=250, rate_limits={"oktopost": {"windows": [[4, 60]],
                                                                             "block_seconds": 900,
                                                                             "retry_after": True}})
    uri = f"file://{tmp_path}/campaigns.jsonl"
    op = OktopostFetchOperator(task_id="t", resource="campaigns", count=25, output_uri=uri, deferrable=True,
                               defer_waits_longer_than=0.5)
    result, deferrals = run_through_deferrals(op, context())
    assert deferrals >= 2  # 10 pages at 4 calls per window
    with open(uri.removeprefix("file://")) as fh:
        ids = [json.loads(line)["Id"] for line in fh]
    assert len(ids) == len(set(ids)) == result["total"] == result["records"]  # every campaign once, none lost
