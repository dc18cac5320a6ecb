"""One live writer per task instance, for real: OS processes against the sandbox over loopback.

Each case counts what the sandbox holds at the end: **lost** (records never created) and
**duplicated** (records created more than once) must both be 0, and no process may hang.

- two tries of one task instance running at once (a task cleared while it runs): the second waits
  for the lease and either fails naming the first without sending, or replays the ledger after the
  first released it, sending nothing;
- zombie timing: the first try is frozen (SIGSTOP) past its lease, the second takes it over and
  finishes, the first is resumed and must stop without sending or publishing anything;
- ``on_kill`` through a real SIGTERM, with the task runner's own handler (it calls ``on_kill`` and
  lets the task run on): the try stops before its next call, the retry completes exactly once;
- two runs sharing one ``output_uri``: the second fails clearly, the output is never corrupted;
- a fetch output deleted, emptied or cut short between tries: the retry starts over (no NUL byte);
- a ledger entry that parses but has the wrong shape: torn, looked up (or left to a person), no crash.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_gtm.sandbox.server import SANDBOX_CREDENTIALS

OKTOPOST_ACCOUNT = SANDBOX_CREDENTIALS["oktopost"]["login"]

#: A batch try in its own process; its spec is one JSON argument. ``stop_after_done``: freeze
#: (SIGSTOP) after that many ledger "done" entries. ``airflow_sigterm``: answer SIGTERM as Airflow's
#: task runner does (task_runner.run: ``signal.signal(SIGTERM, _on_term)``, which calls
#: ``ti.task.on_kill()`` and returns, the task running on until the supervisor's SIGKILL).
CHILD = """
import json, os, signal, sys
from types import SimpleNamespace
from airflow_provider_gtm.core import ledger as ledger_module
from airflow_provider_gtm.operators.octy import OctyBatchOperator, OctyFetchOperator
from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator

spec = json.loads(sys.argv[1])

class Ti(SimpleNamespace):
    def xcom_push(self, key, value):
        self.pushed[key] = value

