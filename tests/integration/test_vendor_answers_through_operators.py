"""The answers the vendors' own code writes, through the operators against the sandbox (issue #10).

Each case names the vendor file the sandbox reproduces; the sandbox contract tests
(``tests/sandbox/``) pin the wire shapes, these pin what a DAG task does with them.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_gtm.operators.customeros import CustomerOSBatchOperator
from airflow_provider_gtm.operators.octy import OctyBatchOperator
from airflow_provider_gtm.operators.oktopost import OktopostBatchOperator, OktopostCreateOperator

from .support import context, lines


def counts(result: dict) -> tuple[int, int, int]:
    return result["submitted"], result["succeeded"], result["failed"]


@pytest.mark.parametrize("version", [1, 2])
def test_clean_bulk_contacts_run_succeeds(gtm_sandbox_connections, tmp_path, version):
    """customeros/customeros rest/customerbase/contact_bulk.go: a clean answer carries the zero-valued
    details struct; it failed every clean ``contacts.bulk_create`` before (both code versions)."""
    gtm_sandbox_connections.configure(customeros={"bulk_version": version})
    records = [{"email": f"c{i}@acme.example"} for i in range(7)]
    result = CustomerOSBatchOperator(task_id="b", operation="contacts.bulk_create", records=records,
                                     output_base_uri=f"file://{tmp_path}").execute(context())
    assert counts(result) == (7, 7, 0) and lines(result["failures_uri"]) == []
    assert len(gtm_sandbox_connections.state()["apis"]["customeros"]["contacts"]) == 7


def test_bulk_contacts_body_written_twice_counts_each_record_once(gtm_sandbox_connections, tmp_path):
    """contact_bulk.go (newest): several failures answer 201 with the body written twice."""
    records = [{"email": "a@acme.example"}, {"email": "not-an-email"}, {"email": "b@acme.example"},
               {"email": "also@@bad"}]
    result = CustomerOSBatchOperator(task_id="b", operation="contacts.bulk_create", records=records,
                                     on_failures="warn", output_base_uri=f"file://{tmp_path}").execute(context())
    assert counts(result) == (4, 2, 2)
    assert sorted(f["identifier"] for f in lines(result["failures_uri"])) == ["also@@bad", "not-an-email"]


def test_organization_206_with_a_second_body_is_created_once(gtm_sandbox_connections, tmp_path):
    """organization.go (October 2024): a LinkedIn URL it cannot add answers 206 and then the 201 body."""
    result = CustomerOSBatchOperator(task_id="o", operation="organizations.create",
                                     records=[{"name": "Beta", "linkedinUrl": "beta-profile"}],
                                     output_base_uri=f"file://{tmp_path}").execute(context())
    assert counts(result) == (1, 1, 0)
    assert len(gtm_sandbox_connections.state()["apis"]["customeros"]["organizations"]) == 1
    assert gtm_sandbox_connections.state()["calls"]["customeros"] == 1  # never re-sent


def test_newest_conflict_500_is_already_exists(gtm_sandbox_connections, tmp_path):
    """rest/response/response_handler.go (newest): the duplicate comes as a 500 coded "Conflict"."""
    gtm_sandbox_connections.configure(customeros={"organization_version": 2})
    records = [{"name": "Acme", "customId": "acme-1"}, {"name": "Acme again", "customId": "acme-1"}]
    result = CustomerOSBatchOperator(task_id="o", operation="organizations.create", records=records,
                                     existing_is_success=True, output_base_uri=f"file://{tmp_path}").execute(context())
    assert counts(result) == (2, 2, 0) and result["existing"] == 1


def test_events_blamed_by_every_echoed_field_and_422_per_record(gtm_sandbox_connections, tmp_path):
    """octy-services events/services/events.py echoes a refused event whole; its request model makes a
    non-object event_properties a 422 naming the record (error_handlers.py)."""
    who = "profile_000000000001"
    good = {"event_type": "charged", "profile_id": who,
            "event_properties": {"payment_method": "card", "item_id": "item_1"}}
    refused = {"event_type": "charged", "profile_id": who, "event_properties": {"payment_method": "card"}}
    invalid = {"event_type": "charged", "profile_id": who, "event_properties": "card"}
    result = OctyBatchOperator(task_id="e", operation="events.create", records=[good, refused, invalid],
                               on_failures="warn", output_base_uri=f"file://{tmp_path}").execute(context())
    assert counts(result) == (3, 1, 2)
    failures = {json.dumps(f["record"], sort_keys=True): f["error_message"] for f in lines(result["failures_uri"])}
    assert "item_id" in failures[json.dumps(refused, sort_keys=True)]
    assert failures[json.dumps(invalid, sort_keys=True)] == "invalid: event_properties: value is not a valid dict"
    stored = list(gtm_sandbox_connections.state()["apis"]["octy"]["events"].values())
    assert [e["event_properties"] for e in stored if e["event_type"] == "charged"] == [good["event_properties"]]


def test_advocate_invites_confirmed_by_result_true(gtm_sandbox_connections, tmp_path):
    """Oktopost/oktopost-typescript-sdk src/resources/advocacy/advocates.ts: invite answers Result: true."""
    board = "brds00000000000"  # the sandbox's first synthetic board
    records = [{"firstName": "Ada", "lastName": "L", "email": f"ada{i}@example.com", "boardId": board}
               for i in range(2)]
    result = OktopostCreateOperator(task_id="i", kind="advocate_invites", records=records,
                                    output_base_uri=f"file://{tmp_path}").execute(context())
    assert counts(result) == (2, 2, 0)


def test_profiles_422_version_reports_each_record_and_creates_the_rest(gtm_sandbox_connections, tmp_path):
    """octy-services f514fe2 profiles/api/routers/request_models/profiles.py: identifier and null-value
    rules are pydantic validators (a 422 naming records); the hook fails those and resends the rest."""
    gtm_sandbox_connections.configure(octy={"profiles_validation": "pydantic"})
    records = [{"customer_id": f"ok{i}", "profile_data": {"i": i}, "platform_info": {"s": "t"}, "has_charged": False}
               for i in range(4)]
    records.insert(2, {"customer_id": "bad.id", "profile_data": {"i": 9}, "platform_info": {"s": "t"},
                       "has_charged": False})
    result = OctyBatchOperator(task_id="p", operation="profiles.create", records=records, on_failures="warn",
                               output_base_uri=f"file://{tmp_path}").execute(context())
    assert counts(result) == (5, 4, 1)
    (failure,) = lines(result["failures_uri"])
    assert failure["identifier"] == "bad.id" and failure["status"] == 422
    assert "customer_id: Illegal character(s)" in failure["error_message"]
    stored = sorted(p["customer_id"] for p in gtm_sandbox_connections.state()["apis"]["octy"]["profiles"].values())
    assert stored == ["ok0", "ok1", "ok2", "ok3"]


def test_single_contact_answers_as_contact_go_writes_them(gtm_sandbox_connections):
    """rest/customerbase/contact.go (newest): an invalid contact is a 500 coded "Bad Request": a
    refusal, not retried; a saved one returns its contactId."""
    from airflow_provider_gtm.core.errors import GtmClientError
    from airflow_provider_gtm.hooks.customeros import CustomerOSHook

    hook = CustomerOSHook()
    assert hook.create_contact({"email": "jo@acme.example"})["contactId"]
    before = gtm_sandbox_connections.state()["calls"]["customeros"]
    with pytest.raises(GtmClientError, match="invalid email format") as refused:
        hook.create_contact({"email": "bad@@x"})
    assert refused.value.status == 400
    assert gtm_sandbox_connections.state()["calls"]["customeros"] == before + 1


@pytest.mark.parametrize(("resource", "prefix", "change", "field"), [
    ("campaigns", "002", {"name": "Renamed"}, "Name"),
    ("messages", "005", {"message": "Edited"}, "Message"),
    ("posts", "004", {"status": "draft"}, "Status"),
])
def test_oktopost_updates_and_deletes_with_a_failure_report(gtm_sandbox_connections, tmp_path, resource, prefix,
                                                             change, field):
    """Oktopost/oktopost-typescript-sdk src/resources/publishing/{campaigns,messages,posts}.ts: ``update``
    POSTs the form to ``/<resource>/{id}`` and answers the object; ``delete`` is a bodiless DELETE
    answering ``Result: true``; an id Oktopost does not have is refused (404) with its own words, and
    goes to the failures file while the others are written."""
    ids = [f"{prefix}s{i:011d}" for i in (5, 6)]
    missing = f"{prefix}nosuchobject0"
    updates = [{"id": ids[0], **change}, {"id": missing, **change}, {"id": ids[1], **change}]
    result = OktopostBatchOperator(task_id="u", operation=f"{resource}.update", records=updates, on_failures="warn",
                                   output_base_uri=f"file://{tmp_path}/u").execute(context())
    assert counts(result) == (3, 2, 1)
    (failure,) = lines(result["failures_uri"])
    assert (failure["record"], failure["identifier"], failure["status"], failure["error_message"]) == (
        updates[1], missing, 404, "The page you are looking for was not found")
    assert [(r["Id"], r[field]) for r in lines(result["results_uri"])] == [(i, next(iter(change.values())))
                                                                          for i in ids]
    from airflow_provider_gtm.hooks.oktopost import OktopostHook

    hook = OktopostHook()
    getter = {"campaigns": hook.get_campaign, "messages": hook.get_message, "posts": hook.get_post}[resource]
    assert [getter(i)[field] for i in ids] == [next(iter(change.values()))] * 2
    deletes = [{"id": ids[0]}, {"id": missing}, {"id": ids[1]}]
    result = OktopostBatchOperator(task_id="d", operation=f"{resource}.delete", records=deletes, on_failures="warn",
                                   output_base_uri=f"file://{tmp_path}/d").execute(context())
    assert counts(result) == (3, 2, 1)
    assert [f["identifier"] for f in lines(result["failures_uri"])] == [missing]
    changes = gtm_sandbox_connections.state()["apis"]["oktopost"]["changes"]
    assert [(c["operation"], c["id"]) for c in changes] == [(f"{resource}.update", i) for i in ids] + [
        (f"{resource}.delete", i) for i in ids]
    assert all(c["form"] == {k: str(v) for k, v in change.items()} for c in changes[:2])


def test_oktopost_batch_operator_preflight_refuses_an_update_with_nothing_to_change(gtm_sandbox_connections,
                                                                                    tmp_path):
    from airflow_provider_gtm.compat import AirflowFailException

    operator = OktopostBatchOperator(task_id="u", operation="campaigns.update",
                                     records=[{"id": "002s00000000001", "name": "x"}, {"id": "002s00000000002"}],
                                     output_base_uri=f"file://{tmp_path}")
    with pytest.raises(AirflowFailException, match="record 2 is invalid, nothing was sent: nothing to update"):
        operator.execute(context())
    assert gtm_sandbox_connections.state()["apis"]["oktopost"]["changes"] == []
