"""settle_chunk and BatchTally directly, without an operator or a task: the exactly-once rule per chunk."""

from __future__ import annotations

import io
import json

import pytest

from airflow_provider_gtm.compat import ObjectStoragePath
from airflow_provider_gtm.core.batching import NOT_ACKNOWLEDGED, BatchResult, Failure, Outcome
from airflow_provider_gtm.core.errors import GtmOutcomeUnknownError, GtmServerError
from airflow_provider_gtm.core.ledger import ChunkOutcome, WriteLedger
from airflow_provider_gtm.core.settlement import (
    OUTCOME_UNKNOWN_LOST,
    OUTCOME_UNKNOWN_RETRY,
    BatchTally,
    ChunkPolicy,
    outcome_of,
    settle_chunk,
)

CHUNK = [{"id": "a"}, {"id": "b"}, {"id": "c"}]


@pytest.fixture
def ledger(tmp_path):
    return WriteLedger(ObjectStoragePath(f"file://{tmp_path}/ledger"))


class Api:
    """A fake API: records every call; answers with what ``answer(records)`` returns or raises."""

    def __init__(self, answer=None):
        self.calls: list[list[str]] = []
        self.answer = answer or (lambda records: BatchResult(len(records), len(records), list(records)))

    def send(self, records):
        self.calls.append([r["id"] for r in records])
        yield self.answer(records)


def policy(api, *, resolve=None, can_resolve=False, existing_is_success=False):
    return ChunkPolicy(
        send=api.send,
        resolve=resolve or (lambda records, started_at: None),
        can_resolve=lambda records: can_resolve,
        identifier=lambda record: record["id"],
        existing_is_success=existing_is_success,
    )


def reloaded(ledger):
    return WriteLedger(ledger.directory)


def test_a_new_chunk_is_sent_once_and_recorded_before_and_after(ledger):
    api = Api()
    settled = settle_chunk(ledger, 0, CHUNK, policy(api))
    assert api.calls == [["a", "b", "c"]]
    assert settled.unknown == [] and settled.outcome is not None
    assert [r["id"] for r in settled.outcome.accepted] == ["a", "b", "c"]
    again = reloaded(ledger)
    assert again.done(0) is not None and not again.unknown(0)


def test_a_recorded_chunk_is_carried_and_never_sent_again(ledger):
    settle_chunk(ledger, 0, CHUNK, policy(Api()))
    api = Api()
    settled = settle_chunk(reloaded(ledger), 0, CHUNK, policy(api))
    assert api.calls == []
    assert settled.outcome is not None and len(settled.outcome.accepted) == 3


def test_sent_without_an_answer_and_no_lookup_is_reported_for_a_person(ledger):
    ledger.mark_sent(0, 3, "2026-12-03T00:00:00+00:00")  # an earlier try died in flight
    api = Api()
    settled = settle_chunk(reloaded(ledger), 0, CHUNK, policy(api))
    assert api.calls == []
    assert settled.outcome is None
    assert [(f.record["id"], f.error_message, f.outcome) for f in settled.unknown] == [
        (r["id"], OUTCOME_UNKNOWN_RETRY, Outcome.UNKNOWN) for r in CHUNK
    ]


def test_a_lookup_settles_a_lost_chunk_and_only_what_it_lacks_is_sent(ledger):
    ledger.mark_sent(0, 3, "2026-12-03T00:00:00+00:00")
    asked = []

    def resolve(records, started_at):
        asked.append(([r["id"] for r in records], started_at))
        return [{"id": "a", "found": True}], [1, 2]

    def answer(records):
        # "b" was applied by the lost try after all: the API says it already exists.
        refused = [Failure(r, r["id"], "already exists", 400, already_exists=True) for r in records if r["id"] == "b"]
        accepted = [r for r in records if r["id"] != "b"]
        return BatchResult(len(records), len(accepted), accepted, refused)

    api = Api(answer)
    settled = settle_chunk(reloaded(ledger), 0, CHUNK, policy(api, resolve=resolve))
    assert asked == [(["a", "b", "c"], "2026-12-03T00:00:00+00:00")]
    assert api.calls == [["b", "c"]]
    assert settled.outcome is not None and settled.outcome.failures == []
    # The "already exists" for b is this task's own earlier work: a success, even without existing_is_success.
    existing = [r for r in settled.outcome.accepted if r.get("existing") is True]
    assert [r["identifier"] for r in existing] == ["b"]
    assert sorted(r["id"] for r in settled.outcome.accepted if r not in existing) == ["a", "c"]


@pytest.mark.parametrize(
    ("error", "left"),
    [
        (GtmOutcomeUnknownError("outcome unknown, timeout", api="t"), "inflight"),
        (GtmServerError("down", api="t", status=503), "resend"),
    ],
)
def test_an_error_mid_chunk_keeps_what_was_settled_and_leaves_the_rest(ledger, error, left):
    def send(records):
        yield BatchResult(1, 1, [records[0]])
        raise error

    chunk_policy = policy(Api())
    chunk_policy.send = send
    with pytest.raises(type(error)):
        settle_chunk(ledger, 0, CHUNK, chunk_policy)
    recorded = reloaded(ledger).done(0)
    assert recorded is not None
    assert [r["id"] for r in recorded.accepted] == ["a"]
    assert getattr(recorded, left) == [1, 2]


