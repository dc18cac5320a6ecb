"""One rate budget per Oktopost key across OS processes, against the sandbox at Oktopost's limits.

Airflow runs every task try in a process of its own (and mapped tasks side by side), so these
tests start real child processes, each with its own ``OktopostHook``, as tasks would. The sandbox
enforces Oktopost's real limits (60 calls per minute and 120 per 5 seconds, a 15-minute block on a
breach) on a clock running ``SCALE`` times faster; the connections carry the same windows scaled
the same way. Every case must end with 0 answers of 429, and every record created exactly once.
The elapsed time against the theoretical minimum is printed (the guide forbids asserting it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from services import free_port, redis_server

# Real processes and real waits on a scaled clock (about a minute): run once, not per Airflow version.
pytestmark = pytest.mark.slow

SCALE = 10.0  # the sandbox clock runs 10x: Oktopost's minute lasts 6 s
WINDOWS = [[60, 60 / SCALE], [120, 5 / SCALE]]

CHILD = """
import json, sys, time
from airflow_provider_gtm.hooks.oktopost import OktopostHook
args = json.loads(sys.argv[1])
hook = OktopostHook()
start = time.time()
submitted = succeeded = 0
errors = []
if args["kind"].startswith("fetch:"):  # a fetch: submitted counts pages, succeeded records
    for page in hook.iter_pages(args["kind"][len("fetch:"):], count=args["count"]):
        submitted += 1
        succeeded += len(page.records)
else:
    for result in hook.iter_create(args["kind"], args["records"]):
        submitted += result.submitted
        succeeded += result.succeeded
        errors += [failure.error_message for failure in result.failures]
print(json.dumps({"submitted": submitted, "succeeded": succeeded, "errors": errors,
                  "start": start, "end": time.time()}))
