"""Per-call cost of the client on loopback: a 3.3 MB JSON page and a 9-byte answer (streamed, bounded reads).

From the repository root: ``PYTHONPATH=$PWD .venv/bin/python bench/call_overhead.py after``; for the code
before a change, the same from an exported copy (``git archive <commit> | tar -x -C /tmp/gtm-before``,
then ``cd /tmp/gtm-before && PYTHONPATH=$PWD <venv>/bin/python <this file> before``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from airflow_provider_gtm.core.client import ApiProfile, RestClient

PAGE = json.dumps({"records": [{"id": i, "name": "x" * 40} for i in range(50_000)]}).encode()
SMALL = b'{"ok": 1}'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        body = PAGE if self.path.startswith("/big") else SMALL
        # One write: headers and body apart would meet Nagle and delayed ACKs (40 ms a call).
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                         % len(body) + body)


def main(label: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = RestClient(profile=ApiProfile(name="bench"), base_url=f"http://127.0.0.1:{server.server_address[1]}")
    for path, calls, size in (("/big", 40, len(PAGE)), ("/small", 2000, len(SMALL))):
        client.get_json(path)
        best = []
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(calls):
                client.get_json(path)
            best.append((time.perf_counter() - start) / calls * 1000)
        print(f"{label} {path} ({size} bytes): {min(best):.3f} ms/call (best of 3 x {calls})")
    server.shutdown()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
