"""The one place provider errors get Airflow's meaning: bad input and auth fail at once, the rest retry."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from airflow_provider_gtm.compat import AirflowException, AirflowFailException
from airflow_provider_gtm.core.deferral import GtmLongWaitError
from airflow_provider_gtm.core.errors import GtmApiError, GtmConfigError, GtmError


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
