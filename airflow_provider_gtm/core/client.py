"""The one HTTP client every hook uses: timeouts, rate limiting, retries, error parsing.

Written once for the four APIs. What differs per API (its error shape, its rate limits, whether a
429 blocks the key) is described by an :class:`ApiProfile` that the API's hook module supplies.

This module is the policy: it decides whether an attempt is retried, waited for, deferred or
raised, and as which error; a call that may already have been applied is never sent again unless
the caller says that is safe. Moving bytes (the session, same-origin redirects, reading and decoding
the body) is the business of a :class:`~airflow_provider_gtm.core.transport.Transport`.
"""

from __future__ import annotations

import email.utils
import logging
import random
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tenacity import RetryCallState, Retrying, retry_if_exception_type

from airflow_provider_gtm.core import redact
from airflow_provider_gtm.core.deferral import GtmLongWaitError, defer_threshold
from airflow_provider_gtm.core.errors import (
    GtmApiError,
    GtmAuthError,
    GtmClientError,
    GtmConflictError,
    GtmNotFoundError,
    GtmOutcomeUnknownError,
    GtmRateLimitError,
    GtmServerError,
    GtmTransportError,
)
from airflow_provider_gtm.core.ratelimit import HoldTooLongError, KeyBlockedError, RateLimiter, Window
from airflow_provider_gtm.core.timing import REAL_TIMER, Timer
from airflow_provider_gtm.core.transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    MAX_REDIRECTS,
    SAFE_METHODS,
    CallBoundExceeded,
    DecodedBody,
    RedirectRefused,
    RequestsTransport,
    SendError,
    Transport,
    TransportRequest,
    TransportResponse,
    decode_body,
    decode_text,
    default_deadline,
)
from airflow_provider_gtm.core.urls import join_url

if TYPE_CHECKING:
    import requests

__all__ = [
    "MAX_REDIRECTS", "RETRYABLE_STATUSES", "SAFE_METHODS", "ApiProfile", "ApiResponse", "RestClient", "RetryPolicy",
    "Transport", "decode_text", "generic_error_message", "parse_retry_after",
]

