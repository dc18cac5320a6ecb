"""Progress lines in a long batch task's log: chunks sent, records accounted, failures, time left.

1,000 Oktopost creates at 60 calls a minute take 17 minutes; without these lines the task log is
silent until the end. The batch loop calls :meth:`BatchProgress.chunk` once per chunk; a line is
logged for the first chunk and then at most every ``every_seconds``, so a fast task logs little
and a slow one shows it is alive and how long it still needs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Types only: importing an operator module at DAG parse must stay light.
    from airflow_provider_gtm.core.ratelimit import Window


def hook_windows(hook: Any) -> tuple[Window, ...]:
    """The hook's client-side rate limits (none when it has no connection-backed limits)."""
    windows = getattr(hook, "_windows", None)
    if windows is None:
        return ()
    try:
        return tuple(windows())
    except Exception:  # noqa: BLE001 - progress must never fail a task; a bad extra fails the call itself
        return ()


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 90:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class BatchProgress:
    """Counts what a batch task has done so far and logs it at a steady pace.

    :param log: the task's logger.
    :param what: what is sent, e.g. ``"Oktopost campaigns"``.
    :param total: records to send, when known (enables "of N" and the time left).
    :param windows: the connection's client-side rate limits; the time left is computed at the
        tightest of them once calls are paced by it.
    :param calls_per_chunk: API calls one chunk costs (1 for bulk endpoints; with one call per
        record, pass ``None`` and the chunk's record count is used).
    :param every_seconds: the least time between two progress lines.
    :param clock: monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        log: logging.Logger | Any,
        what: str,
        *,
        total: int | None = None,
        windows: Sequence[Window] = (),
        calls_per_chunk: int | None = 1,
        every_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log
        self.what = what
        self.total = total
        self.windows = tuple(windows)
        self.calls_per_chunk = calls_per_chunk
        self.every_seconds = every_seconds
        self.clock = clock
        self.started = clock()
        self.last_logged: float | None = None
        self.chunks = self.submitted = self.succeeded = self.failed = self.calls = 0

    def chunk(self, submitted: int, succeeded: int, failed: int) -> None:
        """One more chunk is accounted; the arguments are the task's totals so far. Logs when it is time."""
        self.chunks += 1
        self.calls += self.calls_per_chunk if self.calls_per_chunk is not None else submitted - self.submitted
        self.submitted, self.succeeded, self.failed = submitted, succeeded, failed
        now = self.clock()
        if self.last_logged is None or now - self.last_logged >= self.every_seconds:
            self.last_logged = now
            self.log.info("%s", self.line(now))

    def seconds_left(self, now: float | None = None) -> float | None:
        """Expected seconds until every record is sent: observed pace, or the rate limit's if slower."""
        if self.total is None or self.submitted <= 0:
            return None
        remaining = max(0, self.total - self.submitted)
        if remaining == 0:
            return 0.0
        elapsed = (self.clock() if now is None else now) - self.started
        observed = elapsed / self.submitted * remaining
        if not self.windows:
            return observed
        calls_per_record = self.calls / self.submitted
        # In the long run a window lets ``limit`` calls through per ``seconds``: the slowest one decides.
        seconds_per_call = max(w.seconds / w.limit for w in self.windows if w.limit > 0)
        return max(observed, remaining * calls_per_record * seconds_per_call)

    def line(self, now: float | None = None) -> str:
        of_total = f" of {self.total}" if self.total is not None else ""
        text = (
            f"{self.what}: {self.chunks} chunk(s) sent, {self.submitted}{of_total} records accounted "
            f"({self.succeeded} succeeded, {self.failed} failed so far)"
        )
        left = self.seconds_left(now)
        if left is not None and left >= 1:
            limited = " under the rate limit" if self.windows else ""
            text += f", about {_duration(left)} left{limited}"
        return text
