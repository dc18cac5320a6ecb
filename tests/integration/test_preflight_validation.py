"""Every input record of a batch write is checked before the first call: a record 75 of 120 that
cannot be sent at all fails the task naming the record, the field and the fix, and the sandbox sees
no call. A record the API refuses for its content is sent and reported with the API's reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_gtm.compat import AirflowFailException
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


#: operation -> (operator factory, a good record i, the bad record, what the message must name).
#: Only what makes a record unsendable is refused before the first write (not an object, no
#: identifying field); formats are the API's to refuse per record, with its own reason.
CASES: dict[str, tuple[Callable[..., Any], Callable[[int], Any], Any, str]] = {
    "octy profiles.create": (
        octy("profiles.create"),
        lambda i: {"customer_id": f"p{i}", "profile_data": {"n": i}, "platform_info": {"s": "t"},
                   "has_charged": False},
        {"profile_data": {"n": 1}, "platform_info": {"s": "t"}, "has_charged": False},
        "field 'customer_id' is missing; every profiles.create record needs it"),
    "octy profiles.create not an object": (
        octy("profiles.create"),
        lambda i: {"customer_id": f"q{i}", "profile_data": {"n": i}, "platform_info": {"s": "t"},
                   "has_charged": False},
        "p75",
        "profiles.create takes objects; got str"),
    "octy items.create": (
        octy("items.create"),
        lambda i: {"item_id": f"i{i}", "item_category": "c", "item_name": "n", "item_description": "d",
                   "item_price": 100},
        {"item_id": "", "item_category": "c", "item_name": "n", "item_description": "d", "item_price": 1},
        "field 'item_id' is missing; every items.create record needs it"),
    "octy events.create": (
        octy("events.create"),
        lambda i: {"event_type": "custom_event_3", "event_properties": {}, "profile_id": "profile_000000000001"},
        {"event_type": "custom_event_3", "event_properties": {}},
        "field 'profile_id' is missing; every events.create record needs it"),
    "octy event_types.create": (
        octy("event_types.create"),
        lambda i: {"event_type": f"pre_type_{i}", "event_properties": ["plan"]},
        {"event_properties": ["plan"]},
        "field 'event_type' is missing"),
    "octy templates.create": (
        octy("templates.create"),
        lambda i: {"friendly_name": f"t{i}", "template_type": "email", "title": "T", "content": "C"},
        {"template_type": "email", "title": "T", "content": "C"},
        "field 'friendly_name' is missing"),
    "customeros organizations.create": (
        customeros("organizations.create"),
        lambda i: {"name": f"Org {i}", "website": f"https://o{i}.pre.example"},
        {"relationship": "customer"},
        "an organization needs one of name, customId, website or linkedinUrl"),
    "customeros contacts.bulk_create": (
        customeros("contacts.bulk_create"),
        lambda i: {"email": f"c{i}@pre.example"},
        {"firstName": "Ann"},
        "a contact needs 'email' or 'linkedinUrl'"),
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
    # The checks refuse only what the API cannot take: every good record of every case is accepted.
    for name, (make, good, _, _) in CASES.items():
        summary = make(records=[good(i) for i in range(3)], output_base_uri=f"file://{tmp_path}/{name}",
                       on_failures="warn").execute(context())
        assert summary["failed"] == 0, (name, summary)


def test_a_record_only_the_api_can_refuse_is_sent_and_reported_with_its_reason(gtm_sandbox_connections, tmp_path):
    # An identifier with a character Octy forbids: Octy's own answer is the reason, the rest are created.
    # The wording is Octy's pydantic validator (octy-services-wasm@f514fe2,
    # profiles/api/routers/request_models/profiles.py: "Illegal character(s) found in provided customer
    # identifier"), which the sandbox follows.
    records = [{"customer_id": f"api{i}", "profile_data": {"n": i}, "platform_info": {"s": "t"}, "has_charged": False}
               for i in range(3)] + [{"customer_id": "bad.one", "profile_data": {"n": 9}, "platform_info": {"s": "t"},
                                      "has_charged": False}]
    summary = OctyBatchOperator(task_id="w", operation="profiles.create", records=records, on_failures="warn",
                                output_base_uri=f"file://{tmp_path}/out").execute(context())
    assert (summary["submitted"], summary["succeeded"], summary["failed"]) == (4, 3, 1)
    with open(summary["failures_uri"].removeprefix("file://")) as failures:
        [line] = [json.loads(x) for x in failures]
    assert line["identifier"] == "bad.one" and "Illegal character" in line["error_message"]