log = logging.getLogger(__name__)
redact.protect(log)  # no secret reaches a log line, even outside a task (core/redact.py)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def generic_error_message(body: Any, text: str, reason: str = "") -> str:
    """Best-effort message from an unknown error body: common keys first, then the raw text."""
    if isinstance(body, dict):
        for key in ("message", "error_message", "error", "detail", "reason"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            for value in errors[0].values():
                if isinstance(value, str) and value:
                    return value
    snippet = " ".join(text.split())[:300]
    return snippet or reason or "no error message in the response"


@dataclass(frozen=True)
class ApiProfile:
    """What the shared client needs to know about one API.

    :param name: short API name used in messages and limiter keys.
    :param error_message: ``(parsed JSON body or None, raw text) -> the API's own error message``.
    :param body_error: for APIs that signal errors inside a 2xx body (Oktopost ``Result: false``):
        returns the error message, or ``None`` when the body is a success.
    :param default_windows: client-side rate limits (overridable by the connection's extra).
    :param block_on_429_seconds: a 429 blocks the key this long (Oktopost: 900); never retried into.
    :param follow_ratelimit_headers: pace from ``RateLimit-Remaining``/``RateLimit-Reset``.
    :param status_of: ``(HTTP status, parsed JSON body or None) -> the status the answer means``,
        for servers whose body names a status other than the status line's (CustomerOS's newest
        error handler writes every error as a 500 whose ``code`` names the real one).
    """

    name: str
    error_message: Callable[[Any, str], str] = lambda body, text: generic_error_message(body, text)
    body_error: Callable[[Any], str | None] = lambda body: None
    default_windows: tuple[Window, ...] = ()
    block_on_429_seconds: float | None = None
    follow_ratelimit_headers: bool = False
    status_of: Callable[[int, Any], int] = lambda status, body: status


@dataclass
class RetryPolicy:
    """How long and how often one call may be retried.

    :param max_attempts: attempts per call, the first one included.
    :param max_wait_seconds: total time one call may spend waiting (backoff, ``Retry-After``,
        rate limits, key blocks); past it the call fails and the error says how long the server
        asked to wait.
    """

    max_attempts: int = 6
    max_wait_seconds: float = 300.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    jitter: float = 1.0


@dataclass
class ApiResponse:
    """A decoded answer: status, headers and the JSON body parsed once (``None`` if empty).

    ``more_documents``: a body holding several JSON documents back to back (CustomerOS's
    ``contact_bulk.go`` writes its 201 body twice) is read as its first document in ``data``; the
    later documents that differ from it are kept here for the hook to interpret.
    """

    status: int
    headers: Mapping[str, str]
    data: Any
    text: str = ""
    url: str = ""
    more_documents: list[Any] = field(default_factory=list)
    #: An earlier attempt of this call reached the API and may have been applied (a timeout, a
    #: dropped answer or a 5xx, then retried): a "already exists" answer may be this call's own work.
    earlier_attempt_may_have_applied: bool = False


@dataclass(eq=False, slots=True)
class _Call:
    """One call of :meth:`RestClient.request`: what to send, and what its attempts have spent.

    Tenacity runs the call object itself (``__call__`` is one attempt), so the shared controller's
    callbacks find the call they serve as ``retry_state.fn``, whatever thread they run on.
    """

    attempt: Callable[[_Call], ApiResponse]
    method: str
    path: str
    safe: bool
    params: Mapping[str, Any] | None
    json: Any
    data: Any
    files: Any
    headers: Mapping[str, str] | None
    accept_statuses: Collection[int]
    expect_json: bool
    #: Seconds this call has waited so far (backoff, Retry-After, limiter): its budget's spending.
    waited: float = 0.0
    #: An earlier attempt reached the API and may have been applied.
    maybe_applied: bool = False

    def __call__(self) -> ApiResponse:
        return self.attempt(self)


def _call_of(rs: RetryCallState) -> _Call:
    call = rs.fn
    assert isinstance(call, _Call), "RestClient's controller only ever runs a _Call"
    return call


class _Retry(Exception):
    """Internal: this attempt failed in a way that may be retried."""

    def __init__(self, error: GtmApiError, server_wait: float | None = None, *, maybe_applied: bool = False) -> None:
        self.error = error
        self.server_wait = server_wait
        #: The failed attempt reached the API, which may have applied it.
        self.maybe_applied = maybe_applied
        super().__init__(str(error))


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    ``None`` when absent, unreadable, zero or in the past: such a value asks for no wait at all, and
    taking it literally would retry back to back; the caller's normal backoff applies instead.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - now_epoch
    return seconds if seconds > 0 else None


class RestClient:
    """A pooled, timed-out, rate-limited, retrying JSON client for one API connection.

    :param profile: the API's :class:`ApiProfile`.
    :param base_url: validated base URL (may carry a path prefix).
    :param auth: a ``requests`` auth object (HTTP Basic) or ``None``.
    :param headers: headers sent on every call (e.g. the API key header).
    :param timeout: ``(connect, read)`` seconds for every call.
    :param deadline: total seconds one attempt may take, connect, headers and body included;
        ``None``: :func:`~airflow_provider_gtm.core.transport.default_deadline` of ``timeout``.
    :param max_response_bytes: the most decoded bytes one answer may hold (default 64 MiB).
    :param limiter: shared client-side rate limiter, or ``None``.
    :param retry: retry policy.
    :param timer: clock and sleep; a :class:`~airflow_provider_gtm.core.timing.FakeTimer` in tests.
    :param transport: what sends the requests; by default a
        :class:`~airflow_provider_gtm.core.transport.RequestsTransport` built from ``auth``,
        ``headers``, ``user_agent`` and ``pool_size`` (an injected transport brings its own).
    """

    def __init__(
        self,
        *,
        profile: ApiProfile,
        base_url: str,
        auth: requests.auth.AuthBase | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
        deadline: float | None = None,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timer: Timer = REAL_TIMER,
        user_agent: str = "airflow-provider-gtm",
        pool_size: int = 8,
        transport: Transport | None = None,
    ) -> None:
        self.profile = profile
        self.base_url = base_url
        self.timeout = timeout
        self.deadline = default_deadline(timeout) if deadline is None else deadline
        self.max_response_bytes = max_response_bytes
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.timer = timer
        self.transport: Transport = transport or RequestsTransport(
            base_url, auth=auth, headers=headers, user_agent=user_agent, pool_size=pool_size,
        )
        self._rng = random.Random()
        # One retry controller for every call; what one call has spent lives in its own _Call
        # (tenacity keeps its per-call iteration state thread-local, so threads may share it).
        self._retrying = Retrying(
            retry=retry_if_exception_type(_Retry),
            wait=self._wait_seconds,
            stop=self._should_stop,
            sleep=lambda seconds: self.timer.sleep(seconds),
            reraise=True,
            before_sleep=self._before_sleep,
        )

    @property
    def session(self) -> requests.Session:
        """The default transport's ``requests.Session`` (its auth, hooks and cookie jar)."""
        if isinstance(self.transport, RequestsTransport):
            return self.transport.session
        raise AttributeError(f"{type(self.transport).__name__} has no requests session")

    def close(self) -> None:
        self.transport.close()

    # -- public API -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        safe_to_retry: bool | None = None,
        accept_statuses: Collection[int] = (),
        expect_json: bool = True,
    ) -> ApiResponse:
        """Send one call with rate limiting and retries, and return the decoded answer.

        :param safe_to_retry: whether resending after a timeout, a 5xx or a dropped connection
            cannot duplicate anything. Defaults to True for GET/HEAD/OPTIONS and False otherwise;
            pass True for writes the API deduplicates by identifier. A 429 or a connection that
            was refused before sending is always retried.
        :param accept_statuses: error statuses returned to the caller instead of raised (e.g. a
            409 that carries the existing id, or a 400 that carries a batch's failures).
        :raises GtmApiError: a typed subclass once retries are exhausted or for a non-retryable error.
        """
        method = method.upper()
        call = _Call(
            self._attempt, method, path, method in SAFE_METHODS if safe_to_retry is None else safe_to_retry,
            params, json, data, files, headers, accept_statuses, expect_json,
        )
        try:
            resp: ApiResponse = self._retrying(call)
        except _Retry as final:
            raise final.error from None
        resp.earlier_attempt_may_have_applied = call.maybe_applied
        return resp

    def raise_for_response(self, resp: ApiResponse, method: str, path: str) -> None:
        """Raise the typed error for an error answer that was returned through ``accept_statuses``."""
        if resp.status < 400:
            return
        err_kwargs: dict[str, Any] = {"api": self.profile.name, "method": method, "path": path}
        message = self.profile.error_message(resp.data, resp.text) or f"HTTP {resp.status}"
        raise _error_class(resp.status)(message, status=resp.status, body=resp.data, **err_kwargs)

    def error_message(self, resp: ApiResponse) -> str:
        """The API's own message for an answer (parsed with the API's error shape)."""
        return self.profile.error_message(resp.data, resp.text) or f"HTTP {resp.status}"

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET ``path`` and return its JSON body."""
        return self.request("GET", path, **kwargs).data

    # -- retry machinery ------------------------------------------------------------------------

    def _wait_seconds(self, rs: RetryCallState) -> float:
        exc = rs.outcome.exception() if rs.outcome else None
        server_wait = exc.server_wait if isinstance(exc, _Retry) else None
        if server_wait is not None:
            return server_wait
        attempt = rs.attempt_number
        backoff = min(self.retry.backoff_max, self.retry.backoff_initial * (2 ** (attempt - 1)))
        return backoff + self._rng.uniform(0, self.retry.jitter)

    def _should_stop(self, rs: RetryCallState) -> bool:
        if rs.attempt_number >= self.retry.max_attempts:
            return True
        return _call_of(rs).waited + rs.upcoming_sleep > self.retry.max_wait_seconds

    def _before_sleep(self, rs: RetryCallState) -> None:
        call = _call_of(rs)
        call.waited += rs.upcoming_sleep
        exc = rs.outcome.exception() if rs.outcome else None
        if isinstance(exc, _Retry) and exc.maybe_applied:
            call.maybe_applied = True
        log.warning(
            "%s %s %s failed (attempt %d): %s; retrying in %.1fs",
            self.profile.name, call.method, call.path, rs.attempt_number,
            exc.error.api_message if isinstance(exc, _Retry) else exc, rs.upcoming_sleep,
        )

    # -- one attempt ----------------------------------------------------------------------------

    def _acquire(self, call: _Call) -> None:
        if self.limiter is None:
            return
        budget = max(0.0, self.retry.max_wait_seconds - call.waited)
        try:
            call.waited += self.limiter.acquire(max_block_wait=budget, max_hold_wait=defer_threshold())
        except HoldTooLongError as hold:
            # A deferrable task: hand the wait to the triggerer (core/deferral.py); nothing was sent.
            raise self._long_wait(
                "the API key is blocked after a rate-limit breach" if hold.blocked
                else "the server asked to pause calls (RateLimit-Reset / Retry-After)",
                hold.wait_seconds, "key block" if hold.blocked else "pause", None,
                {"api": self.profile.name, "status": 429, "method": call.method, "path": call.path},
            ) from None
        except KeyBlockedError as held:
            if not held.blocked:  # a pause the server asked for (RateLimit-Reset, Retry-After)
                raise GtmRateLimitError(
                    f"the server asked to pause calls for {held.wait_seconds:.0f}s, longer than the wait budget of "
                    f"{self.retry.max_wait_seconds:g}s (connection extra 'max_wait_seconds'); nothing was sent",
                    retry_after=held.wait_seconds,
                    api=self.profile.name, status=429, method=call.method, path=call.path,
                ) from None
            raise GtmRateLimitError(
                "the API key is blocked after a rate-limit breach and the block outlasts the wait "
                f"budget of {self.retry.max_wait_seconds:g}s",
                retry_after=held.wait_seconds,
                blocked_until=self.timer.wall_time_after(held.wait_seconds),
                api=self.profile.name, status=429, method=call.method, path=call.path,
            ) from None

    def _long_wait(
        self, message: str, seconds: float, reason: str, retry_after: float | None, err_kwargs: dict[str, Any],
    ) -> GtmLongWaitError:
        """The error that makes a deferrable task defer until a wait ends (core/deferral.py)."""
        resume_at = self.timer.wall_time_after(seconds)
        log.info("%s: %s of %.0fs, until %s: deferring instead of waiting", self.profile.name, reason, seconds,
                 resume_at.isoformat())
        return GtmLongWaitError(
            message, wait_seconds=seconds, resume_at=resume_at, reason=reason, retry_after=retry_after,
            blocked_until=resume_at if reason == "key block" else None, **err_kwargs,
        )

    def _attempt(self, call: _Call) -> ApiResponse:
        self._acquire(call)
        err_kwargs: dict[str, Any] = {"api": self.profile.name, "method": call.method, "path": call.path}
        try:
            raw = self.transport.send(TransportRequest(
                call.method, join_url(self.base_url, call.path), call.params, call.json, call.data, call.files,
                call.headers, self.timeout, self.deadline, self.max_response_bytes,
            ))
        except RedirectRefused as refused:
            raise GtmClientError(refused.message, status=refused.status, **err_kwargs) from None
        except CallBoundExceeded as bound:
            if bound.limit == "max_response_bytes" and call.safe:
                # The same page will be as large on the next attempt: fail this call (retryable, so
                # Airflow's retry tries again later) instead of reading the cap again and again.
                raise GtmTransportError(bound.reason, **err_kwargs) from None
            if bound.not_sent or call.safe:
                raise _Retry(GtmTransportError(bound.reason, **err_kwargs), maybe_applied=not bound.not_sent) from None
            raise GtmOutcomeUnknownError(
                f"outcome unknown, the request may have been applied ({bound.reason})", **err_kwargs
            ) from None
        except SendError as failed:
            if failed.not_sent or call.safe:
                error = GtmTransportError(failed.reason, **err_kwargs)
                raise _Retry(error, maybe_applied=not failed.not_sent) from None
            raise GtmOutcomeUnknownError(
                f"outcome unknown, the request may have been applied ({failed.reason})", **err_kwargs
            ) from None

        if self.limiter is not None and self.profile.follow_ratelimit_headers:
            self.limiter.observe_headers(raw.headers)

        body = decode_body(raw)
        status = self.profile.status_of(raw.status, body.data)

        if status >= 400 and status not in call.accept_statuses:
            self._raise_for_status(status, raw, body, call.safe, err_kwargs)

        if call.expect_json and not body.is_json and status < 400:
            reason = f"the response is not JSON: {' '.join(body.text.split())[:120]!r}"
            if call.safe:
                raise _Retry(GtmTransportError(reason, status=status, **err_kwargs), maybe_applied=True)
            raise GtmOutcomeUnknownError(f"outcome unknown, {reason}", status=status, **err_kwargs)
        if status < 300:
            message = self.profile.body_error(body.data)
            if message is not None:
                raise GtmClientError(message, status=status, body=body.data, **err_kwargs)
        return ApiResponse(status=status, headers=raw.headers, data=body.data, text=body.text, url=raw.url,
                           more_documents=body.more_documents)

    def _raise_for_status(
        self, status: int, raw: TransportResponse, body: DecodedBody, safe: bool, err_kwargs: dict[str, Any],
    ) -> None:
        message = self.profile.error_message(body.data, body.text) or raw.reason or f"HTTP {status}"
        err_kwargs = {**err_kwargs, "status": status, "body": body.data}
        if status == 429:
            server_wait = parse_retry_after(raw.headers.get("Retry-After"), self.timer.utcnow().timestamp())
            if server_wait is None:
                reset = raw.headers.get("RateLimit-Reset")
                server_wait = parse_retry_after(reset, 0) if reset else None
            threshold = defer_threshold()
            if self.profile.block_on_429_seconds is not None and self.limiter is not None:
                # The key is now blocked: record it; the next attempt waits in the limiter (or
                # fails at once, naming the end of the block, when the budget is too small).
                block = server_wait or self.profile.block_on_429_seconds
                self.limiter.block_for(block)
                if threshold is not None and block > threshold:
                    raise self._long_wait(message, block, "key block", server_wait, err_kwargs)
                raise _Retry(GtmRateLimitError(message, retry_after=server_wait, **err_kwargs), 0.0)
            if threshold is not None and server_wait is not None and server_wait > threshold:
                if self.limiter is not None:
                    self.limiter.pause_for(server_wait)  # every process using the key waits too
                raise self._long_wait(message, server_wait, "Retry-After", server_wait, err_kwargs)
            raise _Retry(GtmRateLimitError(message, retry_after=server_wait, **err_kwargs), server_wait)
        if status in RETRYABLE_STATUSES:
            if safe:
                raise _Retry(GtmServerError(message, **err_kwargs), maybe_applied=True)
            raise GtmOutcomeUnknownError(
                f"outcome unknown, the request may have been applied ({message})", **err_kwargs
            )
        raise _error_class(status)(message, **err_kwargs)


def _error_class(status: int) -> type[GtmApiError]:
    if status in (401, 403):
        return GtmAuthError
    if status == 404:
        return GtmNotFoundError
    if status == 409:
        return GtmConflictError
    if status == 429:
        return GtmRateLimitError
    if status >= 500:
        return GtmServerError
    return GtmClientError