if spec.get("stop_after_done") or spec.get("kill_after_done"):
    original = ledger_module.WriteLedger.mark_done
    calls = {"n": 0}
    def stopping(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == spec.get("stop_after_done"):
            print("STOPPING", flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
        if calls["n"] == spec.get("kill_after_done"):
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    ledger_module.WriteLedger.mark_done = stopping

n = spec["records"]
if spec["case"] == "oktopost campaigns":
    op = OktopostCreateOperator(task_id="w", kind="campaigns", records=[{"name": f"Hostile {i}"} for i in range(n)],
                                batch_size=4, output_base_uri=spec["base"])
elif spec["case"] == "octy events":
    op = OctyBatchOperator(task_id="w", operation="events.create", batch_size=25, output_base_uri=spec["base"],
                           records=[{"event_type": "custom_event_3", "event_properties": {"n": f"h{i}"},
                                     "profile_id": "profile_000000000001"} for i in range(n)])
else:
    op = OctyFetchOperator(task_id="profiles", resource="profiles", output_uri=spec["output_uri"])

if spec.get("airflow_sigterm"):
    parent_pid = os.getpid()
    def _on_term(signum, frame):
        if os.getpid() != parent_pid:
            return
        op.on_kill()
    signal.signal(signal.SIGTERM, _on_term)

ti = Ti(dag_id="hostile", run_id=spec.get("run_id", "r1"), task_id=op.task_id, map_index=-1,
        try_number=spec.get("try", 1), pushed={})
print("STARTED", flush=True)
try:
    print("RESULT " + json.dumps(op.execute({"ti": ti})), flush=True)
except BaseException as exc:
    print("ERROR " + type(exc).__name__ + ": " + str(exc), flush=True)
    sys.exit(1)
"""

CAMPAIGNS = 40
EVENTS = 300


def start(spec: dict[str, Any], **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec)], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    """Wait (bounded: a hang fails the test) and return the exit code and the child's own lines."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"the try hung:\n{out}\n{err[-3000:]}") from None
    return process.returncode, out + err[-3000:]


def started(process: subprocess.Popen[str]) -> None:
    """Wait until the child runs its task (its imports, slow on a busy host, are done)."""
    assert process.stdout is not None
    while (line := process.stdout.readline()) and not line.startswith("STARTED"):
        pass


def result(output: str) -> dict[str, Any]:
    line = next(x for x in output.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def names(sandbox: Any, case: str) -> Counter[str]:
    apis = sandbox.state()["apis"]
    if case == "oktopost campaigns":
        return Counter(str(c.get("Name")) for c in apis["oktopost"]["campaigns"].values())
    return Counter(str((e.get("event_properties") or {}).get("n")) for e in apis["octy"]["events"].values())


def expected(case: str) -> list[str]:
    return [f"Hostile {i}" for i in range(CAMPAIGNS)] if case == "oktopost campaigns" else [
        f"h{i}" for i in range(EVENTS)]


def lost_and_duplicated(sandbox: Any, case: str) -> tuple[int, int]:
    stored = names(sandbox, case)
    wanted = expected(case)
    return sum(1 for n in wanted if stored[n] == 0), sum(stored[n] - 1 for n in wanted if stored[n] > 1)


def sent_count(sandbox: Any, case: str) -> int:
    stored = names(sandbox, case)
    return sum(stored[n] for n in expected(case))


def wait_until(condition: Any, timeout: float, what: str) -> None:
    # A bound for a hung test, not a timing assertion: starting a process that imports Airflow can
    # take a minute on a loaded 2-core machine.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def slow(sandbox: Any, case: str, delay: float) -> None:
    where = ({"api": "oktopost", "path": "/v2/campaign", "method": "POST"} if case == "oktopost campaigns"
             else {"api": "octy", "path": "/v1/retention/events/create/batch", "method": "POST"})
    sandbox.set_faults([{**where, "kind": "delay", "delay": delay}])


def lines(uri: str) -> list[Any]:
    path = Path(uri.removeprefix("file://"))
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


@pytest.fixture
def sandbox(gtm_sandbox_connections):
    gtm_sandbox_connections.configure(rate_limits=False)
    return gtm_sandbox_connections


CASES = ["oktopost campaigns", "octy events"]


#: Seconds per call, so that the first try runs about 16 s (long enough for a second to start).
DELAY = {"oktopost campaigns": 0.4, "octy events": 1.4}


@pytest.mark.parametrize("case", CASES)
def test_a_second_live_try_fails_naming_the_first_and_sends_nothing(sandbox, tmp_path, case):
    slow(sandbox, case, DELAY[case])
    spec = {"case": case, "records": CAMPAIGNS if case == "oktopost campaigns" else EVENTS,
            "base": f"file://{tmp_path}/out"}
    first = start(spec)
    wait_until(lambda: sent_count(sandbox, case) >= 1, 180, "the first try sending")
    second = start({**spec, "try": 2}, AIRFLOW__GTM__WRITER_LEASE_WAIT_SECONDS="1")
    code2, out2 = finish(second)
    assert first.poll() is None  # the two ran at the same time
    code1, out1 = finish(first)
    assert code1 == 0, out1
    assert code2 == 1 and "another try of this task instance is running: host " in out2, out1 + out2
    assert f"pid {first.pid}, try 1; it holds the lease until " in out2 and "nothing was sent by this try" in out2
    assert lost_and_duplicated(sandbox, case) == (0, 0)
    summary = result(out1)
    assert summary["submitted"] == summary["succeeded"] == len(expected(case))
    assert len(lines(summary["results_uri"])) == summary["succeeded"]


@pytest.mark.parametrize("case", CASES)
def test_a_second_live_try_that_waits_replays_the_ledger_and_sends_nothing(sandbox, tmp_path, case):
    slow(sandbox, case, DELAY[case])
    spec = {"case": case, "records": CAMPAIGNS if case == "oktopost campaigns" else EVENTS,
            "base": f"file://{tmp_path}/out"}
    first = start(spec)
    wait_until(lambda: sent_count(sandbox, case) >= 1, 180, "the first try sending")
    second = start({**spec, "try": 2}, AIRFLOW__GTM__WRITER_LEASE_WAIT_SECONDS="120")
    started(second)
    assert first.poll() is None  # the second starts while the first is sending
    code1, out1 = finish(first)
    sent_by_first = sent_count(sandbox, case)
    code2, out2 = finish(second)
    assert code1 == 0 and code2 == 0, out1 + out2
    assert sent_count(sandbox, case) == sent_by_first  # the second only replayed
    assert lost_and_duplicated(sandbox, case) == (0, 0)
    assert result(out2)["succeeded"] == result(out1)["succeeded"] == len(expected(case))
    assert len(lines(result(out2)["results_uri"])) == len(expected(case))


def stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


@pytest.mark.parametrize("case", CASES)
def test_zombie_frozen_past_its_lease_is_taken_over_and_sends_nothing_when_resumed(sandbox, tmp_path, case):
    slow(sandbox, case, 0.05)
    lease = {"AIRFLOW__GTM__WRITER_LEASE_SECONDS": "2", "AIRFLOW__GTM__WRITER_LEASE_WAIT_SECONDS": "30"}
    spec = {"case": case, "records": CAMPAIGNS if case == "oktopost campaigns" else EVENTS,
            "base": f"file://{tmp_path}/out"}
    zombie = start({**spec, "stop_after_done": 2}, **lease)
    retry: subprocess.Popen[str] | None = None
    try:
        assert zombie.stdout is not None
        while (line := zombie.stdout.readline()) and not line.startswith("STOPPING"):
            pass
        wait_until(lambda: stopped(zombie.pid), 30, "the first try frozen")
        frozen_with = sent_count(sandbox, case)
        time.sleep(3)  # past its 2 s lease: the scheduler would call it a zombie and retry
        retry = start({**spec, "try": 2}, **lease)
        wait_until(lambda: sent_count(sandbox, case) > frozen_with or retry.poll() is not None, 60,
                   "the retry sending")
        os.kill(zombie.pid, signal.SIGCONT)  # the zombie wakes up while the retry is writing
        code_zombie, out_zombie = finish(zombie)
    finally:
        if zombie.poll() is None:  # a failed assertion above: never leave a frozen process behind
            os.kill(zombie.pid, signal.SIGCONT)
            zombie.kill()
            zombie.communicate()
    assert retry is not None
    code_retry, out_retry = finish(retry)
    assert code_retry == 0, out_retry
    assert "Taking over the lease" in out_retry and "its lease expired" in out_retry
    assert code_zombie == 1 and "lease was taken over" in out_zombie, out_zombie
    assert lost_and_duplicated(sandbox, case) == (0, 0)
    summary = result(out_retry)
    assert summary["submitted"] == summary["succeeded"] == len(expected(case))
    # The files are the retry's, whole: the zombie published nothing over them.
    results = lines(summary["results_uri"])
    assert len(results) == len(expected(case)) and not lines(summary["failures_uri"])
    folder = Path(summary["results_uri"].removeprefix("file://")).parent
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("case", CASES)
def test_sigterm_through_the_task_runners_handler_stops_sending_and_the_retry_completes(sandbox, tmp_path, case):
    slow(sandbox, case, 0.3)
    spec = {"case": case, "records": CAMPAIGNS if case == "oktopost campaigns" else EVENTS,
            "base": f"file://{tmp_path}/out", "airflow_sigterm": True}
    first = start(spec)
    wait_until(lambda: sent_count(sandbox, case) >= 8, 180, "the try sending")
    at_term = sent_count(sandbox, case)
    first.send_signal(signal.SIGTERM)
    began = time.monotonic()
    code, out = finish(first, timeout=5)  # Airflow's supervisor would SIGKILL it after 5 s
    assert time.monotonic() - began < 5
    assert code == 1 and "the task was killed" in out, out
    per_call = 1 if case == "oktopost campaigns" else 25
    assert sent_count(sandbox, case) <= at_term + per_call  # only the call in flight finished
    assert not list(Path(tmp_path / "out").rglob("lease.json"))  # released
    sandbox.set_faults([])
    code, out = finish(start({**spec, "try": 2, "airflow_sigterm": False}))
    assert code == 0, out
    assert lost_and_duplicated(sandbox, case) == (0, 0)


# -- fetch outputs ----------------------------------------------------------------------------------------

PROFILES = "/v1/retention/profiles"


def profile_ids(path: Path) -> list[str]:
    return [json.loads(x)["profile_id"] for x in path.read_text(encoding="utf-8").splitlines()]


def test_two_runs_on_one_output_uri_never_write_it_at_once(sandbox, tmp_path):
    sandbox.configure(records=500, octy={"page_size": 50})
    sandbox.set_faults([{"api": "octy", "path": PROFILES, "method": "GET", "kind": "delay", "delay": 1.5}])
    out = tmp_path / "fixed" / "profiles.jsonl"
    run1 = start({"case": "fetch", "output_uri": f"file://{out}", "records": 0, "run_id": "run1"})
    wait_until(lambda: out.exists() and out.stat().st_size > 0, 180, "run 1 writing")
    run2 = start({"case": "fetch", "output_uri": f"file://{out}", "records": 0, "run_id": "run2"},
                 AIRFLOW__GTM__WRITER_LEASE_WAIT_SECONDS="1")
    code2, out2 = finish(run2)
    assert run1.poll() is None  # the two ran at the same time
    code1, out1 = finish(run1)
    assert code1 == 0, out1
    assert code2 == 1 and "another task instance (dag_id='hostile', run_id='run1'" in out2, out2
    data = out.read_bytes()
    assert b"\0" not in data
    ids = profile_ids(out)
    assert len(ids) == len(set(ids)) == 500 == result(out1)["records"]  # lost 0, duplicated 0

    # Waiting instead: run 2 writes after run 1 released the output, never during.
    run1 = start({"case": "fetch", "output_uri": f"file://{out}", "records": 0, "run_id": "run3"})
    wait_until(lambda: (tmp_path / "fixed" / "profiles.jsonl.lease").exists(), 180, "run 3 holding the output")
    run2 = start({"case": "fetch", "output_uri": f"file://{out}", "records": 0, "run_id": "run4"},
                 AIRFLOW__GTM__WRITER_LEASE_WAIT_SECONDS="120")
    started(run2)
    assert run1.poll() is None
    code1, out1 = finish(run1)
    code2, out2 = finish(run2)
    assert code1 == 0 and code2 == 0, out1 + out2
    ids = profile_ids(out)
    assert b"\0" not in out.read_bytes() and len(ids) == len(set(ids)) == 500 == result(out2)["records"]


@pytest.mark.parametrize("change", ["deleted", "emptied", "cut short"])
def test_a_fetch_output_changed_between_tries_is_started_over_never_padded(sandbox, tmp_path, change):
    from airflow_provider_gtm.compat import AirflowFailException
    from airflow_provider_gtm.operators.octy import OctyFetchOperator

    sandbox.configure(records=1000, octy={"page_size": 50})
    out = tmp_path / "profiles.jsonl"

    def fetch() -> dict[str, Any]:
        ti = SimpleNamespace(dag_id="d", run_id="r", task_id="profiles", map_index=-1, try_number=1)
        return OctyFetchOperator(task_id="profiles", resource="profiles", output_uri=f"file://{out}").execute(
            {"ti": ti})

    sandbox.set_faults([{"api": "octy", "path": PROFILES, "method": "GET", "kind": "status", "status": 401,
                         "calls": [11]}])
    with pytest.raises(AirflowFailException):
        fetch()  # ten pages, 500 records, complete; the 11th call refused
    assert json.loads(out.with_name("profiles.jsonl.checkpoint.json").read_text())["records"] == 500
    if change == "deleted":
        out.unlink()
    elif change == "emptied":
        out.write_bytes(b"")
    else:
        out.write_bytes(out.read_bytes()[:20_000])
    sandbox.set_faults([])
    result = fetch()
    ids = profile_ids(out)
    assert b"\0" not in out.read_bytes()
    assert result["records"] == len(ids) == len(set(ids)) == 1000  # lost 0, duplicated 0


@pytest.mark.parametrize("case", CASES)
def test_a_wrong_shaped_ledger_entry_is_torn_not_a_crash(sandbox, tmp_path, case):
    spec = {"case": case, "records": CAMPAIGNS if case == "oktopost campaigns" else EVENTS,
            "base": f"file://{tmp_path}/out"}
    code, out = finish(start({**spec, "kill_after_done": 3}))  # chunks 0-2 recorded, then SIGKILL
    assert code == -signal.SIGKILL, out
    [done] = list(tmp_path.rglob("chunk_0000000.done.json"))
    done.write_text('[{"accepted": []}]')  # parses, wrong shape
    code, out = finish(start({**spec, "try": 2}))
    assert "AttributeError" not in out and "TypeError" not in out
    assert lost_and_duplicated(sandbox, case) == (0, 0)
    if case == "oktopost campaigns":
        # Oktopost can tell: the torn chunk's campaigns are looked up by name, found, not resent.
        assert code == 0, out
        assert result(out)["succeeded"] == CAMPAIGNS
    else:
        # Octy events cannot be looked up: the torn chunk is left to a person, never resent.
        assert code == 1 and "25 records were sent" in out and "A person must decide" in out, out
