"""Run every sample DAG on real Airflow (SQLite) against the bundled sandbox, and print what happened.

    python scripts/demo.py          # what `make demo` runs
    python scripts/demo.py --ui     # Airflow's UI wired to the sandbox (what `make airflow-ui` runs)

Everything lives under .demo/ in the repository: the Airflow home (SQLite), the data files, and the
whole output of each run in .demo/logs/<dag_id>.log (a failed run's reason and log tail are printed).
No account and no internet are needed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / ".demo"

# Each sample DAG with the trigger-form values the demo uses. A few invalid records are seeded on
# purpose so that the report shows how refusals are reported (with the API's own reason).
RUNS = {
    # The producer: its file is published as the advocates Asset (dags.test runs no consumer from it).
    "gtm_fetch_oktopost_advocates": {},
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
    # Community posts into the SQLite table community_posts (.demo/warehouse.db), keyed by id.
    "gtm_land_community_posts": {"since": "2000-01-01T00:00:00+00:00"},
}
#: Where gtm_land_community_posts lands (the gtm_warehouse connection).
LANDED_TABLE = "community_posts"


def airflow_env(sandbox_env: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    # Airflow's components start helpers as `airflow ...` looked up on PATH: put this interpreter's
    # bin (the venv's) first, so a fresh clone works without activating the venv.
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, *[p for p in env.get("PATH", "").split(os.pathsep) if p and p != bin_dir]])
    env.update(
        {
            "AIRFLOW_HOME": str(DEMO / "airflow-home"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__GTM__OUTPUT_BASE_URI": f"file://{DEMO / 'data'}",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            # The sqlite provider reads the database file from the host.
            "AIRFLOW_CONN_GTM_WAREHOUSE": json.dumps({"conn_type": "sqlite", "host": str(DEMO / "warehouse.db")}),
        }
    )
    env.update(sandbox_env)
    return env


def ui_env(env: dict[str, str], host: str, port: int) -> dict[str, str]:
    """Settings for Airflow's components on a small machine: loopback by default, one API worker,
    a few task slots, and an execution API URL that matches where the API server listens."""
    url_host = f"[{host}]" if ":" in host else ("127.0.0.1" if host in ("0.0.0.0", "") else host)
    return {
        **env,
        "AIRFLOW__API__HOST": host,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://{url_host}:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{url_host}:{port}/execution/",
        # LocalExecutor starts one worker process per slot: two suit a small machine and the sample DAGs.
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__SCHEDULER__PARSING_PROCESSES": "1",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    }


UI_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def _pump(name: str, stream: IO[bytes]) -> None:
    for raw in iter(stream.readline, b""):
        print(f"{name:>13} | {raw.decode(errors='replace').rstrip()}", flush=True)


def stop_processes(processes: list[subprocess.Popen[bytes]], timeout: float = 30) -> None:
    """SIGTERM each process group we started, then SIGKILL what is still there after ``timeout``."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def run_ui(env: dict[str, str]) -> int:
    """Airflow's four components as child processes (what `airflow standalone` starts), until Ctrl-C
    or SIGTERM; then every one of them (and what it started) is stopped.

    Started here rather than through `airflow standalone`, which looks `airflow` up on PATH and does
    not return after Ctrl-C once its components have exited.
    """
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    processes: list[subprocess.Popen[bytes]] = []
    code = 0
    try:
        for name in UI_COMPONENTS:
            # A session of its own: the component and its workers are stopped together, by us.
            process = subprocess.Popen([sys.executable, "-m", "airflow", name], env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            processes.append(process)
            assert process.stdout is not None
            threading.Thread(target=_pump, args=(name, process.stdout), daemon=True).start()
        while not stop.wait(1):
            dead = [(n, p.returncode) for n, p in zip(UI_COMPONENTS, processes, strict=True) if p.poll() is not None]
            if dead:
                print(f"Stopping: {', '.join(f'{n} exited with {c}' for n, c in dead)}", flush=True)
                code = 1
                break
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping Airflow's components...", flush=True)
        stop_processes(processes)
    return code


def airflow(*args: str, env: dict[str, str], check: bool = True, quiet: bool = False) -> int:
    cmd = [sys.executable, "-m", "airflow", *args]
    out = subprocess.DEVNULL if quiet else None
    return subprocess.run(cmd, env=env, check=check, stdout=out, stderr=out).returncode


LOGS = DEMO / "logs"


def set_demo_dir(path: Path) -> None:
    global DEMO, LOGS  # noqa: PLW0603 - the script's one setting, chosen on the command line
    DEMO = path.resolve()
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


def landed_rows(database: Path, table: str = LANDED_TABLE) -> int | None:
    """How many rows the landing DAG's table holds (``None``: no table yet)."""
    import sqlite3

    if not database.exists():
        return None
    with sqlite3.connect(database) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
            return None
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def latest_report(dag_id: str) -> dict | None:
    reports = sorted((DEMO / "data" / dag_id).glob("*/report/report.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(reports[-1].read_text()) if reports else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ui", action="store_true", help="start Airflow's UI and scheduler on the sandbox")
    parser.add_argument("--records", type=int, default=250, help="records per sandbox list (default 250)")
    parser.add_argument("--port", type=int, default=0, help="sandbox port (default: a free one)")
    parser.add_argument("--ui-host", default="127.0.0.1",
                        help="address the UI listens on (default 127.0.0.1; 0.0.0.0 opens it to the network)")
    parser.add_argument("--ui-port", type=int, default=8080, help="UI port (default 8080)")
    parser.add_argument("--demo-dir", type=Path, default=DEMO, help=f"where everything goes (default {DEMO})")
    args = parser.parse_args(argv)
    set_demo_dir(args.demo_dir)

    from airflow_provider_gtm.report import format_report
    from airflow_provider_gtm.sandbox import SandboxServer

    DEMO.mkdir(parents=True, exist_ok=True)
    with SandboxServer(port=args.port, records=args.records) as sandbox:
        env = airflow_env(sandbox.connection_env())
        print(f"Sandbox running at {sandbox.url}; Airflow home {env['AIRFLOW_HOME']}", flush=True)
        # Silent otherwise for a minute or more on a fresh machine: say what is happening.
        print("Creating Airflow's metadata database (airflow db migrate; about a minute the first time)...",
              flush=True)
        airflow("db", "migrate", env=env, quiet=True)
        from airflow_provider_gtm.examples.pools import pool_commands

        print("Creating the sample DAGs' pools...", flush=True)

        for command in pool_commands():  # the sample DAGs' pools: a task in a missing pool never runs
            airflow(*command, env=env, quiet=True)
        if args.ui:
            env = ui_env(env, args.ui_host, args.ui_port)
            print("Starting Airflow's api-server, scheduler, dag-processor and triggerer (Ctrl-C stops them "
                  "and the sandbox).", flush=True)
            print(f"Open {env['AIRFLOW__API__BASE_URL']}, pick a gtm_* DAG and click Trigger to fill in its form.",
                  flush=True)
            print(f"Login: admin, password in {DEMO / 'airflow-home' / 'simple_auth_manager_passwords.json.generated'}",
                  flush=True)
            return run_ui(env)

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
        print(f"Rows in the SQLite table {LANDED_TABLE} ({DEMO / 'warehouse.db'}):", landed_rows(DEMO / "warehouse.db"))
    if failed:
        print(f"\nFailed runs: {', '.join(failed)} (each run's whole log: {LOGS}/<dag_id>.log)")
        return 1
    print(f"\nAll {len(RUNS)} sample DAGs succeeded. Files are under {DEMO / 'data'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
