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

The directory is keyed by the task instance alone: DAG, run, task and map index
(:func:`task_ledger_key`). Inside it each *generation* (``gen_<n>/``) is bound to one input and one
set of arguments (``binding.json``: the input's digest and record count, the arguments that decide
what is sent). A retry with the same input and arguments resumes the last generation chunk by chunk.
A retry whose input or arguments changed (a record appended to ``input_uri``, another ``batch_size``)
starts a new generation, logs what changed, and still never forgets what the earlier generations
sent: every ``sent`` entry lists its records' content (identifier and digest), so a record of the
new input that an earlier generation confirmed or refused is not sent again, one left in flight is
looked up (or reported to a person), and one left to resend is sent (:class:`PriorContent`). What
the earlier generations settled is carried into the new files whole, so the XCom still covers every
record the task instance wrote. (Earlier releases kept a flat directory keyed by input and arguments
too, :func:`ledger_key`: a retry across the upgrade still resumes it.)

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
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from airflow_provider_gtm.compat import ObjectStoragePath
from airflow_provider_gtm.core import jsonio
from airflow_provider_gtm.core.records import encode_record

LEDGER_DIR = "_ledger"
#: The document naming a generation's input and arguments.
BINDING = "binding.json"


class _Log(Protocol):
    def info(self, event: Any, *args: Any) -> Any: ...
    def warning(self, event: Any, *args: Any) -> Any: ...


def task_ledger_key(context: Mapping[str, Any]) -> str:
    """A directory name for one task instance (every try of it gets the same one, whatever its input)."""
    ti = context["ti"]
    identity = {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id,
                "map_index": getattr(ti, "map_index", -1)}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:32]


def record_digest(record: Any) -> str:
    """What identifies a record's content across tries (the same bytes as the input digest hashes)."""
    return hashlib.sha256(encode_record(record).encode()).hexdigest()[:32]


def chunk_content(chunk: Sequence[Any], identifier: Callable[[Any], Any]) -> list[list[Any]]:
    """``[[identifier, digest], ...]`` per position: what a ``sent`` entry records of its records.

    The digests are :func:`record_digest`'s, from one encoder call for the whole chunk when it can
    give each record's bytes exactly (:func:`jsonio.encode_lines_as_alone`).
    """
    encoded = jsonio.encode_lines_as_alone(list(chunk))
    lines = encoded.split(b"\n")[:-1] if encoded is not None else []
    if len(lines) != len(chunk):
        return [[_jsonable(identifier(record)), record_digest(record)] for record in chunk]
    sha256 = hashlib.sha256
    return [[_jsonable(identifier(record)), sha256(line).hexdigest()[:32]]
            for record, line in zip(chunk, lines, strict=True)]


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def ledger_key(context: Mapping[str, Any], input_digest: str, arguments: Mapping[str, Any]) -> str:
    """The directory name of earlier releases: task instance + input + arguments (read when present)."""
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


@dataclass
class PriorContent:
    """What earlier generations of this task instance's ledger did, by record content.

    ``settled``: digests an earlier generation confirmed or refused (never sent again);
    ``inflight``: sent with no recorded answer (looked up, else reported to a person);
    ``touched``: sent once and answered with a server error (resent; an "already exists" for them is
    this task's own work). Counters, since an input may hold the same record twice.
    """

    generations: list[ObjectStoragePath]
    settled: Counter[str] = field(default_factory=Counter)
    inflight: Counter[str] = field(default_factory=Counter)
    touched: Counter[str] = field(default_factory=Counter)
    #: digest -> (identifier, when its chunk was first sent): for lookups and reports.
    seen: dict[str, tuple[Any, str | None]] = field(default_factory=dict)

    def take(self, digest: str) -> str:
        """Match one record of the new input: ``settled``, ``inflight``, ``touched`` or ``new``."""
        for name in ("settled", "inflight", "touched"):
            counter: Counter[str] = getattr(self, name)
            if counter[digest] > 0:
                counter[digest] -= 1
                return name
        return "new"

    def left_in_flight(self) -> Iterator[tuple[Any, str]]:
        """``(identifier, digest)`` of records in flight in an earlier generation and absent from this input."""
        for digest, count in self.inflight.items():
            for _ in range(count):
                yield self.seen.get(digest, (None, None))[0], digest

    def outcomes(self) -> Iterator[ChunkOutcome]:
        """What the earlier generations settled, chunk by chunk, read from the store as needed."""
        for generation in self.generations:
            earlier = WriteLedger(generation, create=False)
            for index in sorted(earlier.done_indexes()):
                outcome = earlier.done(index)
                if outcome is not None:
                    yield outcome

    @classmethod
    def load(cls, generations: list[ObjectStoragePath]) -> PriorContent:
        prior = cls(generations)
        for generation in generations:
            earlier = WriteLedger(generation, create=False)
            for index in sorted(earlier.sent_indexes()):
                sent = _read_json(earlier.path(index, "sent"))
                content = sent.get("content") if isinstance(sent, dict) else None
                if not isinstance(content, list):
                    continue  # written by an earlier release: its records cannot be matched by content
                started = sent.get("started_at") if isinstance(sent.get("started_at"), str) else None
                outcome = earlier.done(index)
                inflight = set(range(len(content))) if outcome is None else set(outcome.inflight)
                resend = set() if outcome is None else set(outcome.resend)
                touched = set() if outcome is None else set(outcome.touched)
                for position, entry in enumerate(content):
                    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str)):
                        continue
                    identifier, digest = entry
                    prior.seen.setdefault(digest, (identifier, started))
                    if position in inflight:
                        prior.inflight[digest] += 1
                    elif position in resend:
                        if position in touched:
                            prior.touched[digest] += 1
                    else:
                        # A position neither in flight nor to resend was settled (here, or matched
                        # to a still earlier generation and settled there).
                        prior.settled[digest] += 1
        return prior


