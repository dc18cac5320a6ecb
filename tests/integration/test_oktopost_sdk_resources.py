"""Oktopost SDK resources beyond publishing (issue 22), through OktopostHook and the operators, against
the sandbox: every new read's hook method, every new list through the fetch operator, and the updates
and deletes of social profiles, board messages, advocates and leads through OktopostBatchOperator."""

from __future__ import annotations

import pytest

from airflow_provider_gtm.apis.oktopost import OKTOPOST
from airflow_provider_gtm.hooks.oktopost import OktopostHook
from airflow_provider_gtm.operators.oktopost import OktopostBatchOperator, OktopostFetchOperator
from airflow_provider_gtm.sandbox import SANDBOX_CREDENTIALS

from .support import context, lines


def test_every_new_read_has_a_working_hook_method(gtm_sandbox_connections):
    """Oktopost/oktopost-typescript-sdk src/resources/** (each row's source): one hook method per read."""
    hook = OktopostHook()
    credential = f"003-{SANDBOX_CREDENTIALS['oktopost']['login']}-1"
    assert hook.get_lead("leas00000000001")["Id"] == "leas00000000001"
    assert hook.get_user("00As00000000001")["Id"] == "00As00000000001"
    assert hook.get_team("teas00000000001")["Id"] == "teas00000000001"
    assert hook.get_tag("tags00000000001")["Id"] == "tags00000000001"
    assert hook.get_media("026s00000000001")["Id"] == "026s00000000001"
    assert hook.get_upload("upls00000000001")["Status"] == "complete"
    assert hook.get_story("stys00000000001")["BoardId"]
    assert hook.get_webhook("whks00000000001")["Event"]
    assert hook.get_stream_tab("stbs00000000001")["Id"] == "stbs00000000001"
    assert hook.get_export("bix000000000001")["Status"] == "active"
    assert "Stats" in hook.get_postlog("pl0004s00000000001", stats=True)
    assert hook.get_workflow("wfl000000000001")["Id"] == "wfl000000000001"
    assert hook.get_workflow_step("wfs000000000001")["WorkflowId"]
    assert hook.get_link("h0000001")["Hash"] == "h0000001"
    assert set(hook.validate_video("026s00000000001")) == {"LinkedIn", "Twitter", "Facebook"}
    assert len(hook.get_team_entities("002s00000000001")) == 2
    assert "EmailDaily" in hook.get_notifications()  # src/types/account.ts NotificationSettings
    assert len(hook.get_webhook_log("whks00000000001")) == 3
    assert len(hook.list_exports()) == 2
    assert len(hook.get_followers(credential, from_date="2026-01-01", to_date="2026-01-31")) == 3
    assert hook.list_postlogs("004s00000000001")[0]["PostId"] == "004s00000000001"
    assert hook.get_calendar("2026-01-01", "2026-01-31", filters={"networks": ["LinkedIn"]})["Posts"]
    assert hook.list_workflows(with_steps=True) and hook.list_workflow_steps("wfl000000000001")
    assert hook.list_workflow_items(page=0, count=25, workflowId="wfl000000000001")[0]["Status"] == "pending"
    assert hook.list_workflow_item_notes("wfi000000000001")[0]["Note"] == "ok"
    assert hook.list_comments(network="LinkedIn") and hook.list_streams()


