"""Contract tests of the Oktopost sandbox, driven with plain requests."""

from __future__ import annotations

import re

import pytest
import requests

from airflow_provider_gtm.sandbox import SANDBOX_CREDENTIALS

CREDS = SANDBOX_CREDENTIALS["oktopost"]
AUTH = (CREDS["login"], CREDS["password"])


@pytest.fixture
def api(gtm_sandbox):
    base = gtm_sandbox.base_url("oktopost") + "/v2"

    def call(method, path, auth=AUTH, **kwargs):
        return requests.request(method, base + path, auth=auth, timeout=10, **kwargs)

    return call


def test_me_and_wrong_credentials(api):
    assert api("GET", "/me").json()["Account"]["Id"] == CREDS["login"]
    wrong = api("GET", "/me", auth=(CREDS["login"], "okto_wrong_key_000000"))
    assert wrong.status_code == 401
    assert wrong.json()["Result"] is False and wrong.json()["Errors"]["API"]["Error"]


def test_lists_page_with_page_count_and_total(gtm_sandbox, api):
    gtm_sandbox.configure(records=120)
    ids, page = [], 0
    while True:
        body = api("GET", "/lead", params={"_page": page, "_count": 50}).json()
        ids += [item["Id"] for item in body["Items"]]
        page += 1
        if page * 50 >= body["Total"]:
            break
    assert body["Total"] == 120 and len(set(ids)) == 120


@pytest.mark.parametrize(("path", "count", "status"), [("/lead", 30, 400), ("/lead", 200, 400), ("/click", 200, 200)])
def test_count_values(api, path, count, status):
    assert api("GET", path, params={"_count": count}).status_code == status


def test_message_list_needs_campaign_or_ids(api):
    response = api("GET", "/message")
    assert response.status_code == 400
    assert response.json() == {"Result": False, "Errors": {"api": {
        "message": "You must send either of the mandatory parameters: campaignId\\ids"}}}


def test_campaign_message_post_create_with_form_bodies(gtm_sandbox, api):
    campaign = api("POST", "/campaign", data={"name": "Launch"}).json()["Campaign"]
    assert re.fullmatch(r"002[a-z0-9]{12}", campaign["Id"])
    message = api("POST", "/message", data={"campaignId": campaign["Id"], "network": "LinkedIn",
                                            "message": "Hello"}).json()["Message"]
    assert re.fullmatch(r"005[a-z0-9]{12}", message["Id"])
    credential = api("GET", "/credential", params={"network": "LinkedIn"}).json()["Items"][0]
    post = api("POST", "/post", data={"messageId": message["Id"], "credentialIds": credential["Id"],
                                      "startDateTime": 1893488400}).json()["Post"]
    assert re.fullmatch(r"004[a-z0-9]{12}", post["Id"]) and post["StartDateTime"] == 1893488400
    listed = api("GET", "/message", params={"campaignId": campaign["Id"]}).json()
    assert [m["Id"] for m in listed["Items"]] == [message["Id"]]
    state = gtm_sandbox.state()["apis"]["oktopost"]
    assert set(state["campaigns"]) == {campaign["Id"]} and set(state["posts"]) == {post["Id"]}


def test_write_errors_use_the_result_false_envelope(api):
    missing = api("POST", "/campaign", data={"url": "https://x"})
    assert missing.status_code == 400 and "name" in missing.json()["Errors"]["API"]["Error"]
    as_json = api("POST", "/campaign", json={"name": "x"})
    assert as_json.status_code == 400 and "x-www-form-urlencoded" in as_json.json()["Errors"]["API"]["Error"]
    bad_credential = api("POST", "/post", data={"messageId": "005s00000000001", "credentialIds": "003-nope"})
    assert bad_credential.status_code == 400 and "003-nope" in bad_credential.json()["Errors"]["API"]["Error"]
    assert api("GET", "/campaign/002nosuchcampaig").status_code == 404


