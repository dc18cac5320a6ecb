"""Contract tests of the shared sandbox framework (faults, control endpoints, rate limits, clock, CLI),
exercised through the Octy routes with plain ``requests``."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from airflow_provider_gtm.sandbox import SANDBOX_CREDENTIALS

CREDS = SANDBOX_CREDENTIALS["octy"]
AUTH = (CREDS["login"], CREDS["password"])
REPORT = "/v1/retention/churn_prediction/report"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def octy(gtm_sandbox):
    session = requests.Session()
    session.auth = AUTH
    base = gtm_sandbox.base_url("octy")

    def call(method="GET", path=REPORT, **kwargs):
        kwargs.setdefault("timeout", 10)
        return session.request(method, base + path, **kwargs)

    call.sandbox = gtm_sandbox
    yield call
    session.close()
    # reset() keeps configured rate-limit specs: put Octy's default back for the next test.
    gtm_sandbox.configure(rate_limits={"octy": {"windows": [[120, 60]], "retry_after": False}})


def _fault(**rule):
    return {"api": "octy", "path": REPORT, **rule}


# --- fault kinds ------------------------------------------------------------------------------------
def test_status_fault_without_retry_after(octy):
    octy.sandbox.set_faults([_fault(kind="status", status=503)])
    response = octy()
    assert response.status_code == 503
    assert "Retry-After" not in response.headers
    body = response.json()
    assert body["request_meta"]["request_status"] == "Failure" and body["error"]["code"] == 503
    assert octy.sandbox.state()["faults_fired"]["octy"] == 1


def test_status_fault_with_retry_after(octy):
    octy.sandbox.set_faults([_fault(kind="status", status=429, retry_after=2)])
    response = octy()
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    assert octy.sandbox.state()["rate_limited"]["octy"] == 1


def test_drop_fault_closes_without_answer(octy):
    octy.sandbox.set_faults([_fault(kind="drop", times=1)])
    with pytest.raises(requests.exceptions.ConnectionError):
        octy()
    assert octy().status_code == 200


def test_drop_mid_body_fault(octy):
    octy.sandbox.set_faults([_fault(kind="drop_mid_body", times=1)])
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        octy()
    assert octy().status_code == 200


def test_delay_fault(octy):
    octy.sandbox.set_faults([_fault(kind="delay", delay=0.3, times=2)])
    started = time.monotonic()
    assert octy().status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(requests.exceptions.ReadTimeout):
        octy(timeout=0.1)


def test_truncate_fault(octy):
    octy.sandbox.set_faults([_fault(kind="truncate")])
    response = octy()
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_non_json_fault(octy):
    octy.sandbox.set_faults([_fault(kind="non_json")])
    response = octy()
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/html"
    assert response.text.startswith("<html>")


def test_repeat_cursor_fault_on_octy_list(octy):
    octy.sandbox.set_faults([{"api": "octy", "path": "/v1/retention/profiles", "kind": "repeat_cursor",
                              "calls": [2]}])
    first = octy(path="/v1/retention/profiles", headers={"cursor": "0"})
    assert first.headers["cursor"] == "100"
    second = octy(path="/v1/retention/profiles", headers={"cursor": "100"})
    assert second.status_code == 200 and second.headers["cursor"] == "100"
    assert second.json()["profiles"][0]["profile_id"] == "profile_000000000100"


PROFILES = "/v1/retention/profiles"


def _list_fault(**rule):
    return {"api": "octy", "path": PROFILES, **rule}


def test_empty_200_and_empty_object_200_faults(octy):
    octy.sandbox.set_faults([_list_fault(kind="empty_200", calls=[1]), _list_fault(kind="empty_object_200", calls=[2])])
    empty = octy(path=PROFILES, headers={"cursor": "0"})
    assert empty.status_code == 200 and empty.content == b""
    braces = octy(path=PROFILES, headers={"cursor": "0"})
    assert braces.status_code == 200 and braces.json() == {}


def test_drop_header_fault_removes_the_cursor_header(octy):
    octy.sandbox.set_faults([_list_fault(kind="drop_header", times=1)])
    assert "cursor" not in octy(path=PROFILES, headers={"cursor": "0"}).headers
    assert octy(path=PROFILES, headers={"cursor": "0"}).headers["cursor"] == "100"


def test_text_plain_fault_keeps_the_utf8_body(octy):
    octy.sandbox.set_faults([_list_fault(kind="text_plain")])
    response = octy(path=PROFILES, headers={"cursor": "0"})
    assert response.headers["Content-Type"] == "text/plain"  # no charset: requests guesses ISO-8859-1
    assert response.encoding == "ISO-8859-1"
    assert json.loads(response.content.decode("utf-8"))["profiles"]


def test_text_plain_fault_sends_raw_utf8(gtm_sandbox):
    gtm_sandbox.set_faults([{"api": "octopus", "kind": "text_plain"}])
    token = SANDBOX_CREDENTIALS["octopus"]["password"]
    response = requests.get(gtm_sandbox.base_url("octopus") + "/v1/feeds/all-posts",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert "👍".encode() in response.content  # raw bytes, not a \u escape
    assert "👍" not in response.text  # what a client trusting the (missing) charset reads


def test_double_body_fault_writes_two_json_documents(octy):
    octy.sandbox.set_faults([_list_fault(kind="double_body")])
    response = octy(path=PROFILES, headers={"cursor": "0"})
    first, end = json.JSONDecoder().raw_decode(response.text)
    assert json.loads(response.text[end:]) == first


def test_partial_206_fault_keeps_the_body(octy):
    octy.sandbox.set_faults([_list_fault(kind="partial_206")])
    response = octy(path=PROFILES, headers={"cursor": "0"})
    assert response.status_code == 206 and response.json()["profiles"]


def test_never_ending_fault_makes_the_list_endless_for_that_call_only(octy):
    octy.sandbox.set_faults([_list_fault(kind="never_ending", times=1)])
    far = octy(path=PROFILES, headers={"cursor": "500000"})
    assert far.status_code == 200 and far.json()["request_meta"]["total"] == 10**12
    assert octy(path=PROFILES, headers={"cursor": "500000"}).status_code == 400  # back to 250 records


def test_huge_page_fault_pads_every_record(octy):
    octy.sandbox.set_faults([_list_fault(kind="huge_page", size=2_000_000)])
    response = octy(path=PROFILES, headers={"cursor": "0"})
    assert len(response.content) > 2_000_000
    assert all(len(p["sandboxPadding"]) == 20_000 for p in response.json()["profiles"])


def test_fault_matches_api_method_and_path_only(octy):
    octy.sandbox.set_faults([_fault(kind="status", status=500, method="POST"),
                             {"api": "customeros", "kind": "status", "status": 500}])
    assert octy().status_code == 200
    assert octy.sandbox.state()["faults_fired"].get("octy", 0) == 0


# --- schedules --------------------------------------------------------------------------------------
@pytest.mark.parametrize("schedule,expected", [
    ({"calls": [2, 3]}, [200, 503, 503, 200]),
    ({"every": 2}, [200, 503, 200, 503]),
    ({"times": 1}, [503, 200, 200, 200]),
    ({"every": 1, "times": 2}, [503, 503, 200, 200]),
])
def test_fault_schedules(octy, schedule, expected):
    octy.sandbox.set_faults([_fault(kind="status", status=503, **schedule)])
    assert [octy().status_code for _ in range(4)] == expected


# --- control endpoints over HTTP --------------------------------------------------------------------
def test_control_state_reset_faults_config_over_http(octy):
    url = octy.sandbox.url + "/_sandbox"
    created = octy("POST", "/v1/retention/items/create", json={"items": [
        {"item_id": "sku_ctl", "item_category": "c", "item_name": "n", "item_description": "d", "item_price": 1}]})
    assert created.status_code == 201
    state = requests.get(f"{url}/state", timeout=10).json()
    assert "sku_ctl" in state["apis"]["octy"]["items"] and state["calls"]["octy"] == 1

    faults = requests.post(f"{url}/faults", json={"faults": [_fault(kind="status", status=502)]}, timeout=10)
    assert faults.status_code == 200 and faults.json()["faults"][0]["status"] == 502
    assert requests.get(f"{url}/faults", timeout=10).json()["faults"][0]["kind"] == "status"
    assert octy().status_code == 502
    assert requests.delete(f"{url}/faults", timeout=10).json() == {"faults": []}
    assert octy().status_code == 200

    bad = requests.post(f"{url}/faults", json={"faults": [{"kind": "explode"}]}, timeout=10)
    assert bad.status_code == 400 and "unknown fault kind" in bad.json()["error"]

    config = requests.post(f"{url}/config", json={"records": 7}, timeout=10)
    assert config.status_code == 200 and config.json()["records"] == 7
    assert requests.get(f"{url}/config", timeout=10).json()["records"] == 7
    listed = octy(path="/v1/retention/items", headers={"cursor": "0"}).json()
    assert listed["request_meta"]["total"] == 8  # 7 synthetic + the created one
    bad_config = requests.post(f"{url}/config", json={"octy": {"nope": 1}}, timeout=10)
    assert bad_config.status_code == 400

    assert requests.post(f"{url}/reset", timeout=10).json() == {"reset": True}
    state = requests.get(f"{url}/state", timeout=10).json()
    assert state["apis"]["octy"]["items"] == {} and state["calls"] == {}
    assert requests.get(f"{url}/nowhere", timeout=10).status_code == 404


# --- rate limits and the clock ----------------------------------------------------------------------
def test_rate_limits_counted_in_state(octy):
    octy.sandbox.configure(rate_limits={"octy": {"windows": [[2, 60]]}})
    assert [octy().status_code for _ in range(5)] == [200, 200, 429, 429, 429]
    assert octy.sandbox.state()["rate_limited"]["octy"] == 3


def test_rate_limits_can_be_switched_off(octy):
    octy.sandbox.configure(rate_limits={"octy": {"windows": [[1, 60]]}})
    octy.sandbox.configure(rate_limits=False)
    assert [octy().status_code for _ in range(3)] == [200, 200, 200]
    octy.sandbox.configure(rate_limits=True)


def test_advance_clock_frees_the_window(octy):
    octy.sandbox.configure(rate_limits={"octy": {"windows": [[2, 60]]}})
    assert [octy().status_code for _ in range(3)] == [200, 200, 429]
    octy.sandbox.configure(advance_clock=61)
    assert octy().status_code == 200


def test_time_scale_speeds_up_the_window(octy):
    octy.sandbox.configure(rate_limits={"octy": {"windows": [[1, 60]]}}, time_scale=600)
    assert [octy().status_code for _ in range(2)] == [200, 429]
    time.sleep(0.15)  # 90 sandbox seconds
    assert octy().status_code == 200


def test_retry_after_on_rate_limit_is_in_real_seconds(octy):
    octy.sandbox.configure(rate_limits={"octy": {"windows": [[1, 60]], "retry_after": True}}, time_scale=10)
    assert octy().status_code == 200
    response = octy()
    assert response.status_code == 429
    assert 5 <= int(response.headers["Retry-After"]) <= 6  # 60 sandbox seconds at 10x


# --- CLI ----------------------------------------------------------------------------------------------
def test_cli_prints_url_and_stops_on_sigterm():
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "airflow_provider_gtm.sandbox", "--port", "0"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        url = match.group(1)
        response = requests.get(f"{url}/octy{REPORT}", auth=AUTH, timeout=10)
        assert response.status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "GTM sandbox stopped." in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
