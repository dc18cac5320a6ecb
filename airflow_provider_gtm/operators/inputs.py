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