def test_post_stats_board_message_and_advocate_invite(api):
    """Oktopost/oktopost-typescript-sdk: src/resources/advocacy/board-messages.ts and advocates.ts type
    ``POST /board-message`` and ``POST /advocate`` as BaseApiResponse (``{"Result": true}`` only)."""
    post = api("GET", "/post", params={"_count": 25}).json()["Items"][0]
    # src/resources/publishing/posts.ts get(): Stats comes beside Post (the SDK merges the two).
    assert "Stats" in api("GET", f"/post/{post['Id']}", params={"stats": 1}).json()
    board = api("GET", "/board").json()["Items"][0]
    assert api("POST", "/board-message", data={"boardId": board["Id"], "messageId": post["MessageId"]}).json() == {
        "Result": True}
    invited = api("POST", "/advocate", data={"firstName": "Ada", "lastName": "L", "email": "ada@example.com",
                                              "boardId": board["Id"]}).json()
    assert invited == {"Result": True}
    # src/resources/advocacy/advocates.ts list({email}): a page of AdvocateListItem, not one Advocate.
    found = api("GET", "/advocate", params={"email": "ada@example.com"}).json()
    assert found["Total"] == 1 and found["Items"][0]["Name"] == "Ada L"
    assert api("GET", f"/advocate/{found['Items'][0]['Id']}").json()["Advocate"]["FirstName"] == "Ada"


def test_burst_breach_blocks_the_key_for_15_minutes(gtm_sandbox, api):
    gtm_sandbox.configure(rate_limits={"oktopost": {"windows": [[3, 5]]}})
    assert all(api("GET", "/me").status_code == 200 for _ in range(3))
    assert api("GET", "/me").status_code == 429
    gtm_sandbox.configure(advance_clock=60)  # a burst window later, still blocked
    blocked = api("GET", "/me")
    assert blocked.status_code == 429 and blocked.json()["Result"] is False
    gtm_sandbox.configure(advance_clock=900)
    assert api("GET", "/me").status_code == 200
    assert gtm_sandbox.state()["rate_limited"]["oktopost"] == 2


