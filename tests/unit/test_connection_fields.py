"""Connection-form fields (provider info ``conn-fields``): what the form shows is what the hooks do.

The UI stores every form field in the connection's extra under its name, with the default shown
when the user changes nothing and ``null`` when the user clears it; the hooks must read all three
forms. The form itself, as served by a real api-server, is checked in
tests/dags/test_connection_test_via_rest_api.py.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_gtm import get_provider_info
from airflow_provider_gtm.connection_fields import DEFAULT_RATE_LIMITS, OCTOPUS_DEFAULT_PATHS
from airflow_provider_gtm.hooks.customeros import CustomerOSHook
from airflow_provider_gtm.hooks.octopus import DEFAULT_PATHS, OctopusConnectHook
from airflow_provider_gtm.hooks.octy import OctyHook
from airflow_provider_gtm.hooks.oktopost import OktopostHook

HOOKS = {"octy": OctyHook, "customeros": CustomerOSHook, "octopus_connect": OctopusConnectHook,
         "oktopost": OktopostHook}
OPERATIONAL = {"connect_timeout", "read_timeout", "max_attempts", "retry_backoff", "max_wait_seconds",
               "rate_limits", "rate_limit_backend", "total_timeout", "max_response_bytes"}


def fields_of(conn_type):
    (conn,) = [c for c in get_provider_info()["connection-types"] if c["connection-type"] == conn_type]
    return conn["conn-fields"]


def hook_with_extra(monkeypatch, conn_type, extra):
    hook_class = HOOKS[conn_type]
    conn = {"conn_type": conn_type, "host": "http://127.0.0.1:9/api", "login": "account-or-public-key",
            "password": "secret-key-0123456789", "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{hook_class.default_conn_name.upper()}", json.dumps(conn))
    return hook_class()


def settings(hook):
    policy = hook._retry_policy()
    return {
        "connect_timeout": hook.client.timeout[0], "read_timeout": hook.client.timeout[1],
        "max_attempts": policy.max_attempts, "retry_backoff": policy.backoff_initial,
        "max_wait_seconds": policy.max_wait_seconds,
        "rate_limits": [[w.limit, w.seconds] for w in hook._windows()],
        "max_response_bytes": hook.client.max_response_bytes,
    }


@pytest.mark.parametrize("conn_type", list(HOOKS))
def test_every_type_has_typed_fields_with_label_description_and_schema(conn_type):
    fields = fields_of(conn_type)
    assert OPERATIONAL <= set(fields)
    for name, field in fields.items():
        assert field["label"] and field["description"], name
        assert field["schema"]["type"], name
    assert fields["max_attempts"]["schema"]["type"] == ["integer", "null"]
    assert fields["read_timeout"]["schema"]["type"] == ["number", "null"]
    # An array of arrays: the form shows a JSON editor, not "one string per line".
    assert fields["rate_limits"]["schema"]["items"]["type"] == "array"


@pytest.mark.parametrize("conn_type", list(HOOKS))
def test_defaults_shown_are_the_hooks_defaults(monkeypatch, conn_type):
    hook = hook_with_extra(monkeypatch, conn_type, {})
    shown = {name: field["schema"]["default"] for name, field in fields_of(conn_type).items()
             if name in OPERATIONAL and "default" in field["schema"]}
    assert shown == settings(hook)
    assert DEFAULT_RATE_LIMITS[conn_type] == [[w.limit, w.seconds] for w in HOOKS[conn_type].profile.default_windows]


@pytest.mark.parametrize("conn_type", list(HOOKS))
def test_form_saved_unchanged_or_cleared_behaves_like_no_extra(monkeypatch, conn_type):
    defaults = settings(hook_with_extra(monkeypatch, conn_type, {}))
    fields = fields_of(conn_type)
    unchanged = {name: field["schema"].get("default") for name, field in fields.items()}
    assert settings(hook_with_extra(monkeypatch, conn_type, unchanged)) == defaults
    cleared = {name: None for name in fields}
    assert settings(hook_with_extra(monkeypatch, conn_type, cleared)) == defaults


@pytest.mark.parametrize("conn_type", list(HOOKS))
def test_values_typed_in_the_form_are_used(monkeypatch, conn_type):
    typed = {"connect_timeout": 3, "read_timeout": 7.5, "max_attempts": 2, "retry_backoff": 0.5,
             "max_wait_seconds": 30, "rate_limits": [[10, 1]], "max_response_bytes": 1000}
    assert settings(hook_with_extra(monkeypatch, conn_type, typed)) == typed


@pytest.mark.parametrize("conn_type", list(HOOKS))
def test_the_total_timeout_field_is_derived_when_empty_and_used_when_typed(monkeypatch, conn_type):
    from airflow_provider_gtm.connection_fields import DEFAULT_MAX_RESPONSE_BYTES
    from airflow_provider_gtm.core.transport import DEFAULT_MAX_RESPONSE_BYTES as TRANSPORT_DEFAULT

    assert DEFAULT_MAX_RESPONSE_BYTES == TRANSPORT_DEFAULT
    assert "default" not in fields_of(conn_type)["total_timeout"]["schema"], "its default is derived"
    for empty in ({}, {"total_timeout": None}, {"total_timeout": ""}):
        assert hook_with_extra(monkeypatch, conn_type, empty).client.deadline == 10 + 2 * 60
    assert hook_with_extra(monkeypatch, conn_type, {"read_timeout": 5, "connect_timeout": 1}).client.deadline == 11
    assert hook_with_extra(monkeypatch, conn_type, {"total_timeout": 42}).client.deadline == 42
    with pytest.raises(Exception, match=r"extra 'total_timeout' must be a number >= 0.001"):
        hook_with_extra(monkeypatch, conn_type, {"total_timeout": "soon"}).client  # noqa: B018


def test_octopus_paths_field_shows_the_hooks_paths_and_is_used(monkeypatch):
    assert OCTOPUS_DEFAULT_PATHS == DEFAULT_PATHS
    field = fields_of("octopus_connect")["paths"]
    assert field["schema"]["default"] == DEFAULT_PATHS and field["schema"]["type"] == ["object", "null"]
    hook = hook_with_extra(monkeypatch, "octopus_connect", {"paths": {**DEFAULT_PATHS, "topics": "/v2/topics"}})
    assert hook.path("topics") == "/v2/topics" and hook.path("all_posts") == DEFAULT_PATHS["all_posts"]
    assert hook_with_extra(monkeypatch, "octopus_connect", {"paths": None}).path("topics") == "/v1/topics"


def test_oktopost_data_center_field(monkeypatch):
    field = fields_of("oktopost")["data_center"]
    assert field["schema"]["enum"] == ["us", "eu"] and field["schema"]["default"] == "us"
    conn = {"conn_type": "oktopost", "login": "001abc", "password": "secret-key-0123456789",
            "extra": {"data_center": "eu", "rate_limits": None}}
    monkeypatch.setenv("AIRFLOW_CONN_OKTOPOST_DEFAULT", json.dumps(conn))
    assert OktopostHook().client.base_url.startswith("https://eu-api.oktopost.com")
