"""Typed errors raised by every hook of the provider.

Every error carries the API's own message (parsed from that API's error shape) and never the
credentials: URLs are stored without userinfo, no header is ever copied into a message, and every
text an error holds (message, path, body) passes through :mod:`~airflow_provider_gtm.core.redact`
as the error is built, so a server that echoes the request's credentials cannot put them into
``str()``, ``repr()``, a traceback or an attribute.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from airflow_provider_gtm.core import redact


class GtmError(Exception):
    """Base class of every error this provider raises (its text is redacted as it is built)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact.scrub(arg) if isinstance(arg, str) else arg for arg in args))


class GtmConfigError(GtmError, ValueError):
    """A connection field or argument is missing or wrong; the message names it and the fix."""


class GtmApiError(GtmError):
    """The API answered with an error.

    :param api: API name, e.g. ``"octy"``.
    :param status: HTTP status code (``None`` for transport failures).
    :param message: the API's own error message.
    :param method: HTTP method of the failed call.
    :param path: API path of the failed call (no host, no query, no credentials).
    """

    retryable: bool = False
    #: What a one-call-per-record chunk settled before this error stopped it (a ``BatchResult``),
    #: handed to the batch loop with the error (``operators/deferral.settled_before_wait``).
    partial: Any = None

    def __init__(
        self,
        message: str,
        *,
        api: str = "",
        status: int | None = None,
        method: str = "",
        path: str = "",
        body: object = None,
    ) -> None:
        self.api = api
        self.status = status
        self.api_message = redact.scrub(message)
        self.method = method
        self.path = redact.scrub(path)
        self.body = redact.scrub_obj(body)
        super().__init__(self._format())

    def _format(self) -> str:
        where = f"{self.method} {self.path}".strip()
        prefix = f"{self.api} " if self.api else ""
        status = f"HTTP {self.status}" if self.status is not None else "request failed"
        return f"{prefix}{where}: {status}: {self.api_message}".strip()


class GtmClientError(GtmApiError):
    """4xx other than 401/403/404/429: the request is wrong and retrying will not help."""


class GtmAuthError(GtmClientError):
    """401/403: the connection's credentials were refused."""


class GtmNotFoundError(GtmClientError):
    """404: the resource (or, for Oktopost, access to it) does not exist."""


class GtmConflictError(GtmClientError):
    """409: the resource already exists (CustomerOS carries the existing ``id`` in ``body``)."""


class GtmServerError(GtmApiError):
    """5xx that outlasted the retry budget."""

    retryable = True


class GtmRateLimitError(GtmApiError):
    """429 that outlasted the wait budget.

    :param retry_after: seconds the server asked to wait, when it said.
    :param blocked_until: when a key block ends (Oktopost blocks a key for 15 minutes).
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        blocked_until: datetime | None = None,
        **kwargs: object,
    ) -> None:
        self.retry_after = retry_after
        self.blocked_until = blocked_until
        super().__init__(message, **kwargs)  # type: ignore[arg-type]

    def _format(self) -> str:
        text = super()._format()
        if self.blocked_until is not None:
            text += f" (key blocked until {self.blocked_until.astimezone(timezone.utc).isoformat()})"
        elif self.retry_after is not None:
            text += f" (the server asked to wait {self.retry_after:g}s)"
        return text


class GtmTransportError(GtmApiError):
    """The connection failed or timed out and the retry budget ran out."""

    retryable = True


class GtmOutcomeUnknownError(GtmApiError):
    """A write may or may not have been applied (timeout, 5xx or dropped connection after sending).

    Not retried automatically because the API would not reject a duplicate; batch helpers report
    the affected records as failed with "outcome unknown" so that nothing is silently sent twice.
    """

    retryable = True


class GtmPollTimeoutError(GtmApiError):
    """An answer that comes later (polling a result URL or job) was not ready within the time budget."""

    retryable = True


class GtmPaginationError(GtmApiError):
    """A list page is neither a full page nor the list's documented end (empty or ``{}`` page,
    missing or repeated cursor, 404 or an unexpected body in the middle of a list).

    Raised after the page was re-fetched a few times. Retryable: the fetch operator's page
    checkpoint makes Airflow's retry resume at this page instead of ending the list early.
    ``api`` names the API and the list's path.
    """

    retryable = True

    def _format(self) -> str:
        return f"{self.api}: {self.api_message}" if self.api else self.api_message
