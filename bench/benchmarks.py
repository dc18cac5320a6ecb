"""The benchmarks. Each returns a markdown table; ratios are against a baseline taken in the same run."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench.common import OCTY_AUTH, REPO, Sandbox, environ, measure, sandbox_process, table

PROFILES = "/v1/retention/profiles"


# -- fetch throughput ------------------------------------------------------------------------------

def plain_loop(sandbox: Sandbox) -> int:
    """What a DAG author writes by hand: one Session, the cursor header, stop at the total."""
    session = requests.Session()
    session.auth = OCTY_AUTH
    url = sandbox.base_url("octy") + PROFILES
    cursor, count = 0, 0
    while True:
        response = session.get(url, headers={"cursor": str(cursor)}, timeout=60)
        if response.status_code == 400:
            break
        response.raise_for_status()
        body = response.json()
        count += len(body["profiles"])
        cursor = int(response.headers["cursor"])
        if cursor >= body["request_meta"]["total"]:
            break
    return count


def ours(sandbox: Sandbox) -> int:
    from airflow_provider_gtm.hooks.octy import OctyHook

    hook = OctyHook()
    try:
        return sum(len(page.records) for page in hook.iter_pages("profiles"))
    finally:
        hook.close()


def http_operator(sandbox: Sandbox, keep: bool = False) -> int:
    """Airflow's HttpOperator with a pagination_function (it keeps every page until the end)."""
    from airflow.providers.http.operators.http import HttpOperator

    def next_page(response: requests.Response) -> dict[str, Any] | None:
        body = response.json()
        cursor = int(response.headers.get("cursor") or 0)
        if not body.get("profiles") or cursor >= body["request_meta"]["total"]:
            return None
        return {"headers": {"cursor": str(cursor)}}

    operator = HttpOperator(
        task_id="http", http_conn_id="bench_http", method="GET", endpoint="/octy" + PROFILES,
        headers={"cursor": "0"}, pagination_function=next_page,
        response_filter=lambda responses: sum(len(r.json()["profiles"]) for r in responses),
    )
    return int(operator.execute(context={}))


def _http_conn(sandbox: Sandbox) -> dict[str, str]:
    host, port = sandbox.url.removeprefix("http://").split(":")
    return {"AIRFLOW_CONN_BENCH_HTTP": json.dumps({"conn_type": "http", "host": host, "port": int(port),
                                                   "schema": "http", "login": OCTY_AUTH[0],
                                                   "password": OCTY_AUTH[1]})}


def fetch_throughput(quick: bool) -> str:
    sizes = [2_000] if quick else [20_000, 100_000]
    rows = []
    for records in sizes:
        for page_size in (100, 500):
            with sandbox_process("--records", str(records), "--no-rate-limits") as sandbox:
                sandbox.control("config", {"octy": {"page_size": page_size}})
                env = {**sandbox.connection_env(octy={"rate_limits": []}), **_http_conn(sandbox)}
                with environ(env):
                    repeat = 2 if records >= 100_000 else 3
                    base = measure(lambda: plain_loop(sandbox), repeat)
                    mine = measure(lambda: ours(sandbox), repeat)
                    http = measure(lambda: http_operator(sandbox), repeat)
            assert base.count == mine.count == http.count == records, (base.count, mine.count, http.count)
            pages = math.ceil(records / page_size)
            for name, m in (("plain requests loop", base), ("OctyHook.iter_pages", mine), ("HttpOperator", http)):
                rows.append([f"{records:,}", page_size, name, f"{records / m.seconds:,.0f}",
                             f"{m.cpu / pages * 1000:.2f}", f"{m.cpu / records * 1e6:.1f}",
                             f"{base.seconds / m.seconds:.2f}x"])
    return table("Fetch throughput (Octy profiles, best of 3)",
                 ["records", "per page", "client", "records/s", "CPU ms/page", "CPU µs/record",
                  "vs plain loop"], rows) + (
        "\nTarget: OctyHook ≥ 0.9x the plain loop and ahead of HttpOperator.\n")


# -- memory ----------------------------------------------------------------------------------------

