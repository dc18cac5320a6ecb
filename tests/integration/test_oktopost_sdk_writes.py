"""The Oktopost SDK's other writes (issue 22, third slice) through OktopostHook and
OktopostBatchOperator, against the sandbox: one hook method per SDK write method, the batch operator
for a sample of operations (ledger, preflight, confirmation, failures file), and the lost-answer rules."""

from __future__ import annotations

import pytest

from airflow_provider_gtm.apis.oktopost import OKTOPOST
from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.hooks.oktopost import OktopostHook
from airflow_provider_gtm.operators.oktopost import _GETTERS, OktopostBatchOperator
from airflow_provider_gtm.sandbox import SANDBOX_CREDENTIALS

from .support import context, lines

CREDENTIAL = f"003-{SANDBOX_CREDENTIALS['oktopost']['login']}-1"


def _changes(sandbox) -> list[tuple[str, str, dict]]:
    return [(c["operation"], c["id"], c["form"]) for c in sandbox.state()["apis"]["oktopost"]["changes"]]


def test_every_lookup_resolved_write_has_a_getter():
    """A lost update/delete is looked up with the SDK's ``get(id)``: every row that says so has one."""
    for name, op in OKTOPOST.operations.items():
        if op.write in ("update", "delete") and op.resolution == "lookup":
            assert callable(getattr(OktopostHook, _GETTERS[name.rpartition(".")[0]])), name


def test_account_writes_through_the_hook(gtm_sandbox_connections):
    """Oktopost/oktopost-typescript-sdk src/resources/account/{users,teams,cnames,team-entities,
    notifications}.ts: create answers the object, update POSTs the form to <path>/{id}, delete is bodiless."""
    hook = OktopostHook()
    user = hook.create_user("Ada", "Lovelace", "ada@example.com", "s3cret", "publisher", "UTC")
    assert user["Id"].startswith("00A") and "Password" not in user
    assert hook.update_user(user["Id"], timezone="Europe/Paris")["Timezone"] == "Europe/Paris"
    assert hook.delete_user(user["Id"]) == {"Result": True, "Id": user["Id"]}
    with pytest.raises(GtmConfigError, match="role"):
        hook.create_user("A", "B", "c@d.e", "pw", "owner", "UTC")
    team = hook.create_team("EMEA")
    assert hook.update_team(team["Id"], "APAC")["Name"] == "APAC" and hook.delete_team(team["Id"])["Result"]
    cname = hook.create_cname("go.example.com")
    assert hook.update_cname(cname["Id"], "l.example.com")["Cname"] == "l.example.com"
    assert hook.delete_cname(cname["Id"])["Result"]
    assert hook.add_team_entities("002s00000000001", ["teas00000000004"]) == {"Result": True, "Id": "002s00000000001"}
    assert "teas00000000004" in [t["Id"] for t in hook.get_team_entities("002s00000000001")]
    assert hook.remove_team_entities("002s00000000001", "teas00000000004")["Result"]
    assert hook.update_notifications(EmailDaily=True, EmailWeekly=0) == {**hook.get_notifications(),
                                                                         "EmailDaily": True, "EmailWeekly": False}
    with pytest.raises(GtmConfigError, match="Nope"):
        hook.update_notifications(Nope=1)
    ops = [op for op, _id, _form in _changes(gtm_sandbox_connections)]
    assert ops == ["users.create", "users.update", "users.delete", "teams.create", "teams.update", "teams.delete",
                   "cnames.create", "cnames.update", "cnames.delete", "team_entities.create", "team_entities.delete",
                   "notifications.update"]
    assert ("team_entities.create", "002s00000000001", {"teamIds": ["teas00000000004"]}) in _changes(
        gtm_sandbox_connections)


