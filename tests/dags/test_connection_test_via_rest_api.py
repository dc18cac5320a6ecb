"""The connection form and its Test button, through a real ``airflow api-server`` on loopback.

The UI's Test button posts the form to ``POST /api/v2/connections/test``; the api-server builds the
hook with ``Connection.get_hook()`` (``hook_class(**{conn_name_attr: conn_id})``) and calls its
``test_connection()``. The form itself comes from ``GET /ui/connections/hook_meta``, built from the
provider info's ``conn-fields`` and ``ui-field-behaviour``.
"""

from __future__ import annotations

import json

import pytest
import requests
from airflow_processes import AirflowProcesses, wait_for

from airflow_provider_gtm.connection_fields import conn_fields

pytestmark = pytest.mark.slow


@pytest.fixture
def api_server(tmp_path):
    with AirflowProcesses(tmp_path, {"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}, inherit_connections=False,
                          dags_folder=None) as airflow:
        airflow.migrate().start("api-server")

        def up():
            try:
                return requests.get(f"{airflow.base_url}/api/v2/monitor/health", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(up, 180, "the api-server")
        yield airflow.base_url


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
