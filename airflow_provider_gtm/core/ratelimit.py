"""Client-side rate limiting, shared by every hook.

One :class:`RateLimiter` per (API, base URL, credential) enforces several sliding windows at once
(Oktopost: 60 per minute *and* 120 per 5 seconds), follows the server's
``RateLimit-Remaining`` / ``RateLimit-Reset`` headers where an API sends them, and remembers a
key block (Oktopost blocks a key for 15 minutes after a 429) so that no call is sent into it.

The limiter's state is shared by every process using the credential (Airflow runs each task try in
a process of its own): a file per credential under an OS lock on one host (``local``, the
default), or Redis across hosts (``redis://``); ``core/ratelimit_shared.py`` picks one per credential.

The rule it enforces besides the windows: it fails safe. A state that was lost (a state file deleted
or unreadable after it existed, a Redis reset or eviction) proves nothing about the calls just made,
so the limiter then assumes the windows are full and sends nothing for one window; a key block a
process has recorded or seen is re-recorded if the store forgot it. A time in the state that lies in
the future means the clock was stepped back: it is logged and the wait it implies is cut to the
window or hold it stands for. A hold (key block or server pause) longer than the caller's wait budget
fails at once instead of sleeping past it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.core.timing import REAL_TIMER, Timer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    """At most ``limit`` calls in any ``seconds``-long sliding window."""

    limit: int
    seconds: float


class KeyBlockedError(Exception):
    """Raised by :meth:`RateLimiter.acquire` when a hold outlasts the caller's wait budget.

    ``blocked``: the hold is a key block (else a pause the server asked for).
    """

    def __init__(self, wait_seconds: float, *, blocked: bool = True) -> None:
        self.wait_seconds = wait_seconds
        self.blocked = blocked
        what = "key blocked" if blocked else "calls paused"
        super().__init__(f"{what} for another {wait_seconds:.0f}s")


class HoldTooLongError(KeyBlockedError):
    """Raised by :meth:`RateLimiter.acquire` when a hold (key block or server pause) outlasts ``max_hold_wait``.

    ``blocked``: the hold is a key block (else a pause the server asked for).
    """

    def __init__(self, wait_seconds: float, *, blocked: bool) -> None:
        super().__init__(wait_seconds, blocked=blocked)


# The server stamps a call when it arrives, a little after we stamp it when it leaves; waiting this
# much past a freed window keeps latency jitter from turning a full window into a breach (on
# Oktopost a breach blocks the key for 15 minutes).
SAFETY_MARGIN_SECONDS = 0.1
#: A stored time this far ahead of the clock means the clock was stepped back (NTP slews far less).
CLOCK_STEP_TOLERANCE_SECONDS = 1.0
#: ``LimiterState.lost_at`` of a state found lost, until a decision stamps the time of the loss.
LOST = -1.0


@dataclass
class LimiterState:
    """What every process using one credential must agree on: the call history and the holds.

    ``blocked_seconds``/``paused_seconds``: how long the current hold was when recorded, so a clock
    stepped back cannot stretch it. ``lost_at``: when the state was found lost (:data:`LOST` until
    a decision stamps it); for one window after it no call is sent.
    """

    stamps: list[float] = field(default_factory=list)  # call times (wall clock), oldest first
    paused_until: float = 0.0
    blocked_until: float = 0.0
    blocked_seconds: float = 0.0
    paused_seconds: float = 0.0
    lost_at: float = 0.0

    def try_acquire(self, windows: Sequence[Window], now: float) -> tuple[float, float]:
        """Record a call at ``now`` if every window allows it; ``(wait, blocked)`` otherwise.

        ``wait`` is 0 when the call was recorded; ``blocked`` is what is left of a key block.
        """
        longest = max((w.seconds for w in windows), default=0.0) + SAFETY_MARGIN_SECONDS
        self.bound_clock_step(now)
        if self.lost_at == LOST:
            self.lost_at = now
        cut = 0
        while cut < len(self.stamps) and self.stamps[cut] <= now - max(longest, HISTORY_SECONDS):
            cut += 1
        if cut:
            del self.stamps[:cut]
        blocked = max(0.0, self.blocked_until - now)
        wait = max(blocked, self.paused_until - now, 0.0)
        if self.lost_at:
            # Lost history: any number of calls may have gone out just before. Assume every window full.
            if now - self.lost_at < longest:
                wait = max(wait, self.lost_at + longest - now)
            else:
                self.lost_at = 0.0
        for window in windows:
            if len(self.stamps) >= window.limit:
                # The window is full while the limit-th most recent call is still inside it.
                oldest_in_window = self.stamps[-window.limit]
                wait = max(wait, oldest_in_window + window.seconds + SAFETY_MARGIN_SECONDS - now)
        if wait <= 0:
            self.stamps.append(now)
            return 0.0, 0.0
        return wait, blocked

    def bound_clock_step(self, now: float) -> None:
        """Times ahead of ``now`` mean the clock went back: cut them so no wait outlasts what it stands for.

        A call stamped in the future counts as made now (its window then ends one window from now);
        a hold ends at the latest its recorded length from now.
        """
        step = 0.0
        if self.stamps and self.stamps[-1] > now + CLOCK_STEP_TOLERANCE_SECONDS:
            step = self.stamps[-1] - now
            self.stamps = [min(stamp, now) for stamp in self.stamps]
        for until, length in (("blocked_until", "blocked_seconds"), ("paused_until", "paused_seconds")):
            left, seconds = getattr(self, until) - now, getattr(self, length)
            if seconds and left > seconds + CLOCK_STEP_TOLERANCE_SECONDS:
                step = max(step, left - seconds)
                setattr(self, until, now + seconds)
        if self.lost_at > now + CLOCK_STEP_TOLERANCE_SECONDS:
            step = max(step, self.lost_at - now)
            self.lost_at = now
        if step:
            log.warning(
                "Rate limiter: the clock went back by about %.0fs (times recorded in the future); waits are "
                "cut to the window or hold they stand for", step,
            )

    def to_json(self) -> dict[str, Any]:
        return {"stamps": self.stamps, "paused_until": self.paused_until, "blocked_until": self.blocked_until,
                "blocked_seconds": self.blocked_seconds, "paused_seconds": self.paused_seconds,
                "lost_at": self.lost_at}

    @classmethod
    def from_json(cls, data: Any) -> LimiterState:
        if not isinstance(data, dict):
            raise ValueError("the limiter state is not a JSON object")
        stamps = [float(t) for t in data.get("stamps", []) if isinstance(t, int | float)]
        return cls(sorted(stamps), *(float(data.get(name, 0.0)) for name in (
            "paused_until", "blocked_until", "blocked_seconds", "paused_seconds", "lost_at")))


# A call history shorter than this is never pruned, so that processes configured with different
# windows for one key still see each other's recent calls.
HISTORY_SECONDS = 60.0


class LimiterStore:
    """Where a credential's :class:`LimiterState` lives. This one: in this process only."""

    #: Whether the store keeps its own clock (Redis: the server's), ignoring the caller's ``now``.
    own_clock = False

    def __init__(self) -> None:
        self._state = LimiterState()
        self._lock = threading.Lock()

    def try_acquire(self, windows: Sequence[Window], now: float) -> tuple[float, float]:
        with self._lock:
            return self._state.try_acquire(windows, now)

    def hold(self, kind: str, until: float, seconds: float) -> None:
        """Extend the ``"paused"`` or ``"blocked"`` hold to ``until`` (``seconds`` from now)."""
        with self._lock:
            _extend(self._state, kind, until, seconds)

    def blocked_for(self, now: float) -> float:
        with self._lock:
            self._state.bound_clock_step(now)
            return max(0.0, self._state.blocked_until - now)

    def clear(self) -> None:
        with self._lock:
            self._state = LimiterState()


