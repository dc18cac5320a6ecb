"""The sandbox's small web framework: requests, responses, routing, clock, rate limits and faults.

Written on the standard library (``http.server``) rather than an ASGI stack because the sandbox
must misbehave on purpose at the socket level: drop a connection before answering, cut a body
short, stall past a client's timeout. Each API module subclasses :class:`SandboxApi` and only
describes its routes, its authentication and its error bodies; everything else lives here once.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, quote_plus


class HttpError(Exception):
    """Raised by a handler to answer with the API's own error body (built by ``SandboxApi.error``)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass
class Response:
    """What a handler returns: status, body bytes and headers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response (compact separators: the sandbox must be cheap to serve)."""
    body = json.dumps(data, separators=(",", ":")).encode()
    return Response(status=status, body=body, headers=dict(headers or {}))


class Request:
    """One parsed HTTP request as an API module sees it (path without the API's prefix)."""

    def __init__(self, method: str, path: str, query: str, headers: Message, body: bytes, api: str) -> None:
        self.method = method
        self.path = path
        self.query_string = query
        self.headers = headers
        self.body = body
        self.api = api
        self.query: dict[str, list[str]] = parse_qs(query, keep_blank_values=True)
        self.path_params: dict[str, str] = {}
        self.faults: set[str] = set()  # fault kinds the handler must act on itself (e.g. repeat_cursor)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of a query parameter."""
        values = self.query.get(name)
        return values[-1] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").strip()

    def json(self) -> Any:
        """The body as JSON; a malformed body raises ``HttpError(400)``."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise HttpError(400, f"Malformed JSON body: {exc}") from None

    def form(self) -> dict[str, str]:
        """An ``application/x-www-form-urlencoded`` body (last value wins)."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True).items()}

    def multipart(self) -> dict[str, tuple[str | None, bytes]]:
        """A ``multipart/form-data`` body as ``{field: (filename, content)}``."""
        if not self.content_type.lower().startswith("multipart/form-data"):
            raise HttpError(400, "Expected a multipart/form-data body")
        raw = b"Content-Type: " + self.content_type.encode() + b"\r\n\r\n" + self.body
        message = BytesParser(policy=HTTP).parsebytes(raw)
        parts: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                payload = part.get_payload(decode=True)
                parts[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
        return parts


Handler = Callable[[Request], Response]


class Route:
    """``METHOD /path/{param}`` → handler."""

    def __init__(self, method: str, pattern: str, handler: Handler) -> None:
        self.method = method.upper()
        self.pattern = pattern
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.rstrip("/") or "/")
        self.regex = re.compile(f"^{regex}/?$")
        self.handler = handler

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.match(path)
        return found.groupdict() if found else None


class SandboxClock:
    """Wall-clock time that can run faster than real time (``scale``) or be moved forward."""

    def __init__(self, scale: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._scale = float(scale)
        self._base_real = time.monotonic()
        self._base_virtual = time.time()

    @property
    def scale(self) -> float:
        return self._scale

    def now(self) -> float:
        """Sandbox epoch seconds."""
        with self._lock:
            return self._base_virtual + (time.monotonic() - self._base_real) * self._scale

    def set_scale(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("time_scale must be > 0")
        with self._lock:
            now_real = time.monotonic()
            self._base_virtual += (now_real - self._base_real) * self._scale
            self._base_real = now_real
            self._scale = float(scale)

    def advance(self, seconds: float) -> None:
        """Jump the sandbox clock forward (lets a test live through a 15-minute block at once)."""
        with self._lock:
            self._base_virtual += seconds

    def resync(self) -> None:
        """Set the sandbox clock back to real time (a faster-run or advanced clock keeps its lead otherwise)."""
        with self._lock:
            self._base_real = time.monotonic()
            self._base_virtual = time.time()

    def real_seconds(self, sandbox_seconds: float) -> float:
        """How long ``sandbox_seconds`` of sandbox time last in real time."""
        return sandbox_seconds / self._scale


@dataclass
class RateLimitSpec:
    """An API's rate limits as the sandbox enforces them.

    ``windows``: ``(calls, seconds)`` pairs, all enforced at once. ``fixed``: windows refill at
    fixed boundaries (credits per minute) instead of sliding. ``block_seconds``: a breach blocks
    the key this long (Oktopost). ``headers``: send ``RateLimit-Limit/Remaining/Reset`` on every
    answer (Octopus). ``retry_after``: send ``Retry-After`` on 429.
    """

    windows: list[tuple[int, float]]
    fixed: bool = False
    block_seconds: float | None = None
    headers: bool = False
    retry_after: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any], base: RateLimitSpec | None = None) -> RateLimitSpec:
        merged = dict(vars(base)) if base else {}
        merged.update(data)
        merged["windows"] = [(int(c), float(s)) for c, s in merged.get("windows", [])]
        keys = ("windows", "fixed", "block_seconds", "headers", "retry_after")
        return cls(**{k: merged[k] for k in keys if k in merged})

    def to_json(self) -> dict[str, Any]:
        return {"windows": [list(w) for w in self.windows], "fixed": self.fixed,
                "block_seconds": self.block_seconds, "headers": self.headers, "retry_after": self.retry_after}


