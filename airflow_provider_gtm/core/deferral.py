"""Long rate-limit waits that a deferrable task hands to the triggerer instead of sleeping on a worker.

Written once for every API. A deferrable operator runs its work inside
:func:`deferring_waits_longer_than`; while it does, the shared client (``core/client.py``) raises
:class:`GtmLongWaitError` instead of sleeping when a wait is longer than the threshold:

- a key block (Oktopost blocks a key for 15 minutes after a 429),
- a 429's ``Retry-After`` (or ``RateLimit-Reset``),
- a ``RateLimit-Remaining: 0`` / ``RateLimit-Reset`` pause recorded from an earlier answer.

Nothing is sent into the wait: the error is raised before the call, or for a 429 (a refused call,
nothing applied). The hold stays recorded in the shared limiter, so every other process using the
key also waits. The operator (``operators/deferral.py``) defers until :attr:`GtmLongWaitError.resume_at`
and then re-enters ``execute``: a batch write resumes from its write ledger, a fetch from its checkpoint.

Outside that context (the default, and every non-deferrable task) nothing changes: the client waits
in-process within its ``max_wait_seconds`` budget, or fails with :class:`GtmRateLimitError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from airflow_provider_gtm.core.errors import GtmConfigError, GtmRateLimitError

CONFIG_OPTION = "defer_waits_longer_than"

_THRESHOLD: ContextVar[float | None] = ContextVar("gtm_defer_waits_longer_than", default=None)


class GtmLongWaitError(GtmRateLimitError):
    """A rate-limit wait longer than the deferral threshold: nothing was sent; defer until ``resume_at``.

    :param wait_seconds: how long the wait lasts from now.
    :param resume_at: the wall-clock time (UTC) it ends.
    :param reason: ``"key block"``, ``"Retry-After"`` or ``"pause"`` (a ``RateLimit-Reset`` hold).

    ``partial`` holds what a one-call-per-record chunk settled before the wait (a
    :class:`~airflow_provider_gtm.core.batching.BatchResult`), so that nothing already applied is resent.
    """

    def __init__(self, message: str, *, wait_seconds: float, resume_at: datetime, reason: str,
                 **kwargs: Any) -> None:
        self.wait_seconds = float(wait_seconds)
        self.resume_at = resume_at
        self.reason = reason
        self.partial: Any = None
        super().__init__(message, **kwargs)

    def _format(self) -> str:
        text = super()._format()
        if self.blocked_until is None and self.retry_after is None:
            text += f" (a {self.reason} of {self.wait_seconds:.0f}s)"
        return text


def check_threshold(value: Any, where: str) -> float:
    """``value`` as a number of seconds >= 0, else a :class:`GtmConfigError` naming ``where``."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if isinstance(value, bool) or not seconds >= 0:
        raise GtmConfigError(f"{where} must be a number of seconds >= 0, got {value!r}")
    return seconds


def configured_threshold() -> float:
    """``[gtm] defer_waits_longer_than`` (env ``AIRFLOW__GTM__DEFER_WAITS_LONGER_THAN``), default 60 s."""
    from airflow_provider_gtm import config

    return check_threshold(config.get(CONFIG_OPTION), f"[gtm] {CONFIG_OPTION}")


@contextlib.contextmanager
def deferring_waits_longer_than(seconds: float | None) -> Iterator[None]:
    """While inside, the client raises :class:`GtmLongWaitError` for waits longer than ``seconds``.

    ``None`` keeps the in-process waits. A context variable: it follows the task's own thread (and
    ``contextvars.copy_context()``), never another task's.
    """
    token = _THRESHOLD.set(seconds)
    try:
        yield
    finally:
        _THRESHOLD.reset(token)


def defer_threshold() -> float | None:
    """The threshold in force here (``None``: wait in-process)."""
    return _THRESHOLD.get()
