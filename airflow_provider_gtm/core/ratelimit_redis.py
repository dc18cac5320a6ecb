"""The ``redis://`` limiter backend: one sliding window per credential shared by every host.

Each decision is one Lua script run atomically by Redis on its own clock (``TIME``), so workers on
hosts whose clocks disagree still share one exact window. Needs the ``redis`` client
(``pip install "airflow-provider-gtm[redis]"``).

The rule it enforces: a Redis that forgot the limiter's state never hands out a fresh budget. A
marker key without expiry (``gtm:ratelimit:epoch``) vanishes only when Redis is emptied (a restart
without persistence, FLUSHALL); a credential's hash (holds, the time of its last call) has no expiry
either, so an eviction policy that only evicts keys with a TTL can drop its call history but never
its key block. When the marker is gone, or the hash is gone and the eviction policy may have taken
it, or the history is gone although the last call is recent, the script assumes every window full
and pauses calls for one window. At first use the store reads ``CONFIG GET appendonly
maxmemory-policy save`` and warns once when a restart or eviction could lose the state (or when it
cannot tell). Times stored in the future (Redis's clock stepped back) are cut as in
``core/ratelimit.py``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from airflow_provider_gtm.core.errors import GtmConfigError, GtmTransportError
from airflow_provider_gtm.core.ratelimit import (
    CLOCK_STEP_TOLERANCE_SECONDS,
    HISTORY_SECONDS,
    SAFETY_MARGIN_SECONDS,
    LimiterStore,
    Window,
)

log = logging.getLogger(__name__)

#: The marker whose absence means Redis was emptied since the limiter last wrote it.
EPOCH_KEY = "gtm:ratelimit:epoch"

# KEYS[1]: hash {paused_until, paused_seconds, blocked_until, blocked_seconds, last_call, seq};
# KEYS[2]: sorted set of call times; KEYS[3]: the epoch marker.
# ARGV: margin, history seconds, clock tolerance, trust a missing hash (1/0), then limit and seconds
# of each window. Returns {wait, blocked, event}: event '' or 'reset', 'evicted', 'clock <seconds>'.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local margin = tonumber(ARGV[1])
local keep = tonumber(ARGV[2])
local tol = tonumber(ARGV[3])
local trust_missing = ARGV[4] == '1'
local n = (#ARGV - 4) / 2
local longest = 0
for i = 1, n do
  local secs = tonumber(ARGV[4 + 2 * i])
  if secs + margin > longest then longest = secs + margin end
end
if longest > keep then keep = longest end
local function fmt(x) return string.format('%.6f', x) end
local function pause_until(untill)
  local current = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
  if untill > current then
    redis.call('HSET', KEYS[1], 'paused_until', fmt(untill), 'paused_seconds', fmt(untill - now))
  end
end
local event = ''
local emptied = redis.call('EXISTS', KEYS[3]) == 0
if emptied then redis.call('SET', KEYS[3], fmt(now)) end
local has_state = redis.call('EXISTS', KEYS[1]) == 1
if emptied or (not has_state and not trust_missing) then
  event = 'reset'
  pause_until(now + longest)
elseif has_state then
  local last = tonumber(redis.call('HGET', KEYS[1], 'last_call') or '0')
  if last > now - longest and redis.call('EXISTS', KEYS[2]) == 0 then
    event = 'evicted'
    pause_until(math.min(last, now) + longest)
  end
end
local step = 0
local newest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) > now + tol then
  step = tonumber(newest[2]) - now
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf')) do
    redis.call('ZADD', KEYS[2], now, member)
  end
end
for _, kind in ipairs({'paused', 'blocked'}) do
  local untill = tonumber(redis.call('HGET', KEYS[1], kind .. '_until') or '0')
  local secs = tonumber(redis.call('HGET', KEYS[1], kind .. '_seconds') or '0')
  if secs > 0 and untill - now > secs + tol then
    step = math.max(step, untill - now - secs)
    redis.call('HSET', KEYS[1], kind .. '_until', fmt(now + secs))
  end
end
if step > 0 and event == '' then event = 'clock ' .. fmt(step) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - keep)
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
local blocked_until = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0')
local blocked = math.max(0, blocked_until - now)
local wait = math.max(blocked, paused - now, 0)
local count = redis.call('ZCARD', KEYS[2])
for i = 1, n do
  local limit = tonumber(ARGV[3 + 2 * i])
  local secs = tonumber(ARGV[4 + 2 * i])
  if count >= limit then
    local item = redis.call('ZRANGE', KEYS[2], count - limit, count - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(item[2]) + secs + margin - now)
  end
end
if wait <= 0 then
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  redis.call('HSET', KEYS[1], 'last_call', fmt(now))
  redis.call('ZADD', KEYS[2], now, fmt(now) .. ':' .. seq)
  redis.call('PEXPIRE', KEYS[2], math.ceil(keep * 1000) + 1000)
  return {'0', '0', event}
end
return {fmt(wait), fmt(blocked), event}
"""