@dataclass
class RateDecision:
    allowed: bool
    retry_after: float | None = None  # sandbox seconds until a call would be allowed
    headers: dict[str, str] = field(default_factory=dict)
    blocked: bool = False


class RateLimiterState:
    """Per-key call logs for one API, on the sandbox clock."""

    def __init__(self, spec: RateLimitSpec, clock: SandboxClock) -> None:
        self.spec = spec
        self.clock = clock
        self._lock = threading.Lock()
        self._calls: dict[str, deque[float]] = {}
        self._fixed: dict[tuple[str, int], tuple[float, int]] = {}  # (key, window index) -> (start, used)
        self._blocked_until: dict[str, float] = {}

    def check(self, key: str) -> RateDecision:
        now = self.clock.now()
        with self._lock:
            until = self._blocked_until.get(key)
            if until is not None and now < until:
                return RateDecision(False, until - now, blocked=True)
            return self._check_fixed(key, now) if self.spec.fixed else self._check_sliding(key, now)

    def _check_sliding(self, key: str, now: float) -> RateDecision:
        log = self._calls.setdefault(key, deque())
        longest = max((s for _, s in self.spec.windows), default=0.0)
        while log and log[0] <= now - longest:
            log.popleft()
        waits = []
        for limit, seconds in self.spec.windows:
            inside = [t for t in log if t > now - seconds] if seconds < longest else list(log)
            if len(inside) >= limit:
                waits.append(inside[len(inside) - limit] + seconds - now)
        if waits:
            return self._breach(key, now, max(waits))
        log.append(now)
        return RateDecision(True)

    def _check_fixed(self, key: str, now: float) -> RateDecision:
        headers: dict[str, str] = {}
        states = []
        for index, (limit, seconds) in enumerate(self.spec.windows):
            start, used = self._fixed.get((key, index), (now, 0))
            if now >= start + seconds:
                start, used = now, 0
            states.append((index, limit, seconds, start, used))
        full = [(start + seconds - now) for _, limit, seconds, start, used in states if used >= limit]
        if full:
            decision = self._breach(key, now, max(full))
        else:
            decision = RateDecision(True)
        # Every call costs a credit, whatever its status (Octopus): count refused calls too.
        for index, limit, seconds, start, used in states:
            self._fixed[(key, index)] = (start, used + 1)
            if self.spec.headers and index == 0 and decision.allowed:
                headers = {"RateLimit-Limit": str(limit), "RateLimit-Remaining": str(max(0, limit - used - 1)),
                           "RateLimit-Reset": repr(max(0.0, start + seconds - now))}  # server.py formats it
        decision.headers = headers
        return decision

    def _breach(self, key: str, now: float, wait: float) -> RateDecision:
        if self.spec.block_seconds:
            self._blocked_until[key] = now + self.spec.block_seconds
            return RateDecision(False, self.spec.block_seconds, blocked=True)
        return RateDecision(False, max(wait, 0.0))


FAULT_KINDS = ("status", "drop", "drop_mid_body", "delay", "truncate", "non_json", "repeat_cursor",
               "empty_200", "empty_object_200", "drop_header", "text_plain", "double_body", "partial_206",
               "never_ending", "huge_page", "echo_credentials", "redirect")
#: The list size a ``never_ending`` fault gives every list of the call it fires on.
NEVER_ENDING_RECORDS = 10**12


