"""Where a batch operator's records come from: a list (an XCom, or its JSON text) or JSON Lines at a URI."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from airflow_provider_gtm.compat import ObjectStoragePath
from airflow_provider_gtm.core import jsonio
from airflow_provider_gtm.core.errors import GtmConfigError


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
