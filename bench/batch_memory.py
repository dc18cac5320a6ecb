"""Peak RSS of a batch write as its input grows (issue 23): ``OctyBatchOperator`` profiles.create.

``python -m bench.batch_memory [--sizes 20000,200000,1000000]`` prints a markdown table. Each size:
a JSON Lines input written to a temporary folder, a loopback server (``--serve``) that answers Octy's
``POST /v1/retention/profiles/create`` as Octy does (every profile created, its object returned),
and the operator run in a fresh process (``--client``), which prints its peak RSS (``VmHWM``).
The server parses each request and renders the answer, so it, not the network, bounds the speed;
the client's memory is what is measured. Batches of 500 (Octy's limit).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.octy_batch_server import serve

REPO = Path(__file__).resolve().parent.parent


def accept_all(profiles: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return [{"profile_id": f"p_{p.get('customer_id')}", **p} for p in profiles], []


def client(url: str, input_path: str, out_dir: str) -> None:
    from bench.fetch_clients import connection_env, peak_rss_kib

    os.environ.update(connection_env(url))
    from airflow_provider_gtm.operators.octy import OctyBatchOperator

    ti = SimpleNamespace(dag_id="bench", run_id="bench", task_id="write", map_index=-1,
                         xcom_push=lambda key, value: None)
    operator = OctyBatchOperator(task_id="write", operation="profiles.create", input_uri=f"file://{input_path}",
                                 batch_size=500, failures_uri=f"file://{out_dir}/failures.jsonl")
    wall = time.perf_counter()
    summary = operator.execute({"ti": ti})
    wall = time.perf_counter() - wall
    print(json.dumps({"succeeded": summary["succeeded"], "failed": summary["failed"], "wall": wall,
                      "peak_kib": peak_rss_kib()}), flush=True)


def write_input(path: Path, count: int) -> None:
    with path.open("w") as fh:
        for i in range(count):
            fh.write(json.dumps({"customer_id": f"bench{i}", "profile_data": {"name": f"Customer {i}", "n": i},
                                 "platform_info": {"src": "bench"}, "has_charged": i % 2 == 0}) + "\n")


def run(sizes: list[int]) -> tuple[str, list[dict[str, Any]]]:
    results = []
    server = subprocess.Popen([sys.executable, "-m", "bench.batch_memory", "--serve"], stdout=subprocess.PIPE,
                              text=True, cwd=REPO)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split("listening on ", 1)[1].strip()
        for count in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                source = Path(tmp) / "in.jsonl"
                write_input(source, count)
                done = subprocess.run([sys.executable, "-m", "bench.batch_memory", "--client", url, str(source), tmp],
                                      capture_output=True, text=True, cwd=REPO, timeout=3600)
                if done.returncode != 0:
                    raise RuntimeError(done.stderr[-3000:])
                result = json.loads(done.stdout.strip().splitlines()[-1])
                results_file = Path(tmp) / "results.jsonl"
                assert result["succeeded"] == count == sum(1 for _ in results_file.open("rb")), result
                results.append({"records": count, **result})
    finally:
        server.terminate()
        server.wait(timeout=10)
    rows = "\n".join(f"| {r['records']:,} | {r['succeeded']:,} | {r['wall']:.1f} | {r['peak_kib'] / 1024:.1f} |"
                     for r in results)
    growth = (results[-1]["peak_kib"] - results[0]["peak_kib"]) / 1024
    verdict = "met" if growth <= 20 else "NOT met"
    text = ("### Batch memory: OctyBatchOperator profiles.create from input_uri, batches of 500, fresh process each\n\n"
            "| records | succeeded | wall s | peak RSS MiB |\n|---|---|---|---|\n" + rows +
            f"\n\nTarget (issue 23): within 20 MB from {sizes[0]:,} to {sizes[-1]:,} records: "
            f"{growth:+.1f} MiB, {verdict}.\n")
    return text, results


def batch_memory(quick: bool) -> str:
    """For bench.run: the table (quick: 2,000 to 20,000 records)."""
    return run([2_000, 20_000] if quick else [20_000, 200_000, 1_000_000])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--client", nargs=3, metavar=("URL", "INPUT", "OUT_DIR"))
    parser.add_argument("--sizes", default="20000,200000,1000000")
    args = parser.parse_args()
    if args.serve:
        serve(accept_all)
    elif args.client:
        client(*args.client)
    else:
        print(run([int(s) for s in args.sizes.split(",")])[0])


if __name__ == "__main__":
    main()
