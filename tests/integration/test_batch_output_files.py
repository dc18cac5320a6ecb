"""A batch task's default output files: ``failures.jsonl`` and ``results.jsonl`` side by side.

Each batch task used to write ``results.jsonlresults.jsonl`` (the name substitution matched twice).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

from airflow_provider_gtm.operators.octy import OctyBatchOperator


def test_batch_writes_results_jsonl_next_to_failures_jsonl(gtm_sandbox_connections, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__GTM__OUTPUT_BASE_URI", f"file://{tmp_path}")
    pushed: dict = {}
    ti = SimpleNamespace(dag_id="d", run_id="r1", task_id="create", map_index=-1,
                         xcom_push=lambda key, value: pushed.update({key: value}))
    records = [{"customer_id": f"c-{i}", "profile_data": {"nickname": f"n{i}"}, "platform_info": {"community": "x"},
                "has_charged": False}
               for i in range(3)]
    summary = OctyBatchOperator(task_id="create", operation="profiles.create", records=records,
                                on_failures="warn").execute({"ti": ti})
    folder = tmp_path / "d" / "r1" / "create"
    assert summary["failures_uri"] == f"file://{folder}/failures.jsonl"
    assert summary["results_uri"] == f"file://{folder}/results.jsonl"
    # Beside them only the write ledger's folder (issue #11), no doubled name.
    assert sorted(p.name for p in folder.iterdir()) == ["_ledger", "failures.jsonl", "results.jsonl"]
    results = [json.loads(line) for line in (folder / "results.jsonl").open()]
    assert len(results) == summary["succeeded"] == 3
