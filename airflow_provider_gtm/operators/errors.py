"""The one place provider errors get Airflow's meaning: bad input and auth fail at once, the rest retry.

A disk that is full, read-only or not writable is no provider error but ends a task the same way: it
fails at once with a message that names the path and what to do, instead of a raw ``OSError`` that
Airflow would retry into the same wall. Every other error passes through as it is.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

from airflow_provider_gtm.compat import AirflowException, AirflowFailException
from airflow_provider_gtm.core.deferral import GtmLongWaitError
from airflow_provider_gtm.core.errors import GtmApiError, GtmConfigError, GtmError

#: What a person does about a storage error, by errno.
_STORAGE_FIXES: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("the disk is full", "free space on that volume, or point output_uri (or [gtm] output_base_uri) "
                   "at a volume with room"),
    errno.EDQUOT: ("the disk quota is used up", "free space within the quota, or point output_uri (or [gtm] "
                   "output_base_uri) elsewhere"),
    errno.EROFS: ("the file system is read-only", "point output_uri (or [gtm] output_base_uri) at a writable "
                  "location"),
    errno.EACCES: ("permission denied", "give the worker's user write access there, or point output_uri "
                   "(or [gtm] output_base_uri) at a location it may write"),
    errno.EPERM: ("the operation is not permitted", "give the worker's user write access there, or point "
                  "output_uri (or [gtm] output_base_uri) at a location it may write"),
}


@contextlib.contextmanager
def airflow_errors(what: str) -> Iterator[None]:
    """Map provider errors onto Airflow's meaning: bad input and auth fail at once, the rest retry."""
    try:
        yield
    except GtmConfigError as exc:
        raise AirflowFailException(f"{what}: {exc}") from None
    except GtmLongWaitError:
        raise  # a deferrable task defers until the wait ends (operators/deferral.py)
    except GtmApiError as exc:
        if exc.retryable:
            raise AirflowException(f"{what}: {exc}") from None
        raise AirflowFailException(f"{what}: {exc}") from None
    except GtmError as exc:
        raise AirflowFailException(f"{what}: {exc}") from None
    except OSError as exc:
        fix = _STORAGE_FIXES.get(exc.errno) if exc.errno is not None else None
        if fix is None:
            raise
        problem, todo = fix
        where = repr(exc.filename) if exc.filename is not None else "the task's output or ledger files"
        detail = exc.strerror or errno.errorcode.get(exc.errno or 0, "")
        raise AirflowFailException(
            f"{what}: cannot write {where}: {problem} ({detail}). "
            f"To fix: {todo}, then clear the task (its checkpoint or write ledger lets it resume)."
        ) from exc
