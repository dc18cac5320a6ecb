"""Sending one request and reading its whole answer: the seam between the client's policy and HTTP.

The rule it enforces: the connection's credentials never leave its origin. A redirect is followed
only when it keeps scheme, host and port, by the transport itself and before anything is sent to the
target; ``requests``' own redirect handling is never used (it would forward the API key header to
any host).

The second rule: every call is bounded. One send (connect, TLS, headers, body, same-origin
redirects included) ends by its total ``deadline`` whatever the server does: a watchdog thread shuts
the call's sockets down at the deadline, so a server that trickles headers or a body a byte at a time
(each read within ``read_timeout``) cannot hold the task. The decoded answer is counted while it is
streamed (gzip and deflate decoded by urllib3 in bounded steps) and the read stops at ``max_bytes``,
so a small gzip body that inflates to a gigabyte costs at most the cap. A breach is a
:class:`CallBoundExceeded` naming the limit, its value and the connection extra that changes it.

A transport knows nothing of retries, rate limits or error classes (core/client.py decides those).
Like httpx's ``BaseTransport.handle_request`` it takes and returns plain values: a
:class:`TransportRequest` in, a :class:`TransportResponse` out (status, headers, the whole body as
bytes, the final URL), or a :class:`SendError` that says whether the request provably never left
this machine, or a :class:`RedirectRefused`.

Bodies are decoded here too, by one rule: JSON is UTF-8 whatever the Content-Type says, and a body
of several JSON documents back to back is read as its first.
"""

from __future__ import annotations

import heapq
import itertools
import json as jsonlib
import logging
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth, _basic_auth_str
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import connectionpool
from urllib3 import exceptions as urllib3_errors
from urllib3.connection import HTTPConnection, HTTPSConnection

from airflow_provider_gtm.core import jsonio, redact

log = logging.getLogger(__name__)
redact.protect(log)  # no secret reaches a log line, even outside a task (core/redact.py)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Redirects followed per call, and only those that keep scheme, host and port.
MAX_REDIRECTS = 3
#: The decoded answer's cap when the connection sets none (extra ``max_response_bytes``): far above
#: the largest real page (a 1,000-record page of any of the four APIs is a few MB).
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: Decoded bytes asked for per read of a compressed body. urllib3 inflates at most this much per
#: step, so one step of a gzip bomb stays small; at the very end of a body its decoder may flush what
#: is left of one raw read (at most ~1000x this), which is why the step is small.
READ_CHUNK_BYTES = 16 * 1024
#: Per read of a body sent as it is: no inflation, so a larger step costs no memory and saves time
#: (a 3.3 MB page: 16 KiB steps ~25 ms, 64 KiB ~16-20 ms on loopback).
PLAIN_READ_CHUNK_BYTES = 64 * 1024


def default_deadline(timeout: tuple[float, float]) -> float:
    """The total deadline of one call when the connection sets none: connect plus twice the read timeout.

    Twice: a healthy answer takes at most ``read_timeout`` to start and a large page as long again to
    arrive; only a server that keeps a call alive on purpose (or a dying link) needs longer.
    """
    return timeout[0] + 2 * timeout[1]


# -- the seam ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransportRequest:
    """One request as the client's policy sees it: nothing ``requests``-specific.

    ``headers`` are laid over the transport's own (a ``None`` value removes one of them);
    ``timeout`` is ``(connect, read)`` seconds for each exchange, redirects included.
    ``deadline``: seconds the whole send may take (connect, headers and body, redirects included);
    ``None`` bounds each socket operation only. ``max_bytes``: the most decoded body bytes read;
    ``None`` reads any size.
    """

    method: str
    url: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Any = None
    files: Any = None
    headers: Mapping[str, str] | None = None
    timeout: tuple[float, float] = (10.0, 60.0)
    deadline: float | None = None
    max_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class TransportResponse:
    """The final answer, read in full: status, headers (case-insensitive), body bytes, final URL.

    ``reason`` is the status line's text (a last resort for an error message).
    """

    status: int
    headers: Mapping[str, str]
    content: bytes
    url: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        # Header names are case-insensitive on the wire; a transport that hands back a plain dict
        # (a test's fake) must not make "retry-after" and "Retry-After" two different headers.
        if not isinstance(self.headers, CaseInsensitiveDict):
            object.__setattr__(self, "headers", CaseInsensitiveDict(self.headers))


