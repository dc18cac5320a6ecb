"""The shared client: timeouts, retries, Retry-After, error typing, write safety, no secret leaks."""

from __future__ import annotations

import logging

import pytest
import requests
from requests.auth import HTTPBasicAuth

from airflow_provider_gtm.core.client import ApiProfile, RestClient, RetryPolicy, parse_retry_after
from airflow_provider_gtm.core.errors import (
    GtmAuthError,
    GtmClientError,
    GtmNotFoundError,
    GtmOutcomeUnknownError,
    GtmRateLimitError,
    GtmTransportError,
)
from airflow_provider_gtm.core.ratelimit import RateLimiter, Window
from airflow_provider_gtm.core.timing import FakeTimer

BASE = "https://api.example.test/prefix"
SECRET = "sk_live_0123456789abcdef"


def make_client(timer: FakeTimer, **kwargs) -> RestClient:
    profile = kwargs.pop("profile", ApiProfile(name="testapi"))
    return RestClient(
        profile=profile,
        base_url=BASE,
        auth=HTTPBasicAuth("pk_public_key", SECRET),
        timer=timer,
        retry=kwargs.pop("retry", RetryPolicy(max_attempts=4, max_wait_seconds=120, jitter=0)),
        **kwargs,
    )


def test_path_prefix_kept_and_default_headers(requests_mock):
    requests_mock.get(f"{BASE}/v1/things", json={"ok": True})
    client = make_client(FakeTimer(), timeout=(3, 7))
    assert client.get_json("/v1/things") == {"ok": True}
    sent = requests_mock.last_request
    assert sent.url == f"{BASE}/v1/things"
    assert sent.headers["User-Agent"].startswith("airflow-provider-gtm")
    assert sent.headers["Authorization"].startswith("Basic ")
    assert sent.timeout == (3, 7)


def test_retry_after_seconds_is_honoured(requests_mock):
    timer = FakeTimer()
    requests_mock.get(
        f"{BASE}/x",
        [{"status_code": 429, "headers": {"Retry-After": "7"}, "json": {"message": "slow down"}},
         {"json": {"done": 1}}],
    )
    assert make_client(timer).get_json("/x") == {"done": 1}
    assert timer.sleeps == [7.0]


def test_retry_after_http_date_is_honoured(requests_mock):
    timer = FakeTimer()
    # FakeTimer starts at 2026-01-01T00:00:00Z; the server asks to come back 30 s later.
    requests_mock.get(
        f"{BASE}/x",
        [{"status_code": 429, "headers": {"Retry-After": "Thu, 01 Jan 2026 00:00:30 GMT"}},
         {"json": {}}],
    )
    make_client(timer).get_json("/x")
    assert timer.sleeps == [30.0]


def test_ratelimit_reset_used_when_no_retry_after(requests_mock):
    timer = FakeTimer()
    requests_mock.get(f"{BASE}/x", [{"status_code": 429, "headers": {"RateLimit-Reset": "12"}}, {"json": {}}])
    make_client(timer).get_json("/x")
    assert timer.sleeps == [12.0]


def test_exponential_backoff_on_5xx_then_success(requests_mock):
    timer = FakeTimer()
    requests_mock.get(f"{BASE}/x", [{"status_code": 503}, {"status_code": 502}, {"json": {"a": 1}}])
    assert make_client(timer).get_json("/x") == {"a": 1}
    assert timer.sleeps == [1.0, 2.0]


def test_wait_budget_exhausted_names_server_wait(requests_mock):
    timer = FakeTimer()
    requests_mock.get(f"{BASE}/x", status_code=429, headers={"Retry-After": "500"}, json={"message": "quota"})
    with pytest.raises(GtmRateLimitError) as info:
        make_client(timer).get_json("/x")
    assert info.value.retry_after == 500
    assert "asked to wait 500s" in str(info.value)
    assert timer.sleeps == []  # never slept past the 120 s budget


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, GtmClientError), (401, GtmAuthError), (403, GtmAuthError), (404, GtmNotFoundError)],
)
def test_no_retry_on_client_errors(requests_mock, status, error):
    timer = FakeTimer()
    requests_mock.get(f"{BASE}/x", status_code=status, json={"message": f"api says {status}"})
    with pytest.raises(error) as info:
        make_client(timer).get_json("/x")
    assert requests_mock.call_count == 1
    assert info.value.status == status
    assert f"api says {status}" in str(info.value)


def test_unsafe_write_not_retried_after_5xx(requests_mock):
    requests_mock.post(f"{BASE}/w", status_code=500, json={"message": "boom"})
    with pytest.raises(GtmOutcomeUnknownError, match="outcome unknown"):
        make_client(FakeTimer()).request("POST", "/w", json={"a": 1})
    assert requests_mock.call_count == 1


def test_unsafe_write_retried_after_429(requests_mock):
    requests_mock.post(f"{BASE}/w", [{"status_code": 429}, {"status_code": 201, "json": {"id": 1}}])
    resp = make_client(FakeTimer()).request("POST", "/w", json={"a": 1})
    assert resp.status == 201 and requests_mock.call_count == 2


def test_idempotent_write_retried_after_5xx(requests_mock):
    requests_mock.post(f"{BASE}/w", [{"status_code": 504}, {"status_code": 201, "json": {"id": 1}}])
    resp = make_client(FakeTimer()).request("POST", "/w", json={"a": 1}, safe_to_retry=True)
    assert resp.data == {"id": 1}


def test_write_retried_when_connection_refused(requests_mock):
    refused = requests.ConnectionError(
        "HTTPSConnectionPool: Max retries exceeded (Caused by NewConnectionError('Connection refused'))"
    )
    requests_mock.post(f"{BASE}/w", [{"exc": refused}, {"status_code": 201, "json": {}}])
    make_client(FakeTimer()).request("POST", "/w", json={})
    assert requests_mock.call_count == 2


