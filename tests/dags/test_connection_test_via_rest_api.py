"""The connection form and its Test button, through a real ``airflow api-server`` on loopback.

The UI's Test button posts the form to ``POST /api/v2/connections/test``; the api-server builds the
hook with ``Connection.get_hook()`` (``hook_class(**{conn_name_attr: conn_id})``) and calls its
``test_connection()``. The form itself comes from ``GET /ui/connections/hook_meta``, built from the
provider info's ``conn-fields`` and ``ui-field-behaviour``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from airflow_provider_gtm.connection_fields import conn_fields

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture
def api_server(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")},
        "AIRFLOW_HOME": str(tmp_path / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
    }
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    log = (tmp_path / "api-server.log").open("w")
    process = subprocess.Popen([*airflow, "api-server", "--port", str(port), "--host", "127.0.0.1"], env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_for(up, 180, "the api-server")
        yield base
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_connection_form_and_test_button_for_all_four_types(gtm_sandbox, api_server):
    meta = requests.get(f"{api_server}/ui/connections/hook_meta", timeout=60)
    assert meta.status_code == 200, meta.text
    forms = {hook["connection_type"]: hook for hook in meta.json()}
    for conn_type in ("octy", "customeros", "octopus_connect", "oktopost"):
        extra_fields = forms[conn_type]["extra_fields"]
        expected = conn_fields(conn_type)
        assert set(extra_fields) == set(expected), conn_type
        for name, field in expected.items():
            assert extra_fields[name]["value"] == field["schema"].get("default"), (conn_type, name)
            assert extra_fields[name]["schema"]["title"] == field["label"]
    assert forms["octy"]["standard_fields"]["login"]["title"] == "Public key"

    for conn_id, conn in gtm_sandbox.connections().items():
        # What the form posts: the standard fields, and the extra with every form field filled in
        # with the default shown (the user changed nothing).
        extra = {name: field["schema"].get("default") for name, field in conn_fields(conn["conn_type"]).items()}
        body = {"connection_id": conn_id, "conn_type": conn["conn_type"], "host": conn["host"],
                "login": conn["login"], "password": conn["password"], "extra": json.dumps(extra)}
        answer = requests.post(f"{api_server}/api/v2/connections/test", json=body, timeout=120)
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["status"] is True, (conn_id, result)
        assert result["message"].startswith("Connected to ")

        body["password"] = "wrong-key-0123456789"
        result = requests.post(f"{api_server}/api/v2/connections/test", json=body, timeout=120).json()
        assert result["status"] is False, (conn_id, result)
        assert "refused the credentials" in result["message"]
        assert "wrong-key-0123456789" not in result["message"]