"""


@pytest.fixture
def oktopost(gtm_sandbox, monkeypatch):
    gtm_sandbox.configure(time_scale=SCALE, rate_limits={
        "oktopost": {"windows": [[60, 60], [120, 5]], "block_seconds": 900, "retry_after": True}})
    return gtm_sandbox


def child_env(sandbox: Any, backend: str = "local", **extra: Any) -> dict[str, str]:
    conn = sandbox.connections()["oktopost_default"]
    conn["extra"] = {"rate_limits": WINDOWS, "max_wait_seconds": 120, **extra}
    env = dict(os.environ)
    env["AIRFLOW_CONN_OKTOPOST_DEFAULT"] = json.dumps(conn)
    env["AIRFLOW__GTM__RATE_LIMIT_BACKEND"] = backend
    return env


def start(env: dict[str, str], kind: str, records: list[dict[str, Any]], **more: Any) -> subprocess.Popen[str]:
    payload = json.dumps({"kind": kind, "records": records, **more})
    return subprocess.Popen([sys.executable, "-c", CHILD, payload], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


def campaigns(prefix: str, count: int) -> list[dict[str, Any]]:
    return [{"name": f"{prefix}-{i}"} for i in range(count)]


def minimum_seconds(calls: int) -> float:
    """When the last of ``calls`` calls may start at the earliest under the scaled windows."""
    return max(((calls - 1) // limit) * seconds for limit, seconds in WINDOWS)


def report(case: str, sandbox: Any, calls: int, results: list[dict[str, Any]]) -> int:
    elapsed = max(r["end"] for r in results) - min(r["start"] for r in results)
    rejected = sandbox.state()["rate_limited"].get("oktopost", 0)
    ideal = minimum_seconds(calls)
    print(f"\n{case}: {calls} calls, 429s {rejected}, elapsed {elapsed:.2f}s, "
          f"minimum {ideal:.2f}s, ratio {elapsed / ideal if ideal else float('nan'):.3f}")
    return rejected


def created_names(sandbox: Any) -> list[str]:
    return [c["Name"] for c in sandbox.state()["apis"]["oktopost"]["campaigns"].values()]


def assert_each_once(sandbox: Any, expected: list[str]) -> None:
    names = [n for n in created_names(sandbox) if n in set(expected)]
    assert sorted(names) == sorted(expected), "a campaign is missing or was created twice"


def test_parallel_tasks_share_one_budget(oktopost):
    env = child_env(oktopost)
    batches = [campaigns("parallel-a", 45), campaigns("parallel-b", 45)]
    procs = [start(env, "campaigns", batch) for batch in batches]
    results = [finish(p) for p in procs]
    assert report("2 parallel tasks x 45 creates", oktopost, 90, results) == 0
    assert all(r["succeeded"] == 45 and not r["errors"] for r in results)
    assert_each_once(oktopost, [r["name"] for batch in batches for r in batch])


def test_parallel_fetches_share_one_budget(oktopost):
    env = child_env(oktopost)
    leads = 1500  # 60 pages of 25 each: 120 calls from two processes, two Oktopost minutes' worth
    oktopost.configure(records=leads)
    procs = [start(env, "fetch:leads", [], count=25) for _ in range(2)]
    results = [finish(p) for p in procs]
    pages = sum(r["submitted"] for r in results)
    assert pages >= 100, "enough calls to need pacing (more than one minute's 60)"
    assert report(f"2 parallel fetches x {pages // 2} pages", oktopost, pages, results) == 0
    assert [r["succeeded"] for r in results] == [leads, leads], "each fetch got every lead"


def test_mapped_create_posts_share_one_budget(oktopost):
    from airflow_provider_gtm.hooks.oktopost import OktopostHook

    env = child_env(oktopost)
    os.environ["AIRFLOW_CONN_OKTOPOST_DEFAULT"] = env["AIRFLOW_CONN_OKTOPOST_DEFAULT"]
    try:
        hook = OktopostHook()  # the upstream task: its calls count against the same key
        campaign = hook.create_campaign("Mapped launch")
        message = hook.create_message(campaign["Id"], "LinkedIn", "Hello")
        credential = next(hook.iter_records("credentials", params={"network": "LinkedIn"}))
        hook.close()
    finally:
        del os.environ["AIRFLOW_CONN_OKTOPOST_DEFAULT"]
    record = {"messageId": message["Id"], "credentialIds": [credential["Id"]]}
    procs = [start(env, "posts", [record] * 20) for _ in range(4)]
    results = [finish(p) for p in procs]
    assert report("4 mapped tasks x 20 posts", oktopost, 83, results) == 0
    assert all(r["succeeded"] == 20 and not r["errors"] for r in results)
    assert len(oktopost.state()["apis"]["oktopost"]["posts"]) == 80


def test_back_to_back_tasks_see_the_earlier_calls(oktopost):
    env = child_env(oktopost)
    first = finish(start(env, "campaigns", campaigns("first", 60)))
    second = finish(start(env, "campaigns", campaigns("second", 30)))
    assert report("2 tasks back to back (60 + 30)", oktopost, 90, [first, second]) == 0
    assert first["succeeded"] == 60 and second["succeeded"] == 30
    assert_each_once(oktopost, [r["name"] for r in campaigns("first", 60) + campaigns("second", 30)])


def test_a_retry_waits_out_the_block_instead_of_calling_into_it(oktopost):
    oktopost.configure(rate_limits={"oktopost": {"windows": [[60, 60], [120, 5]], "block_seconds": 60,
                                                 "retry_after": True}})
    # A task without client-side pacing breaches the limit: the key is blocked (60 sandbox
    # seconds, 6 real ones) and the task fails with its records reported.
    reckless = finish(start(child_env(oktopost, rate_limits=[], max_wait_seconds=0), "campaigns",
                            campaigns("reckless", 70)))
    assert reckless["errors"], "the sandbox should have blocked the key"
    breaches = oktopost.state()["rate_limited"]["oktopost"]
    # Its retry is a new process: it must find the block in the shared state and wait it out.
    retry = finish(start(child_env(oktopost), "campaigns", campaigns("retry", 10)))
    assert retry["succeeded"] == 10 and not retry["errors"]
    assert oktopost.state()["rate_limited"]["oktopost"] == breaches, "the retry called into the block"
    assert_each_once(oktopost, [r["name"] for r in campaigns("retry", 10)])


# -- the same budget across hosts: the redis backend against a real redis-server -------------------


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield f"{url}/0"


def test_redis_backend_shares_one_budget_between_processes(oktopost, redis_url):
    env = child_env(oktopost, backend=redis_url)
    batches = [campaigns("redis-a", 45), campaigns("redis-b", 45)]
    procs = [start(env, "campaigns", batch) for batch in batches]
    results = [finish(p) for p in procs]
    assert report("redis backend: 2 parallel tasks x 45 creates", oktopost, 90, results) == 0
    assert all(r["succeeded"] == 45 and not r["errors"] for r in results)
    assert_each_once(oktopost, [r["name"] for batch in batches for r in batch])


def test_unreachable_redis_fails_the_call_and_sends_nothing(oktopost):
    env = child_env(oktopost, backend=f"redis://127.0.0.1:{free_port()}/0")
    result = finish(start(env, "campaigns", campaigns("unreachable", 1)))
    assert result["succeeded"] == 0 and len(result["errors"]) == 1
    assert "Redis backend redis://127.0.0.1" in result["errors"][0] and "no call was sent" in result["errors"][0]
    assert not [n for n in created_names(oktopost) if n.startswith("unreachable")]
    assert oktopost.state()["calls"].get("oktopost", 0) == 0


def test_state_files_live_under_the_airflow_home(oktopost):
    finish(start(child_env(oktopost), "campaigns", campaigns("files", 1)))
    state_dir = Path(os.environ["AIRFLOW_HOME"]) / "gtm-ratelimit"
    assert [p.name for p in state_dir.glob("oktopost-*.json")]