def test_post_accepts_the_sdk_list_encoding(api):
    """Oktopost/oktopost-typescript-sdk src/http/base-client.ts (appendEncoded): the vendor's own
    client sends a list as repeated ``credentialIds[]`` form fields; the docs' comma list works too."""
    credentials = api("GET", "/credential").json()["Items"][:2]
    message_id = api("GET", "/post", params={"_count": 25}).json()["Items"][0]["MessageId"]
    body = "&".join([f"messageId={message_id}"] + [f"credentialIds%5B%5D={c['Id']}" for c in credentials])
    response = api("POST", "/post", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    assert response.json()["Post"]["CredentialIds"] == [c["Id"] for c in credentials]


def test_post_stats_come_beside_the_post(api):
    """Oktopost/oktopost-typescript-sdk src/resources/publishing/posts.ts ``get``: the answer to
    ``GET /post/{id}?stats=1`` is ``{Result, Post, Stats}`` (``SingleApiResponse<'Post'> & {Stats}``)."""
    post = api("GET", "/post", params={"_count": 25}).json()["Items"][0]
    body = api("GET", f"/post/{post['Id']}", params={"stats": 1}).json()
    assert set(body) == {"Result", "Post", "Stats"} and "Stats" not in body["Post"]
    assert set(body["Stats"]) == {"LinkClicks", "Conversions", "Comments", "Likes", "Shares", "ImpressionsAdded"}


def test_advocate_list_by_email_is_a_page_of_list_items(api):
    """Oktopost/oktopost-typescript-sdk src/resources/advocacy/advocates.ts ``list({email})`` answers
    ``PaginatedApiResponse<AdvocateListItem>`` (src/types/advocacy.ts: Email, Id, LastBoardLogin, Name,
    PictureUrl); no advocate with that e-mail is an empty page."""
    any_advocate = api("GET", "/advocate", params={"_count": 25}).json()["Items"][0]
    assert set(any_advocate) == {"Email", "Id", "LastBoardLogin", "Name", "PictureUrl"}
    page = api("GET", "/advocate", params={"email": any_advocate["Email"].upper()}).json()
    assert page["Result"] is True and page["Total"] == 1 and page["Items"][0]["Id"] == any_advocate["Id"]
    none = api("GET", "/advocate", params={"email": "nobody@nowhere.example"})
    assert none.status_code == 200 and none.json() == {"Result": True, "Items": [], "Total": 0}


# --- updates and deletes (Oktopost/oktopost-typescript-sdk src/resources/publishing/*.ts) ----------------
def test_update_posts_the_form_to_the_object_path_and_answers_the_object(gtm_sandbox, api):
    """src/resources/publishing/campaigns.ts ``update(id, params)``: ``POST /campaign/{id}`` with the
    form (src/types/publishing.ts UpdateCampaignParams: name, url, status, tagIds), answered with
    ``SingleApiResponse<'Campaign'>``; messages.ts and posts.ts alike."""
    updated = api("POST", "/campaign/002s00000000003", data={"name": "Renamed", "status": "paused"})
    assert updated.status_code == 200
    body = updated.json()
    assert body["Result"] is True and body["Campaign"]["Id"] == "002s00000000003"
    assert (body["Campaign"]["Name"], body["Campaign"]["Status"]) == ("Renamed", "paused")
    assert api("GET", "/campaign/002s00000000003").json()["Campaign"]["Name"] == "Renamed"
    listed = api("GET", "/campaign", params={"_count": 25}).json()
    assert next(c for c in listed["Items"] if c["Id"] == "002s00000000003")["Name"] == "Renamed"
    message = api("POST", "/message/005s00000000002", data={"message": "Edited"}).json()["Message"]
    assert message["Message"] == "Edited"
    post = api("POST", "/post/004s00000000002", data={"startDateTime": 1_900_000_123, "status": "draft"}).json()
    assert post["Post"]["StartDateTime"] == 1_900_000_123 and post["Post"]["Status"] == "draft"
    changes = gtm_sandbox.state()["apis"]["oktopost"]["changes"]
    assert [(c["operation"], c["id"]) for c in changes] == [
        ("campaigns.update", "002s00000000003"), ("messages.update", "005s00000000002"),
        ("posts.update", "004s00000000002")]


def test_update_refusals_use_the_result_false_envelope(api):
    bad_status = api("POST", "/campaign/002s00000000003", data={"status": "complete"})
    assert bad_status.status_code == 400 and "status" in bad_status.json()["Errors"]["API"]["Error"]
    missing = api("POST", "/campaign/002nosuchcampaig", data={"name": "x"})
    assert missing.status_code == 404 and missing.json()["Result"] is False


def test_delete_has_no_body_answers_base_response_then_404(gtm_sandbox, api):
    """src/resources/publishing/posts.ts ``delete(id)``: ``DELETE /post/{id}`` without a form,
    answered with ``BaseApiResponse`` (``{"Result": true}``); the object is gone afterwards (404)."""
    deleted = api("DELETE", "/post/004s00000000004")
    assert deleted.status_code == 200 and deleted.json() == {"Result": True}
    assert api("GET", "/post/004s00000000004").status_code == 404
    again = api("DELETE", "/post/004s00000000004")
    assert again.status_code == 404 and again.json()["Result"] is False
    total_before = api("GET", "/campaign", params={"_count": 25}).json()["Total"]
    created = api("POST", "/campaign", data={"name": "Short-lived"}).json()["Campaign"]
    assert api("DELETE", f"/campaign/{created['Id']}").json() == {"Result": True}
    assert api("GET", "/campaign", params={"_count": 25}).json()["Total"] == total_before
    assert created["Id"] not in gtm_sandbox.state()["apis"]["oktopost"]["campaigns"]