@pytest.mark.parametrize("resource", ["users", "tags", "webhooks", "lead_activities"])
def test_new_lists_through_the_fetch_operator(gtm_sandbox_connections, tmp_path, resource):
    """Oktopost/oktopost-typescript-sdk src/resources/base-resource.ts (``_page``/``_count`` to ``Total``)."""
    count = OKTOPOST.resources[resource].page_sizes[0]
    result = OktopostFetchOperator(task_id="f", resource=resource, count=count,
                                   output_uri=f"file://{tmp_path}/{resource}.jsonl").execute(context())
    assert result["records"] == result["total"] == 60 and result["pages"] == -(-60 // count)


def test_social_profile_update_and_delete_through_the_batch_operator(gtm_sandbox_connections, tmp_path):
    """Oktopost/oktopost-typescript-sdk src/resources/account/social-profiles.ts: update is a PUT of
    UpdateSocialProfileParams answering ``Credential``; delete a bodiless DELETE (``BaseApiResponse``)."""
    login = SANDBOX_CREDENTIALS["oktopost"]["login"]
    ids = [f"003-{login}-{i}" for i in (1, 2)]
    result = OktopostBatchOperator(
        task_id="u", operation="credentials.update", output_base_uri=f"file://{tmp_path}/u",
        records=[{"id": ids[0], "displayName": "Brand"}, {"id": ids[1], "nativePostsEnabled": 1}]).execute(context())
    assert (result["submitted"], result["succeeded"], result["failed"]) == (2, 2, 0)
    hook = OktopostHook()
    assert hook.get_credential(ids[0])["DisplayName"] == "Brand"
    assert hook.get_credential(ids[1])["NativePostsEnabled"] is True
    result = OktopostBatchOperator(task_id="d", operation="credentials.delete", output_base_uri=f"file://{tmp_path}/d",
                                   records=[{"id": ids[0]}], on_failures="warn").execute(context())
    assert result["succeeded"] == 1
    changes = gtm_sandbox_connections.state()["apis"]["oktopost"]["changes"]
    assert [(c["operation"], c["form"]) for c in changes] == [
        ("credentials.update", {"displayName": "Brand"}), ("credentials.update", {"nativePostsEnabled": "1"}),
        ("credentials.delete", {})]


def test_board_message_advocate_and_lead_deletes(gtm_sandbox_connections, tmp_path):
    """Oktopost/oktopost-typescript-sdk src/resources/advocacy/board-messages.ts (``remove``: DELETE
    /board-message, form boardId + messageId), advocacy/advocates.ts (``delete(id, boardId)``: DELETE
    /advocate/{id}, form boardId), leads/leads.ts (``delete``: bodiless DELETE /lead/{id})."""
    hook = OktopostHook()
    board = next(hook.iter_records("boards"))["Id"]
    hook.create_board_message(board, "005s00000000001")
    result = OktopostBatchOperator(
        task_id="bm", operation="board_messages.delete", output_base_uri=f"file://{tmp_path}/bm", on_failures="warn",
        records=[{"boardId": board, "messageId": "005s00000000001"},
                 {"boardId": board, "messageId": "005s00000000002"}]).execute(context())
    assert (result["succeeded"], result["failed"]) == (1, 1)
    (failure,) = lines(result["failures_uri"])
    assert (failure["identifier"], failure["status"]) == ("005s00000000002", 404)

    advocate = hook.get_advocate("00As00000000000")
    result = OktopostBatchOperator(
        task_id="adv", operation="advocates.delete", output_base_uri=f"file://{tmp_path}/adv",
        records=[{"id": advocate["Id"], "boardId": advocate["BoardIds"][0]}]).execute(context())
    assert result["succeeded"] == 1 and advocate["BoardIds"][0] not in hook.get_advocate(advocate["Id"])["BoardIds"]

    assert hook.delete_lead("leas00000000007") == {"Result": True, "Id": "leas00000000007"}
    changes = gtm_sandbox_connections.state()["apis"]["oktopost"]["changes"]
    assert [(c["operation"], c["form"]) for c in changes] == [
        ("board_messages.delete", {"boardId": board, "messageId": "005s00000000001"}),
        ("advocates.delete", {"boardId": advocate["BoardIds"][0]}),
        ("leads.delete", {})]


def test_preflight_refuses_a_delete_missing_its_form_field(gtm_sandbox_connections, tmp_path):
    """An advocate delete needs the board (the SDK's ``delete(id, boardId)``): refused before any call."""
    from airflow_provider_gtm.compat import AirflowFailException

    operator = OktopostBatchOperator(task_id="adv", operation="advocates.delete", output_base_uri=f"file://{tmp_path}",
                                     records=[{"id": "00As00000000000"}])
    with pytest.raises(AirflowFailException, match="boardId"):
        operator.execute(context())
    assert gtm_sandbox_connections.state()["apis"]["oktopost"]["changes"] == []