MEMORY_CHILD = """
import json, os, resource, sys
sys.path.insert(0, {repo!r})
os.environ.update(json.loads({env!r}))
which, out = sys.argv[1], sys.argv[2]
from bench.benchmarks import http_operator
if which == "ours":
    from airflow_provider_gtm.operators.octy import OctyFetchOperator
    result = OctyFetchOperator(task_id="m", resource="profiles", output_uri="file://" + out).execute({{}})
    count = result["records"]
else:
    class S: url = {url!r}
    count = http_operator(S())
print(json.dumps({{"count": count, "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def memory(quick: bool) -> str:
    page_counts = [20, 200] if quick else [200, 2_000]
    rows = []
    for pages in page_counts:
        with sandbox_process("--records", str(pages * 100), "--no-rate-limits") as sandbox, \
                tempfile.TemporaryDirectory() as tmp:
            env = {**sandbox.connection_env(octy={"rate_limits": []}), **_http_conn(sandbox)}
            for which in ("ours", "http"):
                code = MEMORY_CHILD.format(repo=str(REPO), env=json.dumps(env), url=sandbox.url)
                done = subprocess.run([sys.executable, "-c", code, which, str(Path(tmp) / "out.jsonl")],
                                      capture_output=True, text=True, check=True, cwd=REPO)
                result = json.loads(done.stdout.strip().splitlines()[-1])
                assert result["count"] == pages * 100
                name = "OctyFetchOperator" if which == "ours" else "HttpOperator"
                rows.append([pages, name, f"{result['peak_kib'] / 1024:.1f}"])
    return table("Memory: peak RSS of one fetch (fresh process each)", ["pages of 100", "operator", "peak RSS MiB"],
                 rows) + "\nTarget: OctyFetchOperator flat (within a few MB) as pages grow.\n"


# -- batch writes ----------------------------------------------------------------------------------

def _profiles(count: int) -> list[dict[str, Any]]:
    # Every 20th record has an illegal customer id: Octy refuses it in failed_to_create.
    return [{"customer_id": f"bench{i}" + (",bad" if i % 20 == 0 else ""), "profile_data": {"n": i},
             "platform_info": {"src": "bench"}, "has_charged": False} for i in range(count)]


def batch_writes(quick: bool) -> str:
    count = 5_000 if quick else 100_000
    invalid = len(range(0, count, 20))
    rows = []
    with sandbox_process("--records", "10", "--no-rate-limits") as sandbox:
        with environ(sandbox.connection_env(octy={"rate_limits": []})):
            from airflow_provider_gtm.hooks.octy import OctyHook

            def plain() -> int:
                session = requests.Session()
                session.auth = OCTY_AUTH
                url = sandbox.base_url("octy") + PROFILES + "/create"
                failed = 0
                records = _profiles(count)
                for start in range(0, count, 500):
                    response = session.post(url, json={"profiles": records[start:start + 500]}, timeout=60)
                    failed += len(response.json().get("failed_to_create") or [])
                return failed

            def mine() -> int:
                hook = OctyHook()
                results = list(hook.iter_batches("profiles.create", iter(_profiles(count)), batch_size=500))
                submitted = sum(r.submitted for r in results)
                failed = sum(r.failed for r in results)
                assert submitted == sum(r.succeeded for r in results) + failed == count
                return failed

            sandbox.control("reset", {})
            base = measure(plain, 1)
            sandbox.control("reset", {})
            ours_m = measure(mine, 1)
    assert base.count == invalid and ours_m.count == invalid, (base.count, ours_m.count, invalid)
    for name, m in (("plain requests loop", base), ("OctyHook.iter_batches", ours_m)):
        rows.append([f"{count:,}", name, f"{count / m.seconds:,.0f}", m.count, f"{base.seconds / m.seconds:.2f}x"])
    return table("Batch writes: Octy profiles in batches of 500, 5% invalid",
                 ["records", "client", "records/s", "failures accounted", "vs plain loop"], rows) + (
        "\nTarget: ≥ 0.9x the plain loop; every failure accounted for (checked).\n")


# -- rate-limit efficiency -------------------------------------------------------------------------

def rate_limits(quick: bool) -> str:
    calls = 150 if quick else 400
    scale = 20.0
    rows = []
    with sandbox_process("--records", "50", "--time-scale", str(scale)) as sandbox:
        # Oktopost: 60 per 60 s and 120 per 5 s on a clock running 20x faster.
        windows = [[60, 60 / scale], [120, 5 / scale]]
        with environ(sandbox.connection_env(oktopost={"rate_limits": windows})):
            from airflow_provider_gtm.hooks.oktopost import OktopostHook

            hook = OktopostHook()
            start = time.perf_counter()
            for _ in range(calls):
                hook.me()
            elapsed = time.perf_counter() - start
        limited = sandbox.control("state").get("rate_limited", {}).get("oktopost", 0)
        minimum = (math.ceil(calls / 60) - 1) * 60 / scale  # the 60/min window binds
        rows.append(["Oktopost", calls, f"{elapsed:.2f}", f"{minimum:.2f}", f"{elapsed / minimum:.3f}", limited])

        sandbox.control("config", {"rate_limits": {"octopus": {"windows": [[40, 60]]}}})
        with environ(sandbox.connection_env(octopus={"rate_limits": []})):
            from airflow_provider_gtm.hooks.octopus import OctopusConnectHook

            hook2 = OctopusConnectHook()
            octopus_calls = 100 if quick else 200
            start = time.perf_counter()
            for _ in range(octopus_calls):
                hook2.get_topics()
            elapsed = time.perf_counter() - start
        limited = sandbox.control("state").get("rate_limited", {}).get("octopus", 0)
        minimum = (math.ceil(octopus_calls / 40) - 1) * 60 / scale
        rows.append(["Octopus (headers)", octopus_calls, f"{elapsed:.2f}", f"{minimum:.2f}",
                     f"{elapsed / minimum:.3f}", limited])
    return table(f"Rate-limit efficiency (sandbox clock x{scale:g})",
                 ["API", "calls", "seconds", "theoretical minimum", "ratio", "429s"], rows) + (
        "\nTarget: within 5% of the minimum (ratio ≤ 1.05) and zero 429s.\n")


# -- parse cost ------------------------------------------------------------------------------------

def parse_cost(quick: bool) -> str:
    runs = 3 if quick else 5
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    rows = []
    snippet = ("import time; t=time.perf_counter(); import airflow_provider_gtm.operators.octy, "
               "airflow_provider_gtm.operators.octopus, airflow_provider_gtm.operators.oktopost, "
               "airflow_provider_gtm.operators.customeros; print(time.perf_counter()-t)")
    times = [float(subprocess.run([sys.executable, "-c", "import airflow.sdk; " + snippet], capture_output=True,
                                  text=True, check=True, cwd=REPO, env=env).stdout.split()[-1]) for _ in range(runs)]
    median_ms = f"{statistics.median(times) * 1000:.0f}"
    rows.append(["import the provider's operators (airflow.sdk already imported)", median_ms])
    for dag_file in sorted((REPO / "dags").glob("*.py")):
        code = ("import time; from airflow.dag_processing.dagbag import DagBag; t=time.perf_counter(); "
                f"b=DagBag(dag_folder={str(dag_file)!r}); assert not b.import_errors, b.import_errors; "
                "print(time.perf_counter()-t)")
        times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                      cwd=REPO, env=env).stdout.split()[-1]) for _ in range(runs)]
        rows.append([f"parse dags/{dag_file.name}", f"{statistics.median(times) * 1000:.0f}"])
    return table(f"DAG parse cost (median of {runs} fresh processes)", ["what", "ms"], rows)


# -- sandbox speed ---------------------------------------------------------------------------------

def sandbox_rps(quick: bool) -> str:
    seconds = 2.0 if quick else 5.0
    with sandbox_process("--records", "10000", "--no-rate-limits") as sandbox:
        session = requests.Session()
        session.auth = OCTY_AUTH
        url = sandbox.base_url("octy") + PROFILES
        deadline, count, cursor = time.perf_counter() + seconds, 0, 0
        start = time.perf_counter()
        while time.perf_counter() < deadline:
            session.get(url, headers={"cursor": str(cursor)}, timeout=30)
            cursor = (cursor + 100) % 10_000
            count += 1
        rps = count / (time.perf_counter() - start)
    return table("Sandbox speed (one keep-alive client, Octy profile pages of 100)", ["requests/s"],
                 [[f"{rps:,.0f}"]])


ALL = [("fetch", fetch_throughput), ("memory", memory), ("batch", batch_writes), ("rate", rate_limits),
       ("parse", parse_cost), ("sandbox", sandbox_rps)]
