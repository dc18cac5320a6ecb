"""Client-side rate limiting, shared by every hook.

One :class:`RateLimiter` per (API, base URL, credential) and process enforces several sliding
windows at once (Oktopost: 60 per minute *and* 120 per 5 seconds), follows the server's
``RateLimit-Remaining`` / ``RateLimit-Reset`` headers where an API sends them, and remembers a
key block (Oktopost blocks a key for 15 minutes after a 429) so that no call is sent into it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.core.timing import REAL_TIMER, Timer


@dataclass(frozen=True)
class Window:
    """At most ``limit`` calls in any ``seconds``-long sliding window."""

    limit: int
    seconds: float


class KeyBlockedError(Exception):
    """Raised by :meth:`RateLimiter.acquire` when a block outlasts the caller's wait budget."""

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        super().__init__(f"key blocked for another {wait_seconds:.0f}s")


# The server stamps a call when it arrives, a little after we stamp it when it leaves; waiting this
# much past a freed window keeps latency jitter from turning a full window into a breach (on
# Oktopost a breach blocks the key for 15 minutes).
SAFETY_MARGIN_SECONDS = 0.1


class RateLimiter:
    """Sliding-window limiter with header pacing and key blocks; thread-safe."""

    def __init__(self, windows: Sequence[Window], timer: Timer = REAL_TIMER) -> None:
        self.windows = tuple(windows)
        self.timer = timer
        longest = max((w.limit for w in self.windows), default=0)
        self._stamps: deque[float] = deque(maxlen=longest or None)
        self._paused_until = 0.0
        self._blocked_until = 0.0
        self._lock = threading.Lock()

    def _window_wait(self, now: float) -> float:
        wait = 0.0
        stamps = self._stamps
        for window in self.windows:
            if len(stamps) >= window.limit:
                # The window is full while the limit-th most recent call is still inside it.
                oldest_in_window = stamps[-window.limit]
                wait = max(wait, oldest_in_window + window.seconds + SAFETY_MARGIN_SECONDS - now)
        return wait

    def acquire(self, max_block_wait: float | None = None) -> float:
        """Wait until a call is allowed, record it, and return the seconds waited.

        :param max_block_wait: longest acceptable wait for a key block; ``None`` waits for any.
        :raises KeyBlockedError: when a block lasts longer than ``max_block_wait``.
        """
        waited = 0.0
        with self._lock:
            while True:
                now = self.timer.monotonic()
                blocked = self._blocked_until - now
                if blocked > 0 and max_block_wait is not None and blocked > max_block_wait - waited:
                    raise KeyBlockedError(blocked)
                wait = max(self._window_wait(now), self._paused_until - now, blocked, 0.0)
                if wait <= 0:
                    self._stamps.append(now)
                    return waited
                self.timer.sleep(wait)
                waited += wait

    def pause_for(self, seconds: float) -> None:
        """Hold every further call for ``seconds`` (the server said its credits refill then)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self.timer.monotonic() + seconds)

    def block_for(self, seconds: float) -> None:
        """Record a key block of ``seconds`` (no call may be sent until it ends)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self.timer.monotonic() + seconds)

    def blocked_for(self) -> float:
        """Seconds left of the current key block (0 when none)."""
        return max(0.0, self._blocked_until - self.timer.monotonic())

    def observe_headers(self, headers: dict[str, str] | object) -> None:
        """Pace from ``RateLimit-Remaining`` / ``RateLimit-Reset``: when no credit is left, wait for the refill."""
        get = getattr(headers, "get", None)
        if get is None:
            return
        remaining = _as_float(get("RateLimit-Remaining"))
        reset = _as_float(get("RateLimit-Reset"))
        if remaining is not None and reset is not None and remaining <= 0 and reset > 0:
            self.pause_for(reset)


def _as_float(value: object) -> float | None:
    if value is None:
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def parse_windows(value: object, *, conn_id: str) -> list[Window]:
    """Parse a ``rate_limits`` connection extra: ``[[60, 60], [120, 5]]`` or ``[{"limit":..,"seconds":..}]``.

    An empty list switches client-side limiting off.
    """
    if not isinstance(value, list):
        raise GtmConfigError(
            f"Connection {conn_id!r}: extra 'rate_limits' must be a list such as [[60, 60], [120, 5]] "
            "(calls, seconds), got {value!r}."
        )
    windows: list[Window] = []
    for item in value:
        if isinstance(item, dict):
            limit, seconds = item.get("limit"), item.get("seconds")
        elif isinstance(item, list | tuple) and len(item) == 2:
            limit, seconds = item
        else:
            limit = seconds = None
        if not isinstance(limit, int) or not isinstance(seconds, int | float) or limit < 1 or seconds <= 0:
            raise GtmConfigError(
                f"Connection {conn_id!r}: each entry of extra 'rate_limits' must be [calls, seconds] with "
                f"calls >= 1 and seconds > 0, got {item!r}."
            )
        windows.append(Window(limit, float(seconds)))
    return windows


_REGISTRY: dict[tuple[str, str, str, tuple[Window, ...]], RateLimiter] = {}
_REGISTRY_LOCK = threading.Lock()


def reset_shared_limiters() -> None:
    """Forget every process-wide limiter (call history, pauses, blocks); for tests and sandboxes."""
    with _REGISTRY_LOCK:
        _REGISTRY.clear()


def shared_limiter(
    api: str, base_url: str, identity: str, windows: Sequence[Window], timer: Timer = REAL_TIMER
) -> RateLimiter:
    """The process-wide limiter for one credential, so that every hook using it shares one budget.

    ``identity`` is hashed before it is used as a key; it is never stored in clear.
    """
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    key = (api, base_url, digest, tuple(windows))
    with _REGISTRY_LOCK:
        limiter = _REGISTRY.get(key)
        if limiter is None or limiter.timer is not timer:
            limiter = RateLimiter(windows, timer)
            _REGISTRY[key] = limiter
        return limiter
