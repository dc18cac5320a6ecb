"""One fetch by one client, in a fresh process: ``python -m bench.fetch_clients <client> <server url> <total> <out>``.

Prints one JSON line: records fetched, wall and CPU seconds of the fetch itself (imports excluded),
peak RSS. The clients, all against bench.fastserver's pre-rendered Octy profile pages:

- ``plain``: what a DAG author writes by hand: one ``requests.Session``, the cursor header, ``.json()``.
- ``plain_file``: the same loop writing each record with ``json.dumps`` to a JSON Lines file.
- ``hook``: ``OctyHook.iter_pages`` (pages only, nothing written).
- ``operator``: ``OctyFetchOperator.execute`` writing JSON Lines (with its checkpoints).
- ``operator_object_store``: the same to an object store (part objects; fsspec's memory store).
- ``http_operator``: Airflow's ``HttpOperator`` with a ``pagination_function`` (it keeps every response).
- ``dlt`` is run by bench/dlt_client.py in its own virtualenv.
"""

from __future__ import annotations

import json
import os
import sys
import time
from types import SimpleNamespace
from typing import Any

PROFILES = "/octy/v1/retention/profiles"
AUTH = ("pk_bench", "sk_bench")


def plain(url: str, out: str) -> int:
    import requests

    session = requests.Session()
    session.auth = AUTH
    cursor, count = 0, 0
    while True:
        response = session.get(url + PROFILES, headers={"cursor": str(cursor)}, timeout=60)
        if response.status_code == 400:
            break
        response.raise_for_status()
        body = response.json()
        count += len(body["profiles"])
        cursor = int(response.headers["cursor"])
        if cursor >= body["request_meta"]["total"]:
            break
    return count


def plain_file(url: str, out: str) -> int:
    import requests

    session = requests.Session()
    session.auth = AUTH
    cursor, count = 0, 0
    with open(out, "w", encoding="utf-8") as fh:
        while True:
            response = session.get(url + PROFILES, headers={"cursor": str(cursor)}, timeout=60)
            if response.status_code == 400:
                break
            response.raise_for_status()
            body = response.json()
            for profile in body["profiles"]:
                fh.write(json.dumps(profile) + "\n")
            count += len(body["profiles"])
            cursor = int(response.headers["cursor"])
            if cursor >= body["request_meta"]["total"]:
                break
    return count


def socket_msgspec(url: str, out: str) -> int:
    """The yardstick of issue 25: a minimal keep-alive socket client, msgspec decode, msgspec lines to a file.

    No HTTP library, no retries, no checks: the least a fetch-to-file can cost on this server.
    """
    import socket

    import msgspec

    host, port = url.removeprefix("http://").split(":")
    decoder, encoder = msgspec.json.Decoder(), msgspec.json.Encoder()
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = sock.makefile("rb", buffering=1 << 20)
    cursor, count = 0, 0
    with open(out, "wb") as fh:
        while True:
            sock.sendall(f"GET {PROFILES} HTTP/1.1\r\nHost: {host}\r\ncursor: {cursor}\r\n\r\n".encode())
            status = int(reader.readline().split(b" ", 2)[1])
            length, next_cursor = 0, None
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
                elif name.lower() == b"cursor":
                    next_cursor = int(value)
            body = decoder.decode(reader.read(length))
            if status == 400:
                break
            records = body["profiles"]
            fh.write(encoder.encode_lines(records))
            count += len(records)
            if next_cursor is None or next_cursor >= body["request_meta"]["total"]:
                break
            cursor = next_cursor
    sock.close()
    return count


def hook(url: str, out: str) -> int:
    from airflow_provider_gtm.hooks.octy import OctyHook

    octy = OctyHook()
    try:
        return sum(len(page.records) for page in octy.iter_pages("profiles"))
    finally:
        octy.close()


def operator(url: str, out: str) -> int:
    from airflow_provider_gtm.operators.octy import OctyFetchOperator

    ti = SimpleNamespace(dag_id="bench", run_id="bench", task_id="fetch", map_index=-1)
    result = OctyFetchOperator(task_id="fetch", resource="profiles", output_uri=f"file://{out}").execute({"ti": ti})
    return int(result["records"])


