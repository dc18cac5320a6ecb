"""JSON in and out of the provider, in one place: pages decoded from bytes, records encoded as JSON Lines.

msgspec (installed with Airflow) does the common case several times faster than the standard
library; the standard library takes over for what msgspec refuses, so every guarantee holds:

- **Decoding** (:func:`decode`): UTF-8 bytes go straight to msgspec (with the cyclic garbage
  collector paused for the page, see :func:`_decode_bytes`). Anything it refuses (another
  charset, invalid UTF-8, a lone surrogate escape such as ``"\\ud800"``, an integer beyond 64 bits)
  is decoded as text with replacement characters and parsed by :mod:`json`, as before. ``NaN``,
  ``Infinity`` and numbers out of float range are refused either way (they are not JSON), so a
  decoded value never holds a non-finite float.
- **Encoding** (:func:`encode_lines`, :func:`dumps_line`): one JSON document per line, keys in
  their original order, UTF-8 bytes. A record with a lone surrogate (which UTF-8 cannot carry) is
  written ASCII-escaped (``\\ud800``) instead of crashing; a non-finite float is refused with a
  ``ValueError`` naming it (msgspec would silently write ``null``); values JSON has no type for
  are written with ``str()`` (msgspec's own forms for datetimes, UUIDs and decimals: ISO 8601 and
  strings).
"""

from __future__ import annotations

import gc
import json
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

__all__ = ["NOT_JSON", "decode", "dumps_line", "encode_lines", "loads"]

#: Returned by :func:`decode` for a body that is not JSON (distinct from a JSON ``null``).
NOT_JSON: Any = object()

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder(enc_hook=str)
_UTF8 = frozenset({"utf-8", "utf8", "UTF-8", "UTF8", "Utf-8"})


def _decode_bytes(content: bytes) -> Any:
    # A page is thousands of new dicts and lists: in a worker with Airflow loaded (~150k tracked
    # objects) they trigger collections of the older generations, which made decoding ~3x slower
    # (3.2 vs 1.0 µs a record). Parsed JSON holds no reference cycles, so nothing is lost by
    # letting the collector look at it after the page instead of during it.
    if not gc.isenabled():
        return _decoder.decode(content)
    gc.disable()
    try:
        return _decoder.decode(content)
    finally:
        gc.enable()


def decode_bytes(content: bytes) -> Any:
    """One JSON document from UTF-8 bytes by msgspec alone (``ValueError`` for anything it refuses)."""
    try:
        return _decode_bytes(content)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def loads(text: str | bytes) -> Any:
    """Parse one JSON document (``ValueError`` if it is not JSON, ``NaN`` and ``Infinity`` included)."""
    if isinstance(text, bytes):
        try:
            return _decode_bytes(text)
        except (msgspec.DecodeError, UnicodeDecodeError):
            text = text.decode("utf-8", errors="replace")
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)


