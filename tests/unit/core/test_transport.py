"""The transport seam: a loopback server for the default transport, a fake one for the client's policy."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airflow_provider_gtm.core.client import ApiProfile, RestClient, RetryPolicy
from airflow_provider_gtm.core.errors import GtmClientError, GtmOutcomeUnknownError, GtmServerError, GtmTransportError
from airflow_provider_gtm.core.timing import FakeTimer
from airflow_provider_gtm.core.transport import (
    RedirectRefused,
    RequestsTransport,
    SendError,
    Transport,
    TransportRequest,
    TransportResponse,
    decode_body,
)

# -- a loopback server ----------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    #: Declare this Content-Length but send only ``body`` (then close): a truncated answer.
    claimed_length: int | None = None


class Loopback:
    """A tiny HTTP server on 127.0.0.1 answering each path with a fixed :class:`Answer`."""

    def __init__(self) -> None:
        self.routes: dict[str, Answer] = {}
        self.seen: list[Seen] = []
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                loopback.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                answer = loopback.routes.get(self.path.split("?")[0], Answer(404))
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                claimed = answer.claimed_length if answer.claimed_length is not None else len(answer.body)
                self.send_header("Content-Length", str(claimed))
                if answer.claimed_length is not None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server(monkeypatch) -> Iterator[Loopback]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    loopback = Loopback()
    yield loopback
    loopback.close()


@pytest.fixture
def other_server(server) -> Iterator[Loopback]:
    """A second loopback server: same host, another port, so another origin."""
    loopback = Loopback()
    yield loopback
    loopback.close()


def transport_for(server: Loopback, **kwargs) -> RequestsTransport:
    return RequestsTransport(server.base, **kwargs)


def get(server: Loopback, path: str, method: str = "GET", **kwargs) -> TransportRequest:
    return TransportRequest(method, f"{server.base}{path}", timeout=(2.0, 2.0), **kwargs)


# -- the default transport ------------------------------------------------------------------------


def test_an_answer_comes_back_as_plain_values(server):
    server.routes["/x"] = Answer(201, {"Content-Type": "application/json", "X-Trace": "t1"}, b'{"ok": 1}')
    resp = transport_for(server, headers={"X-Api-Key": "k1"}).send(get(server, "/x", params={"a": "1 2"}))
    assert (resp.status, resp.content, resp.reason) == (201, b'{"ok": 1}', "Created")
    assert resp.headers["x-trace"] == "t1" and resp.url == f"{server.base}/x?a=1+2"
    assert server.seen[0].headers["X-Api-Key"] == "k1" and server.seen[0].path == "/x?a=1+2"


def test_call_headers_lie_over_the_transport_headers_and_none_removes_one(server):
    server.routes["/x"] = Answer(200)
    transport = transport_for(server, headers={"X-Api-Key": "k1", "X-Keep": "yes"})
    transport.send(get(server, "/x", headers={"x-api-key": None, "X-Extra": "1"}))  # type: ignore[dict-item]
    sent = server.seen[0].headers
    assert "X-Api-Key" not in sent and sent["X-Keep"] == "yes" and sent["X-Extra"] == "1"


def test_a_same_origin_redirect_is_followed_with_headers_and_query(server):
    server.routes["/x"] = Answer(301, {"Location": "/y?page=2"})
    server.routes["/y"] = Answer(200, body=b"[]")
    resp = transport_for(server, headers={"X-Api-Key": "k1"}).send(get(server, "/x"))
    assert resp.status == 200 and resp.url == f"{server.base}/y?page=2"
    assert [seen.path for seen in server.seen] == ["/x", "/y?page=2"]
    assert server.seen[1].headers["X-Api-Key"] == "k1"


@pytest.mark.parametrize(("status", "method_after", "body_after"), [
    (303, "GET", b""), (302, "GET", b""), (301, "GET", b""), (307, "POST", b'{"a":1}'), (308, "POST", b'{"a":1}'),
])
def test_a_redirected_post_becomes_a_get_only_after_303_301_302(server, status, method_after, body_after):
    server.routes["/jobs"] = Answer(status, {"Location": "/jobs/1"})
    server.routes["/jobs/1"] = Answer(200, body=b'{"id":1}')
    transport_for(server).send(get(server, "/jobs", method="POST", data=b'{"a":1}',
                                   headers={"Content-Type": "application/json"}))
    follow = server.seen[1]
    assert (follow.method, follow.body) == (method_after, body_after)
    assert ("Content-Type" in follow.headers) is (method_after == "POST")


def test_a_redirect_to_another_origin_is_refused_and_nothing_reaches_it(server, other_server):
    other_server.routes["/steal"] = Answer(200)
    server.routes["/x"] = Answer(302, {"Location": f"{other_server.base}/steal?apiKey=abcdefgh"})
    with pytest.raises(RedirectRefused) as caught:
        transport_for(server, headers={"X-Api-Key": "k1"}).send(get(server, "/x"))
    assert caught.value.status == 302 and other_server.seen == []
    assert str(caught.value) == (
        f"redirect to another origin refused: HTTP 302 to {other_server.base}/steal; only redirects that keep "
        "scheme, host and port are followed (the request carries the connection's credentials)"
    )


def test_redirects_are_followed_a_few_times_only(server):
    server.routes["/loop"] = Answer(302, {"Location": "/loop"})
    with pytest.raises(RedirectRefused, match="more than 3 redirects"):
        transport_for(server).send(get(server, "/loop"))
    assert len(server.seen) == 4


def test_a_refused_connection_was_provably_not_sent():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again at once: nothing listens there
    transport = RequestsTransport(f"http://127.0.0.1:{port}")
    with pytest.raises(SendError) as caught:
        transport.send(TransportRequest("POST", f"http://127.0.0.1:{port}/x", json={}, timeout=(2.0, 2.0)))
    assert caught.value.not_sent and caught.value.reason.startswith("ConnectionError: ")


def test_a_read_timeout_may_have_been_applied(server):
    server.routes["/slow"] = Answer(200, delay=0.5)
    with pytest.raises(SendError) as caught:
        transport_for(server).send(TransportRequest("POST", f"{server.base}/slow", timeout=(2.0, 0.1)))
    assert not caught.value.not_sent and caught.value.reason.startswith("ReadTimeout: ")


def test_a_truncated_body_fails_inside_the_send(server):
    server.routes["/cut"] = Answer(200, body=b'{"a": [1, 2', claimed_length=100)
    with pytest.raises(SendError) as caught:
        transport_for(server).send(get(server, "/cut"))
    assert not caught.value.not_sent


# -- decoding ---------------------------------------------------------------------------------------


def answer(content: bytes, content_type: str | None = "application/json") -> TransportResponse:
    return TransportResponse(200, {"content-type": content_type} if content_type else {}, content)


def test_json_is_utf8_whatever_the_content_type_says():
    body = decode_body(answer('{"name": "Zoë"}'.encode(), "text/plain"))
    assert body.data == {"name": "Zoë"} and body.is_json and body.text == '{"name": "Zoë"}'


def test_bytes_that_are_not_utf8_fall_back_to_an_explicit_charset_only():
    assert decode_body(answer("Zoë".encode("latin-1"), "text/plain; charset=ISO-8859-1")).text == "Zoë"
    assert decode_body(answer("Zoë".encode("latin-1"), "text/plain")).text == "Zo\ufffd"


def test_several_documents_back_to_back_read_as_the_first_and_keep_the_others():
    body = decode_body(answer(b'{"id": 1}\n{"id": 1}{"id": 2}'))
    assert body.data == {"id": 1} and body.more_documents == [{"id": 2}] and body.is_json


def test_an_empty_body_is_json_none_and_text_is_not_json():
    assert (decode_body(answer(b"")).data, decode_body(answer(b"")).is_json) == (None, True)
    html = decode_body(answer(b"<html>busy</html>", "text/html"))
    assert (html.data, html.is_json, html.text) == (None, False, "<html>busy</html>")


# -- the client's policy over a fake transport ----------------------------------------------------


class FakeTransport(Transport):
    """Answers from a script, one step per send: a response, or an exception to raise."""

    def __init__(self, *steps: TransportResponse | Exception) -> None:
        self.steps = list(steps)
        self.sent: list[TransportRequest] = []
        self.closed = False

    def send(self, request: TransportRequest) -> TransportResponse:
        self.sent.append(request)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    def close(self) -> None:
        self.closed = True


def status(code: int, body: bytes = b"", **headers: str) -> TransportResponse:
    return TransportResponse(code, {name.replace("_", "-"): value for name, value in headers.items()}, body,
                             url="https://api.example.test/prefix/x")


def client_with(transport: Transport, timer: FakeTimer) -> RestClient:
    return RestClient(profile=ApiProfile(name="testapi"), base_url="https://api.example.test/prefix", timer=timer,
                      timeout=(3.0, 7.0), retry=RetryPolicy(max_attempts=4, max_wait_seconds=100, jitter=0),
                      transport=transport)


def test_a_get_that_meets_a_503_is_retried_after_the_backoff_and_returns_the_200():
    timer = FakeTimer()
    transport = FakeTransport(status(503, b'{"message": "busy"}'), status(200, b'{"ok": 1}'))
    resp = client_with(transport, timer).request("GET", "/x", params={"a": 1})
    assert (resp.status, resp.data, resp.url) == (200, {"ok": 1}, "https://api.example.test/prefix/x")
    assert resp.earlier_attempt_may_have_applied and timer.sleeps == [1.0]
    assert [(sent.method, sent.url, sent.params, sent.timeout) for sent in transport.sent] == [
        ("GET", "https://api.example.test/prefix/x", {"a": 1}, (3.0, 7.0))] * 2


def test_a_post_that_meets_a_503_is_outcome_unknown_and_not_sent_again():
    timer = FakeTimer()
    transport = FakeTransport(status(503), status(200, b"{}"))
    with pytest.raises(GtmOutcomeUnknownError, match="may have been applied"):
        client_with(transport, timer).request("POST", "/x", json={"a": 1})
    assert len(transport.sent) == 1 and transport.sent[0].json == {"a": 1} and timer.sleeps == []


def test_a_429_with_retry_after_waits_that_long_even_for_a_post():
    timer = FakeTimer()
    transport = FakeTransport(status(429, Retry_After="7"), status(201, b'{"id": 9}'))
    resp = client_with(transport, timer).request("POST", "/x", json={})
    assert (resp.status, resp.data, timer.sleeps) == (201, {"id": 9}, [7.0])
    assert not resp.earlier_attempt_may_have_applied


def test_retries_stop_after_the_attempts_and_raise_the_last_error():
    timer = FakeTimer()
    transport = FakeTransport(*[status(502)] * 4)
    with pytest.raises(GtmServerError):
        client_with(transport, timer).get_json("/x")
    assert len(transport.sent) == 4 and timer.sleeps == [1.0, 2.0, 4.0]


def test_a_send_error_is_retried_when_not_sent_or_safe_and_unknown_otherwise():
    timer = FakeTimer()
    transport = FakeTransport(SendError("ConnectionError: refused", not_sent=True), status(200, b"{}"))
    resp = client_with(transport, timer).request("POST", "/x", json={})
    assert resp.status == 200 and not resp.earlier_attempt_may_have_applied and len(transport.sent) == 2

    transport = FakeTransport(SendError("ReadTimeout: slow", not_sent=False))
    with pytest.raises(GtmOutcomeUnknownError, match=r"may have been applied \(ReadTimeout: slow\)"):
        client_with(transport, timer).request("POST", "/x", json={})

    transport = FakeTransport(*[SendError("ReadTimeout: slow", not_sent=False)] * 4)
    with pytest.raises(GtmTransportError, match="ReadTimeout: slow"):
        client_with(transport, timer).get_json("/x")
    assert len(transport.sent) == 4


def test_a_refused_redirect_is_a_client_error_with_the_transport_text():
    transport = FakeTransport(RedirectRefused("redirect to another origin refused: HTTP 302 to x", status=302))
    with pytest.raises(GtmClientError) as caught:
        client_with(transport, FakeTimer()).get_json("/x")
    assert caught.value.status == 302 and caught.value.api_message.startswith("redirect to another origin refused")
    assert len(transport.sent) == 1


def test_an_injected_transport_is_closed_with_the_client_and_has_no_session():
    transport = FakeTransport()
    client = client_with(transport, FakeTimer())
    with pytest.raises(AttributeError):
        client.session  # noqa: B018
    client.close()
    assert transport.closed


def test_threads_sharing_the_client_keep_their_own_call_state():
    # Each thread's call meets one 503 then succeeds: the shared controller must charge each
    # wait to its own call, so every answer says an earlier attempt of its own call may have applied.
    lock = threading.Lock()
    attempts: dict[str, int] = {}

    class PerPath(Transport):
        def send(self, request: TransportRequest) -> TransportResponse:
            with lock:
                attempts[request.url] = attempts.get(request.url, 0) + 1
                first = attempts[request.url] == 1
            return status(503) if first else status(200, b"{}")

    timer = FakeTimer()
    client = client_with(PerPath(), timer)
    results: list[bool] = []

    def run(n: int) -> None:
        results.append(client.request("GET", f"/x{n}").earlier_attempt_may_have_applied)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results == [True] * 6 and sorted(timer.sleeps) == [1.0] * 6
