"""Partial-failure reconciliation: every record ends succeeded or failed with the API's reason."""

from __future__ import annotations

import pytest

from airflow_provider_gtm.core.batching import (
    NOT_ACKNOWLEDGED,
    BatchResult,
    check_batch_size,
    chunked,
    collect,
    confirm_count,
    reconcile,
    send_each,
    split_invalid,
    unsendable,
)
from airflow_provider_gtm.core.errors import GtmClientError, GtmConfigError, GtmOutcomeUnknownError


def key(record):
    return record["id"]


def test_refusals_matched_to_sent_records():
    chunk = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    result = reconcile(
        chunk,
        accepted=[{"id": "a"}, {"id": "c"}],
        rejected=[{"id": "b", "error_message": "bad b"}],
        record_key=key,
        rejected_key=key,
        rejected_message=lambda e: e["error_message"],
        accepted_key=key,
    )
    assert (result.submitted, result.succeeded, result.failed) == (3, 2, 1)
    assert result.failures[0].record == {"id": "b"} and result.failures[0].error_message == "bad b"


def test_records_without_outcome_become_failures():
    chunk = [{"id": "a"}, {"id": "b"}]
    result = reconcile(
        chunk, accepted=[{"id": "a"}], rejected=[], record_key=key, rejected_key=key,
        rejected_message=str, accepted_key=key,
    )
    assert result.failed == 1 and result.failures[0].error_message == NOT_ACKNOWLEDGED


def test_duplicate_keys_each_matched_once():
    chunk = [{"id": "a", "n": 1}, {"id": "a", "n": 2}]
    result = reconcile(
        chunk, accepted=[{"id": "a", "n": 2}], rejected=[{"id": "a", "m": "dup"}], record_key=key,
        rejected_key=key, rejected_message=lambda e: e["m"],
    )
    assert result.failures[0].record == {"id": "a", "n": 1}
    assert (result.succeeded, result.failed) == (1, 1)


def test_refusals_tied_to_no_record_leave_the_records_outcome_unknown():
    # Before issue #10 these raised "cannot account"; now the one record sent is not confirmed.
    result = reconcile(
        [{"id": "a"}], accepted=[], rejected=[{"id": "x", "m": "bad x"}, {"id": "y", "m": "bad y"}],
        record_key=key, rejected_key=key, rejected_message=lambda e: e["m"],
    )
    assert (result.submitted, result.succeeded, result.failed) == (1, 0, 1)
    assert result.failures[0].error_message.startswith("outcome unknown")
    assert "bad x; bad y" in result.failures[0].error_message


@pytest.mark.parametrize("accepted", [[], [{"id": "a"}]])
def test_an_answer_that_confirms_nothing_is_never_success(accepted):
    # Before issue #10, records not refused counted as succeeded even when the answer was {}.
    chunk = [{"id": "a"}, {"id": "b"}]
    result = reconcile(chunk, accepted=accepted, rejected=[], record_key=key, rejected_key=key,
                       rejected_message=str)
    assert (result.succeeded, result.failed) == (0, 2)
    assert all(f.error_message.startswith("outcome unknown") for f in result.failures)


def test_a_summary_count_confirms_when_it_accounts_for_every_record():
    chunk = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    refused = [{"id": "b", "m": "no"}]
    ok = reconcile(chunk, accepted=[], rejected=refused, record_key=key, rejected_key=key,
                   rejected_message=lambda e: e["m"], confirmed_count=2)
    assert (ok.succeeded, ok.failed) == (2, 1)
    off = reconcile(chunk, accepted=[], rejected=refused, record_key=key, rejected_key=key,
                    rejected_message=lambda e: e["m"], confirmed_count=3)
    assert (off.succeeded, off.failed) == (0, 3)


def test_confirm_count_demotes_unconfirmed_successes():
    result = BatchResult(submitted=2, succeeded=2, accepted=[{"id": "a"}, {"id": "b"}])
    assert confirm_count(result, 2, key).succeeded == 2
    demoted = confirm_count(BatchResult(submitted=2, succeeded=2, accepted=[{"id": "a"}, {"id": "b"}]), None, key)
    assert (demoted.succeeded, demoted.failed, demoted.accepted) == (0, 2, [])
    assert "no count of successes" in demoted.failures[0].error_message


@pytest.mark.parametrize("answer", [None, {}, [], ""])
def test_send_each_empty_answer_is_outcome_unknown(answer):
    result = send_each([{"id": "a"}], lambda record: answer, key)
    assert (result.succeeded, result.failed) == (0, 1)
    assert result.failures[0].error_message.startswith("outcome unknown")


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"id": "a", "score": float("nan")}, "'score' is nan"),
        ({"id": "a", "nested": {"list": [1, float("inf")]}}, "'nested.list[1]' is inf"),
        ({"id": "a", "text": "half an emoji \ud83d"}, "'text' holds a lone surrogate U+D83D"),
        ({"id": "a", "raw": b"bytes"}, "'raw' is a bytes"),
        ({"id": "a", 1: "x"}, "key 1 that is not a string"),
    ],
)
def test_unsendable_values_refused_per_record_before_sending(record, field):
    sent = []
    refused, valid = split_invalid([record, {"id": "ok", "text": "é 😀"}], lambda r: None, key)
    sent.extend(valid)
    assert [r["id"] for r in sent] == ["ok"]
    assert refused.failed == 1 and field in refused.failures[0].error_message
    assert unsendable({"id": "ok", "n": 1.5, "t": "é 😀", "l": [None, True]}) is None


