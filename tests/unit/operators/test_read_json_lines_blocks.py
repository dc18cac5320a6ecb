"""Input read a block of lines at a time gives what reading line by line gave: records and errors alike."""

from __future__ import annotations

import json
import math

import pytest

from airflow_provider_gtm.core import jsonio
from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.operators import inputs


def line_by_line(raw: bytes) -> list:
    return [jsonio.loads_record(line) for line in raw.split(b"\n") if line.strip()]


CASES = [
    b"".join(json.dumps({"customer_id": f"c{i}", "n": i, "t": "é"}).encode() + b"\n" for i in range(300)),
    b'{"a":1}\n\n  \n{"b":2}\n\t\n{"c":3}',  # blank and whitespace-only lines, no final newline
    b'{"a":1}\r\n{"b":2}\r\n',  # CRLF
    b'{"a":1}\n{"b":NaN}\n{"c":3}\n',  # NaN is read (the pre-send check refuses that record, naming it)
    b'{"a":"\\ud83d"}\n{"b":2}\n',  # a lone surrogate escape
    b'\n\n',
    b'',
]


@pytest.mark.parametrize("block", [1 << 20, 7, 64])
@pytest.mark.parametrize("raw", CASES)
def test_records_are_those_of_a_line_by_line_read(tmp_path, monkeypatch, raw, block):
    monkeypatch.setattr(inputs, "READ_BLOCK", block)
    path = tmp_path / "in.jsonl"
    path.write_bytes(raw)
    got = list(inputs.read_json_lines(f"file://{path}"))
    want = line_by_line(raw)
    assert json.dumps(got) == json.dumps(want)  # NaN compares unequal to itself; its JSON text does not
    assert any(isinstance(v, float) and math.isnan(v) for r in got for v in r.values()) == (b"NaN" in raw)


@pytest.mark.parametrize("block", [1 << 20, 5, 50])
@pytest.mark.parametrize(("raw", "line"), [
    (b'{"a":1}\n{"b":2} {"c":3}\n{"d":4}\n', 2),  # two values on a line: not JSON Lines
    (b'{"a":1}\n\n{"b":\n2}\n', 3),  # a value cut over two lines
    (b'{"a":1}\n{"b":2}\n{oops\n', 3),
    (b"".join(b'{"n":%d}\n' % i for i in range(100)) + b"not json\n", 101),
])
def test_a_bad_line_is_named_by_its_number(tmp_path, monkeypatch, raw, line, block):
    monkeypatch.setattr(inputs, "READ_BLOCK", block)
    path = tmp_path / "in.jsonl"
    path.write_bytes(raw)
    with pytest.raises(GtmConfigError, match=f"line {line} is not valid JSON"):
        list(inputs.read_json_lines(f"file://{path}"))
