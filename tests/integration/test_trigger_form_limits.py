"""The sample DAGs' trigger forms refuse what their tasks refuse, and their examples are values the APIs take.

For each constrained Param: a bad value is refused by the Param (the api-server's check on Trigger,
naming the field) and by the task side (the operator's construction check, the hook's record check
or the API itself: the sandbox implements the vendors' validation); the boundary value is taken by
both. A Param that gains a constraint without a row here fails ``test_every_constrained_param_has_a_row``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_gtm.compat import ParamValidationError
from airflow_provider_gtm.examples import forms

DAGS = Path(__file__).resolve().parents[2] / "dags"

#: Schema keywords that only describe a field (anything else is a constraint that needs a row).
_DESCRIPTIVE = {"type", "title", "description", "format", "items", "default", "examples", "values_display",
                "description_md", "section"}


@pytest.fixture(scope="module")
def params() -> dict[tuple[str, str], Any]:
    from airflow_provider_gtm.compat import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert not bag.import_errors
    return {(dag_id, name): dag.params.get_param(name) for dag_id, dag in bag.dags.items() for name in dag.params}


@pytest.fixture(scope="module")
def dag_params() -> dict[str, Any]:
    from airflow_provider_gtm.compat import DagBag

    return {dag_id: dag.params for dag_id, dag in DagBag(dag_folder=str(DAGS)).dags.items()}


# -- what the task side refuses ------------------------------------------------------------------------

def _octopus_page_size(value: Any) -> None:
    from airflow_provider_gtm.operators.octopus import OctopusFetchOperator

    OctopusFetchOperator(task_id="t", feed="all_posts", page_size=value)


def _fetch_limit(value: Any) -> None:
    from airflow_provider_gtm.operators.oktopost import OktopostFetchOperator

    OktopostFetchOperator(task_id="t", resource="advocates", limit=value)


def _oktopost_source(value: Any) -> None:
    from airflow_provider_gtm.operators.oktopost import OktopostFetchOperator

    OktopostFetchOperator(task_id="t", resource=value)


def _failure_policy(value: Any) -> None:
    from airflow_provider_gtm.operators._validation import check_failure_policy

    check_failure_policy(value, 0.1, ValueError)


def _failure_ratio(value: Any) -> None:
    from airflow_provider_gtm.operators._validation import check_failure_policy

    check_failure_policy("ratio", value, ValueError)


def _octy_event_type(value: Any) -> None:
    from airflow_provider_gtm.hooks.octy import OctyHook

    result = OctyHook().create_event_types([{"event_type": value, "event_properties": ["post_id"]}])
    if result.failed:
        raise ValueError(result.failures[0].error_message)


def _oktopost_network(value: Any) -> None:
    from airflow_provider_gtm.hooks.oktopost import OktopostHook

    hook = OktopostHook()
    campaign = hook.create_campaign("Form limits")
    hook.create_message(campaign["Id"], value, "Hello")


def _oktopost_post_status(value: Any) -> None:
    from airflow_provider_gtm.hooks.oktopost import build_create_form

    build_create_form("posts", {"messageId": "005000000000001", "credentialIds": "003000000000001",
                                "startDateTime": 2_000_000_000, "status": value})


def _oktopost_message(value: Any) -> None:
    from airflow_provider_gtm.hooks.oktopost import build_create_form

    build_create_form("messages", {"campaignId": "004000000000001", "network": "LinkedIn", "message": value})


def _sql_table(value: Any) -> None:
    from airflow_provider_gtm.examples.landing import create_table_sql

    create_table_sql(value, "id")


#: (dag, param) -> (bad values, the boundary value both take, what the task does with it). ``None``: a
#: limit of the sample DAG itself (no API rule behind it), checked on the form only.
ROWS: dict[tuple[str, str], tuple[list[Any], Any, Callable[[Any], None] | None]] = {
    ("gtm_community_engagement_to_retention", "page_size"): ([0, 21, 50], 20, _octopus_page_size),
    ("gtm_community_engagement_to_retention", "max_posts"): ([0, -3], 1, _fetch_limit),
    ("gtm_community_engagement_to_retention", "event_type"): (
        ["community post", "a.b", "a,b", 'a"b', "x" * 61, ""], "x" * 60, _octy_event_type),
    ("gtm_community_engagement_to_retention", "on_failures"): (["sometimes"], "warn", _failure_policy),
    ("gtm_community_engagement_to_retention", "max_failure_ratio"): ([2, -0.1], 1, _failure_ratio),
    ("gtm_advocates_to_customer_base", "source"): (["people"], "advocates", _oktopost_source),
    ("gtm_advocates_to_customer_base", "max_people"): ([0], 1, _fetch_limit),
    ("gtm_advocates_to_customer_base", "max_enrichments"): ([-1, 501], 500, None),
    ("gtm_advocates_to_customer_base", "on_failures"): (["never"], "fail", _failure_policy),
    ("gtm_advocates_to_customer_base", "max_failure_ratio"): ([1.5], 0, _failure_ratio),
    ("gtm_fetch_oktopost_advocates", "max_people"): ([0], 1, _fetch_limit),
    ("gtm_publish_campaign", "campaign_name"): (["", "x" * 201], "x" * 200, None),
    ("gtm_publish_campaign", "network"): (["MySpace"], "YouTube", _oktopost_network),
    ("gtm_publish_campaign", "message"): ([""], "x" * forms.MESSAGE_MAX_LENGTH, _oktopost_message),
    ("gtm_publish_campaign", "post_status"): (["scheduled"], "inqueue-draft", _oktopost_post_status),
    ("gtm_land_community_posts", "max_posts"): ([0, -3], 1, _fetch_limit),
    ("gtm_land_community_posts", "table"): (["1posts", "posts-x", "a b", "", "x" * 64], "x" * 63, _sql_table),
}


def test_every_constrained_param_has_a_row(params):
    constrained = {key for key, param in params.items() if set(param.schema) - _DESCRIPTIVE}
    assert constrained == set(ROWS)


@pytest.mark.parametrize("key", sorted(ROWS), ids=lambda key: f"{key[0]}.{key[1]}")
def test_the_form_refuses_what_the_task_refuses(key, params, dag_params, gtm_sandbox_connections):
    bad_values, boundary, task = ROWS[key]
    dag_id, name = key
    for bad in bad_values:
        with pytest.raises(ParamValidationError, match=rf"^Invalid input for param {name}: "):
            _submit(dag_params[dag_id], name, bad)
        if task is not None:
            with pytest.raises(Exception) as refused:
                task(bad)
            assert str(refused.value), f"{key}: the task refused {bad!r} without saying why"
    assert _submit(dag_params[dag_id], name, boundary) == boundary
    if task is not None:
        task(boundary)


def _submit(params: Any, name: str, value: Any) -> Any:
    """Set one value as a trigger's conf does (ParamsDict, the check the api-server runs on Trigger)."""
    trial = copy.deepcopy(params)
    trial[name] = value
    return trial[name]