def decode_lines(data: bytes) -> list[Any] | None:
    """Every JSON document of newline-delimited ``data`` in one msgspec call; ``None`` when msgspec
    refuses any of it (the caller then reads line by line with :func:`loads_record`)."""
    if gc.isenabled():
        gc.disable()  # as in _decode_bytes: thousands of new objects, no cycles among them
        try:
            return _decoder.decode_lines(data)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return None
        finally:
            gc.enable()
    try:
        return _decoder.decode_lines(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None


def loads_record(line: bytes) -> Any:
    """One JSON Lines record, ``NaN`` and ``Infinity`` included (``ValueError`` if it is not JSON).

    Unlike :func:`loads`, a record holding a non-finite number is read, so that the pre-send check
    (``core/batching.py`` ``unsendable``) refuses that one record naming its field, instead of the
    whole input failing as "not JSON".
    """
    try:
        return _decode_bytes(line)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return json.loads(line)


def decode(content: bytes, encoding: str | None = None) -> Any:
    """A response body as JSON: ``None`` when empty, :data:`NOT_JSON` when it is not JSON."""
    if not content:
        return None
    if encoding is None or encoding in _UTF8:
        try:
            return _decode_bytes(content)
        except (msgspec.DecodeError, UnicodeDecodeError):
            pass  # the standard library below decides, on the text the old path saw
    try:
        text = content.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # an unknown charset in Content-Type
        text = content.decode("utf-8", errors="replace")
    if not text.strip():
        return NOT_JSON
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except ValueError:
        return NOT_JSON


def has_non_finite(value: Any) -> bool:
    """Whether ``value`` holds NaN or an infinity anywhere (JSON has no way to write them).

    Asked of every record of a page that holds a ``null`` (what msgspec writes for them), so the
    common types are told apart by exact type, not by ABC ``isinstance`` per value; strings,
    numbers and ``None`` (most values) cost one ``type()`` each.
    """
    kind = type(value)
    if kind is dict:
        return _any_non_finite(value.values())
    if kind is list or kind is tuple:
        return _any_non_finite(value)
    if kind is float:
        return value - value != 0.0  # NaN and ±inf give NaN here; every finite float 0.0
    if kind is str or kind is int or kind is bool or value is None:
        return False
    # Subclasses and other types, as before.
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(has_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_non_finite(v) for v in value)
    return False


def _any_non_finite(values: Iterable[Any]) -> bool:
    for item in values:
        kind = type(item)
        if kind is str or item is None or kind is int or kind is bool:
            continue
        if kind is float:
            if item - item != 0.0:
                return True
        elif has_non_finite(item):
            return True
    return False


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_lone_surrogates(text: str) -> str:
    """``text`` with every lone surrogate written as its JSON escape ``\\udXXX`` (ASCII text: as is)."""
    if text.isascii():
        return text
    return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _slow_line(record: Any) -> bytes:
    try:
        return _encoder.encode(record) + b"\n"
    except UnicodeEncodeError:
        # A lone surrogate: UTF-8 cannot carry it, its \\uXXXX escape can (still valid JSON, and
        # read back as the same string); every other character stays as it is.
        text = json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str)
        return escape_lone_surrogates(text).encode("utf-8") + b"\n"


def _check_finite(records: Sequence[Any], encoded: bytes) -> None:
    # msgspec writes NaN and infinities as null; only a chunk with a null can hide one.
    if b"null" in encoded:
        for record in records:
            if has_non_finite(record):
                raise ValueError(f"a record holds NaN or an infinity, which JSON cannot carry: {record!r:.200}")


def encode_lines(records: Iterable[Any]) -> bytes:
    """Records as JSON Lines (UTF-8 bytes, one ``\\n``-terminated line each), in one call."""
    batch = records if isinstance(records, list | tuple) else list(records)
    try:
        encoded = _encoder.encode_lines(batch)
    except UnicodeEncodeError:
        encoded = b"".join(_slow_line(record) for record in batch)
    _check_finite(batch, encoded)
    return encoded


def encode_lines_as_alone(records: list[Any]) -> bytes | None:
    """The records' lines in one encoder call, byte for byte what :func:`dumps_line` gives each alone;
    ``None`` when one of them needs the slow path (a lone surrogate, NaN, a type msgspec refuses):
    the caller then encodes them one by one, so digests of a record never depend on its neighbours."""
    try:
        encoded = _encoder.encode_lines(records)
    except (UnicodeEncodeError, TypeError, ValueError, OverflowError, RecursionError, msgspec.EncodeError):
        return None
    if b"null" in encoded and any(has_non_finite(record) for record in records):
        return None
    return encoded


def dumps_line(record: Any) -> bytes:
    """One record as a JSON line (same guarantees as :func:`encode_lines`)."""
    return encode_lines((record,))


def dumps(value: Any) -> str:
    """One value as compact JSON text (same guarantees; for small documents such as checkpoints)."""
    return dumps_line(value)[:-1].decode("utf-8")
