"""Operators against the sandbox with injected faults: after recovery every record is there once."""

from __future__ import annotations

import json

import pytest

from airflow_provider_gtm.compat import AirflowException, AirflowFailException
from airflow_provider_gtm.operators.octopus import OctopusFetchOperator
from airflow_provider_gtm.operators.octy import OctyBatchOperator, OctyFetchOperator
from airflow_provider_gtm.operators.oktopost import OktopostCreateOperator

from .support import context, lines


def test_fetch_recovers_from_a_503_and_a_dropped_connection(gtm_sandbox_connections, tmp_path):
    gtm_sandbox_connections.configure(records=450)
    gtm_sandbox_connections.set_faults([
        {"api": "octy", "path": "/v1/retention/profiles", "kind": "status", "status": 503, "calls": [2],
         "retry_after": 0},
        {"api": "octy", "path": "/v1/retention/profiles", "kind": "drop", "calls": [4]},
    ])
    result = OctyFetchOperator(task_id="f", resource="profiles", output_base_uri=f"file://{tmp_path}").execute(
        context())
    records = lines(result["uri"])
    assert result["records"] == len(records) == 450 and result["pages"] == 5
    assert len({r["profile_id"] for r in records}) == 450


def test_octopus_fetch_recovers_from_a_repeated_cursor(gtm_sandbox_connections, tmp_path):
    # Before issue #10 the repeated cursor ended the list early and the task succeeded with 40 of
    # 250 posts; now the page is re-fetched and the list is complete.
    gtm_sandbox_connections.set_faults([{"api": "octopus", "path": "/v1/feeds/all-posts", "kind": "repeat_cursor",
                                         "calls": [3]}])
    result = OctopusFetchOperator(task_id="f", feed="all_posts", page_size=20,
                                  output_base_uri=f"file://{tmp_path}").execute(context())
    records = lines(result["uri"])
    assert len(records) == len({r["id"] for r in records}) == result["records"] == 250


def test_unsendable_values_are_refused_per_record_before_sending(gtm_sandbox_connections, tmp_path):
    records = [{"customer_id": f"ok{i}", "profile_data": {"name": "Zoë 😀"}, "platform_info": {"s": "t"},
                "has_charged": False} for i in range(3)]
    records.insert(1, {"customer_id": "nan", "profile_data": {"score": float("nan")}, "platform_info": {"s": "t"},
                       "has_charged": False})
    records.insert(3, {"customer_id": "surrogate", "profile_data": {"name": "half \ud83d"}, "platform_info": {"s": "t"},
                       "has_charged": False})
    operator = OctyBatchOperator(task_id="b", operation="profiles.create", records=records, on_failures="warn",
                                 output_base_uri=f"file://{tmp_path}")
    result = operator.execute(context())
    assert (result["submitted"], result["succeeded"], result["failed"]) == (5, 3, 2)
    failures = {f["identifier"]: f for f in lines(result["failures_uri"])}
    assert "'profile_data.score' is nan" in failures["nan"]["error_message"]
    assert "'profile_data.name' holds a lone surrogate" in failures["surrogate"]["error_message"]
    assert failures["surrogate"]["record"]["profile_data"]["name"] == "half \ud83d"  # written, escaped
    stored = sorted(p["customer_id"] for p in gtm_sandbox_connections.state()["apis"]["octy"]["profiles"].values())
    assert stored == ["ok0", "ok1", "ok2"]  # the refused ones were never sent


def test_batch_after_a_dropped_answer_holds_each_record_once(gtm_sandbox_connections, tmp_path):
    gtm_sandbox_connections.set_faults([{"api": "octy", "path": "/v1/retention/profiles/create", "kind": "drop",
                                         "calls": [2]}])
    records = [{"customer_id": f"op{i}", "profile_data": {"i": i}, "platform_info": {"s": "t"},
                "has_charged": False} for i in range(120)]
    # existing_is_success=False: the "already exists" the client's own resend meets after the dropped
    # answer is this call's work, a success, never a failure.
    operator = OctyBatchOperator(task_id="b", operation="profiles.create", records=records, batch_size=50,
                                 existing_is_success=False, output_base_uri=f"file://{tmp_path}")
    result = operator.execute(context())
    assert (result["submitted"], result["succeeded"], result["failed"]) == (120, 120, 0)
    assert lines(result["failures_uri"]) == []
    stored = gtm_sandbox_connections.state()["apis"]["octy"]["profiles"].values()
    customer_ids = [p["customer_id"] for p in stored]
    assert sorted(customer_ids) == sorted(f"op{i}" for i in range(120))  # each exactly once


def answer_of_second_write_lost(sandbox, monkeypatch, path: str) -> None:
    """The second POST to ``path`` is applied, but its answer comes after the client's read timeout."""
    conn = sandbox.connections()["oktopost_default"]
    conn["extra"] = {"read_timeout": 0.3}
    monkeypatch.setenv("AIRFLOW_CONN_OKTOPOST_DEFAULT", json.dumps(conn))
    sandbox.set_faults([{"api": "oktopost", "path": path, "method": "POST", "kind": "delay", "delay": 1.0,
                         "calls": [2]}])


def test_oktopost_write_timeout_is_looked_up_by_the_retry_not_resent(gtm_sandbox_connections, tmp_path, monkeypatch):
    answer_of_second_write_lost(gtm_sandbox_connections, monkeypatch, "/v2/campaign")

    def operator() -> OktopostCreateOperator:
        return OktopostCreateOperator(task_id="c", kind="campaigns", output_base_uri=f"file://{tmp_path}",
                                      records=[{"name": "A"}, {"name": "B"}, {"name": "C"}])

    # B's answer is lost: its outcome is unknown and Oktopost can tell (campaigns created since the
    # chunk started), so the task fails retryably and Airflow's retry looks B up instead of resending.
    with pytest.raises(AirflowException) as info:
        operator().execute(context())
    assert not isinstance(info.value, AirflowFailException)
    summary = operator().execute(context())
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (3, 3, 0)
    names = sorted(c["Name"] for c in gtm_sandbox_connections.state()["apis"]["oktopost"]["campaigns"].values())
    assert names == ["A", "B", "C"]  # B landed (the sandbox's delay holds the answer, not the write), once


def test_oktopost_message_timeout_is_reported_for_a_person_not_resent(gtm_sandbox_connections, tmp_path, monkeypatch):
    answer_of_second_write_lost(gtm_sandbox_connections, monkeypatch, "/v2/message")
    records = [{"campaignId": "002s00000000001", "network": "LinkedIn", "message": m} for m in ("A", "B", "C")]
    operator = OktopostCreateOperator(task_id="c", kind="messages", output_base_uri=f"file://{tmp_path}",
                                      records=records, on_failures="warn")
    ctx = context()
    # Nothing tells a message this task sent from another: not resent, a person decides (whatever
    # the failures policy says), and the message names the failures file.
    with pytest.raises(AirflowFailException, match="A person must decide: they are in the failures file"):
        operator.execute(ctx)
    summary = ctx["ti"].pushed["return_value"]
    assert (summary["submitted"], summary["succeeded"], summary["failed"], summary["outcome_unknown"]) == (3, 2, 1, 1)
    (failure,) = lines(summary["failures_uri"])
    assert failure["record"]["message"] == "B" and failure["error_message"].startswith("outcome unknown")
    messages = [m["Message"] for m in gtm_sandbox_connections.state()["apis"]["oktopost"]["messages"].values()]
    assert sorted(m for m in messages if m in ("A", "B", "C")) in (["A", "C"], ["A", "B", "C"])  # never twice
