"""Run every sample DAG on real Airflow (SQLite) against the bundled sandbox, and print what happened.

    python scripts/demo.py          # what `make demo` runs
    python scripts/demo.py --ui     # Airflow's UI wired to the sandbox (what `make airflow-ui` runs)

Everything lives under .demo/ in the repository: the Airflow home (SQLite), the data files, and the
whole output of each run in .demo/logs/<dag_id>.log (a failed run's reason and log tail are printed).
No account and no internet are needed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / ".demo"

# Each sample DAG with the trigger-form values the demo uses. A few invalid records are seeded on
# purpose so that the report shows how refusals are reported (with the API's own reason).
RUNS = {
    "gtm_community_engagement_to_retention": {
        "since": "2000-01-01T00:00:00+00:00",
        "extra_profiles": [
            {"customer_id": "bad.customer,id", "profile_data": {"nickname": "x"}, "platform_info": {"community": "x"}},
        ],
    },
    "gtm_advocates_to_customer_base": {
        "enrich_people": True,
        "max_enrichments": 3,
        "extra_contacts": [{"email": "not-an-email"}],
    },
    "gtm_publish_campaign": {"campaign_name": "Demo launch", "message": "Hello from the airflow-provider-gtm demo"},
}


def airflow_env(sandbox_env: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(DEMO / "airflow-home"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__GTM__OUTPUT_BASE_URI": f"file://{DEMO / 'data'}",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        }
    )
    env.update(sandbox_env)
    return env


def airflow(*args: str, env: dict[str, str], check: bool = True, quiet: bool = False) -> int:
    cmd = [sys.executable, "-m", "airflow", *args]
    out = subprocess.DEVNULL if quiet else None
    return subprocess.run(cmd, env=env, check=check, stdout=out, stderr=out).returncode


LOGS = DEMO / "logs"
TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+) map_index=(?P<map>-?\d+)")
EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Exception|Error|Exit|Deferred)\b(?::.*)?$")
FAILED_MARKERS = ("Task failed with exception", "new_state=failed")


def failed_tasks(output: str, tail: int = 15) -> list[dict[str, str | list[str]]]:
    """The tasks that failed in an ``airflow dags test`` output: id, reason (the exception line), log tail."""
    sections: list[tuple[str, list[str]]] = []
    for line in output.splitlines():
        started = TASK_START.search(line)
        if started:
            name = started["task"] + (f"[{started['map']}]" if started["map"] != "-1" else "")
            sections.append((name, []))
        if sections:
            sections[-1][1].append(line)
    failed = []
    for name, lines in sections:
        if not any(marker in line for line in lines for marker in FAILED_MARKERS):
            continue
        reasons = [line.strip() for line in lines if EXCEPTION_LINE.match(line.strip())]
        failed.append({"task": name, "reason": reasons[-1] if reasons else "(no exception in the log; see the tail)",
                       "tail": lines[-tail:]})
    return failed


def sandbox_calls(state: dict) -> str:
    """The sandbox's per-API call counts (its state key ``calls``), e.g. ``octy 12, oktopost 7``."""
    calls = state.get("calls") or {}
    return ", ".join(f"{api} {count}" for api, count in sorted(calls.items())) or "none"


def run_dag(dag_id: str, conf: dict, env: dict[str, str]) -> tuple[int, Path]:
    """``airflow dags test`` one DAG; its whole output goes to ``.demo/logs/<dag_id>.log``."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{dag_id}.log"
    with log_path.open("w") as log:
        code = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", dag_id, "-c", json.dumps(conf)],
                              env=env, check=False, stdout=log, stderr=subprocess.STDOUT).returncode
    return code, log_path


def print_failure(log_path: Path) -> None:
    found = failed_tasks(log_path.read_text(errors="replace"))
    for failure in found:
        print(f"  task {failure['task']} failed: {failure['reason']}")
        print("  last lines of its log:")
        for line in failure["tail"]:
            print(f"    {line}")
    if not found:
        print("  (no failed task found in the output; the run itself failed, see the log)")
    print(f"  whole log of this run: {log_path}")


def latest_report(dag_id: str) -> dict | None:
    reports = sorted((DEMO / "data" / dag_id).glob("*/report/report.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(reports[-1].read_text()) if reports else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ui", action="store_true", help="start Airflow's UI (airflow standalone) on the sandbox")
    parser.add_argument("--records", type=int, default=250, help="records per sandbox list (default 250)")
    parser.add_argument("--port", type=int, default=0, help="sandbox port (default: a free one)")
    args = parser.parse_args(argv)

    from airflow_provider_gtm.report import format_report
    from airflow_provider_gtm.sandbox import SandboxServer

    DEMO.mkdir(exist_ok=True)
    with SandboxServer(port=args.port, records=args.records) as sandbox:
        env = airflow_env(sandbox.connection_env())
        print(f"Sandbox running at {sandbox.url}; Airflow home {env['AIRFLOW_HOME']}", flush=True)
        airflow("db", "migrate", env=env, quiet=True)
        if args.ui:
            print("Starting `airflow standalone` (Ctrl-C stops it and the sandbox).", flush=True)
            print("Open http://localhost:8080, pick a gtm_* DAG and click Trigger to fill in its form.", flush=True)
            try:
                return airflow("standalone", env=env, check=False)
            except KeyboardInterrupt:
                return 0

        failed = []
        for dag_id, conf in RUNS.items():
            print(f"\n>>> airflow dags test {dag_id}", flush=True)
            started = time.monotonic()
            code, log_path = run_dag(dag_id, conf, env)
            elapsed = time.monotonic() - started
            report = latest_report(dag_id)
            print(f"{dag_id}: {'success' if code == 0 else 'FAILED'} in {elapsed:.1f}s")
            if report:
                print(format_report(report))
            if code != 0:
                print_failure(log_path)
                failed.append(dag_id)
        print("\nCalls the sandbox answered, per API:", sandbox_calls(sandbox.state()))
    if failed:
        print(f"\nFailed runs: {', '.join(failed)} (each run's whole log: {LOGS}/<dag_id>.log)")
        return 1
    print(f"\nAll {len(RUNS)} sample DAGs succeeded. Files are under {DEMO / 'data'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
