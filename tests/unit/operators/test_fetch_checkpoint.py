"""Fetch checkpoints: cheap (one small write in place per page), exact, and bound to their run and query."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from airflow_provider_gtm.compat import AirflowException
from airflow_provider_gtm.core.errors import GtmServerError
from airflow_provider_gtm.core.hook import GtmBaseHook
from airflow_provider_gtm.core.pagination import iterate_pages
from airflow_provider_gtm.operators.base import GtmFetchOperator


class FakeHook(GtmBaseHook):
    default_conn_name = "fake_default"

    def close(self) -> None:
        pass


class RangeFetch(GtmFetchOperator):
    """Records ``start`` .. ``start + 44`` in pages of 10; ``start`` is the query argument."""

    template_fields = (*GtmFetchOperator.template_fields, "start")
    hook_class = FakeHook
    fail_after_pages: int | None = None

    def __init__(self, *, start: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.start = start

    def make_hook(self):
        return FakeHook()

    def describe(self):
        return "Fake"

    def pages(self, hook, start, limit):
        def fetch(offset):
            if self.fail_after_pages is not None and offset >= self.fail_after_pages * 10:
                raise GtmServerError("boom", status=503)
            records = [{"n": self.start + i, "text": "é" * (i % 3)} for i in range(offset, min(offset + 10, 45))]
            return records, (offset + 10 if offset + 10 < 45 else None), 45

        return iterate_pages(fetch, start or 0, limit=limit)


def ctx(run_id="run1", task_id="t", map_index=-1):
    return {"ti": SimpleNamespace(dag_id="d", run_id=run_id, task_id=task_id, map_index=map_index)}


def numbers(path):
    return [json.loads(line)["n"] for line in path.read_text(encoding="utf-8").splitlines()]


def fail_midway(uri, **kwargs):
    op = RangeFetch(task_id=kwargs.pop("task_id", "t"), output_uri=uri, **kwargs)
    op.fail_after_pages = 3
    return op


def test_checkpoint_is_one_file_rewritten_in_place_and_exact(tmp_path):
    uri = f"file://{tmp_path}/out.jsonl"
    with pytest.raises(AirflowException):
        fail_midway(uri).execute(ctx())
    checkpoint = json.loads((tmp_path / "out.jsonl.checkpoint.json").read_text())
    assert checkpoint["pages"] == 3 and checkpoint["records"] == 30 and checkpoint["next_state"] == 30
    assert checkpoint["bytes"] == (tmp_path / "out.jsonl").stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "out.jsonl.checkpoint.json"]


def test_retry_of_same_task_instance_and_arguments_resumes(tmp_path, capsys):
    uri = f"file://{tmp_path}/out.jsonl"
    with pytest.raises(AirflowException):
        fail_midway(uri, start=100).execute(ctx())
    with open(tmp_path / "out.jsonl", "ab") as fh:  # a page half-written when the try died
        fh.write(b'{"n": 999, "te')
    result = RangeFetch(task_id="t", output_uri=uri, start=100).execute(ctx())
    assert "Resuming Fake after 3 complete pages (30 records)" in capsys.readouterr().out
    assert numbers(tmp_path / "out.jsonl") == list(range(100, 145))
    assert result["records"] == 45 and result["pages"] == 5
    assert not (tmp_path / "out.jsonl.checkpoint.json").exists()


@pytest.mark.parametrize(
    ("second_context", "second_start", "reason"),
    [
        (ctx(run_id="run2"), 100, "another task instance"),
        (ctx(map_index=2), 100, "another task instance"),
        (ctx(), 500, "other query arguments"),
    ],
)
def test_checkpoint_of_another_run_or_query_is_ignored_and_logged(tmp_path, capsys, second_context, second_start,
                                                                  reason):
    uri = f"file://{tmp_path}/out.jsonl"
    with pytest.raises(AirflowException):
        fail_midway(uri, start=100).execute(ctx())
    capsys.readouterr()
    result = RangeFetch(task_id="t", output_uri=uri, start=second_start).execute(second_context)
    logged = capsys.readouterr().out
    assert f"Not resuming from the checkpoint next to {uri}: it " in logged and reason in logged
    assert "starting over" in logged and "Resuming" not in logged
    assert numbers(tmp_path / "out.jsonl") == list(range(second_start, second_start + 45))
    assert result["records"] == 45


def test_checkpoint_without_binding_from_an_older_version_is_ignored(tmp_path):
    (tmp_path / "out.jsonl").write_text('{"n": 1}\n')
    (tmp_path / "out.jsonl.checkpoint.json").write_text('{"records": 1, "pages": 1, "next_state": 40, "bytes": 9}')
    RangeFetch(task_id="t", output_uri=f"file://{tmp_path}/out.jsonl").execute(ctx())
    assert numbers(tmp_path / "out.jsonl") == list(range(45))


def test_a_shorter_checkpoint_overwrites_a_longer_one_cleanly(tmp_path):
    uri = f"file://{tmp_path}/out.jsonl"
    (tmp_path / "out.jsonl.checkpoint.json").write_text("x" * 5000)  # garbage, longer than any document
    with pytest.raises(AirflowException):
        fail_midway(uri).execute(ctx())
    assert json.loads((tmp_path / "out.jsonl.checkpoint.json").read_text())["pages"] == 3


def test_fetch_leaves_the_garbage_collector_as_it_found_it(tmp_path):
    import gc

    assert gc.get_freeze_count() == 0
    RangeFetch(task_id="t", output_uri=f"file://{tmp_path}/out.jsonl").execute(ctx())
    op = fail_midway(f"file://{tmp_path}/other.jsonl")
    with pytest.raises(AirflowException):
        op.execute(ctx())
    assert gc.get_freeze_count() == 0 and gc.isenabled()
