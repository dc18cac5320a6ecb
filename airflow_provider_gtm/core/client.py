"""The one HTTP client every hook uses: session, timeouts, rate limiting, retries, error parsing.

Written once for the four APIs. What differs per API (its error shape, its rate limits, whether a
429 blocks the key) is described by an :class:`ApiProfile` that the API's hook module supplies.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import random
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth, _basic_auth_str
from requests.structures import CaseInsensitiveDict
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from airflow_provider_gtm.core import jsonio, redact
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
from airflow_provider_gtm.core.urls import join_url

log = logging.getLogger(__name__)
redact.protect(log)  # no secret reaches a log line, even outside a task (core/redact.py)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Redirects followed per call, and only those that keep scheme, host and port.
MAX_REDIRECTS = 3


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


@dataclass
class _CallState:
    waited: float = 0.0
    last_server_wait: float | None = None
    maybe_applied: bool = False


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


def _was_not_sent(exc: requests.RequestException) -> bool:
    """Whether the request provably never reached the server (connect refused or connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason: Any = exc.args[0] if exc.args else None
        inner = getattr(reason, "reason", reason)
        name = type(inner).__name__
        return name in {"NewConnectionError", "ConnectionRefusedError", "NameResolutionError"} or (
            "Connection refused" in str(inner) or "NewConnectionError" in str(inner)
        )
    return False


class RestClient:
    """A pooled, timed-out, rate-limited, retrying JSON client for one API connection.

    :param profile: the API's :class:`ApiProfile`.
    :param base_url: validated base URL (may carry a path prefix).
    :param auth: a ``requests`` auth object (HTTP Basic) or ``None``.
    :param headers: headers sent on every call (e.g. the API key header).
    :param timeout: ``(connect, read)`` seconds for every call.
    :param limiter: shared client-side rate limiter, or ``None``.
    :param retry: retry policy.
    :param timer: clock and sleep; a :class:`~airflow_provider_gtm.core.timing.FakeTimer` in tests.
    """

    def __init__(
        self,
        *,
        profile: ApiProfile,
        base_url: str,
        auth: requests.auth.AuthBase | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timer: Timer = REAL_TIMER,
        user_agent: str = "airflow-provider-gtm",
        pool_size: int = 8,
    ) -> None:
        self.profile = profile
        self.base_url = base_url
        self.timeout = timeout
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.timer = timer
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
        if headers:
            self.session.headers.update(headers)
        if isinstance(auth, HTTPBasicAuth):
            # Encoded once: a session header, not an auth object re-encoding it on every call.
            # requests still drops it on a redirect to another host, as it drops auth headers.
            self.session.headers["Authorization"] = _basic_auth_str(auth.username, auth.password)
        else:
            self.session.auth = auth
        self._rng = random.Random()
        # Resolved once per client, not per call: requests otherwise re-reads the environment's
        # proxy and CA settings on every request (~0.2-0.9 ms each). The environment is still
        # honoured (HTTP(S)_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE), as of the client's
        # creation; every call goes to base_url's host, so one lookup answers for all of them.
        env = self.session.merge_environment_settings(base_url, {}, None, None, None)
        self.session.trust_env = False
        self._proxies: dict[str, str] = dict(env.get("proxies") or {})
        verify = env.get("verify")
        self._verify: bool | str = True if verify is None else verify
        self._cert: Any = env.get("cert")
        # One retry controller for every call; what one call has spent lives in its own _CallState
        # (tenacity keeps its per-call iteration state thread-local, so threads may share it).
        self._retrying = Retrying(
            retry=retry_if_exception_type(_Retry),
            wait=self._wait_seconds,
            stop=self._should_stop,
            sleep=lambda seconds: self.timer.sleep(seconds),
            reraise=True,
            before_sleep=self._before_sleep,
        )

    def close(self) -> None:
        self.session.close()

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
        safe = method in SAFE_METHODS if safe_to_retry is None else safe_to_retry
        state = _CallState()
        try:
            resp: ApiResponse = self._retrying(
                self._attempt, method, path, state, safe, params, json, data, files, headers,
                accept_statuses, expect_json,
            )
            resp.earlier_attempt_may_have_applied = state.maybe_applied
            return resp
        except _Retry as final:
            raise final.error from None

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

    @staticmethod
    def _call_state(rs: RetryCallState) -> _CallState:
        # request() passes (method, path, state, ...) to _attempt: the call's own state.
        state = rs.args[2]
        assert isinstance(state, _CallState)
        return state

    def _wait_seconds(self, rs: RetryCallState) -> float:
        state = self._call_state(rs)
        exc = rs.outcome.exception() if rs.outcome else None
        server_wait = exc.server_wait if isinstance(exc, _Retry) else None
        state.last_server_wait = server_wait
        if server_wait is not None:
            return server_wait
        attempt = rs.attempt_number
        backoff = min(self.retry.backoff_max, self.retry.backoff_initial * (2 ** (attempt - 1)))
        return backoff + self._rng.uniform(0, self.retry.jitter)

    def _should_stop(self, rs: RetryCallState) -> bool:
        if rs.attempt_number >= self.retry.max_attempts:
            return True
        return self._call_state(rs).waited + rs.upcoming_sleep > self.retry.max_wait_seconds

    def _before_sleep(self, rs: RetryCallState) -> None:
        self._call_state(rs).waited += rs.upcoming_sleep
        method, path = rs.args[0], rs.args[1]
        exc = rs.outcome.exception() if rs.outcome else None
        if isinstance(exc, _Retry) and exc.maybe_applied:
            self._call_state(rs).maybe_applied = True
        log.warning(
            "%s %s %s failed (attempt %d): %s; retrying in %.1fs",
            self.profile.name, method, path, rs.attempt_number,
            exc.error.api_message if isinstance(exc, _Retry) else exc, rs.upcoming_sleep,
        )

    # -- one attempt ----------------------------------------------------------------------------

    def _acquire(self, state: _CallState, method: str, path: str) -> None:
        if self.limiter is None:
            return
        budget = max(0.0, self.retry.max_wait_seconds - state.waited)
        try:
            state.waited += self.limiter.acquire(max_block_wait=budget, max_hold_wait=defer_threshold())
        except HoldTooLongError as hold:
            # A deferrable task: hand the wait to the triggerer (core/deferral.py); nothing was sent.
            raise self._long_wait(
                "the API key is blocked after a rate-limit breach" if hold.blocked
                else "the server asked to pause calls (RateLimit-Reset / Retry-After)",
                hold.wait_seconds, "key block" if hold.blocked else "pause", None,
                {"api": self.profile.name, "status": 429, "method": method, "path": path},
            ) from None
        except KeyBlockedError as blocked:
            raise GtmRateLimitError(
                "the API key is blocked after a rate-limit breach and the block outlasts the wait "
                f"budget of {self.retry.max_wait_seconds:g}s",
                retry_after=blocked.wait_seconds,
                blocked_until=self.timer.wall_time_after(blocked.wait_seconds),
                api=self.profile.name, status=429, method=method, path=path,
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

    def _attempt(
        self,
        method: str,
        path: str,
        state: _CallState,
        safe: bool,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Any,
        files: Any,
        headers: Mapping[str, str] | None,
        accept_statuses: Collection[int],
        expect_json: bool,
    ) -> ApiResponse:
        self._acquire(state, method, path)
        url = join_url(self.base_url, path)
        err_kwargs: dict[str, Any] = {"api": self.profile.name, "method": method, "path": path}
        try:
            prepared = self._prepare(method, url, params, json, data, files, headers)
            # Never let requests follow a redirect: it would forward the API key header to any host.
            resp = self.session.send(
                prepared,
                timeout=self.timeout, allow_redirects=False, proxies=self._proxies, stream=False,
                verify=self._verify, cert=self._cert,
            )
            if resp.is_redirect:
                resp = self._follow_same_origin(resp, prepared, err_kwargs)
            content = resp.content  # read fully here so a truncated body fails inside the attempt
        except requests.RequestException as exc:
            reason = f"{type(exc).__name__}: {_short(exc)}"
            if _was_not_sent(exc) or safe:
                raise _Retry(GtmTransportError(reason, **err_kwargs), maybe_applied=not _was_not_sent(exc)) from None
            raise GtmOutcomeUnknownError(
                f"outcome unknown, the request may have been applied ({reason})", **err_kwargs
            ) from None

        if self.limiter is not None and self.profile.follow_ratelimit_headers:
            self.limiter.observe_headers(resp.headers)

        text = decode_text(content, resp.headers.get("Content-Type"), resp.encoding)
        body, more_documents = _decode_json(text, content)
        status = self.profile.status_of(resp.status_code, None if body is _NOT_JSON else body)

        if status >= 400 and status not in accept_statuses:
            self._raise_for_status(status, resp, body, text, safe, err_kwargs)

        if expect_json and text and body is _NOT_JSON and status < 400:
            reason = f"the response is not JSON: {' '.join(text.split())[:120]!r}"
            if safe:
                raise _Retry(GtmTransportError(reason, status=status, **err_kwargs), maybe_applied=True)
            raise GtmOutcomeUnknownError(f"outcome unknown, {reason}", status=status, **err_kwargs)
        parsed = None if body is _NOT_JSON else body
        if status < 300:
            message = self.profile.body_error(parsed)
            if message is not None:
                raise GtmClientError(message, status=status, body=parsed, **err_kwargs)
        return ApiResponse(status=status, headers=resp.headers, data=parsed, text=text, url=resp.url,
                           more_documents=more_documents)

    def _follow_same_origin(
        self, resp: requests.Response, prepared: requests.PreparedRequest, err_kwargs: dict[str, Any],
    ) -> requests.Response:
        """Follow a redirect that keeps scheme, host and port (at most :data:`MAX_REDIRECTS`).

        Any other target is refused before anything is sent to it: the request carries the
        connection's credentials, which must never reach another origin.
        """
        for _ in range(MAX_REDIRECTS):
            target = urljoin(resp.url or prepared.url or "", resp.headers["Location"])
            if _origin(target) != _origin(prepared.url or ""):
                raise GtmClientError(
                    f"redirect to another origin refused: HTTP {resp.status_code} to {_without_query(target)}; "
                    "only redirects that keep scheme, host and port are followed (the request carries the "
                    "connection's credentials)", status=resp.status_code, **err_kwargs,
                )
            resp.close()
            prepared = prepared.copy()
            prepared.prepare_url(target, None)
            if resp.status_code == 303 or (resp.status_code in (301, 302) and prepared.method not in SAFE_METHODS):
                prepared.method, prepared.body = "GET", None  # what every browser (and requests) does
                for name in ("Content-Type", "Content-Length", "Transfer-Encoding"):
                    prepared.headers.pop(name, None)
            resp = self.session.send(
                prepared, timeout=self.timeout, allow_redirects=False, proxies=self._proxies, stream=False,
                verify=self._verify, cert=self._cert,
            )
            if not resp.is_redirect:
                return resp
        raise GtmClientError(f"more than {MAX_REDIRECTS} redirects", status=resp.status_code, **err_kwargs)

    def _prepare(
        self, method: str, url: str, params: Mapping[str, Any] | None, json: Any, data: Any, files: Any,
        headers: Mapping[str, str] | None,
    ) -> requests.PreparedRequest:
        """The request as ``Session.request`` would prepare it, without its per-call merging.

        ``Session.request`` re-merges the session's headers, cookies, hooks and environment on
        every call (~0.15-0.25 ms); here the session's headers (auth included, encoded once) are
        laid under the call's own, and its cookies and hooks are used as they are.
        """
        merged = CaseInsensitiveDict(self.session.headers)
        if headers:
            merged.update(headers)
            for name in [name for name, value in merged.items() if value is None]:
                del merged[name]
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=method, url=url, headers=merged, files=files, data=data, json=json, params=params,
            auth=self.session.auth, cookies=self.session.cookies if len(self.session.cookies) else None,
            hooks=self.session.hooks,
        )
        return prepared

    def _raise_for_status(
        self, status: int, resp: requests.Response, body: Any, text: str, safe: bool,
        err_kwargs: dict[str, Any],
    ) -> None:
        parsed = None if body is _NOT_JSON else body
        message = self.profile.error_message(parsed, text) or resp.reason or f"HTTP {status}"
        err_kwargs = {**err_kwargs, "status": status, "body": parsed}
        if status == 429:
            server_wait = parse_retry_after(resp.headers.get("Retry-After"), self.timer.utcnow().timestamp())
            if server_wait is None:
                reset = resp.headers.get("RateLimit-Reset")
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


_NOT_JSON: Any = object()
_JSON_DECODER = jsonlib.JSONDecoder()


def decode_text(content: bytes, content_type: str | None, declared: str | None) -> str:
    """A body's text: UTF-8 whatever the Content-Type says (JSON is UTF-8, RFC 8259 section 8.1).

    ``requests`` takes a ``text/*`` type without charset for ISO-8859-1, which turns every
    non-ASCII character of a JSON body into mojibake. Only bytes that are not valid UTF-8 fall back
    to a charset the server declared explicitly, else to UTF-8 with replacement characters.
    """
    if not content:
        return ""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        explicit = declared if declared and "charset=" in (content_type or "").lower() else None
        try:
            return content.decode(explicit or "utf-8", errors="replace")
        except LookupError:
            return content.decode("utf-8", errors="replace")


def _decode_json(text: str, content: bytes = b"") -> tuple[Any, list[Any]]:
    """``(first document, later documents that differ from it)``; ``_NOT_JSON`` when not JSON."""
    if not text:
        return None, []
    if content:
        # The common case, one UTF-8 document, by msgspec straight from the bytes (core/jsonio.py).
        try:
            return jsonio.decode_bytes(content), []
        except ValueError:
            pass
    try:
        return jsonlib.loads(text), []
    except ValueError:
        pass
    # Several documents back to back (a handler that writes its body twice)? Every part must parse.
    documents: list[Any] = []
    position, end = 0, len(text)
    try:
        while True:
            while position < end and text[position].isspace():
                position += 1
            if position >= end:
                break
            document, position = _JSON_DECODER.raw_decode(text, position)
            documents.append(document)
    except ValueError:
        return _NOT_JSON, []
    first = documents[0]
    log.debug("the answer holds %d JSON documents back to back; reading the first", len(documents))
    return first, [document for document in documents[1:] if document != first]


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: an origin nothing equals
        return scheme, "\x00invalid", None
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


def _without_query(url: str) -> str:
    """``scheme://host[:port]/path`` of ``url``: no userinfo, no query, no fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    try:
        netloc += f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        pass
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]

