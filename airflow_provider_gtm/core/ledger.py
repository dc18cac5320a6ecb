"""A write ledger: what each chunk of a batch write sent and what the API answered, kept durably.

A retried Airflow task runs ``execute`` again from the start. Without a record of the earlier try it
would send everything again (duplicates) and lose the ids the first try created. The ledger is a
directory of small JSON objects beside the task's outputs (the same ``ObjectStoragePath`` store, so
it works on shared storage across workers; object stores have no append, so every event is its own
object, written whole):

- ``chunk_<n>.sent.json`` is written *before* chunk ``n`` is sent;
- ``chunk_<n>.done.json`` is written *after* the answer is read: the accepted objects, the failures
  (with the API's words), and the positions in the chunk that a server error left unapplied and that
  the next try sends again.

The directory is keyed by DAG, run, task, map index and a fingerprint of the input and the arguments
(:func:`ledger_key`), so only a retry of the same task instance with the same inputs reads it.

On replay a chunk is in one of three states: ``done`` (its results are carried into the new files,
nothing is sent), ``unknown`` (``sent`` without ``done``: the try died while the call was in flight;
the operator resolves it with a lookup where the API can tell, else reports it to a person), or new.

**A ``done`` entry that does not have the shape written here is torn**, whatever made it so (a
write cut short, a disk error, a person's edit): it parses or not, but it does not say what the
chunk settled, so the chunk's outcome is unknown, exactly as if the try had died while sending it.
Nothing in such a file is trusted, and reading it never raises.

Only the try holding the ledger's lease (``core/lease.py``) writes it: every write first asks the
``guard`` given to :class:`WriteLedger`, which raises when this try was killed or lost its lease.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_gtm.compat import ObjectStoragePath
from airflow_provider_gtm.core.records import encode_record

LEDGER_DIR = "_ledger"


def ledger_key(context: Mapping[str, Any], input_digest: str, arguments: Mapping[str, Any]) -> str:
    """A directory name for one task instance + input + arguments (a retry gets the same one)."""
    ti = context["ti"]
    identity = {
        "dag_id": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        "map_index": getattr(ti, "map_index", -1),
        "input": input_digest,
        "arguments": arguments,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:32]


@dataclass
class ChunkOutcome:
    """What a chunk's answer settled: accepted objects, failure lines, and positions to send again."""

    accepted: list[Any] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    #: Positions (in the chunk) that a server error left unapplied: the next try sends them again.
    resend: list[int] = field(default_factory=list)
    #: Positions being sent when this entry was written: unknown if no later entry follows.
    inflight: list[int] = field(default_factory=list)
    #: Records the answer confirmed by count without returning an object for them.
    confirmed: int = 0
    #: Positions this task already sent once (a server error, maybe applied): when resent, an
    #: "already exists" answer for them is this task's own work.
    touched: list[int] = field(default_factory=list)

    def merge(self, part: ChunkOutcome, positions: list[int]) -> ChunkOutcome:
        """This outcome plus that of a part of the chunk (``part`` positions index ``positions``)."""
        return ChunkOutcome(
            accepted=self.accepted + part.accepted,
            failures=self.failures + part.failures,
            resend=[positions[i] for i in part.resend],
            inflight=[positions[i] for i in part.inflight],
            confirmed=self.confirmed + part.confirmed,
            touched=[positions[i] for i in part.touched],
        )


def _positions(value: Any, count: int | None) -> list[int] | None:
    """A list of chunk positions as written by :meth:`WriteLedger.mark_done`; ``None`` if it is not one."""
    if not isinstance(value, list):
        return None
    if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 and (count is None or i < count)
               for i in value):
        return None
    return list(value)


def parse_outcome(data: Any, count: int | None = None) -> ChunkOutcome | None:
    """The outcome a ``done`` entry records, or ``None`` when it is torn (not the shape written here).

    ``count``: the chunk's size from its ``sent`` entry, when known (positions must lie inside it).
    """
    if not isinstance(data, dict):
        return None
    accepted, failures = data.get("accepted", []), data.get("failures", [])
    if not isinstance(accepted, list) or not isinstance(failures, list):
        return None
    if not all(isinstance(f, dict) for f in failures):
        return None
    confirmed = data.get("confirmed", 0)
    if not isinstance(confirmed, int) or isinstance(confirmed, bool) or confirmed < 0:
        return None
    lists = {name: _positions(data.get(name, []), count) for name in ("resend", "inflight", "touched")}
    if any(v is None for v in lists.values()):
        return None
    return ChunkOutcome(accepted=list(accepted), failures=list(failures), resend=lists["resend"] or [],
                        inflight=lists["inflight"] or [], confirmed=confirmed, touched=lists["touched"] or [])


