"""The ``[gtm]`` section: declared in provider info, shown by Airflow's CLI, read from airflow.cfg and env.

Each check runs in a fresh process with its own AIRFLOW_HOME, because Airflow reads airflow.cfg once
per process, and that is the path a worker takes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from airflow_provider_gtm import config, get_provider_info


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__GTM__")}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__UNIT_TEST_MODE": "False"})
    env.pop("AIRFLOW_CONFIG", None)
    env.update(extra)
    return env


def _airflow(home: Path, *args: str, **extra: str) -> str:
    done = subprocess.run([sys.executable, "-m", "airflow", *args], capture_output=True, text=True,
                          env=_env(home, **extra), check=True)
    return done.stdout


def test_provider_info_declares_every_option():
    section = get_provider_info()["config"]["gtm"]
    assert set(section["options"]) == set(config.OPTIONS) >= {"output_base_uri", "rate_limit_backend"}
    for option in section["options"].values():
        assert option["description"] and option["type"] == "string"


def test_undeclared_option_is_a_programming_error():
    with pytest.raises(KeyError, match="not declared"):
        config.get("no_such_option")


def _value(output: str) -> str:
    """What ``airflow config get-value`` answered: its last line. Airflow 3.0's CLI logs to stdout too
    (``[<time>] {providers_manager.py:...} INFO - ...``); any line before the answer must be such a log line."""
    *before, value = output.strip().splitlines()
    assert all(re.match(r"\[[0-9T:.+-]+\] \{[\w.]+:\d+\} (INFO|WARNING) - ", line) for line in before), before
    return value.strip()


def test_airflow_config_cli_shows_the_section(tmp_path):
    listed = _airflow(tmp_path, "config", "list", "--section", "gtm", "--include-descriptions")
    assert "[gtm]" in listed
    for name in config.OPTIONS:
        assert name in listed
    assert "Where operators write their files" in listed
    assert _value(_airflow(tmp_path, "config", "get-value", "gtm", "rate_limit_backend")) == "local"
    # The environment form is Airflow's own and wins over airflow.cfg.
    assert _value(_airflow(tmp_path, "config", "get-value", "gtm", "output_base_uri",
                           AIRFLOW__GTM__OUTPUT_BASE_URI="s3://from-env/gtm")) == "s3://from-env/gtm"


_RUN_FETCH = textwrap.dedent("""
    import json, sys
    from types import SimpleNamespace
    from airflow_provider_gtm.operators.octy import OctyFetchOperator

    ti = SimpleNamespace(dag_id="d", run_id="r1", task_id="segments", map_index=-1, xcom_push=lambda *a, **k: None)
    print(json.dumps(OctyFetchOperator(task_id="segments", resource="segments").execute({"ti": ti})))
""")


@pytest.mark.parametrize("where", ["airflow.cfg", "env"])
def test_fetch_operator_writes_under_the_configured_output_base(gtm_sandbox, tmp_path, where):
    home = tmp_path / "home"
    home.mkdir()
    base = tmp_path / f"from-{where}"
    extra = dict(gtm_sandbox.connection_env())
    if where == "airflow.cfg":
        (home / "airflow.cfg").write_text(f"[gtm]\noutput_base_uri = file://{base}/\n")
    else:
        extra["AIRFLOW__GTM__OUTPUT_BASE_URI"] = f"file://{base}"
    done = subprocess.run([sys.executable, "-c", _RUN_FETCH], capture_output=True, text=True,
                          env=_env(home, **extra), check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    xcom = json.loads(done.stdout.strip().splitlines()[-1])
    assert xcom["uri"] == f"file://{base}/d/r1/segments/records.jsonl"
    assert (base / "d" / "r1" / "segments" / "records.jsonl").is_file()
    assert xcom["records"] == sum(1 for _ in (base / "d" / "r1" / "segments" / "records.jsonl").open())
