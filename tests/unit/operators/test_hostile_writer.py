"""A hostile world for writers: outputs changed between tries, wrong-shaped ledger files, on_kill.

- a fetch retry verifies its output against the checkpoint (size, last page's digest) and starts
  over when it changed: never a NUL byte, never a missing or doubled record;
- a ledger, submission or checkpoint file that parses but has the wrong shape is torn, never a crash;
- ``on_kill`` (fetch, batch, lookup, CustomerOS enrichment) stops before the next call, keeps what
  was settled, releases the lease; the retry finishes exactly once.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_gtm.compat import AirflowException, AirflowFailException, ObjectStoragePath
from airflow_provider_gtm.core.batching import BatchResult
from airflow_provider_gtm.core.errors import GtmServerError
from airflow_provider_gtm.core.hook import GtmBaseHook
from airflow_provider_gtm.core.ledger import WriteLedger, parse_outcome
from airflow_provider_gtm.core.pagination import iterate_pages
from airflow_provider_gtm.core.settlement import OUTCOME_UNKNOWN_RETRY
from airflow_provider_gtm.core.submissions import SubmissionLedger
from airflow_provider_gtm.operators.base import GtmBatchOperator, GtmFetchOperator
from airflow_provider_gtm.operators.lookup import GtmLookupOperator
from airflow_provider_gtm.operators.output import PartedJsonLinesWriter


class FakeHook(GtmBaseHook):
    default_conn_name = "fake_default"

    def close(self) -> None:
        pass


class Ti(SimpleNamespace):
    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def ctx() -> dict[str, Any]:
    return {"ti": Ti(dag_id="d", run_id="r", task_id="t", map_index=-1, try_number=1, pushed={})}


# -- fetch: verified, never padded ------------------------------------------------------------------


class Fetch(GtmFetchOperator):
    """Records 0..99 in pages of 10; fails at ``fail_at_page``; calls ``on_kill`` after ``kill_after`` pages."""

    hook_class = FakeHook
    fail_at_page: int | None = None
    kill_after: int | None = None

    def make_hook(self):
        return FakeHook()

    def describe(self):
        return "Fake"

    def pages(self, hook, start, limit):
        self.fetched = getattr(self, "fetched", 0)

        def fetch(offset):
            if self.fail_at_page is not None and offset >= self.fail_at_page * 10:
                raise GtmServerError("boom", status=503)
            if self.kill_after is not None and offset >= self.kill_after * 10:
                self.on_kill()  # SIGTERM arrives while this page is in flight: it completes
            self.fetched += 1
            return [{"n": i, "pad": "x" * (i % 7)} for i in range(offset, min(offset + 10, 100))], (
                offset + 10 if offset + 10 < 100 else None), 100

        return iterate_pages(fetch, start or 0, limit=limit)


def numbers(path) -> list[int]:
    return [json.loads(line)["n"] for line in path.read_bytes().decode().splitlines()]


def failed_fetch(uri: str) -> None:
    op = Fetch(task_id="t", output_uri=uri)
    op.fail_at_page = 5
    with pytest.raises(AirflowException):
        op.execute(ctx())


CHANGES = {
    "deleted": lambda path: path.unlink(),
    "emptied": lambda path: path.write_bytes(b""),
    "cut short": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "last page rewritten": lambda path: path.write_bytes(path.read_bytes()[:-30] + b"y" * 29 + b"\n"),
    "rewritten by another writer": lambda path: path.write_bytes(b'{"n": -1}\n' * 80),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_fetch_retry_starts_over_when_the_output_changed_since_its_checkpoint(tmp_path, capsys, change):
    uri = f"file://{tmp_path}/out.jsonl"
    failed_fetch(uri)
    checkpoint = json.loads((tmp_path / "out.jsonl.checkpoint.json").read_text())
    assert checkpoint["records"] == 50 and checkpoint["last_bytes"] > 0 and len(checkpoint["last_sha256"]) == 64
    CHANGES[change](tmp_path / "out.jsonl")
    capsys.readouterr()
    result = Fetch(task_id="t", output_uri=uri).execute(ctx())
    logged = capsys.readouterr().out
    assert "the output changed since its checkpoint" in logged and "starting over" in logged
    data = (tmp_path / "out.jsonl").read_bytes()
    assert b"\0" not in data
    assert numbers(tmp_path / "out.jsonl") == list(range(100)) and result["records"] == 100


def test_an_unchanged_output_with_a_partly_written_page_still_resumes(tmp_path, capsys):
    uri = f"file://{tmp_path}/out.jsonl"
    failed_fetch(uri)
    with open(tmp_path / "out.jsonl", "ab") as fh:
        fh.write(b'{"n": 999, "pa')
    retry = Fetch(task_id="t", output_uri=uri)
    result = retry.execute(ctx())
    assert "Resuming Fake after 5 complete pages (50 records)" in capsys.readouterr().out
    assert retry.fetched == 5 and numbers(tmp_path / "out.jsonl") == list(range(100)) and result["records"] == 100


@pytest.mark.parametrize("checkpoint", [
    [1, 2], "text", {"records": "50", "pages": 5, "bytes": 10, "binding": {}},
    {"records": 50, "pages": 5, "bytes": -3, "binding": {}}, {"records": 50, "pages": 5, "bytes": 10, "binding": {}},
])
def test_a_wrong_shaped_checkpoint_starts_over_instead_of_raising(tmp_path, capsys, checkpoint):
    uri = f"file://{tmp_path}/out.jsonl"
    failed_fetch(uri)
    (tmp_path / "out.jsonl.checkpoint.json").write_text(json.dumps(checkpoint))
    result = Fetch(task_id="t", output_uri=uri).execute(ctx())
    assert numbers(tmp_path / "out.jsonl") == list(range(100)) and result["records"] == 100


@pytest.fixture
def memory(monkeypatch):
    from fsspec.implementations.memory import MemoryFileSystem

    from airflow_provider_gtm.compat import io_fs as sdk_fs

    store = MemoryFileSystem()
    monkeypatch.setitem(sdk_fs._register_filesystems(), "memory", lambda conn_id: store)
    monkeypatch.setattr(PartedJsonLinesWriter, "part_bytes", 1)  # a part per page
    yield store
    store.store.clear()


@pytest.mark.parametrize("change", ["part deleted", "part rewritten", "checkpoint wrong shape"])
def test_a_fetch_to_an_object_store_verifies_its_parts_before_resuming(memory, capsys, change):
    uri = "memory://bucket/run/out.jsonl"
    failed_fetch(uri)
    parts = sorted(p for p in memory.store if ".parts/" in p)
    assert len(parts) == 5
    if change == "part deleted":
        memory.rm(parts[2])
    elif change == "part rewritten":
        memory.pipe(parts[-1], b'{"n": -1}\n')
    else:
        memory.pipe("/bucket/run/out.jsonl.checkpoint.json", json.dumps({"parts": "5", "records": 50}).encode())
    capsys.readouterr()
    retry = Fetch(task_id="t", output_uri=uri)
    result = retry.execute(ctx())
    if change != "checkpoint wrong shape":
        assert "the output changed since its checkpoint" in capsys.readouterr().out
    assert retry.fetched == 10
    assert [json.loads(x)["n"] for x in ObjectStoragePath(uri).read_text().splitlines()] == list(range(100))
    assert result["records"] == 100 and not [p for p in memory.store if ".parts/" in p or p.endswith(".lease")]


def test_two_writers_never_hold_one_object_store_output_at_once(memory, monkeypatch):
    monkeypatch.setenv("AIRFLOW__GTM__WRITER_LEASE_WAIT_SECONDS", "0")
    uri = "memory://bucket/fixed/out.jsonl"
    first = Fetch(task_id="t", output_uri=uri)

    def second_run_meanwhile(offset: int) -> None:
        other = {"ti": Ti(dag_id="d", run_id="run2", task_id="t", map_index=-1, try_number=1, pushed={})}
        with pytest.raises(AirflowException, match=r"another task instance \(dag_id='d', run_id='r'.* is writing it"):
            Fetch(task_id="t", output_uri=uri).execute(other)

    original = first.pages

    def pages(hook, start, limit):
        for number, page in enumerate(original(hook, start, limit)):
            if number == 3:
                second_run_meanwhile(number)
            yield page

    first.pages = pages  # type: ignore[method-assign]
    assert first.execute(ctx())["records"] == 100
    assert [json.loads(x)["n"] for x in ObjectStoragePath(uri).read_text().splitlines()] == list(range(100))


def test_on_kill_stops_a_fetch_after_the_page_in_flight_and_the_retry_resumes(tmp_path):
    uri = f"file://{tmp_path}/out.jsonl"
    op = Fetch(task_id="t", output_uri=uri)
    op.kill_after = 3
    with pytest.raises(AirflowException, match="the task was killed"):
        op.execute(ctx())
    assert op.fetched == 4  # the page in flight when on_kill came, then nothing
    assert not (tmp_path / "out.jsonl.lease").exists()  # released
    assert json.loads((tmp_path / "out.jsonl.checkpoint.json").read_text())["pages"] == 4
    retry = Fetch(task_id="t", output_uri=uri)
    assert retry.execute(ctx())["records"] == 100 and retry.fetched == 6
    assert numbers(tmp_path / "out.jsonl") == list(range(100))


# -- batch: on_kill, wrong-shaped ledger files ---------------------------------------------------------


class Batch(GtmBatchOperator):
    """One call per record into ``api``; ``kill_at`` calls ``on_kill`` during that call."""

    hook_class = FakeHook
    one_call_per_record = True

    def __init__(self, *, api, kill_at=None, **kwargs):
        super().__init__(**kwargs)
        self.api, self.kill_at, self.calls = api, kill_at, 0

    def make_hook(self):
        return FakeHook()

    def send(self, hook, records):
        for record in records:
            self.calls += 1
            if self.calls == self.kill_at:
                self.on_kill()
            self.api.append(record["id"])
            yield BatchResult(submitted=1, succeeded=1, accepted=[{"new_id": record["id"]}])


RECORDS = [{"id": f"r{i}"} for i in range(12)]


def lines(uri: str) -> list[Any]:
    return [json.loads(x) for x in open(uri.removeprefix("file://")) if x.strip()]


def test_on_kill_stops_a_batch_before_its_next_call_and_the_retry_sends_the_rest_once(tmp_path):
    api: list[str] = []
    uri = f"file://{tmp_path}/f.jsonl"
    first = Batch(task_id="t", api=api, records=RECORDS, batch_size=4, failures_uri=uri, kill_at=6)
    with pytest.raises(AirflowException, match="the task was killed") as info:
        first.execute(ctx())
    assert not isinstance(info.value, AirflowFailException)  # retryable
    assert api == [f"r{i}" for i in range(6)]  # the call in flight finished; nothing after it
    assert not list(tmp_path.rglob("lease.json")) and not list(tmp_path.glob(".*.tmp"))
    # Flushed and published: the chunks settled whole (the cut chunk's two are in its ledger entry).
    assert [x["new_id"] for x in lines(f"file://{tmp_path}/results.jsonl")] == api[:4]
    summary = Batch(task_id="t", api=api, records=RECORDS, batch_size=4, failures_uri=uri).execute(ctx())
    assert api == [r["id"] for r in RECORDS]  # lost 0, duplicated 0
    assert (summary["submitted"], summary["succeeded"]) == (12, 12)


@pytest.mark.parametrize("garbage", [
    "[1, 2]", '"done"', "42", '{"accepted": 5}', '{"failures": [1]}', '{"resend": ["x"]}', '{"resend": [99]}',
    '{"inflight": [true]}', '{"confirmed": "3"}', '{"touched": {"a": 1}}', "{not json",
])
def test_a_wrong_shaped_done_entry_is_torn_never_a_crash(tmp_path, garbage):
    api: list[str] = []
    uri = f"file://{tmp_path}/f.jsonl"
    Batch(task_id="t", api=api, records=RECORDS, batch_size=4, failures_uri=uri).execute(ctx())
    [done] = [p for p in tmp_path.rglob("chunk_0000001.done.json")]
    done.write_text(garbage)
    context = ctx()
    retry = Batch(task_id="t", api=api, records=RECORDS, batch_size=4, failures_uri=uri)
    with pytest.raises(AirflowFailException, match="4 records were sent .*A person must decide"):
        retry.execute(context)
    assert retry.calls == 0 and len(api) == 12  # nothing resent blindly: duplicated 0
    summary = context["ti"].pushed["return_value"]
    assert (summary["submitted"], summary["succeeded"], summary["outcome_unknown"]) == (12, 8, 4)
    assert [f["error_message"] for f in lines(summary["failures_uri"])] == [OUTCOME_UNKNOWN_RETRY] * 4


def test_parse_outcome_accepts_what_mark_done_writes(tmp_path):
    ledger = WriteLedger(ObjectStoragePath(f"file://{tmp_path}/l"))
    assert parse_outcome({"accepted": [{"a": 1}], "failures": [{"record": 1}], "resend": [1], "inflight": [2],
                          "confirmed": 3, "touched": [1]}, count=4) is not None
    assert parse_outcome({"resend": [4]}, count=4) is None
    assert ledger.empty


@pytest.mark.parametrize("garbage", ["[1]", '{"index": "x", "result": {}}', '{"index": 0, "result": [1]}',
                                     '{"index": true, "result": {}}', '"text"', "{torn"])
def test_a_wrong_shaped_submission_is_unrecorded_never_a_crash(tmp_path, garbage):
    directory = ObjectStoragePath(f"file://{tmp_path}/subs")
    SubmissionLedger(directory).record(1, {"email": "a@x.co"}, {"isComplete": True})
    (tmp_path / "subs" / "submission_0000000.json").write_text(garbage)
    ledger = SubmissionLedger(directory)
    assert ledger.answer(0) is None and ledger.answer(1) == {"isComplete": True} and len(ledger) == 1


# -- lookups: on_kill --------------------------------------------------------------------------------


class Lookup(GtmLookupOperator):
    hook_class = FakeHook

    def __init__(self, *, kill_at=None, **kwargs):
        super().__init__(**kwargs)
        self.kill_at, self.asked = kill_at, []

    def make_hook(self):
        return FakeHook()

    def answer(self, hook, item):
        self.asked.append(item)
        if len(self.asked) == self.kill_at:
            self.on_kill()
        return {"echo": item}


def test_on_kill_stops_a_lookup_after_the_answer_in_flight_and_the_retry_asks_only_the_rest(tmp_path):
    uri = f"file://{tmp_path}/out.jsonl"
    first = Lookup(task_id="t", inputs=list(range(10)), output_uri=uri, kill_at=4)
    with pytest.raises(AirflowException, match="the task was killed"):
        first.execute(ctx())
    assert first.asked == [0, 1, 2, 3] and not (tmp_path / "out.jsonl.lease").exists()
    retry = Lookup(task_id="t", inputs=list(range(10)), output_uri=uri)
    assert retry.execute(ctx())["records"] == 10 and retry.asked == list(range(4, 10))
    assert [json.loads(x)["input"] for x in (tmp_path / "out.jsonl").read_text().splitlines()] == list(range(10))


def test_on_kill_stops_customeros_person_enrichment_submissions(tmp_path, monkeypatch, requests_mock):
    from airflow_provider_gtm.compat import TaskDeferred
    from airflow_provider_gtm.operators.customeros import CustomerOSLookupOperator

    monkeypatch.setenv("AIRFLOW_CONN_CUSTOMEROS_DEFAULT", json.dumps(
        {"conn_type": "customeros", "password": "cos_live_4f1e9a7b3c2d8e6f", "extra": {"max_attempts": 1}}))
    person = "https://api.customeros.ai/enrich/v1/person"
    inputs = [{"email": f"p{i}@x.co"} for i in range(6)]
    uri = f"file://{tmp_path}/out.jsonl"
    op = CustomerOSLookupOperator(task_id="t", lookup="person_enrichment", inputs=inputs, output_uri=uri,
                                  deferrable=True)

    def answer(request, context):
        if len(requests_mock.request_history) == 2:
            op.on_kill()  # SIGTERM while the second submission is in flight
        context.status_code = 202
        return {"isComplete": False, "resultUrl": f"{person}/results/{request.qs['email'][0]}"}

    requests_mock.get(person, json=answer)
    with pytest.raises(AirflowException, match="the task was killed"):
        op.execute(ctx())
    assert len(requests_mock.request_history) == 2  # the one in flight was recorded; no third
    assert not list(tmp_path.rglob("lease.json"))
    retry = CustomerOSLookupOperator(task_id="t", lookup="person_enrichment", inputs=inputs, output_uri=uri,
                                     deferrable=True)
    with pytest.raises(TaskDeferred):
        retry.execute(ctx())
    emails = [r.qs["email"][0] for r in requests_mock.request_history]
    assert emails == [f"p{i}@x.co" for i in range(6)]  # each submitted once across the two tries


class Requests(Batch):
    """One request per chunk (not one call per record): the chunk is the request, as for Octy."""

    one_call_per_record = False
    request_size = 4

    def default_batch_size(self):
        return self.request_size


def test_a_retry_resumes_the_chunks_its_ledger_recorded_after_the_default_chunk_size_changed(tmp_path, monkeypatch):
    # An earlier release chunked by 50 (ledger_chunk_size), this one by the API's request size: a try of
    # one, killed, retried by the other. The retry must chunk as the ledger recorded, or chunk 1's
    # entry (records 4-7) would be applied to other records: lost or sent twice.
    api: list[str] = []
    uri = f"file://{tmp_path}/f.jsonl"
    with pytest.raises(AirflowException, match="the task was killed"):
        Requests(task_id="t", api=api, records=RECORDS, failures_uri=uri, kill_at=6).execute(ctx())
    assert api == [f"r{i}" for i in range(6)]
    monkeypatch.setattr(Requests, "request_size", 6)
    summary = Requests(task_id="t", api=api, records=RECORDS, failures_uri=uri).execute(ctx())
    assert sorted(api) == sorted(r["id"] for r in RECORDS) and len(api) == 12  # lost 0, duplicated 0
    assert (summary["submitted"], summary["succeeded"]) == (12, 12)
    assert sorted(x["new_id"] for x in lines(summary["results_uri"])) == sorted(api)


def test_a_ledger_chunk_of_another_size_is_refused_never_applied(tmp_path):
    from airflow_provider_gtm.compat import ObjectStoragePath
    from airflow_provider_gtm.core.errors import GtmError
    from airflow_provider_gtm.core.ledger import WriteLedger
    from airflow_provider_gtm.core.settlement import ChunkPolicy, settle_chunk

    ledger = WriteLedger(ObjectStoragePath(f"file://{tmp_path}/l"))
    ledger.mark_sent(0, 4, "2026-01-01T00:00:00+00:00")
    policy = ChunkPolicy(send=lambda part: iter(()), resolve=lambda part, window: None,
                         can_resolve=lambda part: False, identifier=lambda record: record)
    with pytest.raises(GtmError, match="recorded chunk 0 with 4 records, this try's chunk 0 has 6"):
        settle_chunk(ledger, 0, list("abcdef"), policy)
