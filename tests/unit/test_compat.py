"""Every difference between supported Airflow/Python lines lives in airflow_provider_gtm/compat.py.

No other module of the package, no sample DAG, test, script or benchmark compares Airflow versions
(``AIRFLOW_V_*`` flags, ``airflow.__version__``, ``packaging.version``, common-compat's
``version_compat``) or Python versions (``sys.version_info``); they import names from the compat module.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from airflow_provider_gtm import compat

REPO = Path(__file__).resolve().parents[2]
COMPAT = REPO / "airflow_provider_gtm" / "compat.py"
VERSION_CHECK = re.compile(
    r"AIRFLOW_V_\d|airflow\.__version__|from airflow import [^\n]*__version__|packaging\.version|"
    r"from packaging|version_compat|sys\.version_info|compat\.AIRFLOW_VERSION|import [^\n]*AIRFLOW_VERSION"
)


def _sources() -> list[Path]:
    found = []
    for folder in ("airflow_provider_gtm", "dags", "tests", "scripts", "bench"):
        found.extend(p for p in sorted((REPO / folder).rglob("*.py")) if p != COMPAT and p != Path(__file__))
    return found


def test_no_version_check_outside_the_compat_module():
    sources = _sources()
    assert len(sources) > 50
    offenders = [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
                 for path in sources
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if VERSION_CHECK.search(line)]
    assert offenders == []


def test_the_compat_module_knows_the_running_line():
    import airflow

    assert compat.AIRFLOW_LINE == ".".join(airflow.__version__.split(".")[:2])
    assert compat.AIRFLOW_V_3_0_PLUS == (int(airflow.__version__.split(".")[0]) >= 3)


def test_every_name_resolves_on_the_running_line():
    for name in compat._HOMES:
        assert getattr(compat, name) is not None, name
    with pytest.raises(AttributeError):
        compat.NotAnAirflowName  # noqa: B018


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-01-02T03:04:05+00:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
    ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
    ("2026-01-02T03:04:05.12Z", datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=timezone.utc)),
    ("2026-01-02T03:04:05+0200", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))),
    ("2026-01-02 03:04:05", datetime(2026, 1, 2, 3, 4, 5)),
    ("2026-01-02", datetime(2026, 1, 2)),
])
def test_fromisoformat_reads_what_python_3_11_reads(text, expected):
    assert compat.fromisoformat(text) == expected


def test_fromisoformat_still_refuses_what_is_not_a_time():
    with pytest.raises(ValueError):
        compat.fromisoformat("not a time")


def test_a_file_opened_from_an_object_storage_path_iterates_by_line(tmp_path):
    # Airflow 2.11's and 3.0's open() wrapper (lineage tracking) had no __iter__: iterating it failed
    # with "'LocalFileOpener' object is not subscriptable" (every JSON Lines reader of the package).
    target = tmp_path / "records.jsonl"
    target.write_bytes(b'{"a": 1}\n\n{"b": 2}\n')
    with compat.ObjectStoragePath(f"file://{target}").open("rb") as fh:
        assert list(fh) == [b'{"a": 1}\n', b"\n", b'{"b": 2}\n']
    with compat.ObjectStoragePath(f"file://{target}").open("rb") as fh:
        assert [number for number, _ in enumerate(fh, start=1)] == [1, 2, 3]
