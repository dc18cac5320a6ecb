"""CI's gates are wired as documented: test-min pins the lowest declared requests/tenacity/msgspec, skips slow
tests; development dependencies are dependency groups, not published extras."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def declared_minimums() -> dict[str, str]:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    found = {}
    for line in cfg["options"]["install_requires"].split():
        match = re.fullmatch(r"(requests|tenacity|msgspec)>=([0-9.]+)", line.strip())
        if match:
            found[match[1]] = match[2]
    return found


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_test_min_installs_the_lowest_declared_versions_and_deselects_slow_tests():
    minimums = declared_minimums()
    assert set(minimums) == {"requests", "tenacity", "msgspec"}, (
        "setup.cfg must declare `requests>=X`, `tenacity>=Y` and `msgspec>=Z`"
    )
    plan = subprocess.run(["make", "-n", "test-min"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    pins = " ".join(f"{name}=={version}" for name, version in minimums.items())
    assert f'PIN_DEPS="{pins}"' in plan
    assert "-m 'not slow'" in plan
    # The lowest supported Airflow (setup.cfg's floor), on the oldest Python: the oldest leg.
    (floor,) = re.findall(r"^\s*apache-airflow>=([0-9.]+)\s*$", (REPO / "setup.cfg").read_text(), re.M)
    assert f"AIRFLOW_VERSION={floor}" in plan
    assert "3.10" in plan


def test_mypy_is_a_lint_step_and_configured():
    makefile = (REPO / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "mypy airflow_provider_gtm" in lint
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    assert cfg["mypy"].getboolean("check_untyped_defs") and cfg["mypy"].getboolean("no_implicit_optional")


def test_published_extras_are_only_what_users_install():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    assert set(cfg["options.extras_require"]) == {"redis", "openlineage"}
    # Development's dependencies are PEP 735 groups (tomllib is 3.11+, and the oldest leg runs 3.10:
    # the group names are read from their `name = [` lines).
    pyproject = (REPO / "pyproject.toml").read_text()
    groups = set(re.findall(r"^([a-z]+) = \[", pyproject.split("[dependency-groups]", 1)[1], re.M))
    assert {"test", "bench", "distributed", "docs", "dist"} <= groups
    makefile = (REPO / "Makefile").read_text()
    assert "--group" in makefile and "EXTRAS ?= openlineage" in makefile
