"""Which limiter a credential gets: one per (API, base URL, credential), on the configured backend.

Every hook using a credential shares one :class:`~airflow_provider_gtm.core.ratelimit.RateLimiter`
(one budget), and every process too: its state lives in a file per credential under an OS lock on one
host (``local``, the default), in Redis across hosts (``redis://``, ``core/ratelimit_redis.py``), or
in this process only (``memory``). Chosen by ``[gtm] rate_limit_backend`` or the connection's extra
``rate_limit_backend`` (:func:`configured_backend`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Sequence

from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.core.ratelimit import FileLimiterStore, LimiterStore, RateLimiter, Window
from airflow_provider_gtm.core.ratelimit_redis import RedisLimiterStore  # imports redis only when used
from airflow_provider_gtm.core.timing import REAL_TIMER, Timer

LOCAL_BACKEND = "local"
MEMORY_BACKEND = "memory"


def configured_backend(override: object = None, *, conn_id: str = "") -> str:
    """The limiter backend: a connection's ``rate_limit_backend`` extra, else ``[gtm] rate_limit_backend``.

    ``local`` (default): a file per credential shared by every process of the host; ``memory``:
    this process only; ``redis://host:port/db``: shared by every host using that Redis.
    """
    value = override
    if value in (None, ""):
        value = _gtm_setting("rate_limit_backend", LOCAL_BACKEND)
    text = str(value).strip()
    if text in (LOCAL_BACKEND, MEMORY_BACKEND) or text.startswith(("redis://", "rediss://", "unix://")):
        return text
    where = f"Connection {conn_id!r}: extra 'rate_limit_backend'" if override not in (None, "") else (
        "[gtm] rate_limit_backend")
    raise GtmConfigError(
        f"{where} must be 'local', 'memory' or a redis:// URL such as redis://127.0.0.1:6379/0, got {text!r}."
    )


def state_dir() -> str:
    """Where the ``local`` backend keeps its files: ``[gtm] rate_limit_state_dir``, else under AIRFLOW_HOME."""
    configured = _gtm_setting("rate_limit_state_dir", "")
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return os.path.join(os.path.abspath(home), "gtm-ratelimit")


def _gtm_setting(name: str, default: str) -> str:
    from airflow_provider_gtm import config

    return config.get(name, fallback=default)


def _store(backend: str, key: str) -> LimiterStore:
    if backend == MEMORY_BACKEND:
        return LimiterStore()
    if backend == LOCAL_BACKEND:
        return FileLimiterStore(os.path.join(state_dir(), f"{key}.json"))
    return RedisLimiterStore(backend, key)


_REGISTRY: dict[tuple[str, str, str, tuple[Window, ...], str], RateLimiter] = {}
_REGISTRY_LOCK = threading.Lock()


def reset_shared_limiters() -> None:
    """Forget every limiter's state (call history, pauses, blocks), here and in the local state files.

    For tests and sandboxes only: in production the history is what keeps a key unblocked.
    """
    with _REGISTRY_LOCK:
        for limiter in _REGISTRY.values():
            with contextlib.suppress(Exception):
                limiter.store.clear()
        _REGISTRY.clear()
    directory = state_dir()
    if os.path.isdir(directory):
        for name in os.listdir(directory):
            # The lock files too: a state file missing beside its lock file reads as lost (and the
            # limiter then waits one window), a forgotten pair as a first use.
            if name.endswith((".json", ".json.lock")):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(directory, name))


def shared_limiter(
    api: str,
    base_url: str,
    identity: str,
    windows: Sequence[Window],
    timer: Timer = REAL_TIMER,
    backend: str = MEMORY_BACKEND,
) -> RateLimiter:
    """The limiter for one credential, so that every hook using it shares one budget.

    With the ``local`` or a ``redis://`` backend the budget is shared with every other process
    (and host) using the credential. A test clock (anything but the real timer) cannot be shared
    with other processes, so it always gets a limiter of its own process.
    ``identity`` is hashed before it is used as a key; it is never stored in clear.
    """
    if timer is not REAL_TIMER:
        backend = MEMORY_BACKEND
    digest = hashlib.sha256(f"{api}\n{base_url}\n{identity}".encode()).hexdigest()[:32]
    key = (api, base_url, digest, tuple(windows), backend)
    with _REGISTRY_LOCK:
        limiter = _REGISTRY.get(key)
        if limiter is None or limiter.timer is not timer:
            limiter = RateLimiter(windows, timer, _store(backend, f"{api}-{digest}"))
            _REGISTRY[key] = limiter
        return limiter
