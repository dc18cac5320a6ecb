"""Contract tests of the Oktopost sandbox for every SDK resource beyond publishing (issue 22).

Each probe follows Oktopost/oktopost-typescript-sdk (``src/resources/**``, ``src/types/*.ts``): the
path and method the SDK calls, and the answer field it reads. The catalogue row's ``source`` names
the file; a failing probe prints it.
"""

from __future__ import annotations

import pytest
import requests

from airflow_provider_gtm.apis.oktopost import OKTOPOST
from airflow_provider_gtm.sandbox import SANDBOX_CREDENTIALS

CREDS = SANDBOX_CREDENTIALS["oktopost"]
AUTH = (CREDS["login"], CREDS["password"])

#: The lists added for issue 22 (the publishing/advocacy/analytics/leads ones have their own tests).
NEW_LISTS = ("users", "teams", "cnames", "conversion_tags", "tags", "media", "uploads", "links", "stories",
             "topics", "webhooks", "lead_activities", "stream_tabs")

#: Single reads: catalogue call → (path parameters, query, the SDK's answer field).
NEW_CALLS: dict[str, tuple[dict[str, str], dict[str, str], str]] = {
    "lead": ({"id": "leas00000000001"}, {}, "Lead"),
    "user": ({"id": "00As00000000001"}, {}, "User"),
    "team": ({"id": "teas00000000001"}, {}, "Team"),
    "tag": ({"id": "tags00000000001"}, {}, "Tag"),
    "media_item": ({"id": "026s00000000001"}, {}, "Media"),
    "upload": ({"id": "upls00000000001"}, {}, "Upload"),
    "story": ({"id": "stys00000000001"}, {}, "Item"),
    "webhook": ({"id": "whks00000000001"}, {}, "Webhook"),
    "stream_tab": ({"id": "stbs00000000001"}, {}, "StreamTab"),
    "export": ({"id": "bix000000000001"}, {}, "Export"),
    "postlog": ({"id": "pl0004s00000000001"}, {"stats": "1"}, "Postlog"),
    "workflow": ({"id": "wfl000000000001"}, {}, "Id"),
    "workflow_step": ({"id": "wfs000000000001"}, {}, "Id"),
    "link": ({"hash": "h0000001"}, {}, "Link"),
    "video_validation": ({"id": "026s00000000001"}, {}, "Validations"),
    "team_entities": ({"id": "002s00000000001"}, {}, "Items"),
    "notifications": ({}, {}, "Items"),
    "webhook_log": ({"id": "whks00000000001"}, {}, "Items"),
    "exports": ({}, {"_page": "0"}, "Exports"),
    "followers": ({"id": f"003-{CREDS['login']}-1"}, {"fromDate": "2026-01-01", "toDate": "2026-01-31"}, "Data"),
    "postlogs": ({}, {"postId": "004s00000000001"}, "Postlogs"),
    "workflows": ({}, {"withSteps": "1"}, "Items"),
    "workflow_steps": ({}, {"workflowId": "wfl000000000001"}, "Items"),
    "workflow_items": ({}, {"page": "0", "count": "25"}, "Items"),
    "workflow_item_notes": ({}, {"id": "wfi000000000001"}, "Notes"),
    "comments": ({}, {"network": "LinkedIn"}, "Data"),
    "streams": ({}, {}, "Items"),
}


@pytest.fixture
def api(gtm_sandbox):
    base = gtm_sandbox.base_url("oktopost") + "/v2"

    def call(method, path, auth=AUTH, **kwargs):
        return requests.request(method, base + path, auth=auth, timeout=10, **kwargs)

    return call


@pytest.mark.parametrize("name", NEW_LISTS)
def test_every_sdk_list_pages_with_items_and_total(api, name):
    """src/resources/base-resource.ts ``autoPaginate`` (``_page``/``_count``, loops while
    ``page * count < Total``) over each resource's ``list`` (src/resources/**, the row's source)."""
    row = OKTOPOST.resources[name]
    count = row.page_sizes[0]
    seen: list[str] = []
    page = 0
    while True:
        answer = api("GET", row.path, params={"_page": page, "_count": count})
        assert answer.status_code == 200, row.source
        body = answer.json()
        assert body["Result"] is True and isinstance(body["Items"], list) and isinstance(body["Total"], int)
        seen += [item["Id"] for item in body["Items"]]
        page += 1
        if page * count >= body["Total"]:
            break
    assert len(seen) == len(set(seen)) == body["Total"] > 0, row.source


def test_webhook_list_takes_a_page_of_20(api):
    """src/types/events.ts WebhookConfigListParams: ``_count`` 20, 25, 50 or 100 (others 25/50/100 only)."""
    assert api("GET", "/webhook", params={"_count": 20}).status_code == 200
    assert api("GET", "/tag", params={"_count": 20}).status_code == 400


