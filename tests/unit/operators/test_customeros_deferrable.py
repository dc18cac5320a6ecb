"""CustomerOS deferrable paths: submit on the worker, wait in one trigger, resume with Airflow's meaning."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from airflow_provider_gtm.compat import AirflowException, AirflowFailException, TaskDeferred
from airflow_provider_gtm.operators.customeros import CustomerOSEnrichPersonOperator, CustomerOSLookupOperator
from airflow_provider_gtm.triggers.customeros import (
    CustomerOSPersonEnrichmentsTrigger,
    CustomerOSPersonEnrichmentTrigger,
)

KEY = "cos_live_4f1e9a7b3c2d8e6f"
API = "https://api.customeros.ai"
PERSON = f"{API}/enrich/v1/person"
RESULTS = f"{PERSON}/results"


@pytest.fixture(autouse=True)
def connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CUSTOMEROS_DEFAULT", json.dumps(
        {"conn_type": "customeros", "password": KEY, "extra": {"max_attempts": 1}}))


def context():
    return {"ti": SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=-1)}


def lines(uri):
    return [json.loads(line) for line in open(uri.removeprefix("file://"))]


def test_deferrable_defaults_to_airflow_setting(monkeypatch):
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert CustomerOSEnrichPersonOperator(task_id="e", person_email="a@b.co").deferrable is True
    assert CustomerOSLookupOperator(task_id="l", lookup="person_enrichment", inputs=[]).deferrable is True
    assert CustomerOSLookupOperator(task_id="l", lookup="person_enrichment", inputs=[],
                                    deferrable=False).deferrable is False
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    assert CustomerOSEnrichPersonOperator(task_id="e", person_email="a@b.co").deferrable is False


def test_lookup_submits_all_then_defers_once_and_writes_every_answer_in_order(requests_mock, tmp_path):
    def answer(request, ctx):
        email = request.qs["email"][0]
        if email.startswith("done"):
            return {"status": "success", "isComplete": True, "data": {"email": email}}
        ctx.status_code = 202
        return {"status": "success", "isComplete": False, "resultUrl": f"{RESULTS}/{email.split('@')[0]}"}

    requests_mock.get(PERSON, json=answer)
    inputs = [{"email": "p1@x.co"}, {"email": "done1@x.co"}, {"email": "p2@x.co"}]
    uri = f"file://{tmp_path}/out.jsonl"
    op = CustomerOSLookupOperator(task_id="t", lookup="person_enrichment", inputs=inputs, output_uri=uri,
                                  deferrable=True, poll_timeout=120)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context())
    # Every enrichment was submitted on the worker before deferring, and nothing was polled there.
    assert [r.qs["email"][0] for r in requests_mock.request_history] == ["p1@x.co", "done1@x.co", "p2@x.co"]
    trigger = deferred.value.trigger
    assert isinstance(trigger, CustomerOSPersonEnrichmentsTrigger)
    assert trigger.result_urls == [f"{RESULTS}/p1", f"{RESULTS}/p2"] and trigger.timeout == 120
    assert deferred.value.method_name == "execute_complete"

    event = {"status": "success", "results": {f"{RESULTS}/p1": {"isComplete": True, "data": {"n": 1}},
                                              f"{RESULTS}/p2": {"status": "warning", "message": "Person not found"}}}
    xcom = op.execute_complete(context(), event)
    assert xcom == {"uri": uri, "records": 3, "inputs": 3}
    assert lines(uri) == [
        {"input": inputs[0], "result": {"isComplete": True, "data": {"n": 1}}},
        {"input": inputs[1], "result": {"status": "success", "isComplete": True, "data": {"email": "done1@x.co"}}},
        {"input": inputs[2], "result": {"status": "warning", "message": "Person not found"}},
    ]
    assert not list(tmp_path.glob("*.submitted.jsonl"))


def test_lookup_with_nothing_pending_does_not_defer(requests_mock, tmp_path):
    requests_mock.get(PERSON, json={"status": "success", "isComplete": True, "data": {}})
    op = CustomerOSLookupOperator(task_id="t", lookup="person_enrichment", inputs=[{"email": "a@x.co"}],
                                  output_uri=f"file://{tmp_path}/out.jsonl", deferrable=True)
    assert op.execute(context())["records"] == 1


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"status": "error", "message": "HTTP 503", "retryable": True}, AirflowException),
        ({"status": "timeout", "message": "not complete"}, AirflowException),
        ({"status": "error", "message": "HTTP 401 Invalid api key", "retryable": False}, AirflowFailException),
    ],
)
def test_trigger_errors_keep_retryable_distinction(event, error):
    op = CustomerOSEnrichPersonOperator(task_id="e", person_email="a@b.co", deferrable=True)
    with pytest.raises(error) as raised:
        op.execute_complete(context(), event)
    # AirflowFailException subclasses AirflowException: a retryable error must not be the non-retryable kind.
    assert isinstance(raised.value, AirflowFailException) == (error is AirflowFailException)
    assert event["message"] in str(raised.value)


def test_enrich_person_defers_with_single_trigger(requests_mock):
    requests_mock.get(PERSON, status_code=202,
                      json={"status": "success", "isComplete": False, "resultUrl": f"{RESULTS}/abc"})
    op = CustomerOSEnrichPersonOperator(task_id="e", person_email="ada@acme.example", deferrable=True,
                                        email=["oncall@ops.example"])
    assert op.email == ["oncall@ops.example"] and op.person_email == "ada@acme.example"
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context())
    assert isinstance(deferred.value.trigger, CustomerOSPersonEnrichmentTrigger)
    assert requests_mock.last_request.qs["email"] == ["ada@acme.example"]
    assert op.execute_complete(context(), {"status": "success", "result": {"data": 1}}) == {"data": 1}


# -- a retried try re-uses the enrichments an earlier try submitted (core/submissions.py) ------------

def pending_api(requests_mock):
    def answer(request, ctx):
        ctx.status_code = 202
        return {"status": "success", "isComplete": False, "resultUrl": f"{RESULTS}/{request.qs['email'][0]}"}

    return requests_mock.get(PERSON, json=answer)


INPUTS = [{"email": f"p{i}@x.co"} for i in range(4)]


def test_a_retry_after_a_try_lost_while_deferred_submits_nothing_again(requests_mock, tmp_path):
    submit = pending_api(requests_mock)
    make = lambda: CustomerOSLookupOperator(  # noqa: E731 - a new operator per try, as Airflow builds one
        task_id="t", lookup="person_enrichment", inputs=INPUTS, output_base_uri=f"file://{tmp_path}", deferrable=True)
    with pytest.raises(TaskDeferred) as first:
        make().execute(context())
    assert submit.call_count == 4
    # The try is lost while deferred (worker killed, trigger failure): Airflow runs a new try.
    with pytest.raises(TaskDeferred) as second:
        make().execute(context())
    assert submit.call_count == 4  # polled again, not submitted again
    assert second.value.trigger.result_urls == first.value.trigger.result_urls == [
        f"{RESULTS}/p{i}@x.co" for i in range(4)]
    results = {url: {"isComplete": True, "data": {"url": url}} for url in second.value.trigger.result_urls}
    xcom = make().execute_complete(context(), {"status": "success", "results": results})
    assert [row["input"] for row in lines(xcom["uri"])] == INPUTS and xcom["records"] == 4


def test_a_try_killed_mid_submission_leaves_the_rest_to_the_retry(requests_mock, tmp_path, monkeypatch):
    from airflow_provider_gtm.hooks.customeros import CustomerOSHook

    submit = pending_api(requests_mock)
    real = CustomerOSHook.start_person_enrichment
    calls = {"n": 0}

    def dies_after_two(self, **kwargs):
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")  # the worker died before the third submission
        calls["n"] += 1
        return real(self, **kwargs)

    monkeypatch.setattr(CustomerOSHook, "start_person_enrichment", dies_after_two)
    op = CustomerOSLookupOperator(task_id="t", lookup="person_enrichment", inputs=INPUTS,
                                  output_base_uri=f"file://{tmp_path}", deferrable=True)
    with pytest.raises(KeyboardInterrupt):
        op.execute(context())
    monkeypatch.setattr(CustomerOSHook, "start_person_enrichment", real)
    with pytest.raises(TaskDeferred) as deferred:
        CustomerOSLookupOperator(task_id="t", lookup="person_enrichment", inputs=INPUTS,
                                 output_base_uri=f"file://{tmp_path}", deferrable=True).execute(context())
    assert [r.qs["email"][0] for r in submit.request_history] == [f"p{i}@x.co" for i in range(4)]
    assert len(deferred.value.trigger.result_urls) == 4


def test_other_inputs_or_another_task_instance_do_not_reuse_submissions(requests_mock, tmp_path):
    submit = pending_api(requests_mock)
    base = f"file://{tmp_path}"
    with pytest.raises(TaskDeferred):
        CustomerOSLookupOperator(task_id="t", lookup="person_enrichment", inputs=INPUTS[:2], output_base_uri=base,
                                 deferrable=True).execute(context())
    with pytest.raises(TaskDeferred):  # other inputs, same task instance: a new ledger
        CustomerOSLookupOperator(task_id="t", lookup="person_enrichment", inputs=INPUTS[2:], output_base_uri=base,
                                 deferrable=True).execute(context())
    other_run = {"ti": SimpleNamespace(dag_id="d", run_id="r2", task_id="t", map_index=-1)}
    with pytest.raises(TaskDeferred):
        CustomerOSLookupOperator(task_id="t", lookup="person_enrichment", inputs=INPUTS[:2], output_base_uri=base,
                                 deferrable=True).execute(other_run)
    assert submit.call_count == 6
