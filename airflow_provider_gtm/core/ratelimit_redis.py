"""The ``redis://`` limiter backend: one sliding window per credential shared by every host.

Each decision is one Lua script run atomically by Redis on its own clock (``TIME``), so workers on
hosts whose clocks disagree still share one exact window. Needs the ``redis`` client
(``pip install "airflow-provider-gtm[redis]"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_gtm.core.errors import GtmConfigError, GtmTransportError
from airflow_provider_gtm.core.ratelimit import HISTORY_SECONDS, SAFETY_MARGIN_SECONDS, LimiterStore, Window

# KEYS[1]: hash {paused_until, blocked_until, seq}; KEYS[2]: sorted set of call times.
# ARGV: margin, history seconds, then limit and seconds of each window.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local margin = tonumber(ARGV[1])
local keep = tonumber(ARGV[2])
local n = (#ARGV - 2) / 2
for i = 1, n do
  local secs = tonumber(ARGV[2 + 2 * i])
  if secs + margin > keep then keep = secs + margin end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - keep)
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
local blocked_until = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0')
local blocked = math.max(0, blocked_until - now)
local wait = math.max(blocked, paused - now, 0)
local count = redis.call('ZCARD', KEYS[2])
for i = 1, n do
  local limit = tonumber(ARGV[1 + 2 * i])
  local secs = tonumber(ARGV[2 + 2 * i])
  if count >= limit then
    local item = redis.call('ZRANGE', KEYS[2], count - limit, count - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(item[2]) + secs + margin - now)
  end
end
if wait <= 0 then
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  redis.call('ZADD', KEYS[2], now, string.format('%.6f', now) .. ':' .. seq)
  redis.call('PEXPIRE', KEYS[2], math.ceil(keep * 1000) + 1000)
  return {'0', '0'}
end
return {string.format('%.6f', wait), string.format('%.6f', blocked)}
"""

# KEYS[1]: the hash; ARGV: field, seconds from now.
_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local untill = now + tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if untill > current then redis.call('HSET', KEYS[1], ARGV[1], string.format('%.6f', untill)) end
local ttl = math.ceil(tonumber(ARGV[2]) * 1000) + 3600000
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
"""

_BLOCKED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local blocked_until = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0')
return string.format('%.6f', math.max(0, blocked_until - now))
"""


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
        self._keys = [f"gtm:ratelimit:{key}", f"gtm:ratelimit:{key}:calls"]
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

    def try_acquire(self, windows: Sequence[Window], now: float) -> tuple[float, float]:
        args: list[Any] = [SAFETY_MARGIN_SECONDS, HISTORY_SECONDS]
        for window in windows:
            args += [window.limit, window.seconds]
        wait, blocked = self._run(self._acquire, self._keys, args)
        return float(wait), float(blocked)

    def hold(self, kind: str, until: float, seconds: float) -> None:
        self._run(self._hold, self._keys[:1], [f"{kind}_until", max(0.0, seconds)])

    def blocked_for(self, now: float) -> float:
        return float(self._run(self._blocked, self._keys[:1], []))

    def clear(self) -> None:
        try:
            self._redis.delete(*self._keys)
        except self._errors:
            pass


def _safe_url(url: str) -> str:
    """The URL without a password (``redis://:secret@host``)."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
