"""The client's per-call path: environment settings, retry controller and auth resolved once per client."""

from __future__ import annotations

import base64
import threading

import pytest
import requests
from requests.auth import HTTPBasicAuth

import airflow_provider_gtm.core.client as client_module
from airflow_provider_gtm.core.client import ApiProfile, RestClient, RetryPolicy
from airflow_provider_gtm.core.errors import GtmClientError, GtmServerError
from airflow_provider_gtm.core.timing import FakeTimer

BASE = "https://api.example.test/prefix"


def make_client(timer: FakeTimer | None = None, **kwargs) -> RestClient:
    return RestClient(profile=ApiProfile(name="testapi"), base_url=BASE, timer=timer or FakeTimer(),
                      retry=kwargs.pop("retry", RetryPolicy(max_attempts=3, max_wait_seconds=100, jitter=0)),
                      **kwargs)


def test_environment_proxy_and_ca_settings_are_honoured_but_read_once(requests_mock, monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not read by requests-mock")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "other.test")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    client = make_client()

    lookups = []
    real = requests.sessions.get_environ_proxies
    monkeypatch.setattr(requests.sessions, "get_environ_proxies", lambda *a, **k: lookups.append(a) or real(*a, **k))
    monkeypatch.setenv("HTTPS_PROXY", "http://changed.internal:1")  # later changes are not re-read per call
    requests_mock.get(f"{BASE}/x", json={"ok": 1})
    for _ in range(3):
        assert client.get_json("/x") == {"ok": 1}
    assert lookups == []
    sent = requests_mock.last_request
    assert sent.proxies["https"] == "http://proxy.internal:3128"
    assert sent.verify == str(bundle)


def test_no_proxy_for_the_base_url_host_means_no_proxy(requests_mock, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "api.example.test")
    requests_mock.get(f"{BASE}/x", json={})
    make_client().get_json("/x")
    assert not requests_mock.last_request.proxies.get("https")


def test_one_retry_controller_per_client_and_each_call_keeps_its_own_budget(requests_mock, monkeypatch):
    built = []

    class CountingRetrying(client_module.Retrying):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(client_module, "Retrying", CountingRetrying)
    timer = FakeTimer()
    client = make_client(timer)
    requests_mock.get(f"{BASE}/x", [{"status_code": 503}, {"status_code": 503}, {"json": {"n": 1}},
                                    {"status_code": 503}, {"status_code": 503}, {"json": {"n": 2}},
                                    {"status_code": 503}, {"status_code": 503}, {"status_code": 503}])
    # Two retries each: neither call sees the attempts or waits of the one before.
    assert client.get_json("/x") == {"n": 1}
    assert client.get_json("/x") == {"n": 2}
    with pytest.raises(GtmServerError):
        client.get_json("/x")  # the third call stops after its own 3 attempts
    assert built == [1]
    assert timer.sleeps == [1.0, 2.0, 1.0, 2.0, 1.0, 2.0]


def test_wait_budget_is_per_call(requests_mock):
    timer = FakeTimer()
    client = make_client(timer, retry=RetryPolicy(max_attempts=5, max_wait_seconds=10, jitter=0))
    requests_mock.get(f"{BASE}/x", [{"status_code": 429, "headers": {"Retry-After": "6"}}, {"json": {"n": 1}},
                                    {"status_code": 429, "headers": {"Retry-After": "6"}}, {"json": {"n": 2}}])
    assert client.get_json("/x") == {"n": 1}
    assert client.get_json("/x") == {"n": 2}  # 6 + 6 > 10 only if the budget leaked across calls
    assert timer.sleeps == [6.0, 6.0]


def test_calls_from_threads_share_the_client_safely(requests_mock):
    client = make_client()
    requests_mock.get(f"{BASE}/x", json={"ok": 1})
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(client.get_json("/x"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [{"ok": 1}] * 8


def test_basic_auth_is_encoded_once_into_a_header(requests_mock):
    client = make_client(auth=HTTPBasicAuth("pk_user", "sk_secret"))
    assert client.session.auth is None
    requests_mock.get(f"{BASE}/x", json={})
    client.get_json("/x")
    expected = "Basic " + base64.b64encode(b"pk_user:sk_secret").decode()
    assert requests_mock.last_request.headers["Authorization"] == expected


def test_a_redirect_to_another_host_is_refused_and_nothing_reaches_it(requests_mock):
    client = make_client(auth=HTTPBasicAuth("pk_user", "sk_secret"))
    requests_mock.get(f"{BASE}/x", status_code=302, headers={"Location": "https://elsewhere.test/y"})
    elsewhere = requests_mock.get("https://elsewhere.test/y", json={})
    with pytest.raises(GtmClientError, match="elsewhere.test"):
        client.get_json("/x")
    assert not elsewhere.called


def test_call_headers_override_session_headers_case_insensitively_and_none_removes(requests_mock):
    client = make_client(headers={"X-Api-Key": "k1", "Accept": "application/json"})
    requests_mock.get(f"{BASE}/x", json={})
    client.request("GET", "/x", headers={"accept": "text/csv", "X-Extra": "1"}, expect_json=False)
    sent = requests_mock.last_request.headers
    assert sent["Accept"] == "text/csv" and sent["X-Extra"] == "1" and sent["X-Api-Key"] == "k1"
    client.request("GET", "/x", headers={"X-Api-Key": None})  # type: ignore[dict-item]
    assert "X-Api-Key" not in requests_mock.last_request.headers
    client.get_json("/x")
    assert requests_mock.last_request.headers["X-Api-Key"] == "k1"  # the session's headers are untouched


def test_query_params_json_body_cookies_and_session_hooks_still_apply(requests_mock):
    client = make_client()
    seen = []
    client.session.hooks["response"].append(lambda response, **kwargs: seen.append(response.status_code))
    requests_mock.post(f"{BASE}/x", json={"ok": 1})
    assert client.request("POST", "/x", params={"a": "1 2"}, json={"k": [1]}, safe_to_retry=True).data == {"ok": 1}
    sent = requests_mock.last_request
    assert sent.qs == {"a": ["1 2"]} and sent.json() == {"k": [1]}
    assert "Cookie" not in sent.headers
    client.session.cookies.set("sid", "abc")  # what a server's Set-Cookie leaves in the session's jar
    client.request("POST", "/x", json={}, safe_to_retry=True)
    assert requests_mock.last_request.headers["Cookie"] == "sid=abc"
    assert seen == [200, 200]