@pytest.mark.parametrize("name", sorted(NEW_CALLS))
def test_every_sdk_read_answers_under_the_key_the_sdk_reads(api, name):
    """Each resource's ``get``/``list`` in src/resources/** (the row's source): the path, the method
    (``/calendar`` is the one read the SDK POSTs) and the answer field it returns."""
    row = OKTOPOST.calls[name]
    ids, query, key = NEW_CALLS[name]
    path = row.path
    for param, value in ids.items():
        path = path.replace("{" + param + "}", value)
    answer = api(row.method, path, params=query)
    assert answer.status_code == 200, (row.source, answer.text)
    assert key in answer.json(), row.source


def test_calendar_is_a_form_post_needing_both_dates(api):
    """src/resources/publishing/calendar.ts (POST /calendar), src/types/publishing.ts CalendarParams
    (``fromDate``, ``toDate`` required): maps of the calendar's objects keyed by id."""
    body = api("POST", "/calendar", data={"fromDate": "2026-01-01", "toDate": "2026-01-31"}).json()
    assert set(body) >= {"Campaigns", "Credentials", "Media", "Messages", "Posts"}
    assert api("POST", "/calendar", data={"fromDate": "2026-01-01"}).status_code == 400


def test_social_profile_update_is_a_put_and_delete_removes_it(gtm_sandbox, api):
    """src/resources/account/social-profiles.ts: ``update`` is ``PUT /credential/{id}`` with
    UpdateSocialProfileParams (``displayName``, ``nativePostsEnabled`` 0|1) answering ``Credential``;
    ``delete`` a bodiless DELETE answering ``BaseApiResponse``."""
    profile = api("GET", "/credential", params={"_count": 25}).json()["Items"][0]
    changed = api("PUT", f"/credential/{profile['Id']}", data={"displayName": "Brand", "nativePostsEnabled": "1"})
    assert changed.status_code == 200
    assert changed.json()["Credential"]["DisplayName"] == "Brand"
    assert changed.json()["Credential"]["NativePostsEnabled"] is True
    assert api("POST", f"/credential/{profile['Id']}", data={"displayName": "x"}).status_code == 405  # not a POST form
    assert api("DELETE", f"/credential/{profile['Id']}").json() == {"Result": True}
    assert api("GET", f"/credential/{profile['Id']}").status_code == 404
    assert [c["operation"] for c in gtm_sandbox.state()["apis"]["oktopost"]["changes"]] == [
        "credentials.update", "credentials.delete"]


def test_board_message_remove_sends_board_and_message_as_the_form(gtm_sandbox, api):
    """src/resources/advocacy/board-messages.ts ``remove``: ``DELETE /board-message`` with the body
    ``boardId``, ``messageId`` (src/http/base-client.ts form-encodes a DELETE's body)."""
    board = api("GET", "/board", params={"_count": 25}).json()["Items"][0]["Id"]
    form = {"boardId": board, "messageId": "005s00000000001"}
    assert api("POST", "/board-message", data=form).json() == {"Result": True}
    assert api("DELETE", "/board-message", data=form).json() == {"Result": True}
    assert api("DELETE", "/board-message", data=form).status_code == 404  # no longer on the board
    assert api("DELETE", "/board-message", data={"boardId": board}).status_code == 400


def test_advocate_delete_takes_the_board_as_its_form(api):
    """src/resources/advocacy/advocates.ts ``delete(id, boardId)``: ``DELETE /advocate/{id}`` with the
    body ``boardId``; the advocate leaves that board."""
    advocate = api("GET", "/advocate/00As00000000000").json()["Advocate"]
    board = advocate["BoardIds"][0]
    assert api("DELETE", f"/advocate/{advocate['Id']}", data={"boardId": board}).json() == {"Result": True}
    assert board not in api("GET", f"/advocate/{advocate['Id']}").json()["Advocate"]["BoardIds"]
    assert api("DELETE", f"/advocate/{advocate['Id']}", data={"boardId": board}).status_code == 404
    assert api("DELETE", f"/advocate/{advocate['Id']}").status_code == 400  # boardId is the SDK's argument


def test_lead_get_and_delete(api):
    """src/resources/leads/leads.ts: ``get`` answers ``Lead``; ``delete`` is a bodiless DELETE."""
    assert api("GET", "/lead/leas00000000003").json()["Lead"]["Id"] == "leas00000000003"
    assert api("DELETE", "/lead/leas00000000003").json() == {"Result": True}
    assert api("GET", "/lead/leas00000000003").status_code == 404
