"""Parsing a DAG file that uses the provider loads only the provider's own small modules.

requests, urllib3, tenacity, the hooks and the trigger base load in ``execute``/``get_conn``, not
when the DAG processor parses a file. Checked in fresh processes by the modules loaded (the wall
time, at most 10 ms over a trivial DAG file, is measured by ``bench/`` and recorded in
bench/RESULTS.md: tests do not assert timings).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from airflow_provider_gtm.compat import AIRFLOW_LINE

REPO = Path(__file__).resolve().parents[2]
OPERATOR_MODULES = [f"airflow_provider_gtm.operators.{name}" for name in ("octy", "octopus", "oktopost", "customeros")]
#: Loaded only when a task runs (or a hook is used).
RUNTIME_ONLY = ("requests", "urllib3", "charset_normalizer", "idna", "tenacity", "airflow.triggers.base",
                "airflow_provider_gtm.hooks", "airflow_provider_gtm.core.client", "airflow_provider_gtm.core.hook",
                "airflow_provider_gtm.core.pagination", "airflow_provider_gtm.triggers")

#: common-compat's shim: where the provider takes the Airflow names ``airflow.sdk`` lacks on 3.0 and 3.1
#: (compat.py's design); on 3.2+ importing the provider loads none of it.
SHIM = "airflow.providers.common"
#: Airflow 2.11 has no Task SDK (the DAG files below import ``airflow.sdk``), its own import loads requests,
#: and the provider's Airflow names come through common-compat's shim (with msgspec).
needs_airflow_sdk = pytest.mark.skipif(
    importlib.util.find_spec("airflow.sdk") is None,
    reason=f"Airflow {AIRFLOW_LINE}: no Task SDK; the provider's Airflow names come through common-compat's shim")

TRIVIAL_DAG = """
from __future__ import annotations
import pendulum
from airflow.sdk import dag, task

@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"))
def trivial():
    @task
    def hello():
        return 1
    hello()

trivial()
"""

PROVIDER_DAG = TRIVIAL_DAG.replace("trivial", "with_provider").replace("from airflow.sdk import dag, task", """\
from airflow.sdk import dag, task
from airflow_provider_gtm.operators.customeros import CustomerOSBatchOperator, CustomerOSEnrichPersonOperator
from airflow_provider_gtm.operators.octopus import OctopusFetchOperator
from airflow_provider_gtm.operators.octy import OctyBatchOperator, OctyFetchOperator
from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator, OktopostFetchOperator""").replace(
    "    hello()", """\
    hello()
    OctyFetchOperator(task_id="a", resource="profiles")
    OctyBatchOperator(task_id="b", operation="profiles.create", input_uri="{{ ti.xcom_pull('a')['uri'] }}")
    OctopusFetchOperator(task_id="c", feed="all_posts")
    OktopostFetchOperator(task_id="d", resource="campaigns")
    OktopostCreateOperator(task_id="e", kind="campaigns", records=[{"name": "x"}])
    CustomerOSBatchOperator(task_id="f", operation="organizations.create", records=[{"name": "x"}])
    CustomerOSEnrichPersonOperator(task_id="g", person_email="a@example.com", deferrable=True)""")

PARSE = """
import json, sys
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # where the DAG processor has none of its own (Airflow 2.11, 3.0)
    from airflow.models.dagbag import DagBag
before = set(sys.modules)
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
print(json.dumps({"before": sorted(before), "after": sorted(sys.modules), "dags": sorted(bag.dag_ids)}))
"""


def _loaded(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _foreign(modules: set[str]) -> list[str]:
    """Modules neither the provider's own nor the standard library's.

    Airflow's own BaseOperatorLink module is allowed: operator_extra_links are class attributes.
    """
    return sorted(m for m in modules if not m.startswith("airflow_provider_gtm")
                  and m.split(".")[0] not in sys.stdlib_module_names
                  and m != "airflow.sdk.bases.operatorlink")


def _runtime_only(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == r or m.startswith(r + ".") for r in RUNTIME_ONLY))


@needs_airflow_sdk
def test_importing_the_provider_and_its_operators_loads_no_http_stack_hooks_or_triggers():
    code = f"""