def test_an_answer_that_confirms_nothing_and_cannot_be_looked_up_is_never_resent(ledger):
    def answer(records):
        unknown = [Failure(r, r["id"], NOT_ACKNOWLEDGED, None, outcome=Outcome.UNKNOWN) for r in records]
        return BatchResult(len(records), 0, [], unknown)

    settled = settle_chunk(ledger, 0, CHUNK, policy(Api(answer)))
    assert settled.outcome is not None and settled.outcome.inflight == [] and settled.outcome.resend == []
    assert [f.error_message for f in settled.unknown] == [OUTCOME_UNKNOWN_LOST] * 3
    # The ledger keeps them in flight: a retry reports them the same way, never sends them.
    assert reloaded(ledger).done(0).inflight == [0, 1, 2]


def test_the_outcome_field_decides_never_the_message():
    records = [{"id": str(i)} for i in range(5)]
    failures = [
        # A message that reads "outcome unknown" but is a refusal: refused, final.
        Failure(records[0], "0", "outcome unknown is what the API said", 400),
        Failure(records[1], "1", "timeout", None, outcome=Outcome.UNKNOWN),
        Failure(records[2], "2", "503", 503, outcome=Outcome.NOT_APPLIED),
        Failure(records[3], "3", "not sent", None, outcome=Outcome.NOT_SENT),
        Failure(records[4], "4", "exists", 400, already_exists=True),
    ]
    outcome = outcome_of(BatchResult(5, 0, [], failures), records, existing_is_success=True)
    assert [f["identifier"] for f in outcome.failures] == ["0"]
    assert outcome.inflight == [1]
    assert outcome.resend == [2, 3]
    assert outcome.touched == [2]  # sent once: an "already exists" on resend is this task's own work
    assert [a["identifier"] for a in outcome.accepted] == ["4"]


def test_tally_writes_every_line_once_and_counts_add_up():
    failures, results = io.BytesIO(), io.BytesIO()
    tally = BatchTally(failures, results, assigned_id=lambda a: a.get("new_id"), max_ids=2)
    tally.add(ChunkOutcome(
        accepted=[{"new_id": 1}, {"new_id": 2}, {"existing": True, "existing_id": 9}],
        failures=[{"record": {"id": "x"}, "identifier": "x", "error_message": "bad", "status": 400}],
        confirmed=2,
    ))
    tally.add_unknown(Failure({"id": "y"}, "y", OUTCOME_UNKNOWN_RETRY, None, outcome=Outcome.UNKNOWN))
    summary = tally.summary("file:///f", "file:///r")
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (7, 5, 2)
    assert summary["existing"] == 1 and summary["outcome_unknown"] == 1
    assert summary["ids"] == [1, 2] and summary["ids_truncated"] is True
    lines = [json.loads(line) for line in failures.getvalue().splitlines()]
    assert [line["identifier"] for line in lines] == ["x", "y"]
    assert lines[1]["outcome"] == "unknown"
    assert len(results.getvalue().splitlines()) == 3
    assert tally.reasons == {"bad": 1, OUTCOME_UNKNOWN_RETRY: 1}


def test_the_tally_keeps_a_bounded_number_of_distinct_reasons(monkeypatch):
    # Issue 23: memory stays flat with the input even when every refusal names its record.
    from airflow_provider_gtm.core.settlement import OTHER_REASONS

    failures, results = io.BytesIO(), io.BytesIO()
    tally = BatchTally(failures, results, assigned_id=lambda a: None, max_ids=2)
    monkeypatch.setattr(tally, "max_reasons", 3)
    tally.add(ChunkOutcome(failures=[Failure({"id": i}, i, f"exists: {i}", 400).to_json() for i in range(10)]))
    assert len(tally.reasons) == 4 and tally.reasons[OTHER_REASONS] == 7
    assert tally.failed == 10 and len(failures.getvalue().splitlines()) == 10  # every line still written
    tally.check()


def test_a_ledger_keeps_no_outcome_in_memory_but_the_last(tmp_path):
    ledger = WriteLedger(ObjectStoragePath(f"file://{tmp_path}/l"))
    for index in range(3):
        ledger.mark_sent(index, 1, "2026-01-01T00:00:00+00:00")
        ledger.mark_done(index, ChunkOutcome(accepted=[{"n": index}]))
    again = WriteLedger(ledger.directory)
    assert again._cached is None
    assert [again.done(i).accepted for i in range(3)] == [[{"n": 0}], [{"n": 1}], [{"n": 2}]]
    assert again._cached is not None and again._cached[0] == 2
