"""One live writer per task instance: a renewed lease on a write ledger, a fetch output or a submission ledger.

**Rule.** A try takes the lease before it writes or sends anything, keeps it while it runs, and
writes its ledger, checkpoint and output files only while it holds it. A second live try of the
same task instance (a zombie's retry, a task cleared while running) or another run writing the same
``output_uri`` never sends: it waits up to ``[gtm] writer_lease_wait_seconds`` for the lease to be
released or to expire, then fails (retryably) naming the holder. An expired lease (a SIGKILLed or
frozen try) or one whose holder process is provably gone (same machine, pid no longer running) is
taken over, and the new holder replays the ledger it then reads.

**The lease** is one small JSON document ``{"holder": {host, pid, try_number, dag_id, run_id,
task_id, map_index, machine, started, token}, "expires_at", ...}``:

- local disk: the document is written by rename under an exclusive ``flock`` of its folder, so
  reading, deciding and writing it is one atomic step between processes of the host;
- an object store: created with ``open(mode="xb")`` (s3fs sends ``If-None-Match: *``, gcsfs and
  adlfs their own condition): of two tries creating it at once exactly one succeeds. A store that
  cannot create conditionally is written, read back and logged as the weaker fallback. Taking over
  an expired lease there (delete, then conditional create) cannot be one step; the loser of that
  race finds another holder's token at its next check and stops before its next send.

**Renewal and fencing.** A daemon thread renews the lease every ``seconds / 4`` while the try runs,
so calls and in-process rate-limit waits of any length keep it (the lease need only outlast the
renewal interval, not the longest call). A thread cannot help a frozen process (SIGSTOP, a VM
pause): so every ledger write and every send boundary calls :meth:`WriteGuard.check`, which re-reads
the document whenever more than half the lease went by since the last renewal it saw. A try frozen
past its lease therefore stops at its next boundary, having sent nothing more, when it finds
another holder's token. Expiry uses wall-clock time, so hosts sharing a store must keep their clocks
within a small fraction of the lease (60 s by default).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import IO, Any

from airflow_provider_gtm.compat import ObjectStoragePath
from airflow_provider_gtm.core.errors import GtmApiError

log = logging.getLogger(__name__)

#: The lease document's name inside a ledger folder (ignored by the ledgers' own listing).
LEDGER_LEASE = "lease.json"


class WriterStoppedError(GtmApiError):
    """This try may not send or write any more: it was killed, or another try holds the lease.

    Retryable: the try that holds the lease (or Airflow's next try) carries on from the ledger.
    """

    retryable = True

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def _format(self) -> str:
        return self.api_message


class LeaseHeldError(WriterStoppedError):
    """Another live try holds the lease: this one never sent anything."""


class LeaseLostError(WriterStoppedError):
    """This try's lease expired and another try took it over: it stops before its next send."""


def lease_seconds() -> float:
    """``[gtm] writer_lease_seconds``: how long a lease lasts without renewal."""
    from airflow_provider_gtm import config

    return max(1.0, float(config.get("writer_lease_seconds")))


def lease_wait_seconds() -> float:
    """``[gtm] writer_lease_wait_seconds``: how long a second try waits for a held lease."""
    from airflow_provider_gtm import config

    return max(0.0, float(config.get("writer_lease_wait_seconds")))


def _machine() -> str:
    """This host's boot and pid namespace: a pid means the same process only within both."""
    parts = []
    for source in ("/proc/sys/kernel/random/boot_id", "/proc/self/ns/pid"):
        try:
            if source.endswith("boot_id"):
                with open(source) as fh:
                    parts.append(fh.read().strip())
            else:
                parts.append(os.readlink(source))
        except OSError:
            parts.append("?")
    return f"{socket.gethostname()}|{'|'.join(parts)}"


def _process_started(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (tells a reused pid apart)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def holder_of(context: Mapping[str, Any]) -> dict[str, Any]:
    """Who this try is: its task instance and try, and its process on this host."""
    ti = context.get("ti") if isinstance(context, Mapping) else None
    pid = os.getpid()
    return {
        "dag_id": getattr(ti, "dag_id", None), "run_id": getattr(ti, "run_id", None),
        "task_id": getattr(ti, "task_id", None), "map_index": getattr(ti, "map_index", None),
        "try_number": getattr(ti, "try_number", None), "host": socket.gethostname(), "pid": pid,
        "machine": _machine(), "started": _process_started(pid), "token": uuid.uuid4().hex,
    }


_INSTANCE = ("dag_id", "run_id", "task_id", "map_index")


def _describe(holder: Mapping[str, Any], expires_at: float) -> str:
    until = datetime.fromtimestamp(expires_at, timezone.utc).isoformat(timespec="seconds")
    return (f"host {holder.get('host')}, pid {holder.get('pid')}, try {holder.get('try_number')}; "
            f"it holds the lease until {until}")


class Lease:
    """A lease document at ``path`` (see the module doc); :meth:`acquire`, :meth:`check`, :meth:`release`.

    :param path: where the lease document lives (beside what it protects).
    :param holder: :func:`holder_of` this try.
    :param what: what the lease protects, for messages.
    :param seconds: lease length (default ``[gtm] writer_lease_seconds``).
    :param wait: how long :meth:`acquire` waits for a held lease (default ``[gtm] writer_lease_wait_seconds``).
    """

    def __init__(self, path: ObjectStoragePath, holder: Mapping[str, Any], *, what: str,
                 seconds: float | None = None, wait: float | None = None) -> None:
        self.path = path
        self.holder = dict(holder)
        self.what = what
        self.seconds = lease_seconds() if seconds is None else float(seconds)
        self.wait = lease_wait_seconds() if wait is None else float(wait)
        from airflow_provider_gtm.core.ledger import is_local  # loaded when a task runs, not at DAG parse

        self.local = is_local(path)
        self._lock = threading.Lock()
        self._renewed_at = 0.0
        self._lost: str | None = None
        self._held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the document -------------------------------------------------------------------------

    def _document(self) -> bytes:
        now = time.time()
        return json.dumps({"holder": self.holder, "acquired_at": now, "expires_at": now + self.seconds,
                           "expires": datetime.fromtimestamp(now + self.seconds, timezone.utc).isoformat()}).encode()

    def _read(self) -> dict[str, Any] | None:
        """The current document; a torn or wrong-shaped one reads as expired (nobody can renew it)."""
        try:
            raw = self._local().read_bytes() if self.local else self.path.read_bytes()  # type: ignore[union-attr]
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            found = json.loads(raw)
            if isinstance(found, dict) and isinstance(found.get("holder"), dict):
                found["expires_at"] = float(found["expires_at"])
                return found
        except (ValueError, KeyError, TypeError):
            pass
        return {"holder": {}, "expires_at": 0.0}

    def _local(self) -> Any:
        from pathlib import Path

        raw = str(self.path)
        return Path(raw[len("file://"):] if raw.startswith("file://") else getattr(self.path, "path", raw))

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Local disk: one process at a time reads and writes lease documents of this folder."""
        if not self.local:
            yield
            return
        folder = self._local().parent
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _write_local(self) -> None:
        target = self._local()
        tmp = target.with_name(f".{target.name}.{self.holder['token']}.tmp")
        tmp.write_bytes(self._document())
        os.replace(tmp, target)

    def _gone(self, found: Mapping[str, Any]) -> str | None:
        """Why the holder of ``found`` can no longer send (expired, or its process is gone), else None."""
        holder = found.get("holder") or {}
        if holder.get("token") == self.holder["token"]:
            return "ours"
        if found["expires_at"] <= time.time():
            return "its lease expired"
        if holder.get("machine") == self.holder["machine"] and isinstance(holder.get("pid"), int):
            started = _process_started(holder["pid"])
            if started is None or (holder.get("started") and started != holder.get("started")):
                return "its process is gone"
        return None

    # -- taking it ----------------------------------------------------------------------------

    def _try_take(self) -> tuple[bool, dict[str, Any] | None, str | None]:
        """One attempt: ``(taken, the document found, why it was taken over)``."""
        with self._exclusive():
            found = self._read()
            why = None if found is None else self._gone(found)
            if found is not None and why is None:
                return False, found, None
            if self.local:
                self._write_local()
                return True, found, why
        if found is not None:
            # An object store cannot swap one document for another in one step: delete the expired
            # one, then create conditionally; the loser of a race finds the winner's token later.
            again = self._read()
            if again is not None and (again.get("holder") or {}).get("token") != (found.get("holder") or {}).get(
                    "token"):
                return False, again, None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        try:
            with self.path.open("xb") as fh:
                fh.write(self._document())
        except FileExistsError:
            return False, self._read(), None
        except (ValueError, NotImplementedError, TypeError):
            log.warning("The store of %s cannot create an object only if it is absent; the lease is written and "
                        "read back instead, which two tries starting at the same moment can both pass", self.path)
            self.path.write_bytes(self._document())
        mine = self._read()
        if mine is None or (mine.get("holder") or {}).get("token") != self.holder["token"]:
            return False, mine, None
        return True, found, why

    def acquire(self) -> Lease:
        """Take the lease (waiting up to ``wait`` for a held one) and start renewing it."""
        deadline = time.monotonic() + self.wait
        while True:
            taken, found, why = self._try_take()
            if taken:
                break
            if time.monotonic() >= deadline:
                raise LeaseHeldError(self._held_message(found))
            time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
        if found is not None and why not in (None, "ours"):
            holder = found.get("holder") or {}
            log.warning("Taking over the lease on %s from host %s, pid %s, try %s: %s; what it recorded is replayed",
                        self.what, holder.get("host"), holder.get("pid"), holder.get("try_number"), why)
        self._held, self._lost = True, None
        self._renewed_at = time.time()
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew_loop, name=f"gtm-lease-{self.holder['token'][:8]}",
                                        daemon=True)
        self._thread.start()
        return self

    def _held_message(self, found: Mapping[str, Any] | None) -> str:
        holder = (found or {}).get("holder") or {}
        expires = float((found or {}).get("expires_at") or 0.0)
        same = all(holder.get(k) == self.holder.get(k) for k in _INSTANCE)
        who = "another try of this task instance is running" if same else (
            "another task instance (" + ", ".join(f"{k}={holder.get(k)!r}" for k in _INSTANCE) + ") is writing it")
        return (f"{self.what}: {who}: {_describe(holder, expires)}; nothing was sent by this try "
                f"(waited {self.wait:g}s)")

    # -- keeping it ---------------------------------------------------------------------------

    def renew(self) -> None:
        """Extend the lease; :class:`LeaseLostError` when another try holds it now."""
        with self._lock:
            if self._lost:
                raise LeaseLostError(self._lost)
            with self._exclusive():
                found = self._read()
                if found is None or (found.get("holder") or {}).get("token") != self.holder["token"]:
                    holder = (found or {}).get("holder") or {}
                    by = (f"by host {holder.get('host')}, pid {holder.get('pid')}, try {holder.get('try_number')}"
                          if found is not None else "and already released by the try that took it over")
                    self._lost = (f"{self.what}: this try's lease was taken over {by} (this try was frozen or cut "
                                  "off past its lease); it stops without sending or writing more")
                    raise LeaseLostError(self._lost)
                if self.local:
                    self._write_local()
                else:
                    self.path.write_bytes(self._document())
            self._renewed_at = time.time()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.seconds / 4):
            try:
                self.renew()
            except LeaseLostError:
                return
            except Exception as exc:  # a store hiccup: the next round (or the next check) tries again
                log.warning("Could not renew the lease on %s (%s); trying again", self.what, type(exc).__name__)

    def check(self) -> None:
        """Raise :class:`LeaseLostError` unless this try still holds the lease (re-read when it may have lapsed)."""
        if not self._held:
            raise LeaseLostError(f"{self.what}: this try does not hold the lease")
        if self._lost:
            raise LeaseLostError(self._lost)
        if time.time() - self._renewed_at >= self.seconds / 2:
            self.renew()

    def release(self) -> None:
        """Stop renewing and remove the document (only if it is still ours)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if not self._held:
            return
        self._held = False
        with self._lock, contextlib.suppress(OSError), self._exclusive():
            found = self._read()
            if found is not None and (found.get("holder") or {}).get("token") == self.holder["token"]:
                if self.local:
                    self._local().unlink()
                else:
                    self.path.unlink()


class WriteGuard:
    """What a writing loop asks before each send and each ledger write: killed? still the lease holder?"""

    def __init__(self, lease: Lease | None = None) -> None:
        self.lease = lease
        self.stopped: str | None = None

    def stop(self, reason: str) -> None:
        """Called from ``on_kill`` (a signal handler): the loop stops at its next boundary."""
        self.stopped = reason

    def check(self) -> None:
        if self.stopped:
            raise WriterStoppedError(self.stopped)
        if self.lease is not None:
            self.lease.check()

    def check_lease(self) -> None:
        """Only the lease (a killed try still records what its last call settled)."""
        if self.lease is not None:
            self.lease.check()

    def holds(self) -> bool:
        """Whether this try may still publish its files (it holds the lease; a kill does not matter)."""
        if self.lease is None:
            return True
        try:
            self.lease.check()
        except Exception:
            return False
        return True


class StopsOnKill:
    """``on_kill`` of every writing operator: stop sending at the next boundary, then flush and release.

    Airflow's task runner answers SIGTERM (mark failed, a lost heartbeat) by calling ``on_kill`` in
    the signal handler and lets the task run on until SIGKILL some seconds later. Nothing may be
    done inside the handler that the interrupted code might be doing too (writing a file, holding
    the lease's lock), so this only raises the flag: the loop checks it before every call, chunk,
    page and submission, stops, and its ``finally`` publishes the files and releases the lease. A
    call already in flight finishes (it is bounded by the client's deadline); its chunk is recorded
    as answered, or, if SIGKILL comes first, stays "sent" in the ledger: outcome unknown, looked up
    by the next try.
    """

    _writer_guard: WriteGuard | None = None
    _killed: str | None = None

    def on_kill(self) -> None:
        reason = "the task was killed (on_kill: SIGTERM, marked failed or cleared); it stopped before its next call"
        self._killed = reason
        if self._writer_guard is not None:
            self._writer_guard.stop(reason)
        logger = getattr(self, "log", log)
        logger.warning("on_kill: stopping before the next call; files are flushed and the lease released")

    @contextlib.contextmanager
    def writer_session(self, path: ObjectStoragePath | None, context: Mapping[str, Any], what: str
                       ) -> Iterator[WriteGuard]:
        """Hold the lease at ``path`` (``None``: no lease, only the kill flag) while the block runs."""
        lease = Lease(path, holder_of(context), what=what) if path is not None else None
        guard = WriteGuard(lease)
        if self._killed:
            raise WriterStoppedError(self._killed)
        if lease is not None:
            lease.acquire()
        self._writer_guard = guard
        try:
            yield guard
        finally:
            self._writer_guard = None
            if lease is not None:
                lease.release()


def guarded(pieces: Iterator[Any], guard: WriteGuard) -> Iterator[Any]:
    """``pieces`` (a hook's calls, lazily), with ``guard`` asked before each next call is made.

    A piece of a one-call-per-record API is many calls: within it, ``send_each`` asks the guard
    before each one (``core/batching.asking_before_each_call``).
    """
    from airflow_provider_gtm.core.batching import asking_before_each_call

    while True:
        guard.check()
        try:
            with asking_before_each_call(guard.check):
                piece = next(pieces)
        except StopIteration:
            return
        yield piece


@contextlib.contextmanager
def published(path: ObjectStoragePath, guard: WriteGuard) -> Iterator[IO[bytes]]:
    """A binary file for ``path`` that this try alone writes, published whole only while it holds the lease.

    The lines go to a file of this try's own (local: a hidden name beside ``path``; an object store:
    a local spool). When the block ends (also by an error, so a failing try's lines are kept) the
    file replaces ``path`` in one step (a rename; one object put) if the try still holds the lease;
    a try that lost it discards its file, so it can never overwrite the lines of the try that took over.
    """
    from airflow_provider_gtm.core.ledger import is_local

    token = guard.lease.holder["token"] if guard.lease is not None else uuid.uuid4().hex
    if is_local(path):
        raw = str(path)
        target = raw[len("file://"):] if raw.startswith("file://") else getattr(path, "path", raw)
        tmp_name = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{token[:12]}.tmp")
        fh: IO[bytes] = open(tmp_name, "wb")  # noqa: SIM115 - closed below
    else:
        tmp_name = ""
        fh = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    try:
        yield fh
    finally:
        try:
            fh.flush()
            if not guard.holds():
                log.warning("Not publishing %s: this try no longer holds the lease", path)
            elif tmp_name:
                os.replace(tmp_name, target)
            else:
                fh.seek(0)
                with path.open("wb") as out:
                    shutil.copyfileobj(fh, out, 1024 * 1024)
        finally:
            fh.close()
            if tmp_name:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp_name)


__all__ = [
    "LEDGER_LEASE", "Lease", "LeaseHeldError", "LeaseLostError", "StopsOnKill", "WriteGuard", "WriterStoppedError",
    "guarded", "holder_of", "published",
]