import json, sys
import airflow.sdk  # what every DAG file imports anyway
before = set(sys.modules)
import airflow_provider_gtm
airflow_provider_gtm.get_provider_info()
for name in {OPERATOR_MODULES!r}:
    __import__(name)
print(json.dumps({{"before": sorted(before), "after": sorted(sys.modules)}}))
"""
    loaded = _loaded(code)
    added = set(loaded["after"]) - set(loaded["before"])
    assert _runtime_only(added) == []
    assert "requests" not in loaded["after"] and "urllib3" not in loaded["after"]
    assert _foreign({m for m in added if m != SHIM and not m.startswith(f"{SHIM}.compat")}) == []


@needs_airflow_sdk
def test_a_dag_file_using_every_operator_parses_with_only_the_providers_own_modules_added(tmp_path):
    (tmp_path / "trivial").mkdir()
    (tmp_path / "trivial" / "trivial.py").write_text(textwrap.dedent(TRIVIAL_DAG))
    (tmp_path / "provider").mkdir()
    (tmp_path / "provider" / "with_provider.py").write_text(textwrap.dedent(PROVIDER_DAG))
    trivial = _loaded(PARSE, str(tmp_path / "trivial"))
    provider = _loaded(PARSE, str(tmp_path / "provider"))
    assert trivial["dags"] == ["trivial"] and provider["dags"] == ["with_provider"]
    # The DAG file's own module is named after its path ("unusual_prefix_<hash>_<file>").
    added = {m for m in set(provider["after"]) - set(trivial["after"]) if not m.startswith("unusual_prefix_")}
    assert _runtime_only(set(provider["after"])) == _runtime_only(set(trivial["after"]))
    assert _foreign(added) == []
    # Only the operator layer and the light core modules it needs at parse; never the HTTP client,
    # the hooks, the paginators, the batching or ledger code, the limiter or the triggers.
    heavy = ("airflow_provider_gtm.hooks", "airflow_provider_gtm.triggers", "airflow_provider_gtm.core.client",
             "airflow_provider_gtm.core.hook", "airflow_provider_gtm.core.pagination",
             "airflow_provider_gtm.core.batching", "airflow_provider_gtm.core.ledger",
             "airflow_provider_gtm.core.ratelimit")
    assert sorted(m for m in added if m.startswith(heavy)) == []


@pytest.fixture(scope="module")
def runtime_only_loaded_by_airflow(tmp_path_factory) -> list[str]:
    """What Airflow's own parsing of a trivial DAG file loads of RUNTIME_ONLY: airflow.triggers.base on 3.0,
    nothing on 3.1+ (so there the sample DAGs must load none)."""
    folder = tmp_path_factory.mktemp("trivial")
    (folder / "trivial.py").write_text(textwrap.dedent(TRIVIAL_DAG))
    loaded = _loaded(PARSE, str(folder))
    return _runtime_only(set(loaded["after"]) - set(loaded["before"]))


@needs_airflow_sdk
@pytest.mark.parametrize("dag_file", sorted(p.name for p in (REPO / "dags").glob("gtm_*.py")))
def test_sample_dags_parse_without_the_http_stack(tmp_path, dag_file, runtime_only_loaded_by_airflow):
    (tmp_path / dag_file).write_text((REPO / "dags" / dag_file).read_text())
    loaded = _loaded(PARSE, str(tmp_path))
    assert _runtime_only(set(loaded["after"]) - set(loaded["before"])) == runtime_only_loaded_by_airflow


def test_operators_know_their_hooks_default_connection_without_importing_it():
    from airflow_provider_gtm.operators import customeros, octopus, octy, oktopost
    from airflow_provider_gtm.operators.base import GtmBatchOperator, GtmFetchOperator
    from airflow_provider_gtm.operators.lookup import GtmLookupOperator

    bases = (GtmFetchOperator, GtmBatchOperator, GtmLookupOperator)
    operators = [cls for module in (customeros, octopus, octy, oktopost) for cls in vars(module).values()
                 if isinstance(cls, type) and issubclass(cls, bases) and cls not in bases]
    assert len(operators) >= 7
    for cls in operators:
        assert cls.default_conn_id == cls.hook_class.default_conn_name, cls.__name__
        assert cls.default_api_host == cls.hook_class.default_host, cls.__name__
