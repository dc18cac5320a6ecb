"""Typed connection-form fields (provider info ``conn-fields``) for the operational extras.

Airflow's UI renders each entry as a form field (label, description, a JSON schema for the type and
the default shown in the field) and stores its value in the connection's extra under the same
name, which is where the hooks read it (``core/hook.py``, ``hooks/*.py``). A field the user clears is
stored as ``null``, which the hooks read as "use the default".

Pure data read from the API specs (``apis/``), no imports from the hooks: Airflow reads provider
info on every CLI start. A test (tests/unit/test_connection_fields.py) checks that the defaults
shown equal the hooks' defaults.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from airflow_provider_gtm.apis import by_conn_type, specs
from airflow_provider_gtm.apis.octopus import OCTOPUS

#: The hooks' default cap on a decoded answer (core/transport.py's, which this module must not import:
#: provider info is read on every CLI start, without requests). tests/unit/test_connection_fields.py
#: checks that both agree.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

#: Octopus paths a connection may override (the spec's; the hook reads the same mapping).
OCTOPUS_DEFAULT_PATHS: dict[str, str] = dict(OCTOPUS.paths)

#: Client-side rate limits per connection type, ``[[calls, seconds], ...]`` (the specs' windows).
DEFAULT_RATE_LIMITS: dict[str, list[list[int]]] = {
    spec.conn_type: [list(window) for window in spec.rate_windows] for spec in specs()
}

_RATE_LIMIT_NOTES = {spec.conn_type: spec.rate_limit_note for spec in specs()}


def _number(label: str, description: str, default: float, *, minimum: float, integer: bool = False) -> dict[str, Any]:
    return {
        "label": label,
        "description": description,
        "schema": {"type": ["integer" if integer else "number", "null"], "minimum": minimum, "default": default},
    }


def _common_fields(conn_type: str) -> dict[str, Any]:
    return {
        "connect_timeout": _number(
            "Connect timeout (s)", "Seconds to wait for the TCP/TLS connection.", 10, minimum=0.001),
        "read_timeout": _number(
            "Read timeout (s)", "Seconds to wait for each answer once connected.", 60, minimum=0.001),
        "total_timeout": {
            "label": "Total timeout per call (s)",
            "description": "The most one attempt may take, connecting, headers and body included, however "
            "slowly the server answers. Empty: connect timeout + 2 x read timeout (130 s by default).",
            "schema": {"type": ["number", "null"], "minimum": 0.001},
        },
        "max_response_bytes": _number(
            "Max answer size (bytes)", "The most bytes one answer may hold once decoded (gzip included); "
            "a larger answer fails the call instead of filling the worker's memory.",
            DEFAULT_MAX_RESPONSE_BYTES, minimum=1, integer=True),
        "max_attempts": _number(
            "Max attempts", "Tries per call, counting the first, for errors that are safe to retry "
            "(429, 5xx, network errors on reads).", 6, minimum=1, integer=True),
        "retry_backoff": _number(
            "Retry backoff (s)", "First wait between retries and page re-fetches; doubled each time.",
            1, minimum=0),
        "max_wait_seconds": _number(
            "Max wait per call (s)", "The most one call may spend waiting on retries, Retry-After and "
            "rate limits before it fails (the task can then be retried by Airflow).", 300, minimum=0),
        "rate_limits": {
            "label": "Rate limits",
            "description": "Client-side limits enforced per credential across processes, as "
            "[[calls, seconds], ...]; [] turns them off. " + _RATE_LIMIT_NOTES[conn_type],
            "schema": {
                "type": ["array", "null"],
                "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                "default": DEFAULT_RATE_LIMITS[conn_type],
            },
        },
        "rate_limit_backend": {
            "label": "Rate-limit backend",
            "description": "Where the rate budget is shared: local (every process of this host), memory "
            "(this process only) or a redis:// URL (every host). Empty: [gtm] rate_limit_backend.",
            "schema": {"type": ["string", "null"]},
        },
    }


def conn_fields(conn_type: str) -> dict[str, Any]:
    """The ``conn-fields`` of one connection type."""
    fields = _common_fields(conn_type)
    if conn_type == OCTOPUS.conn_type:
        fields["paths"] = {
            "label": "API paths",
            "description": "The path of each feed and endpoint, joined onto the Base URL. Only three are "
            "documented by Octopus; change one here if your deployment differs.",
            "schema": {
                "type": ["object", "null"],
                "properties": {name: {"type": "string"} for name in OCTOPUS_DEFAULT_PATHS},
                "additionalProperties": False,
                "default": dict(OCTOPUS_DEFAULT_PATHS),
            },
        }
        fields["cursor_field"] = {
            "label": "Next-page cursor field",
            "description": "The answer field that holds the next page's cursor. Empty: the first field "
            "whose name contains 'cursor' (a 'next' one first).",
            "schema": {"type": ["string", "null"]},
        }
    hosts = by_conn_type(conn_type).hosts
    if len(hosts) > 1:  # Oktopost's data centers
        where = " or ".join(f"{center} ({urlsplit(url).netloc})" for center, url in hosts.items())
        fields = {
            "data_center": {
                "label": "Data center",
                "description": f"Where the Oktopost account is hosted: {where}. An explicit Base URL wins.",
                "schema": {"type": "string", "enum": list(hosts), "default": next(iter(hosts))},
            },
            **fields,
        }
    return fields
