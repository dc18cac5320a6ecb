"""A loopback stand-in for Octy's ``profiles/create`` used by the batch benchmarks (``--serve``).

It parses each request and renders the answer in its own process, so the clients' CPU, not the
server's, is what a benchmark measures. ``answer`` turns a request body into the profiles created and
the refusals (Octy's ``failed_to_create``).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from typing import Any

CREATE = b"/octy/v1/retention/profiles/create"

Answer = Callable[[list[dict[str, Any]]], tuple[list[dict[str, Any]], list[dict[str, Any]]]]


def render(created: list[dict[str, Any]], failed: list[dict[str, Any]]) -> bytes:
    payload = json.dumps({"request_meta": {"request_status": "Success", "message": "Customer profiles created.",
                                           "count": len(created)}, "profiles": created,
                          "failed_to_create": failed}, separators=(",", ":")).encode()
    return (b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(payload)).encode() + b"\r\n\r\n" + payload)


def _handle(conn: socket.socket, answer: Answer) -> None:
    buffer = b""
    try:
        while True:
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    return
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = 0
            for header in head.split(b"\r\n")[1:]:
                name, _, value = header.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(buffer) < length:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    return
                buffer += chunk
            body, buffer = buffer[:length], buffer[length:]
            target = head.split(b" ")[1] if head.count(b" ") >= 2 else b""
            if target.split(b"?")[0].endswith(CREATE):
                conn.sendall(render(*answer(json.loads(body).get("profiles") or [])))
            else:
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        return
    finally:
        conn.close()


def serve(answer: Answer) -> None:
    """Listen on a free loopback port (printed as ``listening on URL``) until killed."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    host, port = sock.getsockname()
    print(f"listening on http://{host}:{port}", flush=True)
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=_handle, args=(conn, answer), daemon=True).start()
