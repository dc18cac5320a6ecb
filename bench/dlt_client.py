"""dlt's RESTClient on the same pages, run by bench/.dlt-venv's Python (dlt lives in its own virtualenv).

``<dlt venv>/bin/python bench/dlt_client.py <server url> <total>``: prints the same JSON line as
bench/fetch_clients.py. A paginator for Octy's cursor header (request and answer), as a dlt user
writes one; it stops at the total, like the plain loop.
"""

from __future__ import annotations

import json
import sys
import time

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator


class CursorHeaderPaginator(BasePaginator):
    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total
        self.cursor = 0

    def init_request(self, request):  # type: ignore[no-untyped-def]
        request.headers["cursor"] = "0"

    def update_state(self, response, data=None):  # type: ignore[no-untyped-def]
        self.cursor = int(response.headers.get("cursor") or 0)
        if not data or self.cursor >= self.total:
            self._has_next_page = False

    def update_request(self, request):  # type: ignore[no-untyped-def]
        request.headers["cursor"] = str(self.cursor)


def peak_rss_kib() -> int:
    """This program's peak RSS (VmHWM: unlike ru_maxrss, it does not carry over the forking parent's peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    url, total = sys.argv[1], int(sys.argv[2])
    client = RESTClient(base_url=url, auth=HttpBasicAuth("pk_bench", "sk_bench"))
    wall, cpu = time.perf_counter(), time.process_time()
    count = 0
    for page in client.paginate("/octy/v1/retention/profiles", paginator=CursorHeaderPaginator(total),
                                data_selector="profiles"):
        count += len(page)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert count == total, (count, total)
    print(json.dumps({"count": count, "wall": wall, "cpu": cpu,
                      "peak_kib": peak_rss_kib()}), flush=True)


if __name__ == "__main__":
    main()
