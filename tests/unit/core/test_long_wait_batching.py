"""Batch helpers never turn a long wait into failed records: nothing was sent, the task defers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_gtm.core.batching import BatchResult, send_each
from airflow_provider_gtm.core.deferral import GtmLongWaitError
from airflow_provider_gtm.core.errors import GtmRateLimitError
from airflow_provider_gtm.operators.deferral import settled_before_wait


def long_wait() -> GtmLongWaitError:
    return GtmLongWaitError("Rate limit exceeded", wait_seconds=900,
                            resume_at=datetime(2026, 1, 1, tzinfo=timezone.utc), reason="key block", status=429)


def test_send_each_stops_at_a_long_wait_and_carries_what_it_settled():
    records = [{"id": i} for i in range(5)]

    def send_one(record):
        if record["id"] == 2:
            raise long_wait()
        if record["id"] == 1:
            raise GtmRateLimitError("refused", status=400)
        return {"Id": record["id"]}

    with pytest.raises(GtmLongWaitError) as info:
        send_each(records, send_one, lambda r: r["id"])
    partial = info.value.partial
    assert (partial.submitted, partial.succeeded, partial.failed) == (2, 1, 1)
    # The batch loop sees the settled part as one more piece, then the error.
    def send():
        yield BatchResult(submitted=3, succeeded=3)
        raise info.value

    pieces = settled_before_wait(send())
    assert next(pieces).submitted == 3
    assert next(pieces) is partial
    with pytest.raises(GtmLongWaitError):
        next(pieces)


def test_a_whole_chunk_refused_by_a_long_wait_is_not_reported_failed():
    with pytest.raises(GtmLongWaitError):
        BatchResult.all_failed([{"id": 1}], long_wait(), lambda r: r["id"])
    result = BatchResult.all_failed([{"id": 1}], GtmRateLimitError("blocked", status=429), lambda r: r["id"])
    assert result.failed == 1
