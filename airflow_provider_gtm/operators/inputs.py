"""Where a batch operator's records come from: a list (an XCom, or its JSON text) or JSON Lines at a URI."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from airflow_provider_gtm.compat import AirflowFailException, ObjectStoragePath
from airflow_provider_gtm.core import jsonio
from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.core.records import encode_record


def load_records(value: Any) -> list[Any]:
    """A rendered ``records=`` (a list, one object, or the JSON text of either) as a list."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise GtmConfigError(
                "records must be a list of objects (or its JSON text); the rendered value is not JSON: "
                f"{value[:80]!r}"
            ) from None
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise GtmConfigError(f"records must be a list of objects, got {type(value).__name__}")
    return value


#: Bytes read and decoded at a time (whole lines; ~2 MiB of records held at once, whatever the file's size).
READ_BLOCK = 1 << 18


def batch_input(input_uri: str | None, records: Any) -> Iterator[Any]:
    """A batch operator's input records: the JSON Lines at ``input_uri`` (streamed), else ``records=``."""
    return read_json_lines(input_uri) if input_uri else iter(load_records(records))


def read_json_lines(uri: str) -> Iterator[Any]:
    """Stream records from a JSON Lines file, a block of whole lines at a time (blank lines skipped).

    A block is decoded by msgspec in one call (``jsonio.decode_lines``) when that gives exactly one
    record per non-blank line; otherwise (a line that is not JSON, NaN, a lone surrogate escape, two
    values on a line) its lines are read one by one as before, so the records and the error naming a
    line number are the same either way. (One file shape reads differently: a value cut over two lines
    whose count is exactly made up by two values on one line of the same block is read as its values
    instead of failing on the cut line.)
    """
    path = ObjectStoragePath(uri)
    if not path.exists():
        raise GtmConfigError(
            f"input_uri {uri!r} does not exist; point it at a JSON Lines file (e.g. a fetch XCom's uri)"
        )
    with path.open("rb") as fh:
        number, tail = 0, b""  # lines before this block; a last line not complete yet
        while True:
            block = fh.read(READ_BLOCK)
            data = tail + block
            if block:
                cut = data.rfind(b"\n") + 1
                data, tail = data[:cut], data[cut:]
            if data:
                yield from _block_records(data, number, uri)
                number += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            if not block:
                return


def _block_records(data: bytes, number: int, uri: str) -> list[Any] | Iterator[Any]:
    records = jsonio.decode_lines(data)
    if records is not None and len(records) == data.count(b"\n") + (not data.endswith(b"\n")):
        return records  # the common case: no blank line, one record a line
    lines = data.split(b"\n")
    if records is not None and len(records) == sum(1 for line in lines if line.strip()):
        return records
    return _each_line(lines, number, uri)


def _each_line(lines: list[bytes], number: int, uri: str) -> Iterator[Any]:
    for offset, line in enumerate(lines, start=number + 1):
        if not line.strip():
            continue
        try:
            yield jsonio.loads_record(line)
        except ValueError:
            raise GtmConfigError(f"input_uri {uri!r}: line {offset} is not valid JSON") from None


def preflight(records: Iterable[Any], validate: Callable[[Any], str | None], label: str, where: str
              ) -> tuple[str, int]:
    """Check every record before anything is sent: ``(digest of the input, record count)``, in one read.

    The digest hashes each record's JSON line (the bytes the write ledger's binding has always
    hashed, so a retry across releases still finds its ledger), encoded a few hundred at a time;
    an invalid record raises :class:`AirflowFailException` naming its position, and nothing is sent.
    """
    digest, count, batch = hashlib.sha256(), 0, []
    for count, record in enumerate(records, start=1):  # noqa: B007 - the count is returned
        problem = validate(record)
        if problem:
            raise AirflowFailException(f"{label}: {where} record {count} is invalid, nothing was sent: {problem}")
        batch.append(record)
        if len(batch) == 500:
            _digest_lines(digest, batch)
            batch = []
    _digest_lines(digest, batch)
    return digest.hexdigest(), count


def _digest_lines(digest: Any, records: list[Any]) -> None:
    encoded = jsonio.encode_lines_as_alone(records)
    if encoded is not None:
        digest.update(encoded)
        return
    for record in records:  # one needs the slow path: each alone, as the ledger always hashed them
        digest.update(encode_record(record).encode() + b"\n")