class TransportError(Exception):
    """The transport produced no answer for the policy to judge."""


class SendError(TransportError):
    """The exchange failed (connect, TLS, timeout, a dropped or truncated answer).

    :param reason: a short description without credentials' context (``"ReadTimeout: ..."``).
    :param not_sent: the request provably never reached the server (connection refused, connect
        timeout, name not resolved): resending it cannot apply anything twice.
    """

    def __init__(self, reason: str, *, not_sent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_sent = not_sent


class CallBoundExceeded(SendError):
    """A call ran past its total deadline or its answer past the size cap; the exchange was abandoned.

    :param limit: the connection extra that sets the bound (``total_timeout`` or ``max_response_bytes``).
    :param value: the bound's value (seconds or bytes).
    """

    def __init__(self, reason: str, *, not_sent: bool, limit: str, value: float) -> None:
        super().__init__(reason, not_sent=not_sent)
        self.limit = limit
        self.value = value


class RedirectRefused(TransportError):
    """A redirect that was not followed (another origin, or too many); nothing was sent to its target.

    :param status: the redirect's HTTP status.
    """

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Transport:
    """Sends one request and returns its whole answer; see the module docstring for the contract.

    Implementations must be safe to call from several threads at once (one client is shared).
    """

    def send(self, request: TransportRequest) -> TransportResponse:
        """Send ``request`` and return the final answer, or raise a :class:`TransportError`."""
        raise NotImplementedError

    def close(self) -> None:
        """Release pooled connections; the default holds none."""


# -- the bound of one call: what it touched, and a watchdog for its deadline ------------------------


class _Guard:
    """One send in flight: its deadline, the sockets it used, and whether a request byte was written.

    ``wrote`` is what makes an error "provably not sent": it turns True only when the connection
    writes the request itself (a proxy's CONNECT and the TLS handshake do not count), so a failure
    while ``connected`` and not ``wrote`` never reached the API, whatever its exception type.
    """

    __slots__ = ("at", "connected", "done", "expired", "lock", "sockets", "wrote")

    def __init__(self, at: float) -> None:
        self.at = at  # time.monotonic() of the deadline
        self.sockets: list[socket.socket] = []
        self.connected = False
        self.wrote = False
        self.expired = False
        self.done = False
        self.lock = threading.Lock()

    def watch(self, sock: Any) -> None:
        # A TLS-in-TLS tunnel hands over an SSLTransport: its plain socket is what can be shut down.
        raw = sock if isinstance(sock, socket.socket) else getattr(sock, "socket", None)
        if isinstance(raw, socket.socket):
            with self.lock:
                if self.expired:
                    _shut(raw)  # the deadline passed while this socket was being made
                elif raw not in self.sockets:
                    self.sockets.append(raw)

    def expire(self) -> None:
        """The deadline passed: shut every socket of the call down, so that its blocked read returns."""
        with self.lock:
            if self.done:
                return
            self.expired = True
            for sock in self.sockets:
                _shut(sock)

    def finish(self) -> bool:
        """The send is over (answer read or failed); ``True`` when its deadline had passed first."""
        with self.lock:
            self.done = True
            return self.expired


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also on an SSLSocket: SSLSocket.shutdown would drop its TLS
    # state under the feet of the thread reading from it. A socket closed meanwhile is skipped.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class _Watchdog:
    """One daemon thread for every transport of the process: it expires each call at its deadline.

    Calls are kept in a heap by deadline; a call that ends first is marked done and dropped when it
    reaches the top (or when finished calls pile up), so arming and ending a call cost a heap push.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Guard]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, guard: _Guard) -> None:
        with self._cond:
            if len(self._heap) > 1024:  # many short calls under a long deadline: drop the finished ones
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (guard.at, next(self._order), guard))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="gtm-call-deadlines", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is guard:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                at, _, guard = self._heap[0]
                if guard.done:
                    heapq.heappop(self._heap)
                    continue
                left = at - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._heap)
            guard.expire()


_WATCHDOG = _Watchdog()
_ACTIVE = threading.local()  # the _Guard of the send running on this thread, if any


def _active_guard() -> _Guard | None:
    guard: _Guard | None = getattr(_ACTIVE, "guard", None)
    return guard


class _BoundedConnectionMixin:
    """Reports a connection's sockets and its first request byte to the send running on this thread."""

    sock: Any
    auto_open: int
    _gtm_connecting = False

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        guard = _active_guard()
        if guard is not None:
            guard.connected = True
            guard.watch(sock)  # before the TLS handshake: a handshake trickled byte by byte is bounded too
        return sock

    def connect(self) -> None:
        # Bytes written while connecting (a proxy's CONNECT) are not the request.
        self._gtm_connecting = True
        try:
            super().connect()  # type: ignore[misc]
        finally:
            self._gtm_connecting = False

    def send(self, data: Any) -> None:
        guard = _active_guard()
        if guard is not None and not self._gtm_connecting:
            if self.sock is None and self.auto_open:
                self.connect()
            guard.connected = True
            guard.watch(self.sock)  # a pooled connection was made by an earlier call
            guard.wrote = True
        super().send(data)  # type: ignore[misc]


class _BoundedHTTPConnection(_BoundedConnectionMixin, HTTPConnection):
    pass


class _BoundedHTTPSConnection(_BoundedConnectionMixin, HTTPSConnection):
    pass


# urllib3's own names: its error messages name the pool class ("HTTPSConnectionPool(host=...)"), and
# they read as before.
class HTTPConnectionPool(connectionpool.HTTPConnectionPool):
    ConnectionCls = _BoundedHTTPConnection


class HTTPSConnectionPool(connectionpool.HTTPSConnectionPool):
    ConnectionCls = _BoundedHTTPSConnection


_POOL_CLASSES = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}


