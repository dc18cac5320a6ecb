"""The write ledger's digests, computed a chunk at a time, are byte for byte those of one record alone.

A retry (or a retry across releases) matches records by these digests: a chunk's neighbours must
never change a record's digest, whatever the records hold.
"""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal

import pytest

from airflow_provider_gtm.core.ledger import chunk_content, record_digest
from airflow_provider_gtm.core.records import encode_record
from airflow_provider_gtm.operators.inputs import preflight

PLAIN = [{"customer_id": f"c{i}", "profile_data": {"n": i, "x": 1.5e16, "t": "é😀"}, "has_charged": i % 2 == 0}
         for i in range(7)]
ODD = [{"customer_id": "nan", "v": float("nan")}, {"customer_id": "lone", "v": "\ud83d"},
       {"customer_id": "when", "v": datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)},
       {"customer_id": "dec", "v": Decimal("1.10")}, "just text", 12, None]


@pytest.mark.parametrize("chunk", [PLAIN, ODD, PLAIN[:3] + ODD[:1] + PLAIN[3:], [], ODD[1:2] + PLAIN])
def test_chunk_content_digests_are_each_records_own(chunk):
    content = chunk_content(chunk, lambda record: record.get("customer_id") if isinstance(record, dict) else record)
    assert [digest for _, digest in content] == [record_digest(record) for record in chunk]


@pytest.mark.parametrize("records", [PLAIN * 150, PLAIN + ODD, ODD, []])
def test_the_preflight_digest_is_the_one_the_ledger_binding_always_had(records):
    before = hashlib.sha256()
    for record in records:
        before.update(encode_record(record).encode() + b"\n")
    assert preflight(iter(records), lambda record: None, "t", "records") == (before.hexdigest(), len(records))
