"""Helpers shared by the hook unit tests: a connection in the environment, and what a request sent."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit


def set_connection(monkeypatch: Any, conn_id: str, conn_type: str, *, host: str | None = None,
                   extra: dict[str, Any] | None = None, **fields: Any) -> None:
    """Define ``conn_id`` the way a deployment would: an ``AIRFLOW_CONN_...`` JSON variable."""
    conn = {"conn_type": conn_type, **fields, "extra": extra or {}}
    if host is not None:
        conn["host"] = host
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def query(request: Any) -> dict[str, str]:
    """The query string exactly as sent (requests-mock's own ``.qs`` lower-cases values)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query, keep_blank_values=True).items()}


def sent(request: Any) -> Any:
    """The JSON body a request sent."""
    return json.loads(request.text)
