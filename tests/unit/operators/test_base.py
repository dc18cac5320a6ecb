"""The shared operator loop: streaming to JSON Lines, resume after a failed try, failure accounting."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from airflow_provider_gtm.compat import AirflowException, AirflowFailException
from airflow_provider_gtm.core.batching import BatchResult, Failure
from airflow_provider_gtm.core.errors import GtmAuthError, GtmServerError
from airflow_provider_gtm.core.hook import GtmBaseHook
from airflow_provider_gtm.core.pagination import Page, Refetch, iterate_pages
from airflow_provider_gtm.core.timing import FakeTimer
from airflow_provider_gtm.operators.base import GtmBatchOperator, GtmFetchOperator
from airflow_provider_gtm.operators.output import default_uri


class FakeHook(GtmBaseHook):
    default_conn_name = "fake_default"

    def close(self) -> None:
        pass


class Ti(SimpleNamespace):
    def xcom_push(self, key, value):
        self.pushed[key] = value


def context(map_index=-1):
    return {"ti": Ti(dag_id="d", run_id="manual__2026-01-01T00:00:00+00:00", task_id="t", map_index=map_index,
                     pushed={})}


class NumbersFetch(GtmFetchOperator):
    hook_class = FakeHook
    fail_after_pages: int | None = None

    def make_hook(self):
        return FakeHook()

    def pages(self, hook, start, limit):
        def fetch(offset):
            if self.fail_after_pages is not None and offset >= self.fail_after_pages * 10:
                raise GtmServerError("boom", status=503)
            records = [{"n": i} for i in range(offset, min(offset + 10, 45))]
            return records, (offset + 10 if offset + 10 < 45 else None), 45

        return iterate_pages(fetch, start or 0, limit=limit)


def read_lines(uri):
    return [json.loads(line) for line in open(uri.removeprefix("file://"))]


def test_fetch_streams_every_page_and_returns_small_xcom(tmp_path):
    op = NumbersFetch(task_id="t", output_uri=f"file://{tmp_path}/out.jsonl")
    xcom = op.execute(context())
    assert xcom == {"uri": f"file://{tmp_path}/out.jsonl", "records": 45, "pages": 5, "total": 45}
    assert [r["n"] for r in read_lines(xcom["uri"])] == list(range(45))
    assert not (tmp_path / "out.jsonl.checkpoint.json").exists()


def test_default_uri_unique_per_run_task_and_map_index(tmp_path):
    assert default_uri(context(), f"file://{tmp_path}", "records.jsonl") == (
        f"file://{tmp_path}/d/manual__2026-01-01T00_00_00_00_00/t/records.jsonl"
    )
    assert default_uri(context(3), "s3://b/gtm", "records.jsonl").endswith("/t/map_3/records.jsonl")


def test_retried_fetch_resumes_after_last_complete_page_without_duplicates(tmp_path):
    uri = f"file://{tmp_path}/out.jsonl"
    op = NumbersFetch(task_id="t", output_uri=uri)
    op.fail_after_pages = 2
    with pytest.raises(AirflowException):
        op.execute(context())
    # Simulate a half-written page left behind by the crash.
    with open(tmp_path / "out.jsonl", "a") as fh:
        fh.write('{"n": 999')
    op.fail_after_pages = None
    xcom = op.execute(context())
    assert [r["n"] for r in read_lines(uri)] == list(range(45))
    assert xcom["records"] == 45 and xcom["pages"] == 5


def test_fetch_without_resume_starts_afresh(tmp_path):
    uri = f"file://{tmp_path}/out.jsonl"
    op = NumbersFetch(task_id="t", output_uri=uri, resume=False)
    op.fail_after_pages = 2
    with pytest.raises(AirflowException):
        op.execute(context())
    op.fail_after_pages = None
    op.execute(context())
    assert [r["n"] for r in read_lines(uri)] == list(range(45))


def test_fetch_limit(tmp_path):
    op = NumbersFetch(task_id="t", output_uri=f"file://{tmp_path}/o.jsonl", limit=12)
    assert op.execute(context())["records"] == 12


class TableFetch(GtmFetchOperator):
    """A fetch over a table ``state -> (records, next_state, total)``; re-fetches never sleep."""

    hook_class = FakeHook
    table: dict = {}

    def make_hook(self):
        return FakeHook()

    def pages(self, hook, start, limit):
        return iterate_pages(lambda state: self.table[state], start or 0, limit=limit,
                             refetch=Refetch(timer=FakeTimer()))


def test_incomplete_page_fails_the_task_as_retryable_and_the_retry_resumes(tmp_path):
    uri = f"file://{tmp_path}/out.jsonl"
    op = TableFetch(task_id="t", output_uri=uri)
    op.table = {0: ([{"n": 0}, {"n": 1}], 2, 4), 2: ([], 4, 4)}  # an empty page mid-list
    with pytest.raises(AirflowException) as caught:  # retryable: Airflow retries the task
        op.execute(context())
    assert not isinstance(caught.value, AirflowFailException)
    assert "empty page" in str(caught.value)
    op.table = {2: ([{"n": 2}, {"n": 3}], None, 4)}  # the retry asks for page 2 only
    xcom = op.execute(context())
    assert [r["n"] for r in read_lines(uri)] == [0, 1, 2, 3]
    assert xcom["records"] == 4 and "count_mismatch" not in xcom


def test_count_differing_from_the_total_at_the_end_is_reported(tmp_path):
    op = TableFetch(task_id="t", output_uri=f"file://{tmp_path}/o.jsonl")
    op.table = {0: ([{"n": 0}, {"n": 1}], 2, 450), 2: ([{"n": 2}], None, 450)}
    xcom = op.execute(context())
    assert xcom["count_mismatch"] == {"records": 3, "total": 450}


@pytest.mark.parametrize(("bound", "message"),
                         [({"max_pages": 3}, "max_pages=3"), ({"max_records": 25}, "max_records=25")])
def test_a_list_that_never_ends_hits_the_safety_bound(tmp_path, bound, message):
    op = TableFetch(task_id="t", output_uri=f"file://{tmp_path}/o.jsonl", **bound)
    op.table = _Endless()
    with pytest.raises(AirflowFailException, match=message):
        op.execute(context())


class _Endless(dict):
    def __getitem__(self, state):
        return [{"n": state + i} for i in range(10)], state + 10, None


def test_bounds_are_validated():
    with pytest.raises(ValueError, match="max_pages"):
        TableFetch(task_id="t", max_pages=0)
    assert TableFetch(task_id="t").max_pages == 100_000
    assert TableFetch(task_id="t", max_pages=None).max_pages is None


def test_fetch_output_survives_a_lone_surrogate(tmp_path):
    op = TableFetch(task_id="t", output_uri=f"file://{tmp_path}/o.jsonl")
    op.table = {0: ([{"id": "a", "text": "half \ud83d emoji"}], None, None)}
    op.execute(context())
    assert read_lines(f"file://{tmp_path}/o.jsonl") == [{"id": "a", "text": "half \ud83d emoji"}]


class EchoBatch(GtmBatchOperator):
    hook_class = FakeHook
    error: Exception | None = None

    def make_hook(self):
        return FakeHook()

    def send(self, hook, records):
        if self.error:
            raise self.error
        records = list(records)
        for start in range(0, len(records), 2):
            chunk = records[start:start + 2]
            good = [r for r in chunk if r.get("ok")]
            bad = [
                Failure(r, r["id"], r.get("why", "invalid"), 400, already_exists=r.get("why") == "exists")
                for r in chunk if not r.get("ok")
            ]
            yield BatchResult(submitted=len(chunk), succeeded=len(good), accepted=[{"new_id": r["id"]} for r in good],
                              failures=bad)

    def assigned_id(self, accepted):
        return accepted["new_id"]


RECORDS = [{"id": "a", "ok": True}, {"id": "b", "why": "bad email"}, {"id": "c", "ok": True},
           {"id": "d", "why": "exists"}, {"id": "e", "why": "bad email"}]


def test_batch_reports_every_failure_and_fails_by_default(tmp_path):
    op = EchoBatch(task_id="t", records=RECORDS, failures_uri=f"file://{tmp_path}/f.jsonl")
    ctx = context()
    with pytest.raises(AirflowFailException, match="3 of 5 records failed"):
        op.execute(ctx)
    summary = ctx["ti"].pushed["return_value"]
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (5, 2, 3)
    lines = read_lines(summary["failures_uri"])
    assert [(line["identifier"], line["error_message"]) for line in lines] == [
        ("b", "bad email"), ("d", "exists"), ("e", "bad email")]
    assert set(lines[0]) >= {"record", "identifier", "error_message", "status"}
    assert summary["ids"] == ["a", "c"]
    assert [r["new_id"] for r in read_lines(summary["results_uri"])] == ["a", "c"]


def test_batch_warn_policy_and_existing_is_success(tmp_path):
    op = EchoBatch(task_id="t", records=json.dumps(RECORDS), failures_uri=f"file://{tmp_path}/f.jsonl",
                   on_failures="warn", existing_is_success=True)
    summary = op.execute(context())
    assert (summary["submitted"], summary["succeeded"], summary["failed"], summary["existing"]) == (5, 3, 2, 1)


def test_batch_ratio_policy(tmp_path):
    ok = EchoBatch(task_id="t", records=RECORDS, failures_uri=f"file://{tmp_path}/f.jsonl",
                   on_failures="ratio", max_failure_ratio=0.6)
    assert ok.execute(context())["failed"] == 3
    strict = EchoBatch(task_id="t", records=RECORDS, failures_uri=f"file://{tmp_path}/g.jsonl",
                       on_failures="ratio", max_failure_ratio=0.5)
    with pytest.raises(AirflowFailException, match="max_failure_ratio"):
        strict.execute(context())


def test_batch_reads_input_uri(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    op = EchoBatch(task_id="t", input_uri=f"file://{src}", failures_uri=f"file://{tmp_path}/f.jsonl",
                   on_failures="warn")
    assert op.execute(context())["submitted"] == 5


def test_batch_error_mapping(tmp_path):
    op = EchoBatch(task_id="t", records=RECORDS, failures_uri=f"file://{tmp_path}/f.jsonl")
    op.error = GtmAuthError("Invalid api key", status=401)
    with pytest.raises(AirflowFailException, match="Invalid api key"):
        op.execute(context())
    op.error = GtmServerError("unavailable", status=503)
    with pytest.raises(AirflowException) as info:
        op.execute(context())
    assert not isinstance(info.value, AirflowFailException)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "neither was given"),
        ({"records": [], "input_uri": "file:///x"}, "not both"),
        ({"records": [], "on_failures": "ignore"}, "on_failures"),
        ({"records": [], "batch_size": 501}, "batch_size"),
        ({"records": [], "max_failure_ratio": 2}, "max_failure_ratio"),
    ],
)
def test_batch_arguments_validated_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EchoBatch(task_id="t", **kwargs)


def test_missing_input_file_is_a_clear_failure(tmp_path):
    op = EchoBatch(task_id="t", input_uri=f"file://{tmp_path}/nope.jsonl", failures_uri=f"file://{tmp_path}/f.jsonl")
    with pytest.raises(AirflowFailException, match="does not exist"):
        op.execute(context())


def test_page_dataclass_defaults():
    assert Page(records=[1], number=0).next_state is None