def test_publishing_and_advocacy_writes_through_the_hook(gtm_sandbox_connections):
    """src/resources/publishing/{tags,media,uploads,links}.ts and advocacy/{stories,topics}.ts."""
    hook = OktopostHook()
    tag = hook.create_tag("launch")
    assert hook.update_tag(tag["Id"], "go")["Tag"] == "go" and hook.delete_tag(tag["Id"])["Result"]
    upload = hook.create_upload("https://example.com/a.png", name="a.png", mime_type="image/png")
    media = hook.create_media(upload["Id"])
    assert media["Resource"] == upload["Id"] and hook.delete_media(media["Id"])["Result"]
    link = hook.update_link("lnks00000000002", "https://example.com/n")  # the page's first item (Items[0])
    assert link["Id"] == "lnks00000000002" and link["LongUrl"] == "https://example.com/n"
    assert hook.create_story("T", "D", "002s00000000001", boardId="brds00000000000", isDraft=True) == {"Result": True}
    assert hook.update_story("stys00000000001", title="T2") == {"Result": True, "Id": "stys00000000001"}
    assert hook.delete_story("stys00000000001")["Result"]
    topic = hook.create_topic("brds00000000000", "News")
    assert hook.update_topic(topic["Id"], "Events")["Name"] == "Events" and hook.delete_topic(topic["Id"])["Result"]
    forms = {op: form for op, _id, form in _changes(gtm_sandbox_connections)}
    assert forms["stories.create"]["isDraft"] == "1"  # booleans go as 1/0
    assert forms["uploads.create"] == {"source": "https://example.com/a.png", "name": "a.png", "mimeType": "image/png"}


def test_events_streams_leads_and_approvals_through_the_hook(gtm_sandbox_connections):
    """src/resources/events/webhooks.ts, streams/{stream-tabs,streams}.ts, leads/{lead-links,
    lead-activities}.ts, approvals/{workflow-items,workflow-item-notes}.ts."""
    hook = OktopostHook()
    webhook = hook.create_webhook("post.published", "W", "https://h.example.com", isEnabled=1)
    assert hook.update_webhook(webhook["Id"], isEnabled=False)["IsEnabled"] is False
    with pytest.raises(GtmConfigError, match="isHidden"):
        hook.update_webhook(webhook["Id"], isHidden=3)
    assert hook.delete_webhook(webhook["Id"])["Result"]
    tab = hook.create_stream_tab("Listening")
    assert hook.update_stream_tab(tab["Id"], "Brand")["Name"] == "Brand"
    stream = hook.create_stream(tab["Id"], "LinkedIn", CREDENTIAL, "keyword", keyword="airflow", position=1)
    assert hook.update_stream_position(stream["Id"], 3)["Position"] == 3
    assert stream["Id"] in [s["Id"] for s in hook.list_streams()]
    assert hook.delete_stream(stream["Id"])["Result"] and hook.delete_stream_tab(tab["Id"])["Result"]
    assert hook.replace_lead_link("int1", "r1", "r2") == {"Result": True, "Id": "r1"}
    assert hook.delete_lead_activity("lacs00000000003", "leas00000000003") == {"Result": True, "Id": "lacs00000000003"}
    item = hook.create_workflow_item("005s00000000001", "wfl000000000001")
    assert item["Status"] == "pending"
    assert hook.reject_workflow_item(item["Id"], note="no")["Status"] == "rejected"
    assert hook.approve_workflow_item(item["Id"], step_id="wfs000000000001")["Status"] == "approved"
    assert hook.add_workflow_item_note(item["Id"], "ship it") == {"Result": True, "Id": item["Id"]}
    assert "ship it" in [n["Note"] for n in hook.list_workflow_item_notes(item["Id"])]
    assert hook.delete_workflow_item(item["Id"])["Result"]
    changes = _changes(gtm_sandbox_connections)
    assert ("lead_activities.delete", "lacs00000000003", {"leadId": "leas00000000003"}) in changes
    assert [f for op, _i, f in changes if op == "workflow_items.update"] == [
        {"isApprove": "0", "note": "no"}, {"isApprove": "1", "stepId": "wfs000000000001"}]


