"""Every operator, on success and failure paths, leaks no form of any secret.

Scanned: the return value and every pushed XCom, every file the operator wrote (records,
failures, results, checkpoints, write ledger), the exception (str, repr, attributes, traceback)
and every log record of the process.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from secret_scan import FAST_EXTRA, connection_env, hits, scan_files, texts_of_exception

from airflow_provider_gtm.operators.customeros import (
    CustomerOSBatchOperator,
    CustomerOSEnrichPersonOperator,
    CustomerOSLookupOperator,
)
from airflow_provider_gtm.operators.octopus import OctopusFetchOperator
from airflow_provider_gtm.operators.octy import OctyBatchOperator, OctyFetchOperator
from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator, OktopostFetchOperator


class Ti(SimpleNamespace):
    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


OPERATORS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "octy_fetch": ("octy", lambda base: OctyFetchOperator(task_id="t", resource="profiles", output_base_uri=base)),
    "octy_batch": ("octy", lambda base: OctyBatchOperator(
        task_id="t", operation="profiles.create", on_failures="warn", output_base_uri=base,
        records=[{"customer_id": "c-1"}, {"customer_id": "bad,id"}])),
    "octopus_fetch": ("octopus", lambda base: OctopusFetchOperator(task_id="t", feed="all_posts", page_size=20,
                                                                   output_base_uri=base)),
    "oktopost_fetch": ("oktopost", lambda base: OktopostFetchOperator(task_id="t", resource="campaigns", count=25,
                                                                      output_base_uri=base)),
    "oktopost_create": ("oktopost", lambda base: OktopostCreateOperator(
        task_id="t", kind="campaigns", on_failures="warn", output_base_uri=base,
        records=[{"name": "Launch"}, {"name": "Second"}])),
    "customeros_lookup": ("customeros", lambda base: CustomerOSLookupOperator(
        task_id="t", lookup="email_verification", inputs=["ada@example.com", "grace@example.com"],
        deferrable=False, output_base_uri=base)),
    "customeros_batch": ("customeros", lambda base: CustomerOSBatchOperator(
        task_id="t", operation="organizations.create", on_failures="warn", output_base_uri=base,
        records=[{"name": "Acme", "website": "acme.io"}])),
    "customeros_enrich": ("customeros", lambda base: CustomerOSEnrichPersonOperator(
        task_id="t", person_email="linus@example.com", deferrable=False, poll_timeout=10)),
}

FAULTS: dict[str, list[dict[str, Any]]] = {
    "success": [],
    "echo_every_call_401": [{"kind": "echo_credentials", "status": 401}],
    "echo_every_call_400": [{"kind": "echo_credentials", "status": 400}],
    "echo_every_call_500": [{"kind": "echo_credentials", "status": 500}],
    "echo_on_the_second_call": [{"kind": "echo_credentials", "status": 400, "calls": [2]}],
    "redirect_to_another_host": [{"kind": "redirect", "status": 307}],
    "timeout": [{"kind": "delay", "delay": 0.8, "calls": [1]}],
}


@pytest.mark.parametrize("faults", list(FAULTS))
@pytest.mark.parametrize("name", list(OPERATORS))
def test_every_operator_leaks_no_secret(planted, caplog, monkeypatch, tmp_path, name, faults):
    caplog.set_level(logging.DEBUG)
    for var, value in connection_env(planted, **{**FAST_EXTRA, "read_timeout": 0.4}).items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("AIRFLOW__GTM__OUTPUT_BASE_URI", f"file://{tmp_path}")
    api, build = OPERATORS[name]
    planted.set_faults([{"api": api, **fault} for fault in FAULTS[faults]])
    operator = build(f"file://{tmp_path}")
    ti = Ti(dag_id="secrets", run_id="r1", task_id="t", map_index=-1, try_number=1, pushed={})
    texts: list[str] = []
    try:
        texts.append(json.dumps(operator.execute({"ti": ti, "run_id": "r1"}), default=repr))
        outcome = "ok"
    except Exception as exc:  # whatever the operator raises is scanned
        texts.extend(texts_of_exception(exc))
        outcome = f"{type(exc).__name__}: {exc}"
    texts.append(json.dumps(ti.pushed, default=repr))
    texts.append(caplog.text)
    texts.extend(repr(record.__dict__) for record in caplog.records)
    assert hits("\n".join(texts)) == []
    assert scan_files(tmp_path) == {}
    if faults == "success":
        assert outcome == "ok"
    elif faults.startswith("echo_every_call"):
        assert planted.state()["faults_fired"].get(api, 0) > 0
