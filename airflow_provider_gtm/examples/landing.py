"""Land a fetch's JSON Lines in a SQL table through Airflow's ``common.sql`` hooks (the sample DAG
``gtm_land_community_posts``): one row per record, keyed by the list's id field from the API spec.

Any connection whose hook is a ``DbApiHook`` works: SQLite (``apache-airflow-providers-sqlite``, what
``make demo`` uses), PostgreSQL (``apache-airflow-providers-postgres``, the distributed test), and the
others common.sql knows. The table is created when missing, with a dialect-neutral schema::

    <key> VARCHAR(512) PRIMARY KEY   -- the record's id (``Resource.id_key``: Octopus ``id``, Oktopost ``Id``)
    watermark VARCHAR(64)            -- the record's watermark field (e.g. ``createdAt``), as text
    record TEXT NOT NULL             -- the whole record, JSON (SQLite ``json_extract``, PostgreSQL ``::jsonb``)
    landed_at VARCHAR(32) NOT NULL   -- when this row was last written (UTC, ISO 8601)

Rows are upserted (``insert_rows(..., replace=True)``: SQLite ``REPLACE INTO``, PostgreSQL ``INSERT ...
ON CONFLICT (<key>) DO UPDATE``), so landing the same file twice (a retry, a cleared run) leaves one row
per record, the newest content winning. The fetch's watermark decides what each run lands: with
``since_last_watermark=True`` a run fetches, and so lands, only the records past the last run's mark.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from airflow_provider_gtm.compat import AirflowFailException
from airflow_provider_gtm.operators.inputs import read_json_lines

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
COLUMNS = ("watermark", "record", "landed_at")


def table_key(api: str, resource: str) -> str:
    """The key column of a table landing ``api``'s ``resource`` list: the spec's id field."""
    from airflow_provider_gtm.apis import by_name

    key = by_name(api).resources[resource].id_key
    if not key:
        raise ValueError(f"{api} {resource} has no id field in the API spec; its records cannot be keyed")
    return key


def _checked(kind: str, name: str) -> str:
    # Names go into SQL text (they cannot be bound parameters): only plain identifiers.
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise AirflowFailException(f"{kind} {name!r} is not a plain SQL identifier: 1 to 63 characters, letters, "
                                   "digits and _, not starting with a digit")
    if kind == "key" and name.lower() in COLUMNS:
        raise AirflowFailException(f"key {name!r} is one of the landing columns {COLUMNS}")
    return name


def sql_hook(conn_id: str) -> Any:
    """The connection's ``DbApiHook`` (common.sql), as ``Connection.get_hook()`` builds it."""
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    from airflow_provider_gtm.compat import BaseHook

    hook = BaseHook.get_connection(conn_id).get_hook()
    if not isinstance(hook, DbApiHook):
        raise AirflowFailException(f"Connection {conn_id!r} is not a SQL database (its hook is {type(hook).__name__}, "
                                   "not a common.sql DbApiHook)")
    return hook


def create_table_sql(table: str, key: str) -> str:
    return (f"CREATE TABLE IF NOT EXISTS {_checked('table', table)} ({_checked('key', key)} VARCHAR(512) PRIMARY KEY, "
            "watermark VARCHAR(64), record TEXT NOT NULL, landed_at VARCHAR(32) NOT NULL)")


def _rows(uri: str, key: str, watermark_field: str | None, counts: dict[str, int]) -> Iterator[tuple[Any, ...]]:
    landed_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for number, record in enumerate(read_json_lines(uri), start=1):
        value = record.get(key) if isinstance(record, Mapping) else None
        if value in (None, ""):
            raise AirflowFailException(f"{uri} line {number} has no {key!r}: it cannot be keyed in the table")
        mark = record.get(watermark_field) if watermark_field else None
        counts["rows"] += 1
        yield (str(value), None if mark is None else str(mark),
               json.dumps(record, sort_keys=True, ensure_ascii=False, default=str), landed_at)


def land_fetched(fetched: Mapping[str, Any], *, conn_id: str, table: str, key: str,
                 watermark_field: str | None = None, commit_every: int = 500) -> dict[str, Any]:
    """Upsert every record of a fetch's output (its XCom ``{"uri", "records", ...}``) into ``table``.

    :return: ``{"table", "conn_id", "rows", "uri", "watermark"}`` (``rows``: records landed this time).
    """
    hook = sql_hook(conn_id)
    hook.run(create_table_sql(table, key))
    counts = {"rows": 0}
    uri = str(fetched["uri"])
    if fetched.get("records", 1):
        hook.insert_rows(table, _rows(uri, key, watermark_field, counts), target_fields=[key, *COLUMNS],
                         commit_every=commit_every, replace=True, replace_index=key)
    return {"table": table, "conn_id": conn_id, "rows": counts["rows"], "uri": uri,
            "watermark": fetched.get("watermark")}


__all__ = ["COLUMNS", "create_table_sql", "land_fetched", "sql_hook", "table_key"]