class _BoundedAdapter(HTTPAdapter):
    """``requests``' adapter whose connections report to the call's :class:`_Guard` (proxied ones too)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOL_CLASSES
        return manager


# -- the default transport ------------------------------------------------------------------------


class RequestsTransport(Transport):
    """A pooled ``requests.Session`` for one base URL.

    :param base_url: the API's base URL: its host decides the proxy and CA settings, once.
    :param auth: a ``requests`` auth object (HTTP Basic is encoded once into a header) or ``None``.
    :param headers: headers sent on every call (e.g. the API key header).
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: requests.auth.AuthBase | None = None,
        headers: Mapping[str, str] | None = None,
        user_agent: str = "airflow-provider-gtm",
        pool_size: int = 8,
    ) -> None:
        self.session = requests.Session()
        adapter = _BoundedAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
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

    def close(self) -> None:
        self.session.close()

    def send(self, request: TransportRequest) -> TransportResponse:
        deadline = request.deadline
        guard = _Guard(time.monotonic() + deadline if deadline is not None else float("inf"))
        if deadline is not None:
            _WATCHDOG.arm(guard)
        _ACTIVE.guard = guard
        failure: SendError | None = None
        try:
            prepared = self._prepare(request)
            resp = self._exchange(prepared, request.timeout)
            if resp.is_redirect:
                resp = self._follow_same_origin(resp, prepared, request.timeout)
            # Read fully here, within the bounds, so a truncated, endless or oversized body fails as
            # this exchange's error.
            content = self._read(resp, request, guard)
        except requests.RequestException as exc:
            failure = SendError(f"{type(exc).__name__}: {_short(exc)}", not_sent=_was_not_sent(exc, guard))
        finally:
            _ACTIVE.guard = None
            expired = guard.finish()
        if expired:
            # Whatever the shut-down socket made of it (a dropped connection, or a body without
            # Content-Length that merely looks complete), the call ran out of time.
            assert deadline is not None
            reason = (
                f"the call took longer than its total deadline of {deadline:g}s (connect, headers and body); "
                "the connection extra 'total_timeout' sets it"
            )
            log.warning("%s %s: %s", request.method, _without_query(request.url), reason)
            raise CallBoundExceeded(reason, not_sent=not guard.wrote, limit="total_timeout", value=deadline)
        if failure is not None:
            raise failure
        return TransportResponse(
            status=resp.status_code, headers=resp.headers, content=content, url=resp.url, reason=resp.reason or "",
        )

    def _read(self, resp: requests.Response, request: TransportRequest, guard: _Guard) -> bytes:
        """The decoded body, counted while it streams in; stops at ``request.max_bytes``."""
        cap = request.max_bytes
        declared = resp.headers.get("Content-Length", "")
        if cap is not None and declared.isdigit() and not resp.headers.get("Content-Encoding") and int(declared) > cap:
            resp.close()
            raise self._too_large(request, cap, int(declared), "declared")
        body = bytearray()
        step = READ_CHUNK_BYTES if resp.headers.get("Content-Encoding") else PLAIN_READ_CHUNK_BYTES
        for chunk in resp.iter_content(step):
            body += chunk
            if cap is not None and len(body) > cap:
                resp.close()  # the connection is dropped, never handed back half read
                raise self._too_large(request, cap, len(body), "read")
            if time.monotonic() >= guard.at:
                guard.expire()  # the watchdog is a little late: stop here all the same
                resp.close()
                break
        return bytes(body)

    @staticmethod
    def _too_large(request: TransportRequest, cap: int, size: int, how: str) -> CallBoundExceeded:
        seen = f"the server declared {size} bytes" if how == "declared" else f"stopped reading at {size} bytes"
        reason = (
            f"the answer is larger than max_response_bytes={cap} (decoded bytes; {seen}); raise the "
            "connection extra 'max_response_bytes' if answers this large are expected"
        )
        log.warning("%s %s: %s", request.method, _without_query(request.url), reason)
        return CallBoundExceeded(reason, not_sent=False, limit="max_response_bytes", value=cap)

    def _exchange(self, prepared: requests.PreparedRequest, timeout: tuple[float, float]) -> requests.Response:
        # Never let requests follow a redirect: it would forward the API key header to any host.
        # Streamed: the body is read by _read, counted and bounded.
        return self.session.send(
            prepared, timeout=timeout, allow_redirects=False, proxies=self._proxies, stream=True,
            verify=self._verify, cert=self._cert,
        )

    def _follow_same_origin(
        self, resp: requests.Response, prepared: requests.PreparedRequest, timeout: tuple[float, float],
    ) -> requests.Response:
        """Follow a redirect that keeps scheme, host and port (at most :data:`MAX_REDIRECTS`).

        Any other target is refused before anything is sent to it: the request carries the
        connection's credentials, which must never reach another origin.
        """
        for _ in range(MAX_REDIRECTS):
            target = urljoin(resp.url or prepared.url or "", resp.headers["Location"])
            if _origin(target) != _origin(prepared.url or ""):
                resp.close()  # streamed: its connection is not handed back with a body unread
                raise RedirectRefused(
                    f"redirect to another origin refused: HTTP {resp.status_code} to {_without_query(target)}; "
                    "only redirects that keep scheme, host and port are followed (the request carries the "
                    "connection's credentials)", status=resp.status_code,
                )
            resp.close()
            prepared = prepared.copy()
            prepared.prepare_url(target, None)
            if resp.status_code == 303 or (resp.status_code in (301, 302) and prepared.method not in SAFE_METHODS):
                prepared.method, prepared.body = "GET", None  # what every browser (and requests) does
                for name in ("Content-Type", "Content-Length", "Transfer-Encoding"):
                    prepared.headers.pop(name, None)
            resp = self._exchange(prepared, timeout)
            if not resp.is_redirect:
                return resp
        resp.close()
        raise RedirectRefused(f"more than {MAX_REDIRECTS} redirects", status=resp.status_code)

    def _prepare(self, request: TransportRequest) -> requests.PreparedRequest:
        """The request as ``Session.request`` would prepare it, without its per-call merging.

        ``Session.request`` re-merges the session's headers, cookies, hooks and environment on
        every call (~0.15-0.25 ms); here the session's headers (auth included, encoded once) are
        laid under the call's own, and its cookies and hooks are used as they are.
        """
        merged = CaseInsensitiveDict(self.session.headers)
        if request.headers:
            merged.update(request.headers)
            for name in [name for name, value in merged.items() if value is None]:
                del merged[name]
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=request.method, url=request.url, headers=merged, files=request.files, data=request.data,
            json=request.json, params=request.params, auth=self.session.auth,
            cookies=self.session.cookies if len(self.session.cookies) else None, hooks=self.session.hooks,
        )
        return prepared