# KEYS[1]: the hash; ARGV: kind ('paused' or 'blocked'), seconds from now. The hash never expires:
# a key block must outlive any eviction of keys with a TTL.
_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local untill = now + tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1] .. '_until') or '0')
if untill > current then
  redis.call('HSET', KEYS[1], ARGV[1] .. '_until', string.format('%.6f', untill),
             ARGV[1] .. '_seconds', string.format('%.6f', tonumber(ARGV[2])))
end
redis.call('PERSIST', KEYS[1])
return 1
"""

_BLOCKED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local left = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0') - now
local secs = tonumber(redis.call('HGET', KEYS[1], 'blocked_seconds') or '0')
if secs > 0 and left > secs then left = secs end
return string.format('%.6f', math.max(0, left))
"""

#: Eviction policies that may drop a key without a TTL (the marker, a credential's holds).
_UNSAFE_EVICTION = ("allkeys-lru", "allkeys-lfu", "allkeys-random")
_CHECKED: dict[str, bool] = {}  # Redis URL -> whether a missing hash can be trusted as "never used"
_CHECKED_LOCK = threading.Lock()


class RedisLimiterStore(LimiterStore):
    """A credential's limiter state in Redis, decided atomically by Lua scripts on Redis's clock."""

    own_clock = True

    def __init__(self, url: str, key: str) -> None:
        super().__init__()
        try:
            import redis
        except ImportError:
            raise GtmConfigError(
                f"The rate limiter backend {_safe_url(url)} needs the redis client: "
                'pip install "airflow-provider-gtm[redis]".'
            ) from None
        self.url = url
        self._errors: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)
        self._keys = [f"gtm:ratelimit:{key}", f"gtm:ratelimit:{key}:calls", EPOCH_KEY]
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._hold = self._redis.register_script(_HOLD)
        self._blocked = self._redis.register_script(_BLOCKED)

    def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return script(keys=keys, args=args)
        except self._errors as exc:
            # Never fall back to a per-process budget: that is how keys get blocked.
            raise GtmTransportError(
                f"the rate limiter's Redis backend {_safe_url(self.url)} cannot be reached "
                f"({type(exc).__name__}); no call was sent. Check [gtm] rate_limit_backend.",
                api="ratelimit",
            ) from None

    def _trust_missing(self) -> bool:
        """Whether a missing hash means "never used": checked once per Redis URL, warning when unsafe."""
        with _CHECKED_LOCK:
            if self.url not in _CHECKED:
                _CHECKED[self.url] = self._check_config()
            return _CHECKED[self.url]

    def _check_config(self) -> bool:
        where = f"The rate limiter's Redis {_safe_url(self.url)}"
        try:
            found: dict[str, str] = {}
            for name in ("appendonly", "maxmemory-policy", "save"):
                found.update({_text(k): _text(v) for k, v in self._redis.config_get(name).items()})
        except self._errors as exc:
            log.warning(
                "%s does not say how it keeps its data (CONFIG GET: %s); if a restart or eviction empties it, "
                "the limiter waits one window before calling again, but a key block recorded there is lost. "
                "Use appendonly yes and maxmemory-policy noeviction.", where, type(exc).__name__,
            )
            return False
        policy = found.get("maxmemory-policy", "")
        if found.get("appendonly") != "yes":
            log.warning(
                "%s has appendonly %s (save %r): a restart loses recent calls and key blocks. The limiter "
                "waits one window after a restart that empties Redis, but a key block recorded there is lost "
                "and an older snapshot is not noticed. Use appendonly yes.",
                where, found.get("appendonly", "?"), found.get("save", "?"),
            )
        if policy in _UNSAFE_EVICTION:
            log.warning("%s has maxmemory-policy %s, which may evict the limiter's state; use noeviction.",
                        where, policy)
        return bool(policy) and policy not in _UNSAFE_EVICTION

    def try_acquire(self, windows: Sequence[Window], now: float) -> tuple[float, float]:
        args: list[Any] = [SAFETY_MARGIN_SECONDS, HISTORY_SECONDS, CLOCK_STEP_TOLERANCE_SECONDS,
                           1 if self._trust_missing() else 0]
        for window in windows:
            args += [window.limit, window.seconds]
        wait, blocked, event = self._run(self._acquire, self._keys, args)
        event = _text(event)
        if event == "reset":
            log.warning("The rate limiter's Redis %s lost this key's state (emptied by a restart, a flush or "
                        "eviction, or first use): no call for one window", _safe_url(self.url))
        elif event == "evicted":
            log.warning("The rate limiter's Redis %s evicted this key's recent calls: no call for one window",
                        _safe_url(self.url))
        elif event.startswith("clock "):
            log.warning("The clock of the rate limiter's Redis %s went back by about %.0fs; waits are cut to the "
                        "window or hold they stand for", _safe_url(self.url), float(event.split()[1]))
        return float(wait), float(blocked)

    def hold(self, kind: str, until: float, seconds: float) -> None:
        self._run(self._hold, self._keys[:1], [kind, max(0.0, seconds)])

    def blocked_for(self, now: float) -> float:
        return float(self._run(self._blocked, self._keys[:1], []))

    def clear(self) -> None:
        try:
            self._redis.delete(*self._keys[:2])  # not the epoch marker: that would look like a reset
        except self._errors:
            pass


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _safe_url(url: str) -> str:
    """The URL without a password (``redis://:secret@host``)."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