def test_all_failed_and_collect():
    err = GtmOutcomeUnknownError("outcome unknown, timeout", api="t", status=None)
    one = BatchResult.all_failed([{"id": "a"}, {"id": "b"}], err, key)
    two = BatchResult(submitted=1, succeeded=1, accepted=[{"id": "c"}])
    total = collect([one, two])
    assert (total.submitted, total.succeeded, total.failed) == (3, 1, 2)
    assert total.failures[0].to_json() == {
        "record": {"id": "a"}, "identifier": "a", "error_message": "outcome unknown, timeout", "status": None,
        "outcome": "unknown",
    }


def test_send_each_collects_refusals_and_existing():
    def send(record):
        if record["id"] == "bad":
            raise GtmClientError("name is required", status=400)
        if record["id"] == "dup":
            raise GtmClientError("already exists", status=409, body={"id": "org-1"})
        return {"Id": record["id"]}

    result = send_each(
        [{"id": "ok"}, {"id": "bad"}, {"id": "dup"}], send, key,
        already_exists=lambda e: e.body["id"] if e.status == 409 else None,
    )
    assert (result.submitted, result.succeeded, result.failed) == (3, 1, 2)
    dup = result.failures[1]
    assert dup.already_exists and dup.existing_id == "org-1" and dup.to_json()["existing_id"] == "org-1"


def test_chunked_streams():
    assert list(chunked(iter(range(5)), 2)) == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError):
        list(chunked([], 0))


def test_split_invalid_keeps_order_and_never_sends_refused():
    records = [{"id": "a"}, {"x": 1}, {"id": "b"}, "text"]
    refused, valid = split_invalid(
        records, lambda r: None if isinstance(r, dict) and r.get("id") else "missing required field 'id'",
        lambda r: r.get("id") if isinstance(r, dict) else None)
    assert valid == [{"id": "a"}, {"id": "b"}]
    assert (refused.submitted, refused.succeeded) == (2, 0)
    assert [(f.record, f.error_message, f.status) for f in refused.failures] == [
        ({"x": 1}, "missing required field 'id'", None), ("text", "missing required field 'id'", None)]


@pytest.mark.parametrize(
    ("value", "maximum", "message"),
    [(0, None, "Api: batch_size must be an integer >= 1, got 0."),
     (True, None, "Api: batch_size must be an integer >= 1, got True."),
     ("10", 500, "Api: batch_size must be an integer from 1 to 500, got '10'."),
     (501, 500, "Api: batch_size must be an integer from 1 to 500, got 501.")],
)
def test_check_batch_size_names_the_argument(value, maximum, message):
    with pytest.raises(GtmConfigError) as info:
        check_batch_size(value, "Api", maximum)
    assert str(info.value) == message


def test_check_batch_size_accepts_the_range():
    assert check_batch_size(1, "Api", 500) == 1 and check_batch_size(500, "Api", 500) == 500
    assert check_batch_size(10_000, "Api") == 10_000


def test_types_a_hook_converts_itself_pass_the_pre_send_check():
    from datetime import datetime, timezone

    record = {"id": "a", "startDateTime": datetime(2026, 1, 1, tzinfo=timezone.utc)}
    assert "is a datetime" in unsendable(record)
    assert unsendable(record, (datetime,)) is None
    refused, valid = split_invalid([record], lambda r: None, key, convertible=(datetime,))
    assert valid == [record] and refused.submitted == 0


class _Text(str):
    pass


class _Record(dict):  # type: ignore[type-arg]
    pass


_DEEP = {"a": 1}
for _ in range(70):
    _DEEP = {"n": _DEEP}


@pytest.mark.parametrize("value", [
    {"a": 1, "b": "x", "c": None, "d": True, "e": 1.5, "f": [1, "é", {"g": []}]},
    {"a": float("nan")}, {"a": [1, float("inf")]}, {"a": "\ud83d"}, {"\ud83d": 1}, {1: "x"}, {"a": b"x"},
    {"a": {1, 2}}, {"a": (1, 2)}, {"a": _Text("t")}, _Record(a=float("nan")), _Record(a=1), _DEEP,
    {"a": [[[[{"b": "😀"}]]]]}, [1, 2], "text", 3, None, 1e308, float("-inf"),
])
def test_the_fast_check_never_passes_what_the_full_walk_refuses(value):
    from airflow_provider_gtm.core.batching import _plainly_sendable, _walk

    refused = _walk(value, ())
    assert unsendable(value) == refused
    if refused is not None:
        assert not _plainly_sendable(value, 0)


def test_plain_records_take_the_fast_check():
    from airflow_provider_gtm.core.batching import _plainly_sendable

    assert _plainly_sendable({"a": 1, "b": "é", "c": [None, 2.5, {"d": False}]}, 0)
    assert not _plainly_sendable({"a": _Text("t")}, 0)  # a subclass: the full walk decides