def _binding_doc(input_digest: str, records: int | None, arguments: Mapping[str, Any]) -> dict[str, Any]:
    normal = json.loads(json.dumps(dict(arguments), sort_keys=True, default=str))
    return {"input": input_digest, "records": records, "arguments": normal}


def _changes(before: Any, now: dict[str, Any]) -> list[str]:
    """What differs between an earlier generation's binding and this try's, for the log."""
    if not isinstance(before, dict):
        return ["the earlier binding is unreadable"]
    changes = []
    if before.get("input") != now["input"]:
        changes.append(f"input {str(before.get('input'))[:12]} ({before.get('records')} records) -> "
                       f"{now['input'][:12]} ({now['records']} records)")
    old = before.get("arguments")
    old_args: dict[str, Any] = old if isinstance(old, dict) else {}
    for name in sorted({*old_args, *now["arguments"]}):
        if old_args.get(name) != now["arguments"].get(name):
            changes.append(f"{name} {old_args.get(name)!r} -> {now['arguments'].get(name)!r}")
    return changes


def open_ledger(directory: ObjectStoragePath, input_digest: str, records: int | None,
                arguments: Mapping[str, Any], *, guard: Callable[[], None] | None, log: _Log,
                legacy: ObjectStoragePath | None = None) -> WriteLedger:
    """The ledger of this try in the task instance's ``directory`` (see the module doc).

    Called while this try holds the lease: it may start a new generation. ``legacy``: where an
    earlier release kept this task instance's ledger for this input and arguments (flat, keyed by
    :func:`ledger_key`); a retry across the upgrade resumes it instead of sending everything again.
    """
    generations = sorted((e for e in listed(directory) if e.name.startswith("gen_")), key=lambda e: e.name)
    if not generations and legacy is not None and any(e.name.startswith("chunk_") for e in listed(legacy)):
        log.info("Resuming the write ledger an earlier release wrote: %s", legacy)
        return WriteLedger(legacy, guard=guard)
    binding = _binding_doc(input_digest, records, arguments)
    last = _read_json(generations[-1] / BINDING) if generations else None
    if isinstance(last, dict) and last.get("input") == binding["input"] and \
            last.get("arguments") == binding["arguments"]:
        current, earlier = generations[-1], generations[:-1]
    else:
        current, earlier = directory / f"gen_{len(generations):04d}", generations
        if generations:
            log.warning("The input or arguments changed since an earlier try of this task instance (write ledger "
                        "%s): %s. Records that try confirmed, refused or left in flight are matched by content "
                        "(identifier and digest) and not sent again; new ledger generation %s",
                        generations[-1], "; ".join(_changes(last, binding)), current.name)
        if guard is not None:
            guard()
        current.mkdir(parents=True, exist_ok=True)
        write_whole(current / BINDING, encode_record(binding))
    prior = PriorContent.load(earlier) if earlier else None
    return WriteLedger(current, guard=guard, prior=prior)


