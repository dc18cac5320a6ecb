"""core/jsonio: msgspec speed with the standard library's guarantees (never crash, never invalid JSON)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_gtm.core import jsonio


def test_decode_fast_path_keeps_key_order_and_types():
    body = jsonio.decode(b'{"b": 1, "a": [1.5, "\xc3\xa9", null, true], "c": {"z": 0, "y": 1}}')
    assert list(body) == ["b", "a", "c"] and list(body["c"]) == ["z", "y"]
    assert body["a"] == [1.5, "é", None, True]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", None),
        (b"   ", jsonio.NOT_JSON),
        (b"<html>502</html>", jsonio.NOT_JSON),
        (b"NaN", jsonio.NOT_JSON),
        (b'{"x": Infinity}', jsonio.NOT_JSON),
        (b'{"x": 1e999}', jsonio.NOT_JSON),
        (b'{"x": -1e999}', jsonio.NOT_JSON),
    ],
)
def test_decode_refuses_what_is_not_json(content, expected):
    assert jsonio.decode(content) is expected


def test_decode_falls_back_for_lone_surrogate_escape_invalid_utf8_big_ints_and_charsets():
    assert jsonio.decode(b'{"s": "a\\ud800b"}') == {"s": "a\ud800b"}
    assert jsonio.decode(b'{"s": "\xff"}') == {"s": "\ufffd"}
    assert jsonio.decode(b'{"n": 123456789012345678901234567890}') == {"n": 123456789012345678901234567890}
    assert jsonio.decode('{"s": "é"}'.encode("latin-1"), "ISO-8859-1") == {"s": "é"}
    assert jsonio.decode(b'{"s": 1}', "no-such-charset") == {"s": 1}


def test_encode_lines_one_line_per_record_in_key_order():
    out = jsonio.encode_lines([{"b": 1, "a": "é"}, {"z": None}])
    assert out == '{"b":1,"a":"é"}\n{"z":null}\n'.encode()
    assert [json.loads(line) for line in out.splitlines()] == [{"b": 1, "a": "é"}, {"z": None}]
    assert jsonio.encode_lines(iter([1, 2])) == b"1\n2\n"
    assert jsonio.encode_lines([]) == b""


def test_lone_surrogate_is_escaped_not_a_crash():
    out = jsonio.encode_lines([{"ok": "é"}, {"bad": "x\ud800y", "k": 1}])
    assert out.decode("utf-8").splitlines()[1] == '{"bad":"x\\ud800y","k":1}'
    assert json.loads(out.splitlines()[1]) == {"bad": "x\ud800y", "k": 1}
    assert jsonio.dumps({"s": "\udfff"}) == '{"s":"\\udfff"}'


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_are_refused_not_written_as_null(value):
    with pytest.raises(ValueError, match="NaN or an infinity"):
        jsonio.encode_lines([{"a": None}, {"deep": [{"x": value}]}])
    with pytest.raises(ValueError):
        jsonio.dumps_line({"x": value, "s": "\ud800"})


def test_values_json_has_no_type_for_are_written_as_text():
    class Thing:
        def __str__(self) -> str:
            return "thing"

    assert jsonio.dumps({"t": Thing()}) == '{"t":"thing"}'


def test_loads_bytes_and_text():
    assert jsonio.loads(b'{"a": 1}') == {"a": 1}
    assert jsonio.loads('{"a": "\\ud800"}') == {"a": "\ud800"}
    with pytest.raises(ValueError):
        jsonio.loads("NaN")


class _Float(float):
    pass


@pytest.mark.parametrize(("value", "expected"), [
    (float("nan"), True), ([1, float("inf")], True), ({"a": {"b": [float("-inf")]}}, True), ((1.0, None), False),
    ({"a": 1.0, "b": None, "c": "x", "d": True, "e": [0.0, -2.5]}, False), ({"a": _Float("nan")}, True),
    ({"a": (1, float("nan"))}, True), (5, False), ("NaN", False), ({"a": [[{"b": 1e308}]]}, False),
])
def test_has_non_finite_by_exact_type_and_for_subclasses(value, expected):
    assert jsonio.has_non_finite(value) is expected