def test_batch_operator_writes_tags_and_reports_refusals(gtm_sandbox_connections, tmp_path):
    """src/resources/publishing/tags.ts: ``tags.create``/``.update``/``.delete`` one call per record; a
    refusal (Oktopost's 404 for an unknown tag) goes to the failures file with Oktopost's message."""
    created = OktopostBatchOperator(task_id="c", operation="tags.create", output_base_uri=f"file://{tmp_path}/c",
                                    records=[{"tag": "a"}, {"tag": "b"}]).execute(context())
    assert (created["submitted"], created["succeeded"]) == (2, 2)
    ids = [r["Id"] for r in lines(created["results_uri"])]
    result = OktopostBatchOperator(
        task_id="u", operation="tags.update", output_base_uri=f"file://{tmp_path}/u", on_failures="warn",
        records=[{"id": ids[0], "tag": "a2"}, {"id": "tagzzzzzzzzzzz", "tag": "x"}]).execute(context())
    assert (result["succeeded"], result["failed"]) == (1, 1)
    (failure,) = lines(result["failures_uri"])
    assert (failure["identifier"], failure["status"]) == ("tagzzzzzzzzzzz", 404)
    result = OktopostBatchOperator(task_id="d", operation="tags.delete", output_base_uri=f"file://{tmp_path}/d",
                                   records=[{"id": i} for i in ids]).execute(context())
    assert result["succeeded"] == 2
    assert [op for op, _i, _f in _changes(gtm_sandbox_connections)] == [
        "tags.create", "tags.create", "tags.update", "tags.delete", "tags.delete"]


@pytest.mark.parametrize(("operation", "records"), [
    ("lead_activities.delete", [{"id": "lacs00000000004", "leadId": "leas00000000004"}]),
    ("workflow_item_notes.create", [{"id": "wfi000000000001", "note": "n"}]),
    ("team_entities.create", [{"id": "002s00000000002", "teamIds": ["teas00000000001", "teas00000000002"]}]),
    ("workflow_items.update", [{"id": "wfi000000000001", "isApprove": 1}]),
    ("users.create", [{"firstName": "A", "lastName": "B", "email": "ab@example.com", "password": "pw",
                       "role": "read", "timezone": "UTC"}]),
])
def test_batch_operator_places_each_field_as_the_sdk_does(gtm_sandbox_connections, tmp_path, operation, records):
    """src/resources/** (the row's source): path, form and query-string parameters of each operation."""
    result = OktopostBatchOperator(task_id="w", operation=operation, output_base_uri=f"file://{tmp_path}",
                                   records=records).execute(context())
    assert (result["succeeded"], result["failed"]) == (1, 0), OKTOPOST.operations[operation].source
    assert [op for op, _i, _f in _changes(gtm_sandbox_connections)] == [operation]


@pytest.mark.parametrize(("operation", "record", "message"), [
    ("users.create", {"firstName": "A", "lastName": "B", "email": "e", "password": "p", "timezone": "UTC"}, "role"),
    ("lead_activities.delete", {"id": "lacs00000000001"}, "leadId"),
    ("workflow_items.update", {"id": "wfi000000000001", "isApprove": 5}, "isApprove"),
    ("streams.update", {"id": "str000000000001"}, "position"),
    ("team_entities.delete", {"id": "002s00000000001", "teamIds": "t", "extra": 1}, "extra"),
])
def test_preflight_refuses_bad_records_before_any_call(gtm_sandbox_connections, tmp_path, operation, record, message):
    """Required fields (src/types/*.ts) and the SDK's 0|1 fields are checked before anything is sent."""
    from airflow_provider_gtm.compat import AirflowFailException

    operator = OktopostBatchOperator(task_id="w", operation=operation, output_base_uri=f"file://{tmp_path}",
                                     records=[record])
    with pytest.raises(AirflowFailException, match=message):
        operator.execute(context())
    assert _changes(gtm_sandbox_connections) == []