def _extend(state: LimiterState, kind: str, until: float, seconds: float) -> None:
    if kind not in ("paused", "blocked"):  # pragma: no cover - programming error
        raise ValueError(f"unknown hold {kind!r}")
    if until > getattr(state, f"{kind}_until"):
        setattr(state, f"{kind}_until", until)
        setattr(state, f"{kind}_seconds", seconds)


class FileLimiterStore(LimiterStore):
    """A state file per credential, updated under an OS file lock: shared by every process on a host.

    It survives process restarts, so back-to-back tasks and a retry see the earlier calls and a
    running key block. Times are wall-clock seconds, the one clock all processes share.

    The lock file is made on first use and kept: a state file missing beside it, or unreadable, was
    lost (deleted, garbled), and the state starts conservatively (see :class:`LimiterState`). Only
    when both are missing is this the credential's first use on the host.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.lock_path = f"{path}.lock"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[LimiterState]:
        with self._lock:
            try:
                os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
                try:
                    fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
                    first_use = True
                except FileExistsError:
                    fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                    first_use = False
            except OSError as exc:
                raise GtmConfigError(
                    f"The rate limiter cannot use its state directory {os.path.dirname(self.path)!r} "
                    f"({exc.strerror}); set [gtm] rate_limit_state_dir to a writable directory."
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                state = self._read(first_use)
                yield state
                self._write(state)
            finally:
                os.close(fd)  # closing the descriptor releases the lock

    def _read(self, first_use: bool) -> LimiterState:
        try:
            with open(self.path, "rb") as fh:
                return LimiterState.from_json(json.loads(fh.read()))
        except FileNotFoundError:
            if first_use:
                return LimiterState()
            problem = "is missing although it was used before (its lock file exists)"
        except (ValueError, TypeError) as exc:
            problem = f"is unreadable ({type(exc).__name__})"
        # Nothing proves there was no call, pause or key block just now: send nothing for a window.
        log.warning("Rate limiter state %s %s; assuming the windows are full: no call for one window", self.path,
                    problem)
        return LimiterState(lost_at=LOST)

    def _write(self, state: LimiterState) -> None:
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            json.dump(state.to_json(), fh)
        os.replace(tmp, self.path)  # readers see the old state or the new one, never half of one

    def try_acquire(self, windows: Sequence[Window], now: float) -> tuple[float, float]:
        with self._locked() as state:
            return state.try_acquire(windows, now)

    def hold(self, kind: str, until: float, seconds: float) -> None:
        with self._locked() as state:
            _extend(state, kind, until, seconds)

    def blocked_for(self, now: float) -> float:
        with self._locked() as state:
            state.bound_clock_step(now)
            return max(0.0, state.blocked_until - now)

    def clear(self) -> None:
        with self._lock:
            for path in (self.path, self.lock_path):  # both: the next use is a first use, not a loss
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


class RateLimiter:
    """Sliding windows, header pacing and key blocks for one credential; thread- and process-safe.

    The state lives in a :class:`LimiterStore`: this process only (the default when built
    directly), a file shared by every process of the host, or Redis shared by every host.
    """

    def __init__(self, windows: Sequence[Window], timer: Timer = REAL_TIMER, store: LimiterStore | None = None) -> None:
        self.windows = tuple(windows)
        self.timer = timer
        self.store = store or LimiterStore()
        #: When the last key block this process recorded or saw ends (``timer.monotonic()``).
        self._block_ends = 0.0

    def _now(self) -> float:
        return self.timer.time()

    def acquire(self, max_block_wait: float | None = None, max_hold_wait: float | None = None) -> float:
        """Wait until a call is allowed, record it, and return the seconds waited.

        :param max_block_wait: the caller's wait budget: a hold (key block or server pause) longer than
            what is left of it fails at once; ``None`` waits for any. Window waits (at most the longest
            window) are always waited.
        :param max_hold_wait: longest wait for a hold (a key block, or a pause the server asked
            for) before giving up at once, without sleeping; ``None`` waits for any. Window waits
            (at most the longest window) never count as a hold.
        :raises HoldTooLongError: when a hold lasts longer than ``max_hold_wait``.
        :raises KeyBlockedError: when a hold lasts longer than what is left of ``max_block_wait``.
        """
        waited = 0.0
        longest_window = max((w.seconds for w in self.windows), default=0.0) + SAFETY_MARGIN_SECONDS
        while True:
            wait, blocked = self.store.try_acquire(self.windows, self._now())
            if self._block_forgotten(blocked):
                continue
            if wait <= 0:
                return waited
            hold = blocked > 0 or wait > longest_window
            if max_hold_wait is not None and wait > max_hold_wait and hold:
                raise HoldTooLongError(wait, blocked=blocked > 0)
            if hold and max_block_wait is not None and wait > max_block_wait - waited:
                raise KeyBlockedError(wait, blocked=blocked > 0)
            # Sleep outside any lock: other processes keep their turn while this one waits.
            self.timer.sleep(wait)
            waited += wait

    def _block_forgotten(self, blocked: float) -> bool:
        """Re-record a key block this process knows of and the store lost (a reset); True if it did.

        The block is kept on this process's monotonic clock, which no wall-clock step moves.
        """
        now = self.timer.monotonic()
        if blocked > 0:
            self._block_ends = max(self._block_ends, now + blocked)
            return False
        left = self._block_ends - now
        if left <= CLOCK_STEP_TOLERANCE_SECONDS:
            return False
        log.warning("Rate limiter: the shared state forgot a key block with %.0fs left (a reset?); recording it "
                    "again", left)
        self.store.hold("blocked", self._now() + left, left)
        return True

    def pause_for(self, seconds: float) -> None:
        """Hold every further call for ``seconds`` (the server said its credits refill then)."""
        self.store.hold("paused", self._now() + seconds, seconds)

    def block_for(self, seconds: float) -> None:
        """Record a key block of ``seconds`` (no call may be sent until it ends)."""
        self._block_ends = max(self._block_ends, self.timer.monotonic() + seconds)
        self.store.hold("blocked", self._now() + seconds, seconds)

    def blocked_for(self) -> float:
        """Seconds left of the current key block (0 when none)."""
        return self.store.blocked_for(self._now())

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
