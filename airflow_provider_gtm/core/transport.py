"""Sending one request and reading its whole answer: the seam between the client's policy and HTTP.

The rule it enforces: the connection's credentials never leave its origin. A redirect is followed
only when it keeps scheme, host and port, by the transport itself and before anything is sent to the
target; ``requests``' own redirect handling is never used (it would forward the API key header to
any host).

A transport knows nothing of retries, rate limits or error classes (core/client.py decides those).
Like httpx's ``BaseTransport.handle_request`` it takes and returns plain values: a
:class:`TransportRequest` in, a :class:`TransportResponse` out (status, headers, the whole body as
bytes, the final URL), or a :class:`SendError` that says whether the request provably never left
this machine, or a :class:`RedirectRefused`.

Bodies are decoded here too, by one rule: JSON is UTF-8 whatever the Content-Type says, and a body
of several JSON documents back to back is read as its first.
"""

from __future__ import annotations

import json as jsonlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth, _basic_auth_str
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from airflow_provider_gtm.core import jsonio, redact

log = logging.getLogger(__name__)
redact.protect(log)  # no secret reaches a log line, even outside a task (core/redact.py)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Redirects followed per call, and only those that keep scheme, host and port.
MAX_REDIRECTS = 3


# -- the seam ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransportRequest:
    """One request as the client's policy sees it: nothing ``requests``-specific.

    ``headers`` are laid over the transport's own (a ``None`` value removes one of them);
    ``timeout`` is ``(connect, read)`` seconds for each exchange, redirects included.
    """

    method: str
    url: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Any = None
    files: Any = None
    headers: Mapping[str, str] | None = None
    timeout: tuple[float, float] = (10.0, 60.0)


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
        try:
            prepared = self._prepare(request)
            resp = self._exchange(prepared, request.timeout)
            if resp.is_redirect:
                resp = self._follow_same_origin(resp, prepared, request.timeout)
            # Read fully here so a truncated body fails as this exchange's error. Bounds on the
            # answer (a size cap, a total deadline) belong here, at the one place a body is read.
            content = resp.content
        except requests.RequestException as exc:
            raise SendError(f"{type(exc).__name__}: {_short(exc)}", not_sent=_was_not_sent(exc)) from None
        return TransportResponse(
            status=resp.status_code, headers=resp.headers, content=content, url=resp.url, reason=resp.reason or "",
        )

    def _exchange(self, prepared: requests.PreparedRequest, timeout: tuple[float, float]) -> requests.Response:
        # Never let requests follow a redirect: it would forward the API key header to any host.
        return self.session.send(
            prepared, timeout=timeout, allow_redirects=False, proxies=self._proxies, stream=False,
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
