"""A loopback server fast enough not to be the bottleneck: pre-rendered Octy profile pages.

``python -m bench.fastserver --records N --page-size P`` prints ``listening on http://127.0.0.1:<port>``
and serves ``GET /octy/v1/retention/profiles`` as Octy does (request header ``cursor`` = offset,
answer header ``cursor`` = next offset, ``request_meta.total``; past the end a 400 "pagination cursor
exhausted"). Records look like the sandbox's (~480 bytes each). Pages are rendered once at start
into a ring of at most ``--ring`` distinct page bodies and sent as bytes: a request costs the server
a header parse and one ``sendall``, so the benchmark measures the client. Authentication is not
checked. HTTP/1.1 keep-alive, one thread per connection.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading

PATH = b"/octy/v1/retention/profiles"


def record(i: int) -> dict[str, object]:
    day = 1 + i % 28
    return {
        "profile_id": f"profile_{i:012d}", "customer_id": f"customer_{i:012d}",
        "profile_data": {"name": f"Customer {i}", "age": 18 + i % 60, "plan": ("free", "pro", "team")[i % 3]},
        "platform_info": {"os": ("android", "ios", "web")[i % 3], "country": ("DE", "FR", "US", "GB")[i % 4]},
        "has_charged": i % 2 == 0, "status": "active", "rfm_score": 111 + i % 445,
        "rfm_segment_desc": "at risk", "churn_probability": ("low", "mid", "high", "very-high")[i % 4],
        "segment_tags": [{"segment_tag": f"synthetic_segment_{i % 7}",
                          "created_at": f"Sat, {day:02d} Apr 2022 05:03:43 GMT"}],
        "created_at": f"Sat, {day:02d} Apr 2022 05:03:43 GMT", "updated_at": f"Wed, {day:02d} Apr 2022 18:02:13 GMT",
    }


def vendor_record(i: int) -> dict[str, object]:
    """A record shaped like the vendors' answers: nullable fields left null, nested objects, non-ASCII text."""
    row = record(i)
    row["profile_data"] = {"name": ("Zoë Ångström", "東京 花子", "Renée O'Brien", f"Customer {i}")[i % 4],
                           "age": None if i % 3 else 18 + i % 60, "plan": None if i % 5 == 0 else "pro",
                           "address": {"city": "Zürich", "zip": None, "lines": ["Bahnhofstraße 1", None]}}
    row.update({"phone": None, "deleted_at": None, "rfm_score": None if i % 2 else 111 + i % 445,
                "custom": {"score": 0.5 + i % 7, "note": "café ☕", "extra": None}})
    return row


SHAPES = {"plain": record, "vendor": vendor_record}


def render(records: int, page_size: int, ring: int, shape: str = "plain") -> list[bytes]:
    pages = []
    record = SHAPES[shape]
    for number in range(min(ring, -(-records // page_size))):
        rows = [record(i) for i in range(number * page_size, (number + 1) * page_size)]
        body = {"request_meta": {"request_status": "Success", "message": "Customer profiles found.",
                                 "count": len(rows), "total": records}, "profiles": rows}
        pages.append(json.dumps(body, separators=(",", ":")).encode())
    return pages


def last_page(records: int, page_size: int, start: int, shape: str = "plain") -> bytes:
    rows = [SHAPES[shape](i) for i in range(start, records)]
    body = {"request_meta": {"request_status": "Success", "message": "Customer profiles found.",
                             "count": len(rows), "total": records}, "profiles": rows}
    return json.dumps(body, separators=(",", ":")).encode()


EXHAUSTED = json.dumps({"request_meta": {"request_status": "Failure", "message": "No profiles found"},
                        "error_message": "No profiles found with the provided query parameters or pagination "
                                         "cursor exhausted"}).encode()


class Server:
    def __init__(self, records: int, page_size: int, ring: int, shape: str = "plain") -> None:
        self.records, self.page_size = records, page_size
        self.pages = render(records, page_size, ring, shape)
        tail = records % page_size
        self.tail = last_page(records, page_size, records - tail, shape) if tail else None
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)

    def answer(self, head: bytes) -> bytes:
        line, _, rest = head.partition(b"\r\n")
        target = line.split(b" ")[1] if line.count(b" ") >= 2 else b""
        if not target.split(b"?")[0].endswith(PATH):
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        cursor = 0
        for header in rest.split(b"\r\n"):
            if header[:7].lower() == b"cursor:":
                try:
                    cursor = int(header[7:].strip())
                except ValueError:
                    cursor = -1
        if cursor < 0 or cursor >= self.records:
            return (b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(EXHAUSTED)).encode() + b"\r\n\r\n" + EXHAUSTED)
        number = cursor // self.page_size
        nxt = min(self.records, (number + 1) * self.page_size)
        if self.tail is not None and nxt == self.records:
            body = self.tail
        else:
            body = self.pages[number % len(self.pages)]
        return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
                + b"\r\ncursor: " + str(nxt).encode() + b"\r\n\r\n" + body)

    def handle(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                conn.sendall(self.answer(head))
        except OSError:
            return
        finally:
            conn.close()

    def serve_forever(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--ring", type=int, default=200, help="distinct pre-rendered pages (served in a ring)")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="plain",
                        help="plain: no nulls (the historic pages); vendor: nulls, nested objects, non-ASCII text")
    args = parser.parse_args()
    server = Server(args.records, args.page_size, args.ring, args.shape)
    host, port = server.sock.getsockname()
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
