"""The hooks reached the way Airflow reaches them: ``Connection.get_hook()``, ``Connection.test_connection()``.

Airflow builds a hook as ``hook_class(**{conn_name_attr: conn_id})`` (providers manager →
``connection_id_attribute_name``); the UI's Test button and ``POST /api/v2/connections/test`` go
through ``Connection.test_connection()``, which calls ``get_hook()`` then ``hook.test_connection()``.
The REST API path on a real ``airflow api-server`` is in tests/dags/test_connection_test_via_rest_api.py.
"""

from __future__ import annotations

import json

import pytest
from airflow.models.connection import Connection as ModelConnection

from airflow_provider_gtm.compat import AIRFLOW_LINE
from airflow_provider_gtm.compat import Connection as SdkConnection
from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.hooks.customeros import CustomerOSHook
from airflow_provider_gtm.hooks.octopus import OctopusConnectHook
from airflow_provider_gtm.hooks.octy import OctyHook
from airflow_provider_gtm.hooks.oktopost import OktopostHook

HOOKS = {
    "octy_default": OctyHook,
    "customeros_default": CustomerOSHook,
    "octopus_connect_default": OctopusConnectHook,
    "oktopost_default": OktopostHook,
}


@pytest.mark.parametrize("hook_class", list(HOOKS.values()), ids=lambda c: c.__name__)
def test_constructor_accepts_conn_name_attr_conn_id_and_positional(hook_class):
    attr = hook_class.conn_name_attr
    assert attr != "gtm_conn_id" and attr.endswith("_conn_id")
    for hook in (hook_class(**{attr: "mine"}), hook_class(conn_id="mine"), hook_class("mine")):
        assert hook.conn_id == "mine"
        assert getattr(hook, attr) == "mine"
    assert hook_class().conn_id == hook_class.default_conn_name
    assert hook_class(**{attr: "mine", "conn_id": "mine"}).conn_id == "mine"
    with pytest.raises(GtmConfigError, match=attr):
        hook_class("one", **{attr: "other"})


def _connections(sandbox, conn_class):
    for conn_id, fields in sandbox.connections().items():
        yield conn_id, conn_class(conn_id=conn_id, conn_type=fields["conn_type"], host=fields["host"],
                                  login=fields["login"], password=fields["password"],
                                  extra=json.dumps(fields["extra"]))


@pytest.mark.parametrize("conn_class", [ModelConnection, SdkConnection], ids=["models", "sdk"])
def test_get_hook_builds_each_hook_by_its_conn_name_attr(gtm_sandbox_connections, conn_class):
    for conn_id, conn in _connections(gtm_sandbox_connections, conn_class):
        hook = conn.get_hook()
        assert type(hook) is HOOKS[conn_id]
        assert hook.conn_id == conn_id
        assert hook.connection.host == conn.host  # the connection behind it is the one Airflow named


@pytest.mark.parametrize("conn_class", [ModelConnection, SdkConnection], ids=["models", "sdk"])
def test_connection_test_succeeds_for_all_four_types(gtm_sandbox_connections, conn_class):
    if not hasattr(conn_class, "test_connection"):
        pytest.skip(f"Airflow {AIRFLOW_LINE}: the Task SDK's Connection has no test_connection() (the UI's "
                    "Test button goes through airflow.models.Connection, the 'models' case)")
    for conn_id, conn in _connections(gtm_sandbox_connections, conn_class):
        status, message = conn.test_connection()
        assert status is True, f"{conn_id}: {message}"
        assert message.startswith(f"Connected to {HOOKS[conn_id].hook_name}")


def test_connection_test_reports_a_refused_key(gtm_sandbox_connections, monkeypatch):
    for conn_id, conn in _connections(gtm_sandbox_connections, ModelConnection):
        conn.password = "wrong-key-0123456789"
        # The hook reads the connection by id, as the REST API's test does (it exports the
        # connection under a transient id first).
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", conn.get_uri())
        status, message = conn.test_connection()
        assert status is False, conn_id
        assert "refused the credentials" in message
        assert "wrong-key-0123456789" not in message