@dataclass
class FaultRule:
    """One fault to inject.

    Matches calls by ``api`` (or ``*``), ``method`` (optional) and ``path`` (a glob on the path
    after the API prefix, query excluded). Fires on the listed 1-based ``calls`` of matching
    requests, or on every ``every``-th call, or with ``probability`` (deterministic from ``seed``),
    or otherwise on each matching call; at most ``times`` times when given.

    Kinds: ``status`` (answer ``status``, with ``retry_after`` seconds when given), ``drop`` (close
    the connection without answering), ``drop_mid_body`` (announce a body, send half, close),
    ``delay`` (wait ``delay`` real seconds, then answer normally), ``truncate`` (200 with a JSON
    body cut short), ``non_json`` (200 with an HTML body), ``repeat_cursor`` (a list answers with
    the cursor it was asked for, as a looping server would).

    Answer-shape faults (the handler answers, then its answer is changed): ``empty_200`` (a 200
    with an empty body), ``empty_object_200`` (a 200 with ``{}``), ``drop_header`` (the answer
    without the response header ``header``, default ``cursor``), ``text_plain`` (``Content-Type:
    text/plain`` without charset, body unchanged), ``double_body`` (the body written twice, two
    JSON documents back to back), ``partial_206`` (status 206 with the same body),
    ``never_ending`` (every list of the call is :data:`NEVER_ENDING_RECORDS` long, so a client
    that only follows the API's end signal never finishes), ``huge_page`` (every record of the
    answer's first list padded so the body grows by about ``size`` bytes). With ``handler: false``
    the server answers without running the API's handler (as a gateway or proxy would): nothing is
    applied, and the answer is ``{}`` reshaped by the faults that fired.

    Secret-leak faults: ``echo_credentials`` (answer ``status`` in the API's error shape with a
    message that repeats the request's credentials in every form a server may: the raw headers,
    the decoded Basic pair, URL-encoded, JSON-escaped, and the query string), ``redirect`` (answer
    ``status`` when it is a 3xx, else 302, with ``Location: location``; by default the same path on
    ``localhost`` instead of ``127.0.0.1``: another host, as a client compares them).
    """

    kind: str
    api: str = "*"
    path: str = "*"
    method: str | None = None
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    header: str = "cursor"
    size: int = 4_000_000
    handler: bool = True
    location: str | None = None
    calls: list[int] | None = None
    every: int | None = None
    probability: float | None = None
    seed: int = 0
    times: int | None = None
    matched: int = 0
    fired: int = 0
    _rng: random.Random | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {', '.join(FAULT_KINDS)}")
        self._rng = random.Random(self.seed)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        allowed = {"kind", "api", "path", "method", "status", "retry_after", "delay", "header", "size", "handler",
                   "location", "calls", "every", "probability", "seed", "times"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault field(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        if "kind" not in data:
            raise ValueError("a fault needs 'kind'")
        return cls(**dict(data))

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def applies(self, api: str, method: str, path: str) -> bool:
        """Count a matching call and say whether the fault fires on it."""
        if self.api not in ("*", api) or (self.method and self.method.upper() != method):
            return False
        if not fnmatch.fnmatchcase(path, self.path):
            return False
        self.matched += 1
        if self.times is not None and self.fired >= self.times:
            return False
        if self.calls is not None:
            fire = self.matched in self.calls
        elif self.every:
            fire = self.matched % self.every == 0
        elif self.probability is not None:
            fire = (self._rng or random).random() < self.probability
        else:
            fire = True
        if fire:
            self.fired += 1
        return fire


class SandboxContext:
    """What every API module shares: the seed, the list size, the clock, one lock."""

    def __init__(self, *, seed: int = 42, records: int = 250, clock: SandboxClock | None = None) -> None:
        self.seed = seed
        self._records = records
        self._call = threading.local()  # per-request overrides (the server answers each call on its thread)
        self.clock = clock or SandboxClock()
        self.lock = threading.RLock()
        #: The credentials each API accepts: ``{"octy": {"login": ..., "password": ...}, ...}``.
        self.credentials: dict[str, dict[str, str]] = {}

    @property
    def records(self) -> int:
        """Records per synthetic list (a ``never_ending`` fault raises it for one call)."""
        override: int | None = getattr(self._call, "records", None)
        return self._records if override is None else override

    @records.setter
    def records(self, value: int) -> None:
        self._records = value

    def set_call_records(self, value: int | None) -> None:
        """Override the list size for the calls answered on this thread (``None``: stop)."""
        self._call.records = value

    def rng(self, *parts: Any) -> random.Random:
        """A deterministic random source for one synthetic record (same seed + parts → same data)."""
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))


