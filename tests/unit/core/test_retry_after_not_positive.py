"""``Retry-After: 0`` or a date in the past falls back to the normal backoff (issue #13).

Taken literally such a value means "no wait", and every retry of the call went out back to back.
"""

from __future__ import annotations

import pytest
from requests.auth import HTTPBasicAuth

from airflow_provider_gtm.core.client import ApiProfile, RestClient, RetryPolicy, parse_retry_after
from airflow_provider_gtm.core.errors import GtmRateLimitError
from airflow_provider_gtm.core.timing import FakeTimer

BASE = "https://api.example.test"


def make_client(timer: FakeTimer) -> RestClient:
    return RestClient(profile=ApiProfile(name="testapi"), base_url=BASE, auth=HTTPBasicAuth("pk_x", "sk_0123456789"),
                      timer=timer, retry=RetryPolicy(max_attempts=4, max_wait_seconds=120, jitter=0))


@pytest.mark.parametrize("value", ["0", "-5", "0.0", "Wed, 31 Dec 2025 23:59:00 GMT", "nan"])
def test_not_positive_retry_after_is_no_server_wait(value):
    # FakeTimer's clock starts at 2026-01-01T00:00:00Z: the date above is a minute in the past.
    assert parse_retry_after(value, FakeTimer().utcnow().timestamp()) is None
    assert parse_retry_after("2.5", 0) == 2.5


@pytest.mark.parametrize("header", [{"Retry-After": "0"}, {"Retry-After": "Wed, 31 Dec 2025 23:59:00 GMT"},
                                    {"RateLimit-Reset": "0"}])
def test_zero_or_past_retry_after_backs_off_like_any_retry(requests_mock, header):
    timer = FakeTimer()
    requests_mock.get(f"{BASE}/x", [{"status_code": 429, "headers": header}] * 3 + [{"json": {"ok": 1}}])
    assert make_client(timer).get_json("/x") == {"ok": 1}
    assert timer.sleeps == [1.0, 2.0, 4.0]


def test_zero_retry_after_until_attempts_run_out_still_waits_between_calls(requests_mock):
    timer = FakeTimer()
    requests_mock.get(f"{BASE}/x", status_code=429, headers={"Retry-After": "0"}, json={"message": "slow down"})
    with pytest.raises(GtmRateLimitError):
        make_client(timer).get_json("/x")
    assert requests_mock.call_count == 4
    assert timer.sleeps == [1.0, 2.0, 4.0] and all(s > 0 for s in timer.sleeps)