def test_write_after_read_timeout_is_outcome_unknown(requests_mock):
    requests_mock.post(f"{BASE}/w", exc=requests.ReadTimeout("read timed out"))
    with pytest.raises(GtmOutcomeUnknownError):
        make_client(FakeTimer()).request("POST", "/w", json={})
    assert requests_mock.call_count == 1


def test_get_retried_after_timeout_then_gives_up(requests_mock):
    timer = FakeTimer()
    requests_mock.get(f"{BASE}/x", exc=requests.ReadTimeout("read timed out"))
    with pytest.raises(GtmTransportError):
        make_client(timer).get_json("/x")
    assert requests_mock.call_count == 4


def test_non_json_success_body_is_retried_for_reads(requests_mock):
    requests_mock.get(f"{BASE}/x", [{"text": "<html>oops</html>"}, {"json": {"ok": 1}}])
    assert make_client(FakeTimer()).get_json("/x") == {"ok": 1}


def test_body_error_on_200_raises_with_api_message(requests_mock):
    profile = ApiProfile(
        name="okto",
        body_error=lambda body: "nope" if isinstance(body, dict) and body.get("Result") is False else None,
    )
    requests_mock.get(f"{BASE}/x", json={"Result": False})
    with pytest.raises(GtmClientError, match="nope"):
        make_client(FakeTimer(), profile=profile).get_json("/x")


def test_block_on_429_fails_fast_naming_block_end(requests_mock):
    timer = FakeTimer()
    limiter = RateLimiter([Window(60, 60.0)], timer)
    profile = ApiProfile(name="okto", block_on_429_seconds=900)
    requests_mock.get(f"{BASE}/x", status_code=429)
    client = make_client(timer, profile=profile, limiter=limiter)
    with pytest.raises(GtmRateLimitError) as info:
        client.get_json("/x")
    assert requests_mock.call_count == 1  # never retried into the block
    assert info.value.blocked_until is not None
    assert "2026-01-01T00:15:00" in str(info.value)


def test_block_on_429_waited_out_when_budget_allows(requests_mock):
    timer = FakeTimer()
    limiter = RateLimiter([], timer)
    profile = ApiProfile(name="okto", block_on_429_seconds=900)
    requests_mock.get(f"{BASE}/x", [{"status_code": 429}, {"json": {"ok": 1}}])
    client = make_client(timer, profile=profile, limiter=limiter, retry=RetryPolicy(max_wait_seconds=1000, jitter=0))
    assert client.get_json("/x") == {"ok": 1}
    assert sum(timer.sleeps) == pytest.approx(900)


def test_secret_never_in_logs_or_errors(requests_mock, caplog):
    caplog.set_level(logging.DEBUG)
    requests_mock.get(f"{BASE}/x", [{"status_code": 503}, {"status_code": 401, "json": {"message": "bad key"}}])
    with pytest.raises(GtmAuthError) as info:
        make_client(FakeTimer()).get_json("/x")
    assert SECRET not in caplog.text
    assert SECRET not in str(info.value) and SECRET not in repr(info.value.body)


def test_parse_retry_after():
    assert parse_retry_after("3", 0) == 3
    assert parse_retry_after("garbage", 0) is None
    assert parse_retry_after(None, 0) is None


# -- bytes and text (issue #10) --------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain", "text/html", "application/json", "application/octet-stream"])
def test_json_is_read_as_utf8_whatever_the_content_type_says(requests_mock, content_type):
    # requests takes text/* without charset for ISO-8859-1: every non-ASCII character was mojibake.
    body = '{"name": "Zoë 😀 Ærø"}'.encode()
    requests_mock.get(f"{BASE}/x", content=body, headers={"Content-Type": content_type})
    assert make_client(FakeTimer()).get_json("/x") == {"name": "Zoë 😀 Ærø"}


def test_bytes_that_are_not_utf8_fall_back_to_the_declared_charset(requests_mock):
    requests_mock.get(f"{BASE}/x", content='{"name": "Zoë"}'.encode("latin-1"),
                      headers={"Content-Type": "application/json; charset=iso-8859-1"})
    assert make_client(FakeTimer()).get_json("/x") == {"name": "Zoë"}


def test_two_json_documents_back_to_back(requests_mock):
    # CustomerOS's newest contact_bulk.go writes its 201 body twice.
    first = b'{"status":"success","summary":{"total":1,"success":1,"failed":0}}'
    requests_mock.post(f"{BASE}/bulk", status_code=201, content=first + first)
    resp = make_client(FakeTimer()).request("POST", "/bulk", json=[{"email": "a@b.c"}])
    assert resp.data["summary"]["success"] == 1 and resp.more_documents == []
    other = b'{"status":"partial_success","message":"Failed to add linkedin url"}'
    requests_mock.post(f"{BASE}/org", status_code=206, content=first + b"\n" + other)
    resp = make_client(FakeTimer()).request("POST", "/org", json={})
    assert resp.status == 206 and resp.data["status"] == "success"
    assert resp.more_documents == [{"status": "partial_success", "message": "Failed to add linkedin url"}]
    assert requests_mock.call_count == 2  # a 206 is a 2xx answer: never retried


def test_a_body_with_trailing_garbage_is_still_not_json(requests_mock):
    timer = FakeTimer()
    requests_mock.get(f"{BASE}/x", content=b'{"a":1}<html>')
    with pytest.raises(GtmTransportError, match="not JSON"):
        make_client(timer).get_json("/x")
