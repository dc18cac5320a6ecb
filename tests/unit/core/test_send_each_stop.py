"""send_each asks before every call whether to go on (a killed task, a lost lease) and hands on what it settled."""

from __future__ import annotations

import pytest

from airflow_provider_gtm.compat import ObjectStoragePath
from airflow_provider_gtm.core.batching import asking_before_each_call, send_each
from airflow_provider_gtm.core.errors import GtmApiError
from airflow_provider_gtm.core.ledger import WriteLedger
from airflow_provider_gtm.core.settlement import ChunkPolicy, settle_chunk
from airflow_provider_gtm.operators.deferral import settled_before_wait


class Stopped(GtmApiError):
    retryable = True


def test_a_stop_before_a_call_sends_nothing_more_and_keeps_what_was_settled():
    sent: list[int] = []
    stop_after = 2

    def check() -> None:
        if len(sent) >= stop_after:
            raise Stopped("killed")

    with asking_before_each_call(check), pytest.raises(Stopped) as raised:
        send_each(list(range(5)), lambda r: sent.append(r) or {"id": r}, identifier=lambda r: r)
    assert sent == [0, 1]
    partial = raised.value.partial
    assert (partial.submitted, partial.succeeded, [a["id"] for a in partial.accepted]) == (2, 2, [0, 1])


def test_outside_the_block_nothing_is_asked():
    result = send_each([1, 2], lambda r: {"id": r}, identifier=lambda r: r)
    assert result.succeeded == 2


def test_the_chunk_records_the_calls_before_the_stop_and_resends_the_rest(tmp_path):
    ledger = WriteLedger(ObjectStoragePath(f"file://{tmp_path}/ledger"))
    chunk = [{"id": i} for i in range(4)]
    sent: list[int] = []

    def check() -> None:
        if len(sent) >= 3:
            raise Stopped("killed")

    def send(part):
        def one(record):
            sent.append(record["id"])
            return {"id": record["id"], "created": True}

        def pieces():  # a hook's batches, lazily (run_batches)
            yield send_each(part, one, identifier=lambda r: r["id"])

        with asking_before_each_call(check):
            yield from settled_before_wait(pieces())

    policy = ChunkPolicy(send=send, resolve=lambda records, started_at: None, can_resolve=lambda records: False,
                         identifier=lambda r: r["id"])
    with pytest.raises(Stopped):
        settle_chunk(ledger, 0, chunk, policy)
    recorded = WriteLedger(ledger.directory).done(0)
    assert [a["id"] for a in recorded.accepted] == [0, 1, 2]
    assert recorded.resend == [3] and recorded.inflight == []
