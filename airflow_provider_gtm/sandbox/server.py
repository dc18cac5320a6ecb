"""The sandbox server: the four fake APIs behind one loopback port, plus ``/_sandbox/`` control.

Use it in-process (tests, the demo)::

    with SandboxServer(port=0, records=1000) as sandbox:
        sandbox.base_url("octy")            # http://127.0.0.1:<port>/octy
        sandbox.connection_env()            # AIRFLOW_CONN_* variables for the four connections
        sandbox.set_faults([{"api": "octy", "path": "/v1/retention/profiles", "kind": "status",
                             "status": 503, "calls": [2]}])

or from a shell: ``python -m airflow_provider_gtm.sandbox --port 8790`` (see :mod:`.cli`).
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
import traceback
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_gtm.apis import specs
from airflow_provider_gtm.sandbox.credentials import SANDBOX_CREDENTIALS
from airflow_provider_gtm.sandbox.framework import (
    NEVER_ENDING_RECORDS,
    FaultRule,
    RateLimiterState,
    RateLimitSpec,
    Request,
    Response,
    SandboxApi,
    SandboxClock,
    SandboxContext,
    echoed_credentials,
    json_response,
    redirect_response,
)

CONTROL_PREFIX = "/_sandbox"
CACHE_ENTRIES = 2048  # rendered GET answers kept per API

# API name (= path prefix) → (connection id, connection type), from the specs (apis/).
CONNECTIONS: dict[str, tuple[str, str]] = {spec.name: (spec.default_conn_id, spec.conn_type) for spec in specs()}


def _api_classes() -> list[type[SandboxApi]]:
    from airflow_provider_gtm.sandbox.customeros import CustomerOSSandbox
    from airflow_provider_gtm.sandbox.octopus import OctopusSandbox
    from airflow_provider_gtm.sandbox.octy import OctySandbox
    from airflow_provider_gtm.sandbox.oktopost import OktopostSandbox

    return [OctySandbox, CustomerOSSandbox, OctopusSandbox, OktopostSandbox]


class _Outcome:
    """What the HTTP layer must do besides writing a response."""

    def __init__(self, response: Response | None, *, drop: bool = False, drop_mid_body: bool = False,
                 delay: float = 0.0) -> None:
        self.response = response
        self.drop = drop
        self.drop_mid_body = drop_mid_body
        self.delay = delay


class SandboxApp:
    """Routing, faults, rate limits and control endpoints for the four sandbox APIs."""

    def __init__(self, *, records: int = 250, seed: int = 42, time_scale: float = 1.0, rate_limits: bool = True,
                 faults: Iterable[Mapping[str, Any]] = (),
                 credentials: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.ctx = SandboxContext(seed=seed, records=records, clock=SandboxClock(time_scale))
        self.ctx.credentials = {api: dict(creds) for api, creds in SANDBOX_CREDENTIALS.items()}
        self.set_credentials(credentials or {})
        self.apis: dict[str, SandboxApi] = {cls.name: cls(self.ctx) for cls in _api_classes()}
        self._lock = threading.Lock()
        self.rate_limits_enabled = rate_limits
        self.limit_specs: dict[str, RateLimitSpec] = {
            name: api.default_rate_limit for name, api in self.apis.items() if api.default_rate_limit
        }
        self._limiters: dict[str, RateLimiterState] = {}
        self.faults: list[FaultRule] = [FaultRule.from_json(f) for f in faults]
        self.calls: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()
        self.faults_fired: Counter[str] = Counter()
        self._cache: dict[str, OrderedDict[tuple[Any, ...], Response]] = {}

    # --- control ----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget writes, counters, faults, rate-limit history and overrides (the clock keeps running)."""
        with self._lock:
            self.limit_specs = {
                name: api.default_rate_limit for name, api in self.apis.items() if api.default_rate_limit
            }
            for api in self.apis.values():
                api.reset()
            self._limiters.clear()
            self.faults = []
            self.calls.clear()
            self.rate_limited.clear()
            self.faults_fired.clear()
            self._cache.clear()

    def set_faults(self, faults: Iterable[Mapping[str, Any]]) -> None:
        rules = [FaultRule.from_json(f) for f in faults]
        with self._lock:
            self.faults = rules

    def set_credentials(self, credentials: Mapping[str, Mapping[str, str]]) -> None:
        """Accept other credentials than :data:`SANDBOX_CREDENTIALS` (kept across :meth:`reset`)."""
        for api, creds in credentials.items():
            if api not in self.ctx.credentials:
                raise ValueError(f"unknown sandbox API {api!r}; use one of {', '.join(self.ctx.credentials)}")
            unknown = set(creds) - set(self.ctx.credentials[api])
            if unknown:
                raise ValueError(f"{api} credentials have no field(s) {sorted(unknown)}")
            self.ctx.credentials[api].update({k: str(v) for k, v in creds.items()})

    def configure(self, options: Mapping[str, Any]) -> None:
        """Change options at run time; see ``/_sandbox/config`` in the docs for the keys."""
        options = dict(options)
        if "credentials" in options:
            self.set_credentials(options.pop("credentials"))
        with self._lock:
            if "time_scale" in options:
                self.ctx.clock.set_scale(float(options.pop("time_scale")))
            if "advance_clock" in options:
                self.ctx.clock.advance(float(options.pop("advance_clock")))
            if options.pop("resync_clock", False):
                self.ctx.clock.resync()
            if "records" in options:
                self.ctx.records = int(options.pop("records"))
            if "seed" in options:
                self.ctx.seed = int(options.pop("seed"))
            if "rate_limits" in options:
                value = options.pop("rate_limits")
                if isinstance(value, bool):
                    self.rate_limits_enabled = value
                else:
                    for name, spec in dict(value).items():
                        self._api(name)
                        self.limit_specs[name] = RateLimitSpec.from_json(spec, self.limit_specs.get(name))
                        self._limiters.pop(name, None)
                    self.rate_limits_enabled = True
            for name in list(options):
                self._api(name).configure(dict(options.pop(name)))

    def _api(self, name: str) -> SandboxApi:
        if name not in self.apis:
            raise ValueError(f"unknown sandbox API {name!r}; use one of {', '.join(self.apis)}")
        return self.apis[name]

    def state(self) -> dict[str, Any]:
        return {
            "apis": {name: api.state() for name, api in self.apis.items()},
            "calls": dict(self.calls),
            "rate_limited": dict(self.rate_limited),
            "faults_fired": dict(self.faults_fired),
            "faults": [f.to_json() for f in self.faults],
            "config": {
                "records": self.ctx.records,
                "seed": self.ctx.seed,
                "time_scale": self.ctx.clock.scale,
                "clock": self.ctx.clock.now(),
                "rate_limits_enabled": self.rate_limits_enabled,
                "rate_limits": {name: spec.to_json() for name, spec in self.limit_specs.items()},
                "options": {name: api.options for name, api in self.apis.items()},
            },
        }

    def _control(self, method: str, path: str, body: bytes) -> Response:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return json_response({"error": "body must be JSON"}, 400)
        try:
            if path == "/state" and method == "GET":
                return json_response(self.state())
            if path == "/reset" and method == "POST":
                self.reset()
                return json_response({"reset": True})
            if path == "/faults":
                if method == "POST":
                    self.set_faults(data.get("faults", []) if isinstance(data, dict) else data)
                elif method == "DELETE":
                    self.set_faults([])
                return json_response({"faults": [f.to_json() for f in self.faults]})
            if path == "/config" and method in ("POST", "PATCH"):
                self.configure(data)
                return json_response(self.state()["config"])
            if path == "/config" and method == "GET":
                return json_response(self.state()["config"])
        except (TypeError, ValueError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response({"error": f"unknown control endpoint {method} {CONTROL_PREFIX}{path}"}, 404)

    # --- requests ---------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: Any, body: bytes) -> _Outcome:
        split = urlsplit(target)
        path = split.path
        if path.startswith(CONTROL_PREFIX + "/") or path == CONTROL_PREFIX:
            return _Outcome(self._control(method, path[len(CONTROL_PREFIX):] or "/", body))
        name, _, rest = path.lstrip("/").partition("/")
        api = self.apis.get(name)
        if api is None:
            return _Outcome(json_response({"error": f"no sandbox API at /{name}; use " +
                                           ", ".join(f"/{n}" for n in self.apis)}, 404))
        request = Request(method, "/" + rest, split.query, headers, body, name)
        with self._lock:
            self.calls[name] += 1
            fired = [f for f in self.faults if f.applies(name, method, request.path)]
            self.faults_fired[name] += len(fired)
        delay = 0.0
        for fault in fired:
            if fault.kind == "drop":
                return _Outcome(None, drop=True)
            if fault.kind == "delay":
                delay = max(delay, fault.delay)
            elif fault.kind == "status":
                response = api.error(fault.status, f"Injected fault: HTTP {fault.status}")
                if fault.retry_after is not None:
                    response.headers["Retry-After"] = f"{float(fault.retry_after):g}"
                if fault.status == 429:
                    with self._lock:
                        self.rate_limited[name] += 1
                return _Outcome(response, delay=delay)
            elif fault.kind == "echo_credentials":
                return _Outcome(api.error(fault.status, echoed_credentials(request)), delay=delay)
            elif fault.kind == "redirect":
                return _Outcome(redirect_response(fault, request, f"/{name}"), delay=delay)
            else:
                request.faults.add(fault.kind)

        limit_headers: dict[str, str] = {}
        if self.rate_limits_enabled and name in self.limit_specs:
            decision = self._limiter(name).check(self._rate_key(request))
            limit_headers = decision.headers
            if "RateLimit-Reset" in limit_headers:
                # Clients live in real time: a scaled sandbox clock must not stretch their waits.
                # Whole seconds, rounded up (never announce a refill before it happens); a
                # scaled clock needs fractions.
                reset = self.ctx.clock.real_seconds(float(limit_headers["RateLimit-Reset"]))
                limit_headers["RateLimit-Reset"] = (str(math.ceil(reset)) if self.ctx.clock.scale == 1
                                                    else f"{reset:.3f}")
            if not decision.allowed:
                with self._lock:
                    self.rate_limited[name] += 1
                response = api.rate_limited(decision.retry_after, decision.blocked)
                if self.limit_specs[name].retry_after and decision.retry_after is not None:
                    real_wait = self.ctx.clock.real_seconds(decision.retry_after)
                    response.headers["Retry-After"] = str(max(1, int(real_wait + 0.999)))
                return _Outcome(response, delay=delay)

        try:
            if "never_ending" in request.faults:
                self.ctx.set_call_records(NEVER_ENDING_RECORDS)
            if any(not rule.handler for rule in fired):
                response = json_response({})  # a gateway's answer: the API never saw the call
            else:
                response = self._answer(api, request)
        except Exception:  # a sandbox bug must still answer like the API would, and be visible
            traceback.print_exc()
            response = api.error(500, "Internal error")
        finally:
            self.ctx.set_call_records(None)
        response.headers.update(limit_headers)
        response = _reshape(response, request.faults, fired)
        if "truncate" in request.faults:
            response.body = response.body[: max(1, len(response.body) // 2)]
        if "non_json" in request.faults:
            response = Response(200, b"<html><body>502 Bad Gateway (injected)</body></html>", content_type="text/html")
        return _Outcome(response, delay=delay, drop_mid_body="drop_mid_body" in request.faults)

    def _answer(self, api: SandboxApi, request: Request) -> Response:
        """The API's answer; pure GET answers of APIs that allow it come from a small cache.

        Rendering a page of synthetic records costs far more than serving it: the cache keeps the
        sandbox fast enough that benchmarks measure the client. Any write to the API empties it.
        """
        if request.method != "GET" or not api.cacheable_gets or request.faults:
            with self._lock:
                self._cache.pop(api.name, None)
            return api.authenticate(request) or api.dispatch(request)
        key = (request.path, request.query_string, request.header("cursor"), request.header("Authorization"),
               request.header("X-CUSTOMER-OS-API-KEY"), self.ctx.seed, self.ctx.records, repr(api.options))
        with self._lock:
            cache = self._cache.setdefault(api.name, OrderedDict())
            hit = cache.get(key)
            if hit is not None:
                cache.move_to_end(key)
                return Response(hit.status, hit.body, dict(hit.headers), hit.content_type)
        response = api.authenticate(request) or api.dispatch(request)
        if response.status == 200:
            with self._lock:
                cache[key] = Response(response.status, response.body, dict(response.headers), response.content_type)
                while len(cache) > CACHE_ENTRIES:
                    cache.popitem(last=False)
        return response

    def _limiter(self, name: str) -> RateLimiterState:
        with self._lock:
            limiter = self._limiters.get(name)
            if limiter is None:
                limiter = self._limiters[name] = RateLimiterState(self.limit_specs[name], self.ctx.clock)
            return limiter

    @staticmethod
    def _rate_key(request: Request) -> str:
        return (request.header("Authorization") or request.header("X-CUSTOMER-OS-API-KEY") or "anonymous")


def _reshape(response: Response, kinds: set[str], fired: list[FaultRule]) -> Response:
    """Apply the answer-shape faults that fired (see :class:`FaultRule`) to the handler's answer."""
    if "huge_page" in kinds:
        size = max(rule.size for rule in fired if rule.kind == "huge_page")
        response = _padded(response, size)
    if "drop_header" in kinds:
        dropped = {rule.header.lower() for rule in fired if rule.kind == "drop_header"}
        response.headers = {k: v for k, v in response.headers.items() if k.lower() not in dropped}
    if "empty_200" in kinds:
        response = Response(200, b"", dict(response.headers), response.content_type)
    if "empty_object_200" in kinds:
        response = Response(200, b"{}", dict(response.headers), response.content_type)
    if "double_body" in kinds:
        response = Response(response.status, response.body + response.body, dict(response.headers),
                            response.content_type)
    if "partial_206" in kinds:
        response = Response(206, response.body, dict(response.headers), response.content_type)
    if "text_plain" in kinds:
        # Raw UTF-8 (not \u escapes) so that a client trusting the missing charset reads mojibake.
        body = response.body
        try:
            body = json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":")).encode()
        except ValueError:
            pass
        response = Response(response.status, body, dict(response.headers), "text/plain")
    return response


def _padded(response: Response, size: int) -> Response:
    """The answer with each record of its first list padded, about ``size`` bytes in all."""
    try:
        body = json.loads(response.body)
    except ValueError:
        return response
    records = next((v for v in body.values() if isinstance(v, list)), None) if isinstance(body, dict) else None
    if not records:
        return response
    each = max(1, size // len(records))
    for record in records:
        if isinstance(record, dict):
            record["sandboxPadding"] = "x" * each
    return Response(response.status, json.dumps(body, separators=(",", ":")).encode(), dict(response.headers),
                    response.content_type)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gtm-sandbox"
    sys_version = ""
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            super().log_message(format, *args)

    def _serve(self) -> None:
        method = self.command
        body = self._read_body()
        outcome = self.server.app.handle(method, self.path, self.headers, body)
        if outcome.delay:
            time.sleep(outcome.delay)
        if outcome.drop or outcome.response is None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        response = outcome.response
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if outcome.drop_mid_body:
            self.wfile.write(response.body[: len(response.body) // 2])
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if method != "HEAD":
            self.wfile.write(response.body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp, verbose: bool) -> None:
        self.app = app
        self.verbose = verbose
        super().__init__(address, _Handler)


class SandboxServer:
    """Start the sandbox on 127.0.0.1 in a background thread; a context manager.

    :param port: TCP port; ``0`` picks a free one (read it back from :attr:`port`).
    :param records: size of each synthetic list (a handful to a million; generated on demand).
    :param seed: seed of the synthetic data.
    :param time_scale: how much faster than real time the sandbox clock runs (rate-limit windows,
        the Oktopost 15-minute block, job progress).
    :param rate_limits: enforce each API's documented limits (``False``: never throttle).
    :param faults: fault rules to start with (see :class:`~.framework.FaultRule`).
    :param credentials: credentials to accept instead of :data:`SANDBOX_CREDENTIALS`, per API
        (``{"octy": {"login": ..., "password": ...}}``); :meth:`connections` carries them.
    """

    def __init__(self, *, port: int = 0, host: str = "127.0.0.1", records: int = 250, seed: int = 42,
                 time_scale: float = 1.0, rate_limits: bool = True, faults: Iterable[Mapping[str, Any]] = (),
                 verbose: bool = False, credentials: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.host = host
        self.app = SandboxApp(records=records, seed=seed, time_scale=time_scale, rate_limits=rate_limits,
                              faults=faults, credentials=credentials)
        self._requested_port = port
        self._verbose = verbose
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        if self._httpd is None:
            self._httpd = _HTTPServer((self.host, self._requested_port), self.app, self._verbose)
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                            name="gtm-sandbox", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def base_url(self, api: str) -> str:
        """The base URL to put in a connection's host for ``api`` (octy, customeros, octopus, oktopost)."""
        self.app._api(api)
        return f"{self.url}/{api}"

    def connections(self) -> dict[str, dict[str, Any]]:
        """The four Airflow connections (by default id) that point at this sandbox."""
        result: dict[str, dict[str, Any]] = {}
        for api, (conn_id, conn_type) in CONNECTIONS.items():
            creds = self.app.ctx.credentials[api]
            result[conn_id] = {"conn_type": conn_type, "host": self.base_url(api), "login": creds.get("login"),
                               "password": creds["password"], "extra": {}}
        return result

    def connection_env(self) -> dict[str, str]:
        """``AIRFLOW_CONN_<ID>`` environment variables (JSON) for :meth:`connections`."""
        return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in self.connections().items()}

    # In-process shortcuts of the /_sandbox/ control endpoints.
    def state(self) -> dict[str, Any]:
        return self.app.state()

    def reset(self) -> None:
        self.app.reset()

    def set_faults(self, faults: Iterable[Mapping[str, Any]]) -> None:
        self.app.set_faults(faults)

    def configure(self, **options: Any) -> None:
        self.app.configure(options)