class WriteLedger:
    """The ledger directory of one task instance; every event is one small object.

    :param guard: called before every write (raises when this try may no longer write: killed, or
        its lease lost); ``None``: no check.
    """

    def __init__(self, directory: ObjectStoragePath, guard: Callable[[], None] | None = None) -> None:
        self.directory = directory
        self._guard = guard
        self.directory.mkdir(parents=True, exist_ok=True)
        self._counts: dict[int, int] = {}
        self._sent: set[int] = set()
        self._done: dict[int, ChunkOutcome] = {}
        self._load()

    def _path(self, index: int, event: str) -> ObjectStoragePath:
        return self.directory / f"chunk_{index:07d}.{event}.json"

    def _load(self) -> None:
        done: dict[int, ObjectStoragePath] = {}
        for entry in listed(self.directory):
            name = entry.name
            if not name.startswith("chunk_") or not name.endswith(".json"):
                continue
            try:
                index = int(name[len("chunk_"):].split(".", 1)[0])
            except ValueError:
                continue
            if name.endswith(".sent.json"):
                self._sent.add(index)
                count = _read_json(entry)
                if isinstance(count, dict) and isinstance(count.get("count"), int) and count["count"] >= 0:
                    self._counts[index] = count["count"]
            elif name.endswith(".done.json"):
                done[index] = entry
        for index, entry in done.items():
            outcome = parse_outcome(_read_json(entry), self._counts.get(index))
            if outcome is None:
                # Torn (cut short, or not the shape written here): a "done" entry is only ever
                # written after the chunk was sent, so its outcome is unknown: looked up where the
                # API can tell, else reported for a person. Never resent blindly, never a crash.
                self._sent.add(index)
                continue
            self._done[index] = outcome

    @property
    def empty(self) -> bool:
        return not self._sent and not self._done

    def done(self, index: int) -> ChunkOutcome | None:
        return self._done.get(index)

    def unknown(self, index: int) -> bool:
        """Sent by an earlier try, with no answer recorded: it may or may not have been applied."""
        return index in self._sent and index not in self._done

    def mark_sent(self, index: int, count: int, started_at: str) -> None:
        self._check()
        self._write(self._path(index, "sent"), {"index": index, "count": count, "started_at": started_at})
        self._sent.add(index)

    def mark_done(self, index: int, outcome: ChunkOutcome) -> None:
        self._check()
        self._write(
            self._path(index, "done"),
            {
                "index": index, "accepted": outcome.accepted, "failures": outcome.failures,
                "resend": outcome.resend, "inflight": outcome.inflight, "confirmed": outcome.confirmed,
                "touched": outcome.touched,
            },
        )
        self._done[index] = outcome

    def started_at(self, index: int) -> str | None:
        """When an earlier try began sending this chunk (for "created since" lookups)."""
        data = _read_json(self._path(index, "sent"))
        started = data.get("started_at") if isinstance(data, dict) else None
        return started if isinstance(started, str) and started else None

    def _check(self) -> None:
        if self._guard is not None:
            self._guard()

    @staticmethod
    def _write(path: ObjectStoragePath, data: dict[str, Any]) -> None:
        write_whole(path, encode_record(data))


def _read_json(path: ObjectStoragePath) -> Any:
    """A ledger object's JSON, or ``None`` when it cannot be read or parsed (a torn write)."""
    try:
        return json.loads(path.read_text())
    except (ValueError, OSError):
        return None


def listed(directory: ObjectStoragePath) -> list[ObjectStoragePath]:
    """The entries of a ledger directory; none while nothing was written into it.

    An object store has no directories: until the first object is written the prefix does not
    exist, and listing it raises (s3fs: ``NotADirectoryError``) instead of giving nothing.
    """
    try:
        return list(directory.iterdir()) if directory.exists() else []
    except (FileNotFoundError, NotADirectoryError):
        return []


def is_local(path: ObjectStoragePath) -> bool:
    """Whether ``path`` is on the local file system (rename and in-place writes work there)."""
    return getattr(path, "protocol", "file") in ("file", "local", "")


def write_whole(path: ObjectStoragePath, text: str) -> None:
    """Write one ledger object so that a reader sees all of it or nothing.

    Local files: write then rename. Object stores write an object whole on close.
    """
    if is_local(path):
        tmp = path.parent / f".{path.name}.tmp"
        tmp.write_text(text)
        tmp.rename(path)
    else:
        path.write_text(text)