def _was_not_sent(exc: requests.RequestException, guard: _Guard) -> bool:
    """Whether the request provably never reached the server.

    By what the call did, when its connection said: a socket made and no request byte written (a
    refused or failed TLS handshake, a proxy refusing CONNECT) is not sent, whatever the error. When
    no connection of this transport saw the call (the name did not resolve, the connect failed, or
    a test mounted an adapter of its own), by the exception's type; its words only when it carries
    nothing else.
    """
    if guard.wrote:
        return False
    if guard.connected:
        return True
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError | requests.exceptions.ProxyError):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    inner: Any = exc.args[0] if exc.args else None
    for _ in range(6):  # requests' error -> urllib3's MaxRetryError -> its reason -> the OS error
        if isinstance(inner, _CONNECT_PHASE_ERRORS):
            return True
        if isinstance(inner, urllib3_errors.MaxRetryError):
            inner = inner.reason
        elif isinstance(inner, BaseException):
            inner = inner.__cause__ or inner.__context__
        elif isinstance(inner, str):
            # Only words to go by (an error built from a message, as some adapters raise): the
            # names urllib3 gives a connect that failed.
            return "NewConnectionError" in inner or "Connection refused" in inner
        else:
            return False
    return False


#: Errors raised before a request is written: connecting, resolving the name, reaching a proxy.
_CONNECT_PHASE_ERRORS: tuple[type[BaseException], ...] = (
    urllib3_errors.NewConnectionError,  # NameResolutionError is one
    urllib3_errors.ConnectTimeoutError,
    urllib3_errors.ProxyError,
    ConnectionRefusedError,
    socket.gaierror,
)


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


