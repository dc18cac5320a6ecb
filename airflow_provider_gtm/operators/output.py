"""Where a fetch's JSON Lines go on an object store (S3, GCS, ...), resumable after a failed try.

A local output file resumes from a checkpoint rewritten in place (``operators/base.py``). An object
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
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from airflow.sdk import ObjectStoragePath

from airflow_provider_gtm.core import jsonio

log = logging.getLogger(__name__)

_COPY_CHUNK = 1024 * 1024


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
    ) -> None:
        self.path = path
        self.binding = dict(binding or {})
        self.checkpoint_path = ObjectStoragePath(f"{path}.checkpoint.json")
        self.state: dict[str, Any] | None = None
        self.ignored: str | None = None
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        found = self._read_checkpoint()
        #: Part objects an earlier, unrelated try left: removed once this fetch succeeds.
        self._stale_parts = 0
        if found is not None:
            if resume and found.get("binding") == self.binding:
                self.state = found
            else:
                if resume:
                    self.ignored = binding_mismatch(found.get("binding"), self.binding)
                self._stale_parts = int(found.get("parts", 0)) + 1
        self._stale_parts = max(self._stale_parts, int((self.state or {}).get("stale_parts", 0)))
        self._parts = int(self.state.get("parts", 0)) if self.state else 0
        self._part_total = int(self.state.get("bytes", 0)) if self.state else 0
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

    def write_records(self, records: Iterable[Any]) -> None:
        self._spool.write(jsonio.encode_lines(records))

    def commit(self, state: dict[str, Any]) -> None:
        """Mark everything written so far as complete; upload a part when enough has gathered."""
        self._committed = self._spool.tell()
        self._pending = state
        if self._committed >= self.part_bytes or self._clock() - self._since >= self.part_seconds:
            self._upload_part()

    def _upload_part(self) -> None:
        if self._pending is None or self._committed == 0:
            return
        self._spool.seek(0)
        with self._part(self._parts).open("wb") as part:
            _copy(self._spool, part, self._committed)
        # The checkpoint names the part only once it is stored whole: a kill in between leaves a
        # part no checkpoint names, which the retry overwrites.
        self._parts += 1
        self._part_total += self._committed
        document = {**self._pending, "parts": self._parts, "bytes": self._part_total,
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
                self._join()
            else:
                try:
                    self._upload_part()
                except Exception as exc:  # the try's own error is the one to report
                    log.warning("Could not store the last complete pages beside %s (%s); a retry fetches "
                                "them again", self.path, type(exc).__name__)
        finally:
            self._spool.close()

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


def _copy(source: Any, target: Any, size: int) -> None:
    left = size
    while left > 0:
        chunk = source.read(min(_COPY_CHUNK, left))
        if not chunk:
            break
        target.write(chunk)
        left -= len(chunk)
