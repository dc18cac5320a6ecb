"""Record encoding for output files: lone surrogates escaped, unwritable records named (issue #10)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_gtm.core.errors import GtmError
from airflow_provider_gtm.core.records import describe_record, encode_record, escape_lone_surrogates


def test_lone_surrogate_is_escaped_and_reads_back_the_same():
    record = {"id": "p1", "text": "broken \ud83d emoji, whole 😀, accents é"}
    line = encode_record(record)
    line.encode("utf-8")  # used to raise UnicodeEncodeError on every retry
    assert "\\ud83d" in line and "😀" in line and "é" in line
    assert json.loads(line) == record


def test_ascii_text_is_returned_as_is():
    assert escape_lone_surrogates('{"a":"b"}') == '{"a":"b"}'


def test_a_record_that_cannot_be_written_is_named():
    record: dict = {"profile_id": "p-42"}
    record["self"] = record
    with pytest.raises(GtmError, match="profile_id='p-42'"):
        encode_record(record)


def test_describe_record_without_an_id_is_a_short_repr():
    assert describe_record(["x" * 200]).endswith("...")
    assert describe_record({"email": "a@b.c"}, 3) == "email='a@b.c' at position 3"
