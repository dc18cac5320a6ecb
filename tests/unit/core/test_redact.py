"""The one redaction point: every form of a secret, errors and failures clean by construction, logs,
redirects that would carry the credentials to another origin."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import quote, quote_plus

import pytest
from requests.auth import HTTPBasicAuth

from airflow_provider_gtm.core import redact
from airflow_provider_gtm.core.batching import Failure
from airflow_provider_gtm.core.client import ApiProfile, RestClient, RetryPolicy
from airflow_provider_gtm.core.errors import (
    GtmAuthError,
    GtmClientError,
    GtmConfigError,
    GtmTransportError,
)
from airflow_provider_gtm.core.timing import FakeTimer

LOGIN = "pk_live_8c1f2e3d4b5a"
PASSWORD = "sk_live_Zq9+w/x=Y&7 p%2"  # characters that every encoding changes
BASE = "https://api.example.test/prefix"


@pytest.fixture
def registry(monkeypatch):
    """A fresh process-wide registry for the test (restored afterwards)."""
    monkeypatch.setattr(redact, "_forms", set())
    monkeypatch.setattr(redact, "_pattern", None)
    redactor = redact.Redactor([LOGIN, PASSWORD], basic=[(LOGIN, PASSWORD)])
    redact.register(redactor)
    return redactor


def every_form() -> list[str]:
    pair = f"{LOGIN}:{PASSWORD}"
    return [
        PASSWORD, f"Bearer {PASSWORD}", quote(PASSWORD, safe=""), quote(PASSWORD), quote_plus(PASSWORD),
        json.dumps(PASSWORD)[1:-1], base64.b64encode(PASSWORD.encode()).decode(),
        base64.b64encode(pair.encode()).decode(), f"Basic {base64.b64encode(pair.encode()).decode()}",
        quote(pair, safe=""), LOGIN,
    ]


def leaks(text: str) -> list[str]:
    found = [form for form in every_form() if form in text]
    # The secret's characters after the first few: a partial replacement still leaks.
    if PASSWORD[3:] in text or LOGIN[3:] in text:
        found.append("a part of the secret")
    return found


@pytest.mark.parametrize("form", every_form())
def test_every_form_is_replaced(registry, form):
    text = f"Invalid credentials {form} for request GET /x"
    cleaned = registry.scrub(text)
    assert leaks(cleaned) == [] and cleaned.startswith("Invalid credentials ***")
    assert redact.scrub(text) == cleaned


def test_sensitive_query_values_and_email_values_are_masked_without_any_registered_secret():
    text = "GET /v1/x?apiKey=abc123456&page=2&access_token=t0k3n99&email=ada%40example.com&Signature=zz"
    cleaned = redact.Redactor().scrub(text)
    assert cleaned == "GET /v1/x?apiKey=***&page=2&access_token=***&email=***&Signature=***"
    assert redact.scrub("see https://h.test/p?user=ada@example.com") == "see https://h.test/p?user=***"


def test_secrets_in_extra_are_found_under_sensitive_names_and_in_query_values():
    extra = {"paths": {"all_posts": "/v1/posts?apiKey=extra_query_secret_1&x=1"}, "client_secret": "extra_secret_22",
             "data_center": "eu", "nested": [{"token": "nested_token_333"}]}
    assert redact.secrets_in_extra(extra) == {"extra_query_secret_1", "extra_secret_22", "nested_token_333"}


def test_short_secrets_are_not_redacted_by_value():
    assert redact.Redactor(["abc"]).scrub("abc abc") == "abc abc"


def test_api_errors_never_hold_the_secret(registry):
    basic = f"Basic {base64.b64encode(f'{LOGIN}:{PASSWORD}'.encode()).decode()}"
    body = {"message": f"bad key {PASSWORD}", "echo": {basic: [quote(PASSWORD, safe="")]}}
    err = GtmAuthError(f"Invalid credentials {PASSWORD}", api="octy", status=401, method="GET",
                       path=f"/v1/x?apiKey={quote(PASSWORD, safe='')}", body=body)
    for text in (str(err), repr(err), err.api_message, err.path, json.dumps(err.body), repr(err.args)):
        assert leaks(text) == []
    assert err.body["message"] == "bad key ***"
    assert leaks(str(GtmConfigError(f"no {PASSWORD}"))) == []


def test_failure_records_never_hold_the_secret(registry):
    failure = Failure(record={"id": 1}, identifier=1, error_message=f"refused, key {PASSWORD}", status=400)
    assert failure.error_message == "refused, key ***"
    assert leaks(json.dumps(failure.to_json())) == []


def test_log_lines_of_the_client_are_redacted(registry, caplog):
    logger = redact.protect(logging.getLogger("airflow_provider_gtm.test_redact"))
    with caplog.at_level(logging.INFO, logger="airflow_provider_gtm.test_redact"):
        logger.info("calling %s with %r", f"/x?token=abcdefgh&k={PASSWORD}", {"auth": f"Bearer {PASSWORD}"})
    assert leaks(caplog.text) == [] and "token=***" in caplog.text


def make_client(**kwargs) -> RestClient:
    return RestClient(profile=ApiProfile(name="testapi"), base_url=BASE, timer=FakeTimer(),
                      retry=RetryPolicy(max_attempts=2, max_wait_seconds=10, jitter=0), **kwargs)


def test_an_error_body_echoing_the_basic_credential_reaches_no_attribute(registry, requests_mock):
    client = make_client(auth=HTTPBasicAuth(LOGIN, PASSWORD))
    header = f"Basic {base64.b64encode(f'{LOGIN}:{PASSWORD}'.encode()).decode()}"
    requests_mock.get(f"{BASE}/x", status_code=401,
                      json={"message": f"Invalid credentials {header} ({LOGIN}:{PASSWORD})", "header": header})
    with pytest.raises(GtmAuthError) as caught:
        client.get_json("/x")
    err = caught.value
    assert leaks(str(err)) == [] and leaks(json.dumps(err.body)) == [] and "Invalid credentials ***" in str(err)


def test_transport_errors_and_retry_warnings_lose_sensitive_query_values(registry, requests_mock, caplog):
    import requests

    client = make_client()
    requests_mock.get(f"{BASE}/x", exc=requests.ConnectionError(
        f"Max retries exceeded with url: /prefix/x?apiKey={PASSWORD}&email=ada%40example.com"))
    with caplog.at_level(logging.WARNING), pytest.raises(GtmTransportError) as caught:
        client.get_json(f"/x?apiKey={quote(PASSWORD, safe='')}&email=ada%40example.com")
    for text in (str(caught.value), caplog.text):
        assert leaks(text) == [] and "ada" not in text


def test_a_same_origin_redirect_is_followed_with_the_credentials(requests_mock):
    client = make_client(headers={"X-Api-Key": "k" * 12})
    requests_mock.get(f"{BASE}/x", status_code=301, headers={"Location": "/prefix/y?page=2"})
    target = requests_mock.get(f"{BASE}/y", json={"ok": True})
    assert client.get_json("/x") == {"ok": True}
    assert target.last_request.headers["X-Api-Key"] == "k" * 12 and target.last_request.qs == {"page": ["2"]}


def test_a_303_after_a_post_becomes_a_get_without_body(requests_mock):
    client = make_client()
    requests_mock.post(f"{BASE}/jobs", status_code=303, headers={"Location": f"{BASE}/jobs/1"})
    job = requests_mock.get(f"{BASE}/jobs/1", json={"id": 1})
    assert client.request("POST", "/jobs", json={"a": 1}).data == {"id": 1}
    assert job.last_request.body is None


@pytest.mark.parametrize("location", [
    "https://evil.example.test/steal?apiKey=abcdefgh",   # another host
    "http://api.example.test/prefix/y",                  # another scheme (and https → http)
    "https://api.example.test:8443/prefix/y",            # another port
])
def test_a_redirect_to_another_origin_is_an_error_naming_the_target_without_its_query(requests_mock, location):
    client = make_client(headers={"X-CUSTOMER-OS-API-KEY": "cos_key_0123456789"})
    requests_mock.get(f"{BASE}/x", status_code=302, headers={"Location": location})
    other = requests_mock.get(location.split("?")[0], json={})
    with pytest.raises(GtmClientError) as caught:
        client.get_json("/x")
    assert not other.called
    text = str(caught.value)
    assert location.split("?")[0] in text and "apiKey" not in text and caught.value.status == 302


def test_redirects_are_followed_a_few_times_only(requests_mock):
    client = make_client()
    requests_mock.get(f"{BASE}/loop", status_code=302, headers={"Location": f"{BASE}/loop"})
    with pytest.raises(GtmClientError, match="more than 3 redirects"):
        client.get_json("/loop")
    assert requests_mock.call_count == 4
