"""Every call is bounded, against hostile servers on loopback: a gzip bomb, headers or a body trickled
a byte at a time, a TLS handshake that fails or never ends, a proxy that refuses CONNECT.

Each case asserts the right error and that the call ended; the only timing asserted is "finished
within a generous bound" (the deadlines are small and injected, the servers trickle forever).
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
import zlib
from collections.abc import Callable, Iterator

import pytest

from airflow_provider_gtm.core.client import ApiProfile, RestClient, RetryPolicy
from airflow_provider_gtm.core.errors import GtmOutcomeUnknownError, GtmTransportError
from airflow_provider_gtm.core.timing import FakeTimer
from airflow_provider_gtm.core.transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    CallBoundExceeded,
    RequestsTransport,
    SendError,
    TransportRequest,
    default_deadline,
)

#: "It did not hang": far above every injected deadline, far below "forever".
GENEROUS = 15.0

Handler = Callable[[socket.socket, threading.Event], None]


class RawServer:
    """A TCP server on 127.0.0.1 that runs ``handler(connection, stopped)`` for every connection."""

    def __init__(self, handler: Handler) -> None:
        self.stopped = threading.Event()
        self.connections = 0
        outer = self

        class _Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer.connections += 1
                try:
                    handler(self.request, outer.stopped)
                except OSError:
                    pass  # the client shut the connection down: what a bound does

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve(monkeypatch) -> Iterator[Callable[[Handler], RawServer]]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    servers: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        servers.append(RawServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def trickle(conn: socket.socket, stopped: threading.Event, byte: bytes = b"x", every: float = 0.05) -> None:
    """One byte every ``every`` seconds, each well within any read timeout, until the test ends."""
    while not stopped.wait(every):
        conn.sendall(byte)


def gzip_bomb(decoded: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip stream
    block = b"\0" * (1 << 20)
    parts = [packer.compress(block) for _ in range(decoded >> 20)]
    return b"".join(parts) + packer.flush()


def bomb_handler(body: bytes) -> Handler:
    def handle(conn: socket.socket, stopped: threading.Event) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        conn.sendall(body)
        stopped.wait(GENEROUS)

    return handle


def send(server: RawServer, scheme: str = "http", method: str = "GET", **bounds) -> TransportRequest:
    base = f"{scheme}://127.0.0.1:{server.port}"
    return TransportRequest(method, f"{base}/x", timeout=(2.0, 2.0), **bounds)


def timed(transport: RequestsTransport, request: TransportRequest) -> tuple[BaseException, float]:
    start = time.monotonic()
    with pytest.raises(SendError) as caught:
        transport.send(request)
    return caught.value, time.monotonic() - start


# -- the size cap ---------------------------------------------------------------------------------


def test_a_gzip_bomb_stops_at_the_cap_while_streaming(serve):
    body = gzip_bomb(256 << 20)  # 256 MiB of zeros in about 250 KB
    server = serve(bomb_handler(body))
    error, took = timed(RequestsTransport(f"http://127.0.0.1:{server.port}"),
                        send(server, max_bytes=1 << 20, deadline=GENEROUS))
    assert isinstance(error, CallBoundExceeded) and took < GENEROUS
    assert (error.limit, error.value, error.not_sent) == ("max_response_bytes", 1 << 20, False)
    assert "larger than max_response_bytes=1048576 (decoded bytes; stopped reading at" in error.reason
    assert "connection extra 'max_response_bytes'" in error.reason
    stopped_at = int(error.reason.split("stopped reading at ")[1].split()[0])
    assert (1 << 20) < stopped_at <= (1 << 20) + 64 * 1024, "read one step past the cap, never the bomb"


def test_a_body_declared_larger_than_the_cap_is_not_read(serve):
    def handle(conn: socket.socket, stopped: threading.Event) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n" + b"x" * 1000)
        stopped.wait(GENEROUS)

    server = serve(handle)
    error, took = timed(RequestsTransport(f"http://127.0.0.1:{server.port}"), send(server, max_bytes=100_000))
    assert isinstance(error, CallBoundExceeded) and "the server declared 5000000 bytes" in error.reason


def test_an_answer_within_the_cap_is_read_whole_and_decoded(serve):
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # a gzip stream (compress()'s wbits is Python 3.11+)
    body = packer.compress(b'{"a": "' + b"z" * 500_000 + b'"}') + packer.flush()
    server = serve(bomb_handler(body))
    resp = RequestsTransport(f"http://127.0.0.1:{server.port}").send(send(server, max_bytes=500_010))
    assert len(resp.content) == 500_009 and resp.content.startswith(b'{"a": "zzz')


def test_a_get_over_the_cap_fails_retryably_after_one_read(serve):
    server = serve(bomb_handler(gzip_bomb(64 << 20)))
    client = RestClient(profile=ApiProfile(name="testapi"), base_url=f"http://127.0.0.1:{server.port}",
                        timer=FakeTimer(), max_response_bytes=1 << 20, retry=RetryPolicy(max_attempts=4, jitter=0))
    with pytest.raises(GtmTransportError, match=r"max_response_bytes=1048576") as caught:
        client.get_json("/x")
    assert caught.value.retryable and server.connections == 1, "the same page would be as large again"


# -- the total deadline ---------------------------------------------------------------------------


def slow_headers(conn: socket.socket, stopped: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    trickle(conn, stopped)


def slow_body(length: bool) -> Handler:
    def handle(conn: socket.socket, stopped: threading.Event) -> None:
        read_request(conn)
        head = b"Content-Length: 100000\r\n" if length else b"Connection: close\r\n"
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + head + b"\r\n[")
        trickle(conn, stopped, b"1")

    return handle


@pytest.mark.parametrize(("case", "handler"), [
    ("headers a byte at a time", slow_headers),
    ("body a byte at a time", slow_body(length=True)),
    ("body without length a byte at a time", slow_body(length=False)),
])
def test_a_trickle_ends_at_the_total_deadline(serve, case, handler):
    server = serve(handler)
    error, took = timed(RequestsTransport(f"http://127.0.0.1:{server.port}"), send(server, deadline=0.5))
    assert isinstance(error, CallBoundExceeded), case
    assert (error.limit, error.value, error.not_sent) == ("total_timeout", 0.5, False)
    assert error.reason == ("the call took longer than its total deadline of 0.5s (connect, headers and body); "
                            "the connection extra 'total_timeout' sets it")
    assert took < GENEROUS


def test_a_deadline_on_a_write_is_outcome_unknown_and_on_a_read_is_retried(serve):
    server = serve(slow_headers)
    client = RestClient(profile=ApiProfile(name="testapi"), base_url=f"http://127.0.0.1:{server.port}",
                        timer=FakeTimer(), deadline=0.3, retry=RetryPolicy(max_attempts=2, jitter=0))
    with pytest.raises(GtmOutcomeUnknownError, match=r"may have been applied \(the call took longer than its "
                                                     r"total deadline of 0.3s"):
        client.request("POST", "/x", json={"a": 1})
    assert server.connections == 1
    with pytest.raises(GtmTransportError, match="total deadline of 0.3s") as caught:
        client.get_json("/x")
    assert caught.value.retryable and server.connections == 3


def test_the_deadline_ends_a_tls_handshake_that_never_finishes(serve):
    def endless_server_hello(conn: socket.socket, stopped: threading.Event) -> None:
        conn.recv(65536)  # the ClientHello
        conn.sendall(b"\x16\x03\x03\x40\x00")  # a handshake record of 16 KB ...
        trickle(conn, stopped, b"\x02")  # ... that arrives a byte at a time

    server = serve(endless_server_hello)
    error, took = timed(RequestsTransport(f"https://127.0.0.1:{server.port}"),
                        send(server, "https", "POST", deadline=0.5))
    assert isinstance(error, CallBoundExceeded) and error.limit == "total_timeout"
    assert error.not_sent, "the handshake never ended: no byte of the request left"
    assert took < GENEROUS


def test_the_default_deadline_is_derived_from_the_timeouts():
    assert default_deadline((10.0, 60.0)) == 130.0
    client = RestClient(profile=ApiProfile(name="t"), base_url="https://api.example.test", timeout=(1.0, 0.5))
    assert (client.deadline, client.max_response_bytes) == (2.0, DEFAULT_MAX_RESPONSE_BYTES)


# -- never sent -------------------------------------------------------------------------------------


def garbage_to_tls(conn: socket.socket, stopped: threading.Event) -> None:
    conn.recv(65536)  # a ClientHello, answered as if it were HTTP
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def test_a_failed_tls_handshake_was_not_sent(serve):
    server = serve(garbage_to_tls)
    error, _ = timed(RequestsTransport(f"https://127.0.0.1:{server.port}"),
                     send(server, "https", "POST", deadline=GENEROUS))
    assert error.not_sent and error.reason.startswith("SSLError: ")


def test_a_write_that_meets_a_failed_tls_handshake_is_retried_not_left_to_a_person(serve):
    server = serve(garbage_to_tls)
    timer = FakeTimer()
    client = RestClient(profile=ApiProfile(name="testapi"), base_url=f"https://127.0.0.1:{server.port}",
                        timer=timer, retry=RetryPolicy(max_attempts=3, jitter=0))
    with pytest.raises(GtmTransportError, match="SSLError") as caught:
        client.request("POST", "/x", json={"a": 1})
    assert not isinstance(caught.value, GtmOutcomeUnknownError)
    assert server.connections == 3 and timer.sleeps == [1.0, 2.0]


def test_a_proxy_refusing_connect_was_not_sent(serve, monkeypatch):
    def refuse_connect(conn: socket.socket, stopped: threading.Event) -> None:
        assert read_request(conn).startswith(b"CONNECT ")
        conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    proxy = serve(refuse_connect)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    error, _ = timed(RequestsTransport("https://api.example.test"),
                     TransportRequest("POST", "https://api.example.test/x", json={}, timeout=(2.0, 2.0)))
    assert error.not_sent and error.reason.startswith("ProxyError: ")


def test_a_connection_dropped_after_the_request_may_have_been_applied(serve):
    def drop(conn: socket.socket, stopped: threading.Event) -> None:
        read_request(conn)
        conn.close()

    server = serve(drop)
    error, _ = timed(RequestsTransport(f"http://127.0.0.1:{server.port}"), send(server, method="POST"))
    assert not error.not_sent and not isinstance(error, CallBoundExceeded)