# -- decoding ---------------------------------------------------------------------------------------

NOT_JSON: Any = object()
"""What :func:`_decode_json` returns for a body that is text but not JSON."""
_JSON_DECODER = jsonlib.JSONDecoder()


@dataclass(frozen=True, slots=True)
class DecodedBody:
    """A body as text and as JSON: ``data`` is the first document, ``None`` when empty or not JSON."""

    text: str
    data: Any
    is_json: bool
    more_documents: list[Any] = field(default_factory=list)


def decode_body(resp: TransportResponse) -> DecodedBody:
    """An answer's body decoded once: its text, its first JSON document and any later ones.

    ``is_json`` is False only for a non-empty body that is not JSON; an empty body is JSON ``None``.
    """
    text = decode_text(resp.content, resp.headers.get("Content-Type"))
    body, more_documents = _decode_json(text, resp.content)
    if body is NOT_JSON:
        return DecodedBody(text, None, False)
    return DecodedBody(text, body, True, more_documents)


def decode_text(content: bytes, content_type: str | None, declared: str | None = None) -> str:
    """A body's text: UTF-8 whatever the Content-Type says (JSON is UTF-8, RFC 8259 section 8.1).

    ``requests`` takes a ``text/*`` type without charset for ISO-8859-1, which turns every
    non-ASCII character of a JSON body into mojibake. Only bytes that are not valid UTF-8 fall back
    to a charset the server declared explicitly, else to UTF-8 with replacement characters.
    ``declared`` is that charset when the caller has it parsed already (read from ``content_type``
    otherwise).
    """
    if not content:
        return ""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        explicit = None
        if "charset=" in (content_type or "").lower():
            explicit = declared or get_encoding_from_headers({"content-type": content_type or ""})
        try:
            return content.decode(explicit or "utf-8", errors="replace")
        except LookupError:
            return content.decode("utf-8", errors="replace")


def _decode_json(text: str, content: bytes = b"") -> tuple[Any, list[Any]]:
    """``(first document, later documents that differ from it)``; :data:`NOT_JSON` when not JSON."""
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
        return NOT_JSON, []
    first = documents[0]
    log.debug("the answer holds %d JSON documents back to back; reading the first", len(documents))
    return first, [document for document in documents[1:] if document != first]
