"""Progress lines of batch tasks: chunks, records accounted, failures so far, time left under a rate limit."""

from __future__ import annotations

from types import SimpleNamespace

from airflow_provider_gtm.core.ratelimit import Window
from airflow_provider_gtm.core.timing import FakeTimer
from airflow_provider_gtm.operators.progress import BatchProgress


class Lines:
    def __init__(self):
        self.lines: list[str] = []

    def info(self, fmt, *args):
        self.lines.append(fmt % args)


def test_first_chunk_then_at_most_every_interval():
    timer, log = FakeTimer(), Lines()
    progress = BatchProgress(log, "Sending x", total=300, every_seconds=30, clock=timer.monotonic)
    for sent in range(50, 301, 50):
        timer.sleep(10)
        progress.chunk(sent, sent - sent // 50, sent // 50)
    # chunks at t=10 (first), 40 (30 s later) and then 70 would be the next: t=60 is too early.
    assert len(log.lines) == 2
    assert log.lines[0].startswith("Sending x: 1 chunk(s) sent, 50 of 300 records accounted (49 succeeded, 1 failed")
    assert log.lines[1].startswith("Sending x: 4 chunk(s) sent, 200 of 300 records accounted (196 succeeded, 4 failed")


def test_time_left_follows_the_rate_limit_for_one_call_per_record():
    """1,000 Oktopost creates at 60 calls a minute: ~17 minutes, even if the first calls went fast."""
    timer, log = FakeTimer(), Lines()
    progress = BatchProgress(log, "Sending Oktopost campaigns", total=1000, windows=[Window(60, 60.0)],
                             calls_per_chunk=None, clock=timer.monotonic)
    timer.sleep(5)  # the first 50 went out in a burst
    progress.chunk(50, 50, 0)
    assert progress.seconds_left() == 950.0
    assert log.lines == ["Sending Oktopost campaigns: 1 chunk(s) sent, 50 of 1000 records accounted "
                         "(50 succeeded, 0 failed so far), about 15m50s left under the rate limit"]


def test_time_left_from_observed_pace_without_limits_and_none_without_total():
    timer = FakeTimer()
    progress = BatchProgress(Lines(), "x", total=400, clock=timer.monotonic)
    timer.sleep(20)
    progress.chunk(100, 100, 0)
    assert progress.seconds_left() == 60.0
    unknown = BatchProgress(Lines(), "x", clock=timer.monotonic)
    unknown.chunk(100, 100, 0)
    assert unknown.seconds_left() is None and "left" not in unknown.line()


def test_batch_operator_logs_progress(tmp_path, capsys):
    from airflow_provider_gtm.core.batching import BatchResult, Failure
    from airflow_provider_gtm.core.hook import GtmBaseHook
    from airflow_provider_gtm.operators.base import GtmBatchOperator

    class FakeHook(GtmBaseHook):
        default_conn_name = "fake_default"

        def close(self) -> None:
            pass

    class Chunked(GtmBatchOperator):
        hook_class = FakeHook

        def make_hook(self):
            return FakeHook()

        def send(self, hook, records):
            records = list(records)
            for start in range(0, len(records), 2):
                chunk = records[start:start + 2]
                failures = [Failure(record=r, identifier=str(r["n"]), error_message="no") for r in chunk if r["n"] == 3]
                yield BatchResult(submitted=len(chunk), succeeded=len(chunk) - len(failures), failures=failures,
                                  accepted=[r for r in chunk if r["n"] != 3])

    op = Chunked(task_id="t", records=[{"n": i} for i in range(5)], on_failures="warn", batch_size=2,
                 failures_uri=f"file://{tmp_path}/failures.jsonl")
    op.execute({"ti": SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=-1)})
    out = capsys.readouterr().out
    assert "Sending t: 1 chunk(s) sent, 2 of 5 records accounted (2 succeeded, 0 failed so far)" in out