def test_descriptions_say_the_rule_in_words(params):
    """The api-server's refusal is jsonschema's wording; the field's description names the rule."""
    for key in ROWS:
        description = params[key].description or ""
        schema = params[key].schema
        limits = {k: v for part in schema.get("allOf", []) for k, v in part.items()}
        for word in ("minimum", "maximum", "minLength", "maxLength"):
            if word in limits:
                assert f"{limits[word]:,}" in description or str(limits[word]) in description, (key, word)
        if "pattern" in schema:
            assert "characters" in description, key


def test_no_limit_is_where_the_form_widgets_clamp_or_cut(params):
    """The number input clamps to a top-level minimum/maximum and the text input cuts at maxLength."""
    for key, param in params.items():
        assert not {"minimum", "maximum", "maxLength", "exclusiveMinimum", "exclusiveMaximum"} & set(param.schema), key


def test_optional_arrays_are_not_required_in_the_form(params):
    for key, param in params.items():
        types = param.schema["type"] if isinstance(param.schema["type"], list) else [param.schema["type"]]
        if "array" in types:
            assert "null" in types, f"{key}: the form stars a field whose type has no null"


def test_the_message_is_a_text_area(params):
    assert params[("gtm_publish_campaign", "message")].schema["format"] == "multiline"


# -- every example a form shows is a value the API takes --------------------------------------------

def _example_in(description: str) -> Any:
    """The example at the end of a description (``..., e.g. <JSON>``), as the user would paste it."""
    import json

    return json.loads(description.rsplit("e.g. ", 1)[1])


def test_the_octy_profiles_example_is_accepted_by_octy(params, gtm_sandbox_connections):
    from airflow_provider_gtm.hooks.octy import OctyHook

    example = _example_in(params[("gtm_community_engagement_to_retention", "extra_profiles")].description)
    assert example == forms.EXTRA_PROFILES_EXAMPLE
    result = OctyHook().create_profiles(example)
    assert (result.succeeded, result.failed) == (len(example), 0), [f.error_message for f in result.failures]
    # The example the form showed before, which failed runs: Octy refuses it.
    old = OctyHook().create_profiles([{"customer_id": "c-2", "profile_data": {"nickname": "Ada"}}])
    assert old.failed == 1 and "platform_info" in old.failures[0].error_message


def test_the_customeros_contacts_example_is_accepted_by_customeros(params, gtm_sandbox_connections):
    from airflow_provider_gtm.hooks.customeros import CustomerOSHook

    example = _example_in(params[("gtm_advocates_to_customer_base", "extra_contacts")].description)
    assert example == forms.EXTRA_CONTACTS_EXAMPLE
    result = CustomerOSHook().bulk_create_contacts(example)
    assert (result.succeeded, result.failed) == (len(example), 0), [f.error_message for f in result.failures]


@pytest.mark.parametrize("conn_type", ["octy", "customeros", "octopus_connect", "oktopost"])
def test_every_connection_placeholder_is_a_value_the_hook_takes(conn_type, gtm_sandbox_connections, monkeypatch):
    """The extra placeholder, typed into a connection as shown, makes a connection that works."""
    import json

    from airflow.models.connection import Connection

    from airflow_provider_gtm.apis import by_conn_type

    spec = by_conn_type(conn_type)
    stored = Connection.get_connection_from_secrets(spec.default_conn_id)
    if "extra" not in spec.placeholders:
        pytest.skip(f"{conn_type} shows no extra placeholder")
    extra = {**json.loads(stored.extra or "{}"), **json.loads(spec.placeholders["extra"])}
    stored.extra = json.dumps(extra)
    monkeypatch.setenv(f"AIRFLOW_CONN_{spec.default_conn_id.upper()}", stored.get_uri())
    ok, message = stored.get_hook().test_connection()
    assert ok, message
