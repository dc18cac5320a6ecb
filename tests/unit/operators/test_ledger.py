"""The write ledger through GtmBatchOperator: replay, outages, unknown outcomes, existing records."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from airflow_provider_gtm.compat import AirflowException, AirflowFailException
from airflow_provider_gtm.core.batching import BatchResult, Failure
from airflow_provider_gtm.core.errors import GtmOutcomeUnknownError, GtmServerError
from airflow_provider_gtm.core.hook import GtmBaseHook
from airflow_provider_gtm.core.settlement import OUTCOME_UNKNOWN_RETRY
from airflow_provider_gtm.operators.base import GtmBatchOperator


class FakeHook(GtmBaseHook):
    default_conn_name = "fake_default"

    def close(self) -> None:
        pass


class Ti(SimpleNamespace):
    def xcom_push(self, key, value):
        self.pushed[key] = value


def context():
    return {"ti": Ti(dag_id="d", run_id="r", task_id="t", map_index=-1, pushed={})}


class ApiBatch(GtmBatchOperator):
    """Sends to an in-memory "API" that can fail a given call."""

    hook_class = FakeHook

    def __init__(self, *, api, fail_calls=(), fail_with=None, **kwargs):
        super().__init__(**kwargs)
        self.api, self.fail_calls, self.fail_with, self.calls = api, set(fail_calls), fail_with, 0

    def make_hook(self):
        return FakeHook()

    def send(self, hook, records):
        self.calls += 1
        records = list(records)
        if self.calls in self.fail_calls:
            if isinstance(self.fail_with, GtmOutcomeUnknownError):
                self.api.extend(r["id"] for r in records)  # applied, answer lost
            raise self.fail_with
        good = [r for r in records if r.get("ok", True)]
        self.api.extend(r["id"] for r in good)
        bad = [Failure(r, r["id"], "exists with provided id", 400, already_exists=True) for r in records
               if not r.get("ok", True)]
        yield BatchResult(submitted=len(records), succeeded=len(good), accepted=[{"new_id": r["id"]} for r in good],
                          failures=bad)

    def assigned_id(self, accepted):
        return accepted["new_id"]


RECORDS = [{"id": f"r{i}"} for i in range(10)]


def lines(uri):
    with open(uri.removeprefix("file://")) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_an_outage_fails_retryably_and_the_retry_sends_only_the_rest(tmp_path):
    api: list[str] = []
    uri = f"file://{tmp_path}/f.jsonl"
    first = ApiBatch(task_id="t", api=api, records=RECORDS, batch_size=3, failures_uri=uri, fail_calls={3},
                     fail_with=GtmServerError("unavailable", status=503))
    with pytest.raises(AirflowException) as info:
        first.execute(context())
    assert not isinstance(info.value, AirflowFailException)
    assert first.calls == 3  # stopped at the outage, the last chunk was not tried
    assert api == [f"r{i}" for i in range(6)]
    retry = ApiBatch(task_id="t", api=api, records=RECORDS, batch_size=3, failures_uri=uri)
    summary = retry.execute(context())
    assert retry.calls == 2  # the failed chunk and the last one
    assert api == [f"r{i}" for i in range(10)]  # each exactly once
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (10, 10, 0)
    assert summary["ids"] == [f"r{i}" for i in range(10)]
    assert [line["new_id"] for line in lines(summary["results_uri"])] == [f"r{i}" for i in range(10)]


def test_a_lost_answer_is_not_resent_and_fails_for_a_person(tmp_path):
    api: list[str] = []
    uri = f"file://{tmp_path}/f.jsonl"
    first = ApiBatch(task_id="t", api=api, records=RECORDS, batch_size=5, failures_uri=uri, fail_calls={2},
                     fail_with=GtmOutcomeUnknownError("outcome unknown, timeout"))
    with pytest.raises(AirflowException):
        first.execute(context())
    ctx = context()
    retry = ApiBatch(task_id="t", api=api, records=RECORDS, batch_size=5, failures_uri=uri)
    with pytest.raises(AirflowFailException, match="5 records were sent .*A person must decide"):
        retry.execute(ctx)
    assert retry.calls == 0
    assert sorted(api) == sorted(r["id"] for r in RECORDS)  # nothing twice
    summary = ctx["ti"].pushed["return_value"]
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (10, 5, 5)
    failures = lines(summary["failures_uri"])
    assert [f["error_message"] for f in failures] == [OUTCOME_UNKNOWN_RETRY] * 5
    assert [f["record"]["id"] for f in failures] == [f"r{i}" for i in range(5, 10)]


def test_other_arguments_start_a_new_ledger(tmp_path):
    api: list[str] = []
    uri = f"file://{tmp_path}/f.jsonl"
    ApiBatch(task_id="t", api=api, records=RECORDS, batch_size=5, failures_uri=uri).execute(context())
    ApiBatch(task_id="t", api=api, records=RECORDS, batch_size=5, failures_uri=uri).execute(context())
    assert len(api) == 10  # the same task instance with the same input: replayed, not resent
    other = [{"id": f"x{i}"} for i in range(3)]
    ApiBatch(task_id="t", api=api, records=other, batch_size=5, failures_uri=uri).execute(context())
    assert len(api) == 13


def test_existing_is_success_counts_only_already_exists_answers(tmp_path):
    api: list[str] = []
    records = [{"id": "a"}, {"id": "b", "ok": False}]
    op = ApiBatch(task_id="t", api=api, records=records, failures_uri=f"file://{tmp_path}/f.jsonl",
                  existing_is_success=True)
    summary = op.execute(context())
    assert (summary["succeeded"], summary["failed"], summary["existing"]) == (2, 0, 1)


def test_the_ledger_works_on_an_object_store_without_append_or_rename(monkeypatch):
    from fsspec.implementations.memory import MemoryFileSystem

    from airflow_provider_gtm.compat import io_fs as sdk_fs

    # An object store stand-in (fsspec's memory store): no local rename path, objects written whole.
    monkeypatch.setitem(sdk_fs._register_filesystems(), "memory", lambda conn_id: MemoryFileSystem())
    api: list[str] = []
    uri = "memory://gtm-ledger-test/run/f.jsonl"
    first = ApiBatch(task_id="t", api=api, records=RECORDS, batch_size=4, failures_uri=uri, fail_calls={2},
                     fail_with=GtmServerError("unavailable", status=503))
    with pytest.raises(AirflowException):
        first.execute(context())
    summary = ApiBatch(task_id="t", api=api, records=RECORDS, batch_size=4, failures_uri=uri).execute(context())
    assert sorted(api) == sorted(r["id"] for r in RECORDS)
    assert (summary["submitted"], summary["succeeded"]) == (10, 10)


def test_changed_arguments_resend_nothing_already_confirmed(tmp_path):
    # Issue 23: another batch_size gives the retry a new ledger generation; records are matched by
    # content, so nothing confirmed is sent again and the XCom still covers every record.
    api: list[str] = []
    uri = f"file://{tmp_path}/f.jsonl"
    first = ApiBatch(task_id="t", api=api, records=RECORDS, batch_size=4, failures_uri=uri, fail_calls={2},
                     fail_with=GtmServerError("unavailable", status=503))
    with pytest.raises(AirflowException):
        first.execute(context())
    assert api == [f"r{i}" for i in range(4)]
    retry = ApiBatch(task_id="t", api=api, records=[*RECORDS, {"id": "r10"}], batch_size=3, failures_uri=uri)
    summary = retry.execute(context())
    assert api == [f"r{i}" for i in range(11)]  # each exactly once
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (11, 11, 0)
    assert sorted(line["new_id"] for line in lines(summary["results_uri"])) == sorted(f"r{i}" for i in range(11))


def test_records_in_flight_that_the_new_input_dropped_are_left_to_a_person(tmp_path):
    from airflow_provider_gtm.core.settlement import OUTCOME_UNKNOWN_DROPPED

    api: list[str] = []
    uri = f"file://{tmp_path}/f.jsonl"
    first = ApiBatch(task_id="t", api=api, records=RECORDS, batch_size=5, failures_uri=uri, fail_calls={2},
                     fail_with=GtmOutcomeUnknownError("outcome unknown, timeout"))
    with pytest.raises(AirflowException):
        first.execute(context())
    ctx = context()
    retry = ApiBatch(task_id="t", api=api, records=RECORDS[:7], batch_size=5, failures_uri=uri)
    with pytest.raises(AirflowFailException, match="A person must decide"):
        retry.execute(ctx)
    assert retry.calls == 0 and sorted(api) == sorted(r["id"] for r in RECORDS)  # nothing twice
    summary = ctx["ti"].pushed["return_value"]
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (10, 5, 5)
    failures = lines(summary["failures_uri"])
    assert sorted(f["identifier"] for f in failures) == [f"r{i}" for i in range(5, 10)]
    assert sum(f["error_message"] == OUTCOME_UNKNOWN_DROPPED for f in failures) == 3


def test_a_ledger_an_earlier_release_wrote_is_resumed_across_the_upgrade(tmp_path):
    # Earlier releases kept the ledger flat in _ledger/<ledger_key(context, input, arguments)>/.
    from airflow_provider_gtm.compat import ObjectStoragePath
    from airflow_provider_gtm.core.ledger import LEDGER_DIR, ChunkOutcome, WriteLedger, ledger_key

    api: list[str] = []
    uri = f"file://{tmp_path}/f.jsonl"
    operator = ApiBatch(task_id="t", api=api, records=RECORDS, batch_size=5, failures_uri=uri)
    digest = operator._preflight()
    old = ObjectStoragePath(f"file://{tmp_path}") / LEDGER_DIR / ledger_key(context(), digest,
                                                                             operator.ledger_arguments())
    ledger = WriteLedger(old)
    ledger.mark_sent(0, 5, "2026-01-01T00:00:00+00:00")
    ledger.mark_done(0, ChunkOutcome(accepted=[{"new_id": f"r{i}"} for i in range(5)]))
    api.extend(f"r{i}" for i in range(5))  # what the earlier release's try sent
    summary = operator.execute(context())
    assert operator.calls == 1 and api == [f"r{i}" for i in range(10)]  # only the second chunk was sent
    assert (summary["submitted"], summary["succeeded"]) == (10, 10)
