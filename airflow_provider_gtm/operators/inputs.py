"""Where a batch operator's records come from: a list (an XCom, or its JSON text) or JSON Lines at a URI."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import msgspec

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


def read_json_lines(uri: str) -> Iterator[Any]:
    """Stream records from a JSON Lines file, one line at a time."""
    path = ObjectStoragePath(uri)
    if not path.exists():
        raise GtmConfigError(
            f"input_uri {uri!r} does not exist; point it at a JSON Lines file (e.g. a fetch XCom's uri)"
        )
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield jsonio.loads_record(line)
            except ValueError:
                raise GtmConfigError(f"input_uri {uri!r}: line {number} is not valid JSON") from None


def preflight(records: Iterable[Any], validate: Callable[[Any], str | None], label: str, where: str
              ) -> tuple[str, int]:
    """Check every record before anything is sent: ``(digest of the input, record count)``, in one read.

    The digest hashes each record's JSON line (the bytes the write ledger's binding has always
    hashed, so a retry across releases still finds its ledger); an invalid record raises
    :class:`AirflowFailException` naming its position, and nothing is sent.
    """
    digest, count = hashlib.sha256(), 0
    for count, record in enumerate(records, start=1):  # noqa: B007 - the count is returned
        problem = validate(record)
        if problem:
            raise AirflowFailException(f"{label}: {where} record {count} is invalid, nothing was sent: {problem}")
        try:
            line = jsonio.dumps_line(record)
        except (TypeError, ValueError, OverflowError, RecursionError, msgspec.EncodeError):
            line = encode_record(record).encode() + b"\n"  # NaN & co: written as the ledger always wrote them
        digest.update(line)
    return digest.hexdigest(), count
