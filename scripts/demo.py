"""Run every sample DAG on real Airflow (SQLite) against the bundled sandbox, and print what happened.

    python scripts/demo.py          # what `make demo` runs
    python scripts/demo.py --ui     # Airflow's UI wired to the sandbox (what `make airflow-ui` runs)

Everything lives under .demo/ in the repository: the Airflow home (SQLite), and the data files.
No account and no internet are needed.
"""

from __future__ import annotations

import argparse
import json
import os
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
            code = airflow("dags", "test", dag_id, "-c", json.dumps(conf), env=env, check=False, quiet=True)
            elapsed = time.monotonic() - started
            report = latest_report(dag_id)
            print(f"{dag_id}: {'success' if code == 0 else 'FAILED'} in {elapsed:.1f}s")
            if report:
                print(format_report(report))
            if code != 0:
                failed.append(dag_id)
        state = sandbox.state()
        print("\nSandbox counters:", json.dumps(state.get("counters", {}).get("requests", {})))
    if failed:
        print(f"\nFailed runs: {', '.join(failed)} (logs under {DEMO / 'airflow-home' / 'logs'})")
        return 1
    print(f"\nAll {len(RUNS)} sample DAGs succeeded. Files are under {DEMO / 'data'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
