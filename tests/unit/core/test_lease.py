"""The writer lease (core/lease.py): held, waited for, taken over, lost, on local disk and on an object store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from airflow_provider_gtm.compat import ObjectStoragePath
from airflow_provider_gtm.core.lease import (
    Lease,
    LeaseHeldError,
    LeaseLostError,
    WriteGuard,
    WriterStoppedError,
    holder_of,
    published,
)


@pytest.fixture
def memory(monkeypatch):
    from fsspec.implementations.memory import MemoryFileSystem

    from airflow_provider_gtm.compat import io_fs as sdk_fs

    store = MemoryFileSystem()
    monkeypatch.setitem(sdk_fs._register_filesystems(), "memory", lambda conn_id: store)
    yield store
    store.store.clear()


def holder(run_id: str = "r", try_number: int = 1) -> dict:
    ti = SimpleNamespace(dag_id="d", run_id=run_id, task_id="t", map_index=-1, try_number=try_number)
    return holder_of({"ti": ti})


@pytest.fixture(params=["local", "object store"])
def where(request, tmp_path, memory) -> str:
    return f"file://{tmp_path}/lease.json" if request.param == "local" else "memory://leases/run/lease.json"


def lease(uri: str, who: dict | None = None, **kwargs) -> Lease:
    kwargs.setdefault("seconds", 60)
    kwargs.setdefault("wait", 0)
    return Lease(ObjectStoragePath(uri), who or holder(), what="the ledger X", **kwargs)


def test_a_second_try_fails_naming_the_holder_and_its_expiry(where):
    first = lease(where).acquire()
    try:
        with pytest.raises(LeaseHeldError) as info:
            lease(where, holder(try_number=2)).acquire()
        text = str(info.value)
        assert text.startswith("the ledger X: another try of this task instance is running: host ")
        assert f"pid {os.getpid()}, try 1; it holds the lease until 20" in text
        assert "nothing was sent by this try" in text
        other = r"another task instance \(dag_id='d', run_id='r', task_id='t', map_index=-1\) is writing it"
        with pytest.raises(LeaseHeldError, match=other):
            lease(where, holder(run_id="other")).acquire()
        first.check()  # still the holder
    finally:
        first.release()
    assert not ObjectStoragePath(where).exists()


def test_a_waiting_try_takes_the_lease_once_it_is_released(where):
    first = lease(where).acquire()
    second = lease(where, holder(try_number=2), wait=10)
    began = time.monotonic()
    import threading

    threading.Timer(0.5, first.release).start()
    second.acquire()
    assert 0.4 < time.monotonic() - began < 5
    second.check()
    second.release()


def test_an_expired_lease_is_taken_over_and_its_holder_stops(where, caplog):
    first = lease(where, seconds=1).acquire()
    first._stop.set()  # frozen: no renewal (a SIGSTOPped process renews nothing)
    time.sleep(1.2)
    second = lease(where, holder(try_number=2)).acquire()
    assert "its lease expired" in caplog.text
    with pytest.raises(LeaseLostError, match="this try's lease was taken over by host .* try 2"):
        first.check()
    first.release()  # leaves the new holder's lease alone
    second.check()
    second.release()


def test_a_lease_whose_process_is_gone_is_taken_over_at_once(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    who = {**holder(), "pid": int(dead.stdout), "started": "1"}
    path = tmp_path / "lease.json"
    path.write_text(json.dumps({"holder": who, "expires_at": time.time() + 600}))
    taken = lease(f"file://{path}", wait=0).acquire()  # no waiting for the 600 s
    taken.release()


def test_renewal_keeps_the_lease_past_its_length(where):
    first = lease(where, seconds=1).acquire()
    time.sleep(1.5)
    with pytest.raises(LeaseHeldError):
        lease(where, holder(try_number=2)).acquire()
    first.check()
    first.release()


@pytest.mark.parametrize("garbage", [b"", b"{not json", b"[]", b'{"holder": 3, "expires_at": "x"}'])
def test_a_torn_or_wrong_shaped_lease_is_taken_over(where, garbage):
    ObjectStoragePath(where).parent.mkdir(parents=True, exist_ok=True)
    ObjectStoragePath(where).write_bytes(garbage)
    taken = lease(where).acquire()
    taken.release()


def test_published_files_replace_the_target_only_while_the_lease_is_held(where):
    target = ObjectStoragePath(where).parent / "failures.jsonl"
    mine = lease(where, seconds=1).acquire()
    guard = WriteGuard(mine)
    with published(target, guard) as fh:
        fh.write(b'{"a": 1}\n')
    assert target.read_bytes() == b'{"a": 1}\n'
    with published(target, guard) as fh:
        fh.write(b"zombie\n")
        mine._stop.set()
        time.sleep(1.2)
        lease(where, holder(try_number=2)).acquire()  # taken over while this try writes
    assert target.read_bytes() == b'{"a": 1}\n'  # never overwritten by the try that lost the lease
    if target.protocol == "file":
        assert sorted(p.name for p in target.parent.iterdir()) == ["failures.jsonl", "lease.json"]


def test_a_stopped_guard_raises_before_the_next_call_but_keeps_the_lease():
    guard = WriteGuard()
    guard.check()
    guard.stop("the task was killed")
    with pytest.raises(WriterStoppedError, match="the task was killed"):
        guard.check()
    guard.check_lease()  # the ledger may still record what the last call settled
    assert guard.holds()