def operator_object_store(url: str, out: str) -> int:
    """The operator writing to an object store: part objects, a checkpoint object, joined at the end.

    The store is fsspec's memory store (objects written whole, no append), so the figure is the
    part-object writer's cost without a network; its peak RSS includes the store's copy of the
    output (the parts, then the joined object).
    """
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import fs as sdk_fs
    from fsspec.implementations.memory import MemoryFileSystem

    from airflow_provider_gtm.operators.octy import OctyFetchOperator

    store = MemoryFileSystem()
    sdk_fs._register_filesystems()["memory"] = lambda conn_id: store
    ti = SimpleNamespace(dag_id="bench", run_id="bench", task_id="fetch", map_index=-1)
    uri = f"memory://bench/{os.path.basename(out)}"
    result = OctyFetchOperator(task_id="fetch", resource="profiles", output_uri=uri).execute({"ti": ti})
    with ObjectStoragePath(uri).open("rb") as output:
        lines = sum(1 for _ in output)
    assert lines == result["records"], (lines, result["records"])  # the object holds every record once
    return int(result["records"])


def http_operator(url: str, out: str) -> int:
    from airflow.providers.http.operators.http import HttpOperator

    def next_page(response: Any) -> dict[str, Any] | None:
        body = response.json()
        cursor = int(response.headers.get("cursor") or 0)
        if not body.get("profiles") or cursor >= body["request_meta"]["total"]:
            return None
        return {"headers": {"cursor": str(cursor)}}

    op = HttpOperator(
        task_id="http", http_conn_id="bench_http", method="GET", endpoint=PROFILES,
        headers={"cursor": "0"}, pagination_function=next_page,
        response_filter=lambda responses: sum(len(r.json()["profiles"]) for r in responses),
    )
    return int(op.execute(context={}))


#: Imported before the clock starts: a task's process has Airflow loaded before execute runs (the
#: supervisor module included, which Airflow imports on a first connection lookup outside a task).
_TASK_RUNTIME = ["airflow.sdk.execution_time.supervisor"]
PRELOAD = {"plain": ["requests"], "plain_file": ["requests"], "socket_msgspec": ["msgspec", "socket"],
           "hook": ["airflow_provider_gtm.hooks.octy", *_TASK_RUNTIME],
           "operator": ["airflow_provider_gtm.operators.octy", "airflow_provider_gtm.hooks.octy", *_TASK_RUNTIME],
           "operator_object_store": ["airflow_provider_gtm.operators.octy", "airflow_provider_gtm.hooks.octy",
                                     "fsspec.implementations.memory", *_TASK_RUNTIME],
           "http_operator": ["airflow.providers.http.operators.http", *_TASK_RUNTIME]}

CLIENTS = {"plain": plain, "plain_file": plain_file, "socket_msgspec": socket_msgspec, "hook": hook,
           "operator": operator, "operator_object_store": operator_object_store, "http_operator": http_operator}


def connection_env(url: str) -> dict[str, str]:
    host, port = url.removeprefix("http://").split(":")
    return {
        "AIRFLOW_CONN_OCTY_DEFAULT": json.dumps({"conn_type": "octy", "host": url + "/octy", "login": AUTH[0],
                                                 "password": AUTH[1], "extra": {"rate_limits": []}}),
        "AIRFLOW_CONN_BENCH_HTTP": json.dumps({"conn_type": "http", "host": host, "port": int(port),
                                               "schema": "http", "login": AUTH[0], "password": AUTH[1]}),
    }


def peak_rss_kib() -> int:
    """This program's peak RSS (VmHWM: unlike ru_maxrss, it does not carry over the forking parent's peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    name, url, total, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    os.environ.update(connection_env(url))
    client = CLIENTS[name]
    for module in PRELOAD[name]:
        __import__(module)
    wall, cpu = time.perf_counter(), time.process_time()
    count = client(url, out)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert count == total, (name, count, total)
    print(json.dumps({"count": count, "wall": wall, "cpu": cpu,
                      "peak_kib": peak_rss_kib()}), flush=True)


if __name__ == "__main__":
    main()
