"""Every input record of a batch write is validated before the first call: a bad record 75 of 120
fails the task naming the record, the field and the fix, and the sandbox sees no call at all."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_gtm.operators.customeros import CustomerOSBatchOperator
from airflow_provider_gtm.operators.octy import OctyBatchOperator


class Ti(SimpleNamespace):
    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def context() -> dict[str, Any]:
    return {"ti": Ti(dag_id="pre", run_id="r1", task_id="w", map_index=-1, pushed={})}


def octy(operation: str) -> Callable[..., Any]:
    return lambda **kw: OctyBatchOperator(task_id="w", operation=operation, **kw)


def customeros(operation: str) -> Callable[..., Any]:
    return lambda **kw: CustomerOSBatchOperator(task_id="w", operation=operation, **kw)


#: operation -> (operator factory, a good record i, the bad record, what the message must name)
CASES: dict[str, tuple[Callable[..., Any], Callable[[int], Any], Any, str]] = {
    "octy profiles.create": (
        octy("profiles.create"),
        lambda i: {"customer_id": f"p{i}", "profile_data": {"n": i}, "platform_info": {"s": "t"},
                   "has_charged": False},
        {"customer_id": "p.75", "profile_data": {"n": 1}, "platform_info": {"s": "t"}, "has_charged": False},
        r"field 'customer_id' contains '\.'; it must be a string of 1-60 characters without"),
    "octy profiles.create has_charged": (
        octy("profiles.create"),
        lambda i: {"customer_id": f"p{i}", "profile_data": {"n": i}, "platform_info": {"s": "t"},
                   "has_charged": False},
        {"customer_id": "p75", "profile_data": {"n": 1}, "platform_info": {"s": "t"}, "has_charged": "yes"},
        "field 'has_charged' is str 'yes'; it must be true or false"),
    "octy items.create": (
        octy("items.create"),
        lambda i: {"item_id": f"i{i}", "item_category": "c", "item_name": "n", "item_description": "d",
                   "item_price": 100},
        {"item_id": "i75", "item_category": "c", "item_name": "n", "item_description": "d", "item_price": "1.99"},
        "field 'item_price' is str '1.99'; it must be an integer"),
    "octy events.create": (
        octy("events.create"),
        lambda i: {"event_type": "custom_event_3", "event_properties": {}, "profile_id": "profile_000000000001"},
        {"event_type": "custom_event_3", "event_properties": {}},
        "field 'profile_id' is missing; it must be a string"),
    "octy event_types.create": (
        octy("event_types.create"),
        lambda i: {"event_type": f"pre_type_{i}", "event_properties": ["plan"]},
        {"event_type": "pre type 75", "event_properties": ["plan"]},
        "field 'event_type' contains ' '"),
    "octy templates.create": (
        octy("templates.create"),
        lambda i: {"friendly_name": f"t{i}", "template_type": "email", "title": "T", "content": "C"},
        {"friendly_name": "t75", "template_type": "email", "title": "T"},
        "field 'content' is missing; it must be a string"),
    "customeros organizations.create": (
        customeros("organizations.create"),
        lambda i: {"name": f"Org {i}", "website": f"https://o{i}.pre.example"},
        {"relationship": "customer"},
        "an organization needs one of the fields 'name', 'customId', 'website', 'linkedinUrl'"),
    "customeros contacts.bulk_create": (
        customeros("contacts.bulk_create"),
        lambda i: {"email": f"c{i}@pre.example"},
        {"email": "not-an-address"},
        "field 'email' is 'not-an-address', not an email address"),
}


@pytest.mark.parametrize("source", ["records", "input_uri"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_record_75_of_120_fails_before_any_call(gtm_sandbox_connections, tmp_path, name, source):
    make, good, bad, message = CASES[name]
    records = [good(i) for i in range(120)]
    records[74] = bad
    if source == "input_uri":
        path = tmp_path / "in.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        kwargs: dict[str, Any] = {"input_uri": f"file://{path}"}
    else:
        kwargs = {"records": records}
    calls_before = sum(gtm_sandbox_connections.state()["calls"].values())
    with pytest.raises(AirflowFailException, match=r"record 75 is invalid, nothing was sent: .*" + message):
        make(output_base_uri=f"file://{tmp_path}/out", **kwargs).execute(context())
    assert sum(gtm_sandbox_connections.state()["calls"].values()) == calls_before  # 0 calls


def test_the_same_records_without_the_bad_one_are_sent(gtm_sandbox_connections, tmp_path):
    # The rules refuse only what the API refuses: every good record of every case is accepted.
    for name, (make, good, _, _) in CASES.items():
        if name.endswith("has_charged"):
            continue
        summary = make(records=[good(i) for i in range(3)], output_base_uri=f"file://{tmp_path}/{name}",
                       on_failures="warn").execute(context())
        assert summary["failed"] == 0, (name, summary)
