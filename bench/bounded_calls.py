"""Hostile servers against the client: peak memory, attempts and time of one call (issue 23).

Each case runs one ``RestClient`` call in a child process of its own (so ``ru_maxrss`` is that call's
peak) against a loopback server in this process. ``--code`` points the child at another copy of the
package, to measure the code before a change the same way:

    git archive 0aa32af | tar -x -C /tmp/gtm-before
    PYTHONPATH=$PWD .venv/bin/python bench/bounded_calls.py --code /tmp/gtm-before   # before
    PYTHONPATH=$PWD .venv/bin/python bench/bounded_calls.py                          # after

Timeouts are ``(2, 2)`` seconds (connect, read), so the derived total deadline is 6 s; a child still
running after ``--kill-after`` seconds is killed and reported as hung.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from airflow_provider_gtm.core.client import ApiProfile, RestClient, RetryPolicy
from airflow_provider_gtm.core.timing import FakeTimer
base, method = sys.argv[1], sys.argv[2]
client = RestClient(profile=ApiProfile(name="bench"), base_url=base, timeout=(2.0, 2.0), timer=FakeTimer(),
                    retry=RetryPolicy(max_attempts=4, max_wait_seconds=100, jitter=0))
start = time.monotonic()
try:
    client.request(method, "/x", json={} if method == "POST" else None)
    outcome = "ok"
except Exception as exc:
    outcome = f"{type(exc).__name__}: {str(exc)[:160]}"
print(json.dumps({"outcome": outcome, "seconds": round(time.monotonic() - start, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


class Server:
    def __init__(self, handle: Callable[[socket.socket, threading.Event], None]) -> None:
        self.stopped = threading.Event()
        self.connections = 0
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer.connections += 1
                try:
                    handle(self.request, outer.stopped)
                except OSError:
                    pass

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.port = self.server.server_address[1]

    def close(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


REQUESTS = [0]  # requests read by the current case's server (the attempts of its call)


def read_request(conn: socket.socket) -> bool:
    """Read one request's head; False when the client closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        data += chunk
    REQUESTS[0] += 1
    return True


def gzip_bomb(decoded_mib: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    return b"".join(packer.compress(block) for _ in range(decoded_mib)) + packer.flush()


def bomb(body: bytes) -> Callable[[socket.socket, threading.Event], None]:
    def handle(conn: socket.socket, stopped: threading.Event) -> None:
        while not stopped.is_set() and read_request(conn):  # every request of a kept-alive connection
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)

    return handle


def slow_headers(conn: socket.socket, stopped: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not stopped.wait(1.0):
        conn.sendall(b"x")


def slow_body(conn: socket.socket, stopped: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[")
    while not stopped.wait(1.0):
        conn.sendall(b"1")


def tls_garbage(conn: socket.socket, stopped: threading.Event) -> None:
    conn.recv(65536)  # a ClientHello: counted as a connection, never as a request
    REQUESTS[0] += 1
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def run(case: str, handle: Callable[[socket.socket, threading.Event], None], scheme: str, method: str,
        code: str, kill_after: float) -> dict[str, object]:
    server = Server(handle)
    REQUESTS[0] = 0
    env = {**os.environ, "PYTHONPATH": code}
    start = time.monotonic()
    # cwd too: "python -c" puts the working directory first on sys.path, before PYTHONPATH.
    proc = subprocess.Popen([sys.executable, "-c", CHILD, f"{scheme}://127.0.0.1:{server.port}", method],
                            env=env, cwd=code, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=kill_after)
        result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"outcome": f"crashed: {err[-300:]}"}
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        result = {"outcome": f"hung: killed after {kill_after:.0f}s", "seconds": round(time.monotonic() - start, 1)}
    finally:
        server.close()
    return {"case": case, "method": method, "attempts": REQUESTS[0], **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", default=str(Path(__file__).resolve().parents[1]),
                        help="the folder holding the airflow_provider_gtm to measure")
    parser.add_argument("--kill-after", type=float, default=40.0)
    parser.add_argument("--bomb-mib", type=int, default=1024)
    args = parser.parse_args()
    body = gzip_bomb(args.bomb_mib)
    print(f"code: {args.code}; gzip bomb: {len(body)} bytes inflating to {args.bomb_mib} MiB")
    cases = [
        ("gzip bomb", bomb(body), "http", "GET"),
        ("headers 1 byte/s", slow_headers, "http", "GET"),
        ("body 1 byte/s", slow_body, "http", "GET"),
        ("TLS handshake answered with garbage", tls_garbage, "https", "POST"),
    ]
    for case, handle, scheme, method in cases:
        print(json.dumps(run(case, handle, scheme, method, args.code, args.kill_after)), flush=True)


if __name__ == "__main__":
    main()
