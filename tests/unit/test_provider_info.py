"""Provider metadata: valid against Airflow's own schema, and consistent with the hook classes."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import airflow
import jsonschema

from airflow_provider_gtm import get_provider_info

CONN_TYPES = {"octy", "customeros", "octopus_connect", "oktopost"}


def test_provider_info_matches_airflow_schema():
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_entry_point_is_registered():
    eps = [ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("airflow_provider_gtm")]
    assert eps and eps[0].load() is get_provider_info


def test_connection_types_match_hooks():
    info = get_provider_info()
    types = {c["connection-type"]: c for c in info["connection-types"]}
    assert set(types) == CONN_TYPES
    for conn_type, conf in types.items():
        module, _, name = conf["hook-class-name"].rpartition(".")
        hook = getattr(importlib.import_module(module), name)
        assert hook.conn_type == conn_type
        assert hook.hook_name == conf["hook-name"]
        behaviour = conf["ui-field-behaviour"]
        assert "host" in behaviour["placeholders"]
    assert types["octy"]["ui-field-behaviour"]["relabeling"]["login"] == "Public key"
    assert types["octy"]["ui-field-behaviour"]["relabeling"]["password"] == "Secret key"
    assert types["oktopost"]["ui-field-behaviour"]["relabeling"]["login"] == "Account ID"
    assert types["oktopost"]["conn-fields"]["data_center"]["schema"]["enum"] == ["us", "eu"]
    for single_key in ("customeros", "octopus_connect"):
        assert "login" in types[single_key]["ui-field-behaviour"]["hidden-fields"]
        assert types[single_key]["ui-field-behaviour"]["relabeling"]["password"] == "API key"


def test_listed_modules_exist():
    info = get_provider_info()
    for section in ("hooks", "operators", "triggers"):
        for entry in info.get(section, []):
            for module in entry["python-modules"]:
                importlib.import_module(module)


def test_airflow_cli_lists_provider_and_hooks(tmp_path):
    env = {"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    listed = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list", "-o", "json"],
        capture_output=True, text=True, env=env, check=True,
    )
    assert "airflow-provider-gtm" in listed.stdout
    hooks = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "hooks", "-o", "json"],
        capture_output=True, text=True, env=env, check=True,
    )
    found = {row["connection_type"] for row in json.loads(hooks.stdout) if row.get("connection_type") in CONN_TYPES}
    assert found == CONN_TYPES


def test_readme_install_commands_show_what_the_readme_says(tmp_path):
    """The README's ``airflow providers ...`` lines, run as written, print what their comments promise."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    commands = [line for line in readme.splitlines() if line.startswith("airflow providers ")]
    assert [c.split("#")[0].split() for c in commands] == [
        ["airflow", "providers", "list", "|", "grep", "gtm"], ["airflow", "providers", "hooks", "|", "grep", "gtm"]]
    assert "version" in commands[0] and "four connection types" in commands[1]
    env = {"AIRFLOW_HOME": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    outputs = []
    for command in commands:
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command.split("#")[0]], capture_output=True,
                              text=True, env=env, check=True)
        outputs.append(done.stdout)
    from airflow_provider_gtm import DOCS_URL, __version__

    # The description ends with the docs URL, which the table wraps onto a second line.
    provider_line, *wrapped = outputs[0].splitlines()
    assert provider_line.split("|")[0].strip() == "airflow-provider-gtm" and __version__ in provider_line
    assert DOCS_URL.rstrip("/") in outputs[0] and all(not line.split("|")[0].strip() for line in wrapped)
    hook_rows = {line.split("|")[0].strip(): line for line in outputs[1].splitlines()}
    assert set(hook_rows) == CONN_TYPES
    assert "airflow_provider_gtm.hooks.octy.OctyHook" in hook_rows["octy"]
