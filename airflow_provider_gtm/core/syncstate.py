"""Change detection's state: per (connection, operation), what each record last looked like when the API confirmed it.

A sync with ``sync="changed"`` sends a record only when its content differs from the content the
API last *confirmed* for the same key (the operation's ``key`` field in the API spec). The state is a
directory on the same ``ObjectStoragePath`` store as the write ledger (local files by default,
object storage on a distributed deployment), under ``<output base>/_sync/<connection>/<operation>/``.

Object stores have no append and no lock, and several DAG runs may sync through one connection, so
the state is never rewritten in place: each task instance that settles a sync writes one *delta*
object (``<UTC time>-<task instance>.json``, written whole) with, per key it sent, the digest the API
confirmed, or ``null`` when the send failed or its outcome is unknown (the record is then sent again
next time, whatever its content). Reading the state replays the deltas in name order, the last word
per key winning. Past :data:`COMPACT_AFTER` deltas a reader folds them into one object named after the
newest one it folded (so a delta written meanwhile still sorts after it) and deletes the folded ones.

Beside the state, ``history/`` keeps one JSON Lines object per settled task instance (append-only:
objects are only added): per record sent, its key, digest, outcome (``succeeded``, ``failed``,
``unknown``), the API's message when it refused, the id it assigned, and the task instance and time;
:func:`sync_history` reads it back.

A delta is written only once the task instance has settled every record it sent (from the ledger,
across tries), so a killed try leaves the state as it was and its retry selects the same records
and resumes the same ledger. Deleting the directory makes the next run a full sync.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from airflow_provider_gtm.compat import ObjectStoragePath
from airflow_provider_gtm.core.records import encode_record

log = logging.getLogger(__name__)

STATE_DIR = "_sync"
#: Deltas a reader tolerates before folding them into one object.
COMPACT_AFTER = 64
_FOLDED = "~folded"
#: The sync history: one JSON Lines object per settled task instance, never rewritten.
HISTORY_DIR = "history"


def content_digest(record: Any) -> str:
    """The digest of a record's content: sorted keys, so that a source listing the same fields in another
    order (a fetch, a transform) does not make every record look changed."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def record_key(record: Any, field: str) -> str | None:
    """The state key of ``record``: its ``field`` as canonical JSON (``1`` and ``"1"`` differ); ``None``
    when the record has no such field or it is empty."""
    if not isinstance(record, Mapping):
        return None
    value = record.get(field)
    if value in (None, ""):
        return None
    return encode_record(value)


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", part).strip("_") or "_"


def state_directory(base: str, conn_id: str, operation: str) -> ObjectStoragePath:
    """``<base>/_sync/<connection>/<operation>``: one state per connection and operation."""
    return ObjectStoragePath(f"{base.rstrip('/')}/{STATE_DIR}/{_safe(conn_id)}/{_safe(operation)}")


def _listed(directory: ObjectStoragePath) -> list[ObjectStoragePath]:
    # Object stores have no directories: the prefix does not exist until the first object does.
    try:
        return sorted((p for p in directory.iterdir() if p.name.endswith(".json") and not p.name.startswith(".")),
                      key=lambda p: p.name) if directory.exists() else []
    except (FileNotFoundError, NotADirectoryError):
        return []


def _write_whole(path: ObjectStoragePath, text: str) -> None:
    # A reader sees all of a delta or nothing: local files are renamed into place, objects appear on close.
    if getattr(path, "protocol", "file") in ("file", "local", ""):
        tmp = path.parent / f".{path.name}.tmp"
        tmp.write_text(text)
        tmp.rename(path)
    else:
        path.write_text(text)


class SyncState:
    """The confirmed digest per key, read from a state directory (see the module doc)."""

    def __init__(self, directory: ObjectStoragePath, digests: dict[str, str], deltas: int) -> None:
        self.directory = directory
        self.digests = digests
        #: How many delta objects were read (the log says what the state rests on).
        self.deltas = deltas

    @classmethod
    def load(cls, directory: ObjectStoragePath, *, compact_after: int = COMPACT_AFTER) -> SyncState:
        deltas = _listed(directory)
        digests: dict[str, str] = {}
        for path in deltas:
            try:
                data = json.loads(path.read_text())
                records = data["records"]
                if not isinstance(records, dict):
                    raise TypeError("records is not an object")
            except (OSError, ValueError, KeyError, TypeError) as error:
                # What it said is lost: its keys keep their earlier digests, so at worst they are sent again.
                log.warning("Sync state %s is unreadable (%s); its records count as changed", path, error)
                continue
            for key, digest in records.items():
                if isinstance(digest, str):
                    digests[key] = digest
                else:
                    digests.pop(key, None)
        state = cls(directory, digests, len(deltas))
        if len(deltas) > compact_after:
            state._fold(deltas)
        return state

    def _fold(self, deltas: list[ObjectStoragePath]) -> None:
        newest = deltas[-1].name.removesuffix(".json").removesuffix(_FOLDED)
        target = self.directory / f"{newest}{_FOLDED}.json"
        try:
            _write_whole(target, encode_record({"records": self.digests, "folded": len(deltas)}))
            for path in deltas:
                if path.name != target.name:
                    path.unlink(missing_ok=True)
        except OSError as error:
            # Folding only saves reading time: the deltas still say the same.
            log.warning("Could not fold the sync state %s: %s", self.directory, error)

    def digest(self, key: str) -> str | None:
        return self.digests.get(key)

    def record(self, changes: Mapping[str, str | None], task_key: str) -> ObjectStoragePath | None:
        """Write one delta: per key, the confirmed digest, or ``None`` to send that key again next time."""
        if not changes:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"{stamp}-{_safe(task_key)}.json"
        _write_whole(path, encode_record({"records": dict(changes), "task": task_key}))
        for key, digest in changes.items():
            if digest is None:
                self.digests.pop(key, None)
            else:
                self.digests[key] = digest
        return path

    def record_history(self, entries: list[dict[str, Any]], task_key: str) -> ObjectStoragePath | None:
        """Append one object to the sync history: per record sent, its key, digest, outcome and the API's id."""
        if not entries:
            return None
        history = self.directory / HISTORY_DIR
        history.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        path = history / f"{stamp}-{_safe(task_key)}.jsonl"
        _write_whole(path, "".join(encode_record(entry) + "\n" for entry in entries))
        return path


def sync_history(directory: ObjectStoragePath, key: Any = None) -> list[dict[str, Any]]:
    """Every send of a state directory's records, oldest first (only those of ``key``, a field value, if given):
    "when did this record last go to the API, and what did it say?"."""
    wanted = None if key is None else encode_record(key)
    found: list[dict[str, Any]] = []
    history = directory / HISTORY_DIR
    try:
        paths = sorted((p for p in history.iterdir() if p.name.endswith(".jsonl")), key=lambda p: p.name) \
            if history.exists() else []
    except (FileNotFoundError, NotADirectoryError):
        paths = []
    for path in paths:
        for line in path.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                if wanted is None or entry.get("key") == wanted:
                    found.append(entry)
    return found


__all__ = ["COMPACT_AFTER", "HISTORY_DIR", "STATE_DIR", "SyncState", "content_digest", "record_key",
           "state_directory", "sync_history"]