class SandboxApi:
    """Base of the four API modules.

    Subclasses set ``name`` (also the path prefix), ``default_rate_limit`` and implement
    :meth:`routes`, :meth:`authenticate`, :meth:`error` and :meth:`state`/:meth:`reset` for what
    clients wrote. Handlers raise :class:`HttpError` to answer with the API's own error body.
    """

    name: ClassVar[str] = ""
    default_rate_limit: ClassVar[RateLimitSpec | None] = None
    #: GET answers depend only on the request and on earlier writes (not on how often they are
    #: asked), so the server may cache them until the next write.
    cacheable_gets: ClassVar[bool] = False

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.options: dict[str, Any] = {}
        self._routes = self.routes()

    # --- to implement -------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        raise NotImplementedError

    def authenticate(self, request: Request) -> Response | None:
        """``None`` when the credentials are right, else the API's own 401/403 answer."""
        raise NotImplementedError

    def error(self, status: int, message: str, **extra: Any) -> Response:
        """The API's own error body for ``status``."""
        return json_response({"message": message, **extra}, status)

    def rate_limited(self, retry_after: float | None, blocked: bool) -> Response:
        """The answer to a call over the limit (headers are added by the framework)."""
        return self.error(429, "Too many requests")

    def state(self) -> dict[str, Any]:
        """What clients created, updated and deleted, as JSON."""
        return {}

    def reset(self) -> None:
        """Forget everything clients wrote."""

    def configure(self, options: Mapping[str, Any]) -> None:
        """API-specific options (e.g. Octopus's cursor field name); unknown keys are refused."""
        self.options.update(options)

    # --- used by the framework ----------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        allowed_methods = []
        for route in self._routes:
            params = route.match(request.path)
            if params is None:
                continue
            if route.method != request.method:
                allowed_methods.append(route.method)
                continue
            request.path_params = params
            try:
                return route.handler(request)
            except HttpError as exc:
                return self.error(exc.status, exc.message, **exc.extra)
        if allowed_methods:
            return self.error(405, f"Method {request.method} not allowed on {request.path}")
        return self.error(404, f"No route {request.method} {request.path}")


def echoed_credentials(request: Request) -> str:
    """An error message that repeats the request's credentials, as careless servers do."""
    parts = []
    for name in ("Authorization", "X-CUSTOMER-OS-API-KEY"):
        value = request.header(name)
        if not value:
            continue
        parts.append(f"{name}: {value} (json {json.dumps(value)}, url {quote(value, safe='')}, "
                     f"form {quote_plus(value)})")
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "basic":
            try:
                pair = base64.b64decode(token.strip()).decode()
            except ValueError:
                continue
            parts.append(f"decoded {pair} (url {quote(pair, safe='')})")
        elif scheme.lower() == "bearer":
            parts.append(f"token {token} (b64 {base64.b64encode(token.encode()).decode()})")
    query = f"?{request.query_string}" if request.query_string else ""
    return f"Invalid credentials {'; '.join(parts) or 'none'} for request {request.method} {request.path}{query}"


def redirect_response(rule: FaultRule, request: Request, prefix: str) -> Response:
    """A 3xx to ``rule.location`` (default: the same URL on ``localhost``, another host)."""
    location = rule.location
    if location is None:
        port = (request.header("Host") or "").rpartition(":")[2]
        query = f"?{request.query_string}" if request.query_string else ""
        location = f"http://localhost:{port}{prefix}{request.path}{query}"
    status = rule.status if 300 <= rule.status < 400 else 302
    return Response(status, b"", {"Location": location})


def page_of(total: int, offset: int, size: int) -> range:
    """Indexes of one page of a synthetic list."""
    return range(max(0, offset), max(0, min(total, offset + size)))


def parse_ids(values: Iterable[str] | str | None) -> list[str]:
    """``a,b,c`` (or repeated parameters) → ``["a", "b", "c"]``."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]