class WriteLedger:
    """The ledger directory of one generation; every event is one small object.

    Only the chunk numbers are kept in memory: a ``done`` entry's outcome (the API's objects) is read
    back from the store when asked for, so memory stays flat however long the input.

    :param guard: called before every write (raises when this try may no longer write: killed, or
        its lease lost); ``None``: no check.
    :param prior: what earlier generations did, matched by content (:func:`open_ledger`).
    :param create: make the directory (``False``: reading an earlier generation).
    """

    def __init__(self, directory: ObjectStoragePath, guard: Callable[[], None] | None = None,
                 prior: PriorContent | None = None, *, create: bool = True) -> None:
        self.directory = directory
        self._guard = guard
        self.prior = prior
        if create:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._counts: dict[int, int] = {}
        self._sent: set[int] = set()
        self._done: set[int] = set()
        #: The last outcome read or written (settling a chunk asks for it several times).
        self._cached: tuple[int, ChunkOutcome] | None = None
        self._load()

    def path(self, index: int, event: str) -> ObjectStoragePath:
        return self.directory / f"chunk_{index:07d}.{event}.json"

    _path = path

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
                sent = _read_json(entry)
                if isinstance(sent, dict) and isinstance(sent.get("count"), int) and sent["count"] >= 0:
                    self._counts[index] = sent["count"]
                if self.prior is not None and isinstance(sent, dict) and isinstance(sent.get("content"), list):
                    # Replay how this generation's chunks matched the earlier ones, so that what is
                    # left over in ``prior`` is what this generation has not met yet.
                    for item in sent["content"]:
                        if isinstance(item, list) and len(item) == 2 and isinstance(item[1], str):
                            self.prior.take(item[1])
            elif name.endswith(".done.json"):
                done[index] = entry
        for index, entry in done.items():
            if parse_outcome(_read_json(entry), self._counts.get(index)) is None:
                # Torn (cut short, or not the shape written here): a "done" entry is only ever
                # written after the chunk was sent, so its outcome is unknown: looked up where the
                # API can tell, else reported for a person. Never resent blindly, never a crash.
                self._sent.add(index)
                continue
            self._done.add(index)

    @property
    def empty(self) -> bool:
        return not self._sent and not self._done

    @property
    def chunk_size(self) -> int | None:
        """Records per chunk this generation was written with (``None``: nothing recorded yet).

        A retry resumes with it: chunk ``n`` must hold the records it held when it was recorded, also
        after an upgrade that changed the default (50 records a chunk, then one request of the API).
        Every chunk but the last has this size, so it is the largest count recorded.
        """
        return max(self._counts.values(), default=None)

    def count(self, index: int) -> int | None:
        """How many records chunk ``index`` held when it was recorded (``None``: not recorded, or unreadable)."""
        return self._counts.get(index)

    def sent_indexes(self) -> set[int]:
        return set(self._sent)

    def done_indexes(self) -> set[int]:
        return set(self._done)

    def done(self, index: int) -> ChunkOutcome | None:
        if index not in self._done:
            return None
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        outcome = parse_outcome(_read_json(self.path(index, "done")), self._counts.get(index))
        if outcome is not None:
            self._cached = (index, outcome)
        return outcome

    def unknown(self, index: int) -> bool:
        """Sent by an earlier try, with no answer recorded: it may or may not have been applied."""
        return index in self._sent and index not in self._done

    def seed(self, content: list[list[Any]]) -> tuple[ChunkOutcome, str | None] | None:
        """How a new chunk stands against earlier generations (``None``: no record of it was met).

        Records an earlier generation settled are left out (neither resent nor in flight), those it
        left in flight stay in flight (looked up from when they were first sent), the rest are sent.
        """
        if self.prior is None:
            return None
        outcome, started, matched = ChunkOutcome(), None, False
        for position, (_identifier, digest) in enumerate(content):
            state = self.prior.take(digest)
            matched = matched or state != "new"
            if state == "inflight":
                outcome.inflight.append(position)
                first = self.prior.seen.get(digest, (None, None))[1]
                started = first if started is None or (first is not None and first < started) else started
            elif state != "settled":
                outcome.resend.append(position)
                if state == "touched":
                    outcome.touched.append(position)
        return (outcome, started) if matched else None

    def mark_sent(self, index: int, count: int, started_at: str, content: list[list[Any]] | None = None) -> None:
        self._check()
        entry: dict[str, Any] = {"index": index, "count": count, "started_at": started_at}
        if content is not None:
            entry["content"] = content
        self._write(self.path(index, "sent"), entry)
        self._sent.add(index)
        self._counts[index] = count

    def mark_done(self, index: int, outcome: ChunkOutcome, *, answered: bool = True) -> None:
        """Record what chunk ``index`` settled; ``answered=False`` when written before a send, not after one."""
        self._check()
        entry: dict[str, Any] = {
            "index": index, "accepted": outcome.accepted, "failures": outcome.failures,
            "resend": outcome.resend, "inflight": outcome.inflight, "confirmed": outcome.confirmed,
            "touched": outcome.touched,
        }
        if answered:
            # Written after the calls ended: a write this try lost was sent before this moment.
            entry["answered_at"] = datetime.now(timezone.utc).isoformat()
        self._write(self.path(index, "done"), entry)
        self._done.add(index)
        self._cached = (index, outcome)

    def window(self, index: int) -> str | None:
        """When records in flight in chunk ``index`` were sent: ``"<start>/<end>"`` (ISO 8601 interval)
        when the try that lost their answer recorded when its calls ended, else ``"<start>"``."""
        start = self.started_at(index)
        data = _read_json(self.path(index, "done")) if index in self._done else None
        end = data.get("answered_at") if isinstance(data, dict) else None
        return f"{start}/{end}" if start and isinstance(end, str) and end else start

    def started_at(self, index: int) -> str | None:
        """When an earlier try began sending this chunk (for "created since" lookups)."""
        data = _read_json(self.path(index, "sent"))
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
