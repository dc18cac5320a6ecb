"""The CustomerOS polling triggers: their async run() against requests-mock, GET only, JSON events."""

from __future__ import annotations

import asyncio
import json

import pytest

from airflow_provider_gtm.triggers.customeros import (
    CustomerOSPersonEnrichmentsTrigger,
    CustomerOSPersonEnrichmentTrigger,
)

KEY = "cos_live_4f1e9a7b3c2d8e6f"
API = "https://api.customeros.ai"
RESULTS = f"{API}/enrich/v1/person/results"


@pytest.fixture(autouse=True)
def connection(monkeypatch):
    # max_attempts=1: a 5xx is reported at once instead of being retried with real waits.
    monkeypatch.setenv("AIRFLOW_CONN_CUSTOMEROS_DEFAULT", json.dumps(
        {"conn_type": "customeros", "password": KEY, "extra": {"max_attempts": 1}}))


def events(trigger) -> list[dict]:
    async def collect():
        return [event.payload async for event in trigger.run()]

    return asyncio.run(collect())


def pending(url):
    return {"status": "success", "isComplete": False, "resultUrl": url}


def test_waits_for_every_result_together_and_only_gets(requests_mock):
    urls = [f"{RESULTS}/{n}" for n in ("a", "b", "c")]
    requests_mock.get(urls[0], [{"status_code": 202, "json": pending(urls[0])},
                                {"json": {"status": "success", "isComplete": True, "data": {"n": "a"}}}])
    requests_mock.get(urls[1], json={"status": "success", "isComplete": True, "data": {"n": "b"}})
    requests_mock.get(urls[2], [{"status_code": 202, "json": pending(urls[2])},
                                {"status_code": 202, "json": pending(urls[2])},
                                {"json": {"status": "warning", "message": "Person not found"}}])
    trigger = CustomerOSPersonEnrichmentsTrigger(conn_id="customeros_default", result_urls=urls, poll_interval=0)
    (event,) = events(trigger)
    assert event["status"] == "success"
    assert event["results"] == {
        urls[0]: {"status": "success", "isComplete": True, "data": {"n": "a"}},
        urls[1]: {"status": "success", "isComplete": True, "data": {"n": "b"}},
        urls[2]: {"status": "warning", "message": "Person not found"},
    }
    assert json.loads(json.dumps(event)) == event  # a plain JSON payload
    assert {r.method for r in requests_mock.request_history} == {"GET"}
    # A complete answer is not polled again while the others are pending.
    assert [r.url for r in requests_mock.request_history].count(urls[1]) == 1
    assert requests_mock.last_request.headers["X-CUSTOMER-OS-API-KEY"] == KEY


def test_server_error_is_retryable_and_auth_error_is_not(requests_mock):
    url = f"{RESULTS}/x"
    requests_mock.get(url, status_code=503, json={"message": "down"})
    (event,) = events(CustomerOSPersonEnrichmentsTrigger(conn_id="customeros_default", result_urls=[url]))
    assert event["status"] == "error" and event["retryable"] is True and event["http_status"] == 503

    requests_mock.get(url, status_code=401, text='{"errors":[{"message":"Invalid api key"}]}')
    (event,) = events(CustomerOSPersonEnrichmentsTrigger(conn_id="customeros_default", result_urls=[url]))
    assert event["status"] == "error" and event["retryable"] is False and event["http_status"] == 401
    assert KEY not in json.dumps(event)


def test_timeout_names_what_is_still_pending(requests_mock):
    url = f"{RESULTS}/slow"
    requests_mock.get(url, status_code=202, json=pending(url))
    trigger = CustomerOSPersonEnrichmentsTrigger(conn_id="customeros_default", result_urls=[url], timeout=0,
                                                 poll_interval=0.001)
    (event,) = events(trigger)
    assert event == {"status": "timeout", "message": "1 person enrichment(s) not complete after 0s",
                     "pending": [url]}


def test_serialize_round_trip_keeps_the_start_time():
    trigger = CustomerOSPersonEnrichmentsTrigger(conn_id="c", result_urls=["u1", "u2"], timeout=60, started_at=5.0)
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_gtm.triggers.customeros.CustomerOSPersonEnrichmentsTrigger"
    assert CustomerOSPersonEnrichmentsTrigger(**kwargs).serialize() == (path, kwargs)
    single = CustomerOSPersonEnrichmentTrigger(conn_id="c", result_url="u", started_at=5.0)
    path, kwargs = single.serialize()
    assert kwargs["result_url"] == "u" and "result_urls" not in kwargs
    assert CustomerOSPersonEnrichmentTrigger(**kwargs).serialize() == (path, kwargs)


def test_single_result_trigger_emits_result(requests_mock):
    url = f"{RESULTS}/one"
    requests_mock.get(url, json={"status": "success", "isComplete": True, "data": {"id": 1}})
    (event,) = events(CustomerOSPersonEnrichmentTrigger(conn_id="customeros_default", result_url=url))
    assert event == {"status": "success", "result": {"status": "success", "isComplete": True, "data": {"id": 1}}}
