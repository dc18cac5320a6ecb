"""CPU per record of a batch write (issue 25): hook and operator against plain loops, fresh process each.

``python -m bench.batch_speed [--sizes 10000,100000] [--rounds 5] [--before /path/to/other/checkout]``
prints a markdown table. Octy ``profiles.create`` from a JSON Lines input, every 20th profile refused
by the server (``failed_to_create``, as Octy answers). Each run is a fresh process (``--client``)
that reads the same input, imports everything before its clock starts, and prints the CPU time
(``time.process_time``) and wall time of the write itself and its peak RSS (``VmHWM``). Clients:

- ``plain_post``: a plain ``requests.Session.post`` loop: records read with ``json.loads``, chunks
  of 500, the answer's ``failed_to_create`` counted (the yardstick of the hook).
- ``plain_file``: the same loop writing a results line per created profile and a failures line per
  refused one (``json.dumps``), matched to its record by ``customer_id`` (the yardstick of the operator).
- ``hook``: ``OctyHook.iter_batches`` over the same records (defaults: chunks of 500).
- ``operator``: ``OctyBatchOperator(operation="profiles.create", input_uri=...)`` with its defaults
  (its ledger, lease, preflight, results and failures files).

``--before DIR`` adds the hook and operator of another checkout (e.g. ``main``), run in the same
interleaved rounds (its ``airflow_provider_gtm`` first on ``PYTHONPATH``): before and after in one run.
The server (``--serve``) is a separate process that renders answers with ``json``; the clients'
CPU is what is measured, not the server's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CREATE = b"/octy/v1/retention/profiles/create"
AUTH = ("pk_bench", "sk_bench")
CHUNK = 500
REFUSE_EVERY = 20
REFUSAL = "Profile could not be created: invalid profile_data"


def refuse_every_twentieth(profiles: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    created, failed = [], []
    for profile in profiles:
        customer = str(profile.get("customer_id"))
        if int(customer.removeprefix("bench")) % REFUSE_EVERY == REFUSE_EVERY - 1:
            failed.append({"customer_id": customer, "error_message": REFUSAL})
        else:
            created.append({"profile_id": f"p_{customer}", **profile})
    return created, failed


# -- clients (each in a fresh process) ----------------------------------------------------------------

def _read(path: str) -> Any:
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _chunks(records: Any) -> Any:
    chunk: list[Any] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _plain_post(url: str, source: str, out: str) -> Any:
    import requests

    session = requests.Session()
    session.auth = AUTH

    def run() -> tuple[int, int]:
        succeeded = failed = 0
        for chunk in _chunks(_read(source)):
            body = session.post(url + CREATE.decode(), json={"profiles": chunk}, timeout=60).json()
            failed += len(body.get("failed_to_create") or [])
            succeeded += len(body.get("profiles") or [])
        return succeeded, failed
    return run


def _plain_file(url: str, source: str, out: str) -> Any:
    import requests

    session = requests.Session()
    session.auth = AUTH

    def run() -> tuple[int, int]:
        succeeded = failed = 0
        with open(f"{out}/results.jsonl", "w", encoding="utf-8") as results, \
                open(f"{out}/failures.jsonl", "w", encoding="utf-8") as failures:
            for chunk in _chunks(_read(source)):
                body = session.post(url + CREATE.decode(), json={"profiles": chunk}, timeout=60).json()
                by_id = {r.get("customer_id"): r for r in chunk}
                for created in body.get("profiles") or []:
                    results.write(json.dumps(created) + "\n")
                    succeeded += 1
                for refused in body.get("failed_to_create") or []:
                    key = refused.get("customer_id")
                    failures.write(json.dumps({"record": by_id.get(key), "identifier": key,
                                               "error_message": refused.get("error_message"),
                                               "status": 400}) + "\n")
                    failed += 1
        return succeeded, failed
    return run


def _hook(url: str, source: str, out: str) -> Any:
    from airflow_provider_gtm.hooks.octy import OctyHook

    hook = OctyHook()
    hook.client  # noqa: B018 - the connection is looked up before the clock starts

    def run() -> tuple[int, int]:
        succeeded = failed = 0
        for result in hook.iter_batches("profiles.create", _read(source)):
            succeeded += result.succeeded
            failed += result.failed
        return succeeded, failed
    return run


def _operator(url: str, source: str, out: str) -> Any:
    from types import SimpleNamespace

    from airflow_provider_gtm.operators.octy import OctyBatchOperator

    ti = SimpleNamespace(dag_id="bench", run_id="bench", task_id="write", map_index=-1, try_number=1,
                         xcom_push=lambda key, value: None)
    operator = OctyBatchOperator(task_id="write", operation="profiles.create", input_uri=f"file://{source}",
                                 failures_uri=f"file://{out}/failures.jsonl", on_failures="warn")
    import airflow_provider_gtm.core.ledger  # noqa: F401 - loaded by execute; imported before the clock
    import airflow_provider_gtm.core.settlement  # noqa: F401
    import airflow_provider_gtm.hooks.octy  # noqa: F401

    def run() -> tuple[int, int]:
        summary = operator.execute({"ti": ti})
        return summary["succeeded"], summary["failed"]
    return run


CLIENTS = {"plain_post": _plain_post, "plain_file": _plain_file, "hook": _hook, "operator": _operator}
NAMES = {"plain_post": "plain Session.post loop", "plain_file": "plain post + results/failures file loop",
         "hook": "OctyHook.iter_batches", "operator": "OctyBatchOperator (defaults)"}


def _peak_rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def client(kind: str, url: str, source: str, out: str) -> None:
    host = url + "/octy"
    os.environ["AIRFLOW_CONN_OCTY_DEFAULT"] = json.dumps({"conn_type": "octy", "host": host, "login": AUTH[0],
                                                          "password": AUTH[1], "extra": {"rate_limits": []}})
    run = CLIENTS[kind](url, source, out)
    cpu, wall = time.process_time(), time.perf_counter()
    succeeded, failed = run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(json.dumps({"succeeded": succeeded, "failed": failed, "cpu": cpu, "wall": wall,
                      "peak_kib": _peak_rss_kib()}), flush=True)


# -- the run ------------------------------------------------------------------------------------------

def write_input(path: Path, count: int) -> None:
    with path.open("w") as fh:
        for i in range(count):
            fh.write(json.dumps({"customer_id": f"bench{i}", "profile_data": {"name": f"Customer {i}", "n": i},
                                 "platform_info": {"src": "bench"}, "has_charged": i % 2 == 0}) + "\n")


def _one(kind: str, url: str, source: Path, code: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    # The client runs as a script so that ``code`` (another checkout) comes first for airflow_provider_gtm.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (code or str(REPO), env.get("PYTHONPATH", "")) if p)
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, str(Path(__file__)), "--client", kind, url, str(source), out],
                              capture_output=True, text=True, env=env, cwd=out, timeout=3600)
        if done.returncode != 0:
            raise RuntimeError(f"{kind}: {done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def run(sizes: list[int], rounds: int, before: str | None = None) -> str:
    kinds: list[tuple[str, str, str | None]] = [(k, NAMES[k], None) for k in CLIENTS]
    if before:
        kinds += [(k, f"{NAMES[k]}, before ({Path(before).name})", before) for k in ("hook", "operator")]
    server = subprocess.Popen([sys.executable, "-m", "bench.batch_speed", "--serve"], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[1])
    load = os.getloadavg()
    rows: list[str] = []
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split("listening on ", 1)[1].strip()
        for count in sizes:
            refused = sum(1 for i in range(count) if i % REFUSE_EVERY == REFUSE_EVERY - 1)
            runs: dict[str, list[dict[str, Any]]] = {name: [] for _, name, _ in kinds}
            with tempfile.TemporaryDirectory() as tmp:
                source = Path(tmp) / "in.jsonl"
                write_input(source, count)
                for _ in range(rounds):  # interleaved: each round runs every client once
                    for kind, name, code in kinds:
                        result = _one(kind, url, source, code)
                        # Wrong results fail the benchmark: every record accounted for.
                        assert (result["succeeded"], result["failed"]) == (count - refused, refused), (name, result)
                        runs[name].append(result)
            med = {name: {key: statistics.median(r[key] for r in found) for key in ("cpu", "wall", "peak_kib")}
                   for name, found in runs.items()}
            for kind, name, _ in kinds:
                base = med[NAMES["plain_post" if kind in ("plain_post", "hook") else "plain_file"]]
                m = med[name]
                rows.append(f"| {count:,} | {name} | {m['cpu'] / count * 1e6:.1f} | {m['wall']:.2f} | "
                            f"{count / m['wall']:,.0f} | {m['peak_kib'] / 1024:.1f} | {m['cpu'] / base['cpu']:.2f}x |")
    finally:
        server.terminate()
        server.wait(timeout=10)
    after = os.getloadavg()
    return (f"### Batch CPU (issue 25): Octy profiles.create, every {REFUSE_EVERY}th refused, medians of "
            f"{rounds} interleaved rounds, fresh process per run\n\n"
            f"- load average (1 min) at start / end: {load[0]:.2f} / {after[0]:.2f} on {os.cpu_count()} cores\n"
            "- ratio: CPU against the plain loop it replaces (hook vs plain Session.post loop, operator vs plain "
            "file loop); targets (issue 25): hook ≤ 1.2x, operator ≤ 1.3x\n\n"
            "| records | client | CPU µs/record | wall s | records/s | peak RSS MiB | CPU vs plain |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")


def batch_speed(quick: bool) -> str:
    """For bench.run (quick: 2,000 records, one round)."""
    return run([2_000], 1) if quick else run([10_000, 100_000], 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--client", nargs=4, metavar=("KIND", "URL", "INPUT", "OUT_DIR"))
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", default=None, help="another checkout whose hook and operator run too")
    args = parser.parse_args()
    if args.serve:
        # Only the server imports from the bench package: a --client run is started by file path.
        from bench.octy_batch_server import serve

        serve(refuse_every_twentieth)
    elif args.client:
        client(*args.client)
    else:
        print(run([int(s) for s in args.sizes.split(",")], args.rounds, args.before))


if __name__ == "__main__":
    main()
