"""Where operators write: default output URIs, and a fetch's JSON Lines, resumable after a failed try.

Outputs go to ``<[gtm] output_base_uri>/<dag_id>/<run_id>/<task_id>[/map_<i>]/<name>`` unless a URI
is given (:func:`default_uri`). A fetch writes through :func:`open_fetch_writer`: a local output file
resumes from a checkpoint rewritten in place (:class:`LocalJsonLinesWriter`). An object
store cannot append to an object or rewrite part of it, so a fetch there gathers its pages in a
local spool file and uploads them as numbered *part objects* beside the output
(``<output>.parts/000000.jsonl``, ...), each followed by a checkpoint object
(``<output>.checkpoint.json``) that names how many parts are complete and where the list goes on.
A retry of the same task instance with the same arguments (the checkpoint's binding) keeps those
parts and fetches only what comes after them, on any worker that reaches the store. On success the
parts and the last pages are joined into the output object, and the parts and checkpoint removed.

A part is uploaded every :attr:`PartedJsonLinesWriter.part_bytes` of output or
:attr:`~PartedJsonLinesWriter.part_seconds` of fetching, and whenever a try stops with an error
(a deferral, a failed call): a SIGKILLed try loses at most that much, which its retry fetches again.

**Outputs are verified, never padded.** A checkpoint also records the digest (sha256) and length of
the last complete page (local) or part (object store). A retry resumes only an output that still
holds at least the checkpoint's bytes and whose last page (part) has that digest; an output that
was deleted, emptied, cut short or rewritten since is started over, and the log says why. An output
is only ever cut *down* to its checkpoint, never extended. A checkpoint without the expected shape
counts as absent (starting over), never as an error.

**One writer per output.** Before it reads a checkpoint or touches the output, a writer takes the
lease ``<output>.lease`` (``core/lease.py``) and checks it before every page it writes: two runs
sharing one ``output_uri``, or two live tries of one task instance, never write the same file at
once; the second waits for the lease, then fails naming the holder, having written nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import IO, Any, ClassVar, TypeGuard

from airflow_provider_gtm.compat import ObjectStoragePath
from airflow_provider_gtm.core import jsonio
from airflow_provider_gtm.core.lease import WriteGuard

log = logging.getLogger(__name__)

_COPY_CHUNK = 1024 * 1024


def default_output_base() -> str:
    """Where outputs go when no URI is given: ``[gtm] output_base_uri``, else ``$AIRFLOW_HOME/gtm-data``.

    On a distributed executor, set it to shared storage (``s3://bucket/gtm``) so that every worker
    sees every file.
    """
    from airflow_provider_gtm import config

    configured = config.get("output_base_uri")  # airflow.cfg [gtm], or $AIRFLOW__GTM__OUTPUT_BASE_URI
    if configured:
        return configured.rstrip("/")
    home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
    return f"file://{os.path.abspath(home)}/gtm-data"


def _safe(part: object) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", str(part)).strip("_") or "_"


def default_uri(context: Mapping[str, Any], base: str | None, name: str) -> str:
    """``<base>/<dag_id>/<run_id>/<task_id>[/map_<i>]/<name>``: unique per run, task and map index."""
    ti = context["ti"]
    parts = [base or default_output_base(), _safe(ti.dag_id), _safe(ti.run_id), _safe(ti.task_id)]
    map_index = getattr(ti, "map_index", -1)
    if map_index is not None and map_index >= 0:
        parts.append(f"map_{map_index}")
    parts.append(name)
    return "/".join(parts)


def fetch_binding(context: Mapping[str, Any], operator: object, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """What a fetch checkpoint is bound to: the task instance and a fingerprint of the query's arguments.

    Only a retry of the same task instance (DAG, run, task, map index) with the same rendered
    arguments may resume from a checkpoint; another run, or the same run with other arguments,
    writing to the same ``output_uri`` starts over.
    """
    ti = context.get("ti") if isinstance(context, Mapping) else None
    canonical = json.dumps(
        {"operator": type(operator).__name__, **arguments}, sort_keys=True, default=str, separators=(",", ":")
    )
    return {
        "dag_id": getattr(ti, "dag_id", None),
        "run_id": getattr(ti, "run_id", None),
        "task_id": getattr(ti, "task_id", None),
        "map_index": getattr(ti, "map_index", None),
        "arguments": hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest(),
    }


def open_fetch_writer(
    path: ObjectStoragePath, *, resume: bool, binding: Mapping[str, Any] | None = None,
    session: AbstractContextManager[WriteGuard] | None = None,
) -> LocalJsonLinesWriter | PartedJsonLinesWriter:
    """The writer of a fetch's output: a local file, or part objects on an object store (both resume).

    ``session`` (an operator's ``writer_session`` on ``<output>.lease``) is entered before the
    checkpoint is read and left when the writer closes.
    """
    import sys

    from airflow_provider_gtm.core.ledger import is_local
    from airflow_provider_gtm.operators.errors import airflow_errors

    with airflow_errors(f"Writing {path}"):
        guard = session.__enter__() if session is not None else WriteGuard()
    try:
        writer: LocalJsonLinesWriter | PartedJsonLinesWriter
        if is_local(path):
            writer = LocalJsonLinesWriter(path, resume=resume, binding=binding, guard=guard)
        else:
            writer = PartedJsonLinesWriter(path, resume=resume, binding=binding, guard=guard)
    except BaseException:
        if session is not None:
            session.__exit__(*sys.exc_info())
        raise
    writer.session = session
    return writer


def lease_path(path: ObjectStoragePath) -> ObjectStoragePath:
    """Where the lease of a fetch output lives: ``<output>.lease``."""
    return ObjectStoragePath(f"{path}.lease")


def _count(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def checkpoint_problem(found: Any) -> str | None:
    """Why a checkpoint document does not have the shape written here (``None``: it has)."""
    if not isinstance(found, dict):
        return "its checkpoint is not a JSON object"
    for name in ("records", "pages", "bytes"):
        if not _count(found.get(name)):
            return f"its checkpoint's {name!r} is not a count"
    if not isinstance(found.get("binding"), dict):
        return None  # an older version's checkpoint: binding_mismatch() says so
    digest, length = found.get("last_sha256"), found.get("last_bytes")
    if not isinstance(digest, str) or not _count(length) or length > found["bytes"]:
        return "its checkpoint has no digest of its last complete page"
    return None



def binding_mismatch(found: Any, binding: Mapping[str, Any]) -> str:
    """Why a checkpoint written for ``found`` may not be resumed by the task bound to ``binding``."""
    if not isinstance(found, dict):
        return "it was written by an older version (no binding)"
    keys = ("dag_id", "run_id", "task_id", "map_index")
    if any(found.get(k) != binding.get(k) for k in keys):
        who = ", ".join(f"{k}={found.get(k)!r}" for k in keys)
        return f"it belongs to another task instance ({who})"
    return "it was written for other query arguments"


class PartedJsonLinesWriter:
    """JSON Lines to an object-store path, in part objects with a checkpoint (see the module doc).

    The same interface as the local writer: ``state`` (the checkpoint resumed, or ``None``),
    ``ignored`` (why a checkpoint found was not resumed), :meth:`write_records`, :meth:`commit`
    after each complete page, :meth:`close`.
    """

    #: Upload a part once this much output is spooled (bounds what a SIGKILL costs the retry).
    part_bytes: ClassVar[int] = 8 * 1024 * 1024
    #: ... or once this long has passed since the last part (a slow, rate-limited list).
    part_seconds: ClassVar[float] = 60.0

    def __init__(
        self,
        path: ObjectStoragePath,
        *,
        resume: bool,
        binding: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        guard: WriteGuard | None = None,
    ) -> None:
        self.path = path
        self.binding = dict(binding or {})
        self.checkpoint_path = ObjectStoragePath(f"{path}.checkpoint.json")
        self.state: dict[str, Any] | None = None
        self.ignored: str | None = None
        self.session: AbstractContextManager[WriteGuard] | None = None
        self._guard = guard or WriteGuard()
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        found = self._read_checkpoint()
        #: Part objects an earlier, unrelated try left: removed once this fetch succeeds.
        self._stale_parts = 0
        if found is not None:
            problem = checkpoint_problem(found) or (None if _count(found.get("parts")) else
                                                    "its checkpoint's 'parts' is not a count")
            if problem is None and resume and found.get("binding") == self.binding:
                problem = self._verify(found)
                if problem is None:
                    self.state = found
                else:
                    self.ignored = problem
            elif resume:
                self.ignored = problem or binding_mismatch(found.get("binding"), self.binding)
            if self.state is None:
                parts = found.get("parts")
                self._stale_parts = (parts if _count(parts) else 0) + 1
        stale = (self.state or {}).get("stale_parts", 0)
        self._stale_parts = max(self._stale_parts, stale if _count(stale) else 0)
        self._parts = int(self.state["parts"]) if self.state else 0
        self._part_total = int(self.state["bytes"]) if self.state else 0
        self._spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._committed = 0  # spooled bytes the last commit covers
        self._pending: dict[str, Any] | None = None
        self._since = clock()

    def _read_checkpoint(self) -> dict[str, Any] | None:
        with contextlib.suppress(FileNotFoundError, ValueError, OSError):
            found = jsonio.loads(self.checkpoint_path.read_bytes())
            return found if isinstance(found, dict) else None
        return None

    def _part(self, index: int) -> ObjectStoragePath:
        return ObjectStoragePath(f"{self.path}.parts/{index:06d}.jsonl")

    def _verify(self, found: Mapping[str, Any]) -> str | None:
        """Why the parts named by a checkpoint are not what it recorded (``None``: they are)."""
        sizes = 0
        last = b""
        for index in range(int(found["parts"])):
            try:
                if index == int(found["parts"]) - 1:
                    last = self._part(index).read_bytes()
                    sizes += len(last)
                else:
                    sizes += int(self._part(index).stat().st_size)
            except (FileNotFoundError, OSError):
                return f"the output changed since its checkpoint: part {index} is missing; starting over"
        if sizes != int(found["bytes"]):
            return (f"the output changed since its checkpoint: its parts hold {sizes} bytes, the checkpoint "
                    f"{found['bytes']}")
        if hashlib.sha256(last).hexdigest() != found["last_sha256"] or len(last) != found["last_bytes"]:
            return "the output changed since its checkpoint: its last part's digest differs"
        return None

    def write_records(self, records: Iterable[Any]) -> None:
        self._spool.write(jsonio.encode_lines(records))

    def commit(self, state: dict[str, Any]) -> None:
        """Mark everything written so far as complete; upload a part when enough has gathered.

        Then ask the guard: a killed try, or one that lost its lease, stops before the next page.
        """
        self._committed = self._spool.tell()
        self._pending = state
        if self._committed >= self.part_bytes or self._clock() - self._since >= self.part_seconds:
            self._upload_part()
        self._guard.check()

    def _upload_part(self) -> None:
        if self._pending is None or self._committed == 0:
            return
        self._guard.check_lease()  # only the lease holder stores parts and checkpoints
        self._spool.seek(0)
        digest = hashlib.sha256()
        with self._part(self._parts).open("wb") as part:
            _copy(self._spool, part, self._committed, digest)
        # The checkpoint names the part only once it is stored whole: a kill in between leaves a
        # part no checkpoint names, which the retry overwrites.
        self._parts += 1
        self._part_total += self._committed
        document = {**self._pending, "parts": self._parts, "bytes": self._part_total,
                    "last_sha256": digest.hexdigest(), "last_bytes": self._committed,
                    "stale_parts": self._stale_parts, "binding": self.binding}
        self.checkpoint_path.write_bytes(jsonio.dumps(document).encode())
        tail = self._spool.read()  # anything written after the last commit (normally nothing)
        self._spool.seek(0)
        self._spool.truncate()
        self._spool.write(tail)
        self._committed = 0
        self._pending = None
        self._since = self._clock()

    def close(self, *, success: bool) -> None:
        """On success join the parts and the last pages into the output; else keep what is complete."""
        try:
            if success:
                self._guard.check_lease()
                self._join()
            else:
                try:
                    self._upload_part()
                except Exception as exc:  # the try's own error is the one to report
                    log.warning("Could not store the last complete pages beside %s (%s); a retry fetches "
                                "them again", self.path, type(exc).__name__)
        finally:
            self._spool.close()
            _leave(self.session)

    def _join(self) -> None:
        with self.path.open("wb") as out:
            for index in range(self._parts):
                with self._part(index).open("rb") as part:
                    shutil.copyfileobj(part, out, _COPY_CHUNK)
            self._spool.seek(0)
            _copy(self._spool, out, self._committed)
        # One more index than named: a part stored just before a kill, never checkpointed.
        for index in range(max(self._parts + 1, self._stale_parts)):
            with contextlib.suppress(FileNotFoundError):
                self._part(index).unlink()
        with contextlib.suppress(FileNotFoundError):
            self.checkpoint_path.unlink()


class LocalJsonLinesWriter:
    """Writes JSON lines to a local file and can resume after a checkpoint.

    The checkpoint (``<output>.checkpoint.json``) is one small JSON document
    rewritten in place on an open descriptor after each page: the byte length, record and page
    counts of the output up to the last complete page, the paginator's ``next_state``, and the
    :func:`fetch_binding` it belongs to, and the sha256 of the last complete page. The page's lines
    are written to the output before the checkpoint names them, so after a kill at any point the
    checkpoint never claims more than the output holds; the retry checks that the output still
    holds the checkpoint's bytes with that last page, cuts off what follows (a partly written page)
    and continues with the next page: no line lost, none written twice. An output that no longer
    matches is started over, never padded. (On an object store, :class:`PartedJsonLinesWriter` does
    the same with part objects.)
    """

    def __init__(self, path: ObjectStoragePath, *, resume: bool, binding: Mapping[str, Any] | None = None,
                 guard: WriteGuard | None = None) -> None:
        self.path = path
        self.binding = dict(binding or {})
        self.checkpoint_path = ObjectStoragePath(f"{path}.checkpoint.json")
        self.state: dict[str, Any] | None = None
        self.ignored: str | None = None
        self.session: AbstractContextManager[WriteGuard] | None = None
        self._guard = guard or WriteGuard()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        local = self._local_path()
        if resume and self.checkpoint_path.exists():
            found: Any = None
            with contextlib.suppress(ValueError, OSError):
                found = jsonio.loads(self.checkpoint_path.read_bytes())
            problem = checkpoint_problem(found) if found is not None else None
            if problem is not None:
                self.ignored = problem
            elif isinstance(found, dict) and found.get("binding") != self.binding:
                self.ignored = binding_mismatch(found.get("binding"), self.binding)
            elif isinstance(found, dict):
                self.ignored = _verify_local(local, found)
                self.state = None if self.ignored else found
        # Unbuffered: a page reaches the file only in write_records, after the lease check; nothing
        # buffered is left for close() to flush into an output another try took over.
        fh = open(local, "r+b" if os.path.exists(local) else "w+b", buffering=0)  # noqa: SIM115
        # Drop whatever the failed try wrote after its last complete page (all of it when
        # starting over). Verified above: the file holds at least that much, so this only cuts.
        fh.truncate(int(self.state["bytes"]) if self.state is not None else 0)
        fh.seek(0, os.SEEK_END)
        self._fh: IO[bytes] = fh
        self._page = hashlib.sha256()
        self._page_start = fh.tell()
        self._checkpoint_fd: int | None = os.open(f"{local}.checkpoint.json", os.O_RDWR | os.O_CREAT, 0o644)
        self._checkpoint_len = os.fstat(self._checkpoint_fd).st_size

    def _local_path(self) -> str:
        raw = str(self.path)
        return raw[len("file://"):] if raw.startswith("file://") else getattr(self.path, "path", raw)

    def write_records(self, records: Iterable[Any]) -> None:
        data = jsonio.encode_lines(records)
        self._guard.check_lease()  # a try that lost its lease never writes into the output again
        view = memoryview(data)
        while view:
            view = view[self._fh.write(view) or 0:]
        self._page.update(data)

    def commit(self, state: dict[str, Any]) -> None:
        """Mark everything written so far as complete (the resume point), then ask the guard.

        A killed try, or one that lost its lease, stops here, before the next page is fetched.
        """
        self._guard.check_lease()
        self._fh.flush()
        if self._checkpoint_fd is None:
            return
        end = self._fh.tell()
        document = jsonio.dumps({**state, "bytes": end, "last_sha256": self._page.hexdigest(),
                                 "last_bytes": end - self._page_start, "binding": self.binding}).encode()
        # Padded to the longest document written so far, so the tail of an older, longer one never
        # survives; JSON ignores the trailing spaces. One pwrite: a kill leaves the old or the new.
        padded = document.ljust(self._checkpoint_len)
        os.pwrite(self._checkpoint_fd, padded, 0)
        self._checkpoint_len = len(padded)
        self._page, self._page_start = hashlib.sha256(), end
        self._guard.check()

    def close(self, *, success: bool) -> None:
        try:
            self._fh.close()
            if self._checkpoint_fd is not None:
                os.close(self._checkpoint_fd)
                self._checkpoint_fd = None
                if success:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(f"{self._local_path()}.checkpoint.json")
        finally:
            _leave(self.session)


def _verify_local(local: str, found: Mapping[str, Any]) -> str | None:
    """Why a local output no longer matches its checkpoint (``None``: it does; resume after it)."""
    size = os.path.getsize(local) if os.path.exists(local) else None
    if size is None:
        return "the output changed since its checkpoint: it was deleted; starting over"
    if size < found["bytes"]:
        return (f"the output changed since its checkpoint: it holds {size} bytes, the checkpoint "
                f"{found['bytes']} (emptied or cut short)")
    with open(local, "rb") as fh:
        fh.seek(found["bytes"] - found["last_bytes"])
        page = fh.read(found["last_bytes"])
    if hashlib.sha256(page).hexdigest() != found["last_sha256"]:
        return "the output changed since its checkpoint: its last complete page's digest differs"
    return None


def _leave(session: AbstractContextManager[WriteGuard] | None) -> None:
    if session is not None:
        session.__exit__(None, None, None)


def _copy(source: Any, target: Any, size: int, digest: Any = None) -> None:
    left = size
    while left > 0:
        chunk = source.read(min(_COPY_CHUNK, left))
        if not chunk:
            break
        target.write(chunk)
        if digest is not None:
            digest.update(chunk)
        left -= len(chunk)
