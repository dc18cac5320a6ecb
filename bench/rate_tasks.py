"""Rate-limited efficiency of whole tasks (issue 25 item 6): Oktopost creates from separate processes.

Airflow runs every task try in a process of its own, so each "task" here is a fresh Python process
that builds an ``OktopostHook`` from its connection and creates campaigns (one call per record, as
Oktopost's API takes them), sharing the key's budget through the provider's limiter (the default
local, file-locked store). Two shapes: two tasks side by side, and two tasks one after the other.
The sandbox enforces Oktopost's real windows (60 calls a minute, 120 in 5 seconds, a 15-minute
block on a breach): at the real clock for ``make bench``, on a clock 20x faster for ``--quick``.

Reported: the whole elapsed time (first process started → last call answered) against the theoretical
minimum, and the limiter's own share apart from process start-up (first call → last call, the span a
perfect limiter would make exactly the minimum), and the 429 answers (the target is none).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from bench.common import REPO, sandbox_process, table

#: Oktopost's documented windows: (calls, seconds).
OKTOPOST_WINDOWS = [[60, 60], [120, 5]]

TASK = """
import json, sys, time
spawned = float(sys.argv[2])
from airflow_provider_gtm.hooks.oktopost import OktopostHook
records = json.loads(sys.argv[1])
hook = OktopostHook()
ready = time.time()
succeeded = 0
for result in hook.iter_create("campaigns", records):
    succeeded += result.succeeded
print(json.dumps({"spawned": spawned, "ready": ready, "end": time.time(), "succeeded": succeeded}))
"""


def minimum_seconds(calls: int, scale: float) -> float:
    """When the last of ``calls`` calls may start at the earliest, the first starting at 0."""
    return max(((calls - 1) // limit) * seconds / scale for limit, seconds in OKTOPOST_WINDOWS)


def _start(env: dict[str, str], records: list[dict[str, Any]]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", TASK, json.dumps(records), repr(time.time())], env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)


def _finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=1800)
    if process.returncode != 0:
        raise RuntimeError(f"a task process failed: {err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def rate_tasks(quick: bool) -> str:
    scale = 20.0 if quick else 1.0
    # Two tasks of 90: 180 calls, three Oktopost minutes of the 60/min window (quick: 90 calls, two).
    per_task = 45 if quick else 90
    rows = []
    with sandbox_process("--records", "10", "--time-scale", str(scale)) as sandbox:
        sandbox.control("config", {"rate_limits": {"oktopost": {
            "windows": OKTOPOST_WINDOWS, "block_seconds": 900, "retry_after": True}}})
        windows = [[calls, seconds / scale] for calls, seconds in OKTOPOST_WINDOWS]
        env = {**os.environ, **sandbox.connection_env(oktopost={"rate_limits": windows, "max_wait_seconds": 600})}
        for shape in ("2 tasks side by side", "2 tasks one after the other"):
            batches = [[{"name": f"{shape[:1]}{task}-{i}-{time.time_ns()}"} for i in range(per_task)]
                       for task in "ab"]
            before = sandbox.control("state").get("rate_limited", {}).get("oktopost", 0)
            if shape.endswith("side by side"):
                processes = [_start(env, batch) for batch in batches]
                results = [_finish(process) for process in processes]
            else:
                results = [_finish(_start(env, batch)) for batch in batches]
            rejected = sandbox.control("state").get("rate_limited", {}).get("oktopost", 0) - before
            if sum(r["succeeded"] for r in results) != 2 * per_task:
                raise RuntimeError(f"{shape}: not every campaign was created: {results}")
            calls = 2 * per_task
            minimum = minimum_seconds(calls, scale)
            elapsed = max(r["end"] for r in results) - min(r["spawned"] for r in results)
            start_up = sum(r["ready"] - r["spawned"] for r in results) / len(results)
            span = max(r["end"] for r in results) - min(r["ready"] for r in results)
            rows.append([shape, calls, f"{minimum:.1f}", f"{elapsed:.1f}", f"{elapsed / minimum:.3f}",
                         f"{start_up:.2f}", f"{span:.1f}", f"{span / minimum:.3f}", rejected])
            # Let the windows drain, so the next shape starts from an empty budget as the first did.
            time.sleep(60 / scale + 1)
    clock = "the real clock" if scale == 1 else f"a clock {scale:g}x faster"
    return table(f"Rate-limited tasks: Oktopost creates from separate processes, at {clock}",
                 ["shape", "calls", "minimum s", "elapsed s", "elapsed / minimum", "start-up s (mean)",
                  "first ready → last answer s", "limiter / minimum", "429s"], rows) + (
        "\nElapsed: first process started → last answer; start-up: a process's import of Airflow and the hook"
        " before its first call; the limiter's share: first ready → last answer against the minimum."
        " Target (issue 25): elapsed ≤ 1.05x the minimum at the real clock, 0 answers of 429.\n")
