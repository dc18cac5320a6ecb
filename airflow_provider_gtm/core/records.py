"""Encoding one record as a line of JSON: the one place output text is made safe to write.

Data from an API may hold a lone surrogate (half of an emoji, from a broken UTF-16 source):
Python decodes ``"\\ud83d"`` into a string that cannot be encoded as UTF-8, so writing it crashed
the task on every retry. The line keeps such a character as its JSON escape instead (valid JSON;
reading the line back gives the same string), and any other record that cannot be written is an
error naming the record.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

import msgspec

from airflow_provider_gtm.core import jsonio
from airflow_provider_gtm.core.errors import GtmError
from airflow_provider_gtm.core.jsonio import escape_lone_surrogates

__all__ = ["NAMING_FIELDS", "describe_record", "encode_record", "escape_lone_surrogates"]
#: Fields that usually name a record, in the order they are tried (for error messages).
NAMING_FIELDS = ("id", "Id", "profile_id", "customer_id", "item_id", "event_type", "email", "name", "Name")


def describe_record(record: Any, position: int | None = None) -> str:
    """A short name for a record in messages: its id-like field, else a shortened repr."""
    where = f" at position {position}" if position is not None else ""
    if isinstance(record, Mapping):
        for key in NAMING_FIELDS:
            value = record.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return f"{key}={escape_lone_surrogates(str(value))!r}{where}"
    text = escape_lone_surrogates(repr(record))
    return f"{text[:80]}{'...' if len(text) > 80 else ''}{where}"


def encode_record(record: Any) -> str:
    """One record as compact JSON text (no newline), never failing on a lone surrogate.

    The same encoder as every output file (:mod:`~airflow_provider_gtm.core.jsonio`). A record
    holding NaN or an infinity (refused before sending, then reported in the failures file with
    that reason) is written with Python's ``NaN``/``Infinity`` tokens, so the report still shows it.

    :raises GtmError: naming the record, when it cannot be written as JSON at all (e.g. a cycle).
    """
    try:
        return jsonio.dumps(record)
    except (TypeError, ValueError, RecursionError, msgspec.EncodeError) as exc:
        with contextlib.suppress(TypeError, ValueError, RecursionError):
            if jsonio.has_non_finite(record):
                text = json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str)
                return escape_lone_surrogates(text)
        raise GtmError(f"cannot write record {describe_record(record)} as JSON: {exc}") from None
