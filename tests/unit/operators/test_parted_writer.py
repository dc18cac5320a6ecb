"""PartedJsonLinesWriter: when parts are stored, what a checkpoint claims, what the output holds."""

from __future__ import annotations

import json

import pytest

from airflow_provider_gtm.compat import ObjectStoragePath
from airflow_provider_gtm.operators.output import PartedJsonLinesWriter

BINDING = {"dag_id": "d", "run_id": "r", "task_id": "t", "map_index": -1, "arguments": "a"}
URI = "memory://parted/out.jsonl"


@pytest.fixture(autouse=True)
def store(monkeypatch):
    from fsspec.implementations.memory import MemoryFileSystem

    from airflow_provider_gtm.compat import io_fs as sdk_fs

    memory = MemoryFileSystem()
    monkeypatch.setitem(sdk_fs._register_filesystems(), "memory", lambda conn_id: memory)
    yield memory
    memory.store.clear()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def writer(clock: Clock, resume: bool = True, binding: dict | None = None) -> PartedJsonLinesWriter:
    return PartedJsonLinesWriter(ObjectStoragePath(URI), resume=resume, binding=binding or BINDING, clock=clock)


def parts(store) -> list[str]:
    return sorted(p for p in store.store if ".parts/" in p)


def checkpoint() -> dict:
    return json.loads(ObjectStoragePath(f"{URI}.checkpoint.json").read_bytes())


def test_a_part_is_stored_after_part_seconds_and_the_checkpoint_names_only_stored_pages(store):
    clock = Clock()
    out = writer(clock)
    out.write_records([{"n": 1}])
    out.commit({"pages": 1, "records": 1, "next_state": "c1"})
    assert parts(store) == []  # small and recent: still spooled
    clock.now += PartedJsonLinesWriter.part_seconds
    out.write_records([{"n": 2}])
    out.commit({"pages": 2, "records": 2, "next_state": "c2"})
    assert len(parts(store)) == 1
    assert (checkpoint()["pages"], checkpoint()["parts"], checkpoint()["next_state"]) == (2, 1, "c2")
    out.write_records([{"n": 3}])  # a page written but never committed (the try fails mid-page)
    out.close(success=False)
    assert checkpoint()["pages"] == 2 and len(parts(store)) == 1  # the uncommitted page is not claimed


def test_a_failed_try_stores_its_complete_pages_and_the_resume_joins_them_in_order(store):
    clock = Clock()
    first = writer(clock)
    first.write_records([{"n": 1}, {"n": 2}])
    first.commit({"pages": 1, "records": 2, "next_state": "c1"})
    first.close(success=False)
    assert checkpoint()["parts"] == 1

    second = writer(clock)
    assert second.state is not None and second.state["next_state"] == "c1"
    second.write_records([{"n": 3}])
    second.commit({"pages": 2, "records": 3, "next_state": None})
    second.close(success=True)
    lines = [json.loads(x) for x in ObjectStoragePath(URI).read_text().splitlines()]
    assert lines == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert parts(store) == [] and not ObjectStoragePath(f"{URI}.checkpoint.json").exists()


def test_a_checkpoint_of_another_binding_is_ignored_and_its_parts_cleared_on_success(store):
    clock = Clock()
    other = writer(clock, binding={**BINDING, "run_id": "other"})
    for n in range(3):
        other.write_records([{"n": n}])
        clock.now += PartedJsonLinesWriter.part_seconds
        other.commit({"pages": n + 1, "records": n + 1, "next_state": n})
    other.close(success=False)
    assert len(parts(store)) == 3

    mine = writer(clock)
    assert mine.state is None and "another task instance" in (mine.ignored or "")
    mine.write_records([{"mine": True}])
    mine.commit({"pages": 1, "records": 1, "next_state": None})
    mine.close(success=True)
    assert ObjectStoragePath(URI).read_text() == '{"mine":true}\n'
    assert parts(store) == []
