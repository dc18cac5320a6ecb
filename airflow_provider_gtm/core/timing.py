"""Injectable clock and sleep, so that waits are real in production and instant in tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone


class Timer:
    """Real time: ``monotonic()`` for intervals, ``sleep()`` to wait, ``utcnow()`` for messages."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        """Wall-clock seconds since the epoch: the clock every process of a host (and Redis) shares."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def utcnow(self) -> datetime:
        return datetime.now(timezone.utc)

    def wall_time_after(self, seconds: float) -> datetime:
        """The wall-clock time ``seconds`` from now (for "blocked until ..." messages)."""
        return self.utcnow() + timedelta(seconds=seconds)


@dataclass
class FakeTimer(Timer):
    """A timer whose ``sleep`` advances a virtual clock instantly and records every wait.

    Used by the unit tests and available to DAG authors who test their own code.
    """

    now: float = 0.0
    start: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    sleeps: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.start.timestamp() + self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)

    def utcnow(self) -> datetime:
        return self.start + timedelta(seconds=self.now)


REAL_TIMER = Timer()
