"""The fetch on pages shaped like the vendors' (issue 25): nulls, nested objects, non-ASCII text.

``python -m bench.fetch_nulls [--records 100000] [--rounds 5] [--before /path/to/other/checkout]``
prints a markdown table: the plain requests + json file loop, ``OctyHook.iter_pages`` and
``OctyFetchOperator`` (to a file) on bench.fastserver's historic pages (no nulls) and on vendor-shaped
pages (``--shape vendor``), each run a fresh process (bench/fetch_clients.py), rounds interleaved.
``--before DIR`` adds the hook and operator of another checkout, its ``airflow_provider_gtm`` first
on ``PYTHONPATH``. A page holding a ``null`` used to make the operator check every record in Python
(msgspec writes NaN as ``null``; core/jsonio.py ``has_non_finite``): "operator - hook" shows that cost.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def _server(records: int, page_size: int, shape: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "bench.fastserver", "--records", str(records), "--page-size",
                                str(page_size), "--shape", shape], stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert process.stdout is not None
    return process, process.stdout.readline().split("listening on ", 1)[1].strip()


def _client(client: str, url: str, records: int, out: Path, code: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (code, str(REPO), env.get("PYTHONPATH", "")) if p)
    done = subprocess.run([sys.executable, "-m", "bench.fetch_clients", client, url, str(records), str(out)],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{client}: {done.stderr[-2000:]}")
    if out.exists():
        assert sum(1 for _ in out.open("rb")) == records, client  # every record once
        out.unlink()
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(records: int, rounds: int, before: str | None, page_size: int = 500,
        shapes: tuple[str, ...] = ("plain", "vendor"),
        ) -> str:
    clients: list[tuple[str, str, str | None]] = [
        ("socket_msgspec", "socket + msgspec fetch-to-file (yardstick)", None),
        ("plain_file", "plain requests + json file loop", None),
        ("hook", "OctyHook.iter_pages", None), ("operator", "OctyFetchOperator (to file)", None)]
    if before:
        clients += [("hook", f"OctyHook.iter_pages, before ({Path(before).name})", before),
                    ("operator", f"OctyFetchOperator (to file), before ({Path(before).name})", before)]
    load = os.getloadavg()[0]
    rows = []
    for shape in shapes:
        server, url = _server(records, page_size, shape)
        try:
            runs: dict[str, list[dict[str, Any]]] = {name: [] for _, name, _ in clients}
            with tempfile.TemporaryDirectory() as tmp:
                for _ in range(rounds):
                    for client, name, code in clients:
                        runs[name].append(_client(client, url, records, Path(tmp) / "out.jsonl", code))
        finally:
            server.terminate()
            server.wait(timeout=10)
        cpu = {name: statistics.median(r["cpu"] for r in found) / records * 1e6 for name, found in runs.items()}
        for _client_name, name, code in clients:
            wall = statistics.median(r["wall"] for r in runs[name])
            hook = cpu[next(n for c, n, k in clients if c == "hook" and k == code)]
            above = f"{cpu[name] - hook:.2f}" if _client_name == "operator" else ""
            yardstick = statistics.median(r["wall"] for r in runs[clients[0][1]])
            rows.append(f"| {shape} | {name} | {cpu[name]:.2f} | {above} | {wall:.3f} | {records / wall:,.0f} | "
                        f"{yardstick / wall:.0%} |")
    return (f"### Fetch on vendor-shaped pages (issue 25): {records:,} Octy profiles, {page_size} a page, medians of "
            f"{rounds} interleaved rounds, fresh process per run\n\n- load average (1 min) at start: {load:.2f} on "
            f"{os.cpu_count()} cores; plain: bench.fastserver's historic pages (no null); vendor: nullable fields "
            "null, nested objects, non-ASCII text\n\n"
            "| pages | client | CPU µs/record | operator - hook µs | wall s | records/s | speed vs yardstick |\n"
            "|---|---|---|---|---|---|---|\n"
            + "\n".join(rows) + "\n")


def fetch_nulls(quick: bool) -> str:
    """For bench.run (quick, for CI: 2,000 records of vendor-shaped pages, one round, ~8 s)."""
    return run(2_000, 1, None, shapes=("vendor",)) if quick else run(100_000, 5, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", default=None)
    args = parser.parse_args()
    print(run(args.records, args.rounds, args.before))


if __name__ == "__main__":
    main()
