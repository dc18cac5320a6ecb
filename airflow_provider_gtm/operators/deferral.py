"""Deferring a long rate-limit wait: the operator side, shared by every fetch and batch operator.

A deferrable operator (``deferrable=True``, default ``[operators] default_deferrable``) runs its
``execute`` inside :func:`~airflow_provider_gtm.core.deferral.deferring_waits_longer_than`. When the
client meets a wait longer than the threshold (``defer_waits_longer_than=``, default ``[gtm]
defer_waits_longer_than``, 60 s) -- an Oktopost key block, a long ``Retry-After`` or
``RateLimit-Reset`` -- it raises :class:`~airflow_provider_gtm.core.deferral.GtmLongWaitError`, and
the operator defers with Airflow's own ``DateTimeTrigger`` (the standard provider, installed with
Airflow 3.3) until the wait ends, holding no worker slot. On resume it runs ``execute`` again:

- a batch write re-reads its write ledger: every chunk already confirmed is carried, not resent, and
  a chunk cut by the wait sends only the records it had not settled (:func:`settled_before_wait`);
- a fetch resumes after its last complete page (its checkpoint; on an object store, its last part);
- the CustomerOS lookup re-uses the enrichments it already submitted.

A non-deferrable operator behaves as before: it waits in-process within the connection's
``max_wait_seconds`` budget, or fails (retryably) with an error saying when the block ends.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from airflow_provider_gtm.core.deferral import (
    GtmLongWaitError,
    check_threshold,
    configured_threshold,
    deferring_waits_longer_than,
)
from airflow_provider_gtm.core.errors import GtmApiError, GtmConfigError

if TYPE_CHECKING:
    from airflow_provider_gtm.core.batching import BatchResult

R = TypeVar("R")

#: The method a deferred operator resumes in.
RESUME_METHOD = "resume_after_wait"


def default_deferrable() -> bool:
    """``[operators] default_deferrable`` (Airflow's own switch), read when the operator is built."""
    from airflow_provider_gtm.compat import conf

    return conf.getboolean("operators", "default_deferrable", fallback=False)


class LongWaitDeferral:
    """Mixin of :class:`GtmFetchOperator` and :class:`GtmBatchOperator`: defer long rate-limit waits.

    The operator's ``__init__`` calls :meth:`_init_long_wait` with its ``deferrable`` and
    ``defer_waits_longer_than`` arguments; its ``execute`` is decorated with :func:`defers_long_waits`.
    """

    deferrable: bool
    defer_waits_longer_than: float | None

    def _init_long_wait(self, deferrable: bool | None, defer_waits_longer_than: float | None) -> None:
        self.deferrable = default_deferrable() if deferrable is None else bool(deferrable)
        if defer_waits_longer_than is not None:
            try:
                defer_waits_longer_than = check_threshold(defer_waits_longer_than, "defer_waits_longer_than")
            except ValueError as exc:
                raise ValueError(f"{type(self).__name__}: {exc}") from None
        self.defer_waits_longer_than = defer_waits_longer_than

    def long_wait_threshold(self) -> float | None:
        """Seconds past which a wait defers (``None``: not deferrable, every wait is in-process)."""
        if not self.deferrable:
            return None
        if self.defer_waits_longer_than is not None:
            return float(self.defer_waits_longer_than)
        return configured_threshold()

    def defer_until_wait_ends(self, wait: GtmLongWaitError, deferrals: int = 0) -> NoReturn:
        """Defer with a ``DateTimeTrigger`` firing when the wait ends; resume in :meth:`resume_after_wait`."""
        from airflow_provider_gtm.compat import DateTimeTrigger

        log = getattr(self, "log")  # noqa: B009 - BaseOperator's logger, typed there
        log.warning(
            "%s; deferring until %s (%.0fs) instead of holding a worker slot; the task then resumes where it "
            "stopped", wait, wait.resume_at.isoformat(), wait.wait_seconds,
        )
        defer: Callable[..., NoReturn] = getattr(self, "defer")  # noqa: B009
        defer(
            trigger=DateTimeTrigger(moment=wait.resume_at),
            method_name=RESUME_METHOD,
            kwargs={"deferrals": deferrals + 1},
        )

    def resume_after_wait(self, context: Any, event: Any = None, deferrals: int = 1) -> Any:
        """The trigger fired (the wait is over): run ``execute`` again, which resumes where it stopped."""
        log = getattr(self, "log")  # noqa: B009
        log.info("The rate-limit wait ended (%s); resuming (deferral %d)", event, deferrals)
        self._deferrals = deferrals
        execute: Callable[[Any], Any] = getattr(self, "execute")  # noqa: B009
        return execute(context)


def defers_long_waits(execute: Callable[[Any, Any], R]) -> Callable[[Any, Any], R]:
    """Decorate an operator's ``execute``: a deferrable operator defers a long wait (see module doc)."""

    @functools.wraps(execute)
    def run(self: Any, context: Any) -> R:
        from airflow_provider_gtm.compat import AirflowFailException

        try:
            threshold = self.long_wait_threshold()
        except GtmConfigError as exc:  # a wrong [gtm] defer_waits_longer_than: retrying cannot help
            raise AirflowFailException(str(exc)) from None
        if threshold is None:
            return execute(self, context)
        try:
            with deferring_waits_longer_than(threshold):
                return execute(self, context)
        except GtmLongWaitError as wait:
            defer_until_wait_ends: Callable[..., NoReturn] = self.defer_until_wait_ends
            defer_until_wait_ends(wait, getattr(self, "_deferrals", 0))

    return run


def settled_before_wait(pieces: Iterator[BatchResult]) -> Iterator[BatchResult]:
    """A batch send's results, plus what a one-call-per-record chunk settled before an error stopped it
    before its next call (a long wait to defer, a kill, a lost lease: ``GtmApiError.partial``).

    The batch loop counts the records settled before an error as sent; the rest are resent on resume.
    """
    try:
        yield from pieces
    except GtmApiError as stop:
        partial, stop.partial = stop.partial, None
        if partial is not None and partial.submitted:
            yield partial
        raise stop from None
