"""OktopostHook: auth, hosts, /v2 paths, error shapes, paging, form-encoded creates, rate limits."""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timezone
from urllib.parse import parse_qs

import pytest
import requests

from airflow_provider_gtm.core.client import RetryPolicy
from airflow_provider_gtm.core.errors import (
    GtmAuthError,
    GtmClientError,
    GtmConfigError,
    GtmNotFoundError,
    GtmOutcomeUnknownError,
    GtmRateLimitError,
)
from airflow_provider_gtm.hooks.oktopost import OktopostHook

from .support import query, set_connection

ACCOUNT = "001kzy8780tsd6r"
API_KEY = "okto_api_key_7f3c9a1b2d4e6f80"
US = "https://api.oktopost.com/v2"
EU = "https://eu-api.oktopost.com/v2"
SANDBOX = "http://127.0.0.1:8790/oktopost/v2"
ERROR_DOC = {"Result": False, "Errors": {"API": {"Error": "The page you are looking for was not found"}}}
ERROR_OBSERVED = {
    "Result": False,
    "Errors": {"api": {"message": "You must send either of the mandatory parameters: campaignId\\ids"}},
}


def set_conn(monkeypatch, conn_id="oktopost_default", *, host=None, login=ACCOUNT, password=API_KEY, extra=None):
    set_connection(monkeypatch, conn_id, "oktopost", host=host, extra=extra, login=login, password=password)


@pytest.fixture
def hook(monkeypatch, timer):
    set_conn(monkeypatch)
    return OktopostHook(timer=timer)


def form(request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.text, keep_blank_values=True).items()}


# -- connection, auth, hosts ---------------------------------------------------------------------

def test_class_attributes_match_provider_info():
    from airflow_provider_gtm import get_provider_info

    types = {c["connection-type"]: c for c in get_provider_info()["connection-types"]}
    entry = types[OktopostHook.conn_type]
    assert entry["hook-class-name"] == "airflow_provider_gtm.hooks.oktopost.OktopostHook"
    assert entry["hook-name"] == OktopostHook.hook_name == "Oktopost"
    assert OktopostHook.default_conn_name == "oktopost_default"


def test_me_sends_basic_auth_to_us_host(hook, requests_mock):
    body = {"Result": True, "User": {"Id": "00A000000000000", "Name": "John"},
            "Account": {"Id": ACCOUNT, "Name": "Acme"}}
    requests_mock.get(f"{US}/me", json=body)
    assert hook.me() == body
    expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{API_KEY}".encode()).decode()
    assert requests_mock.last_request.headers["Authorization"] == expected
    assert requests_mock.last_request.url == f"{US}/me"


def test_connection_is_read_lazily(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_OKTOPOST_DEFAULT", raising=False)
    hook = OktopostHook()  # no connection yet: constructing must not read it
    assert hook.conn_id == "oktopost_default"


@pytest.mark.parametrize(
    ("extra", "host", "expected"),
    [
        ({"data_center": "eu"}, None, f"{EU}/campaign/002g5m4amrtu2xs"),
        ({"data_center": "EU "}, None, f"{EU}/campaign/002g5m4amrtu2xs"),
        ({"data_center": "us"}, None, f"{US}/campaign/002g5m4amrtu2xs"),
        ({"data_center": "eu"}, "http://127.0.0.1:8790/oktopost", f"{SANDBOX}/campaign/002g5m4amrtu2xs"),
        ({}, "https://eu-api.oktopost.com/v2", f"{EU}/campaign/002g5m4amrtu2xs"),
    ],
)
def test_data_center_and_host_prefix(monkeypatch, requests_mock, timer, extra, host, expected):
    set_conn(monkeypatch, host=host, extra=extra)
    requests_mock.get(expected, json={"Result": True, "Campaign": {"Id": "002g5m4amrtu2xs", "Name": "Launch"}})
    assert OktopostHook(timer=timer).get_campaign("002g5m4amrtu2xs") == {"Id": "002g5m4amrtu2xs", "Name": "Launch"}
    assert requests_mock.last_request.url == expected


def test_bad_data_center_names_field_and_values(monkeypatch, timer):
    set_conn(monkeypatch, extra={"data_center": "apac"})
    with pytest.raises(GtmConfigError, match=r"'data_center' must be 'us' or 'eu', got 'apac'"):
        OktopostHook(timer=timer).me()


@pytest.mark.parametrize(("field", "label"), [("login", "Account ID"), ("password", "API key")])
def test_missing_field_is_named(monkeypatch, timer, field, label):
    set_conn(monkeypatch, **{field: ""})
    with pytest.raises(GtmConfigError) as info:
        OktopostHook(timer=timer).me()
    assert label in str(info.value) and repr(field) in str(info.value)
    assert API_KEY not in str(info.value)


def test_test_connection_ok_and_refused(hook, requests_mock):
    requests_mock.get(
        f"{US}/me",
        [
            {"json": {"Result": True, "User": {"Name": "John"}, "Account": {"Id": ACCOUNT, "Name": "Acme"}}},
            {"status_code": 401, "json": {"Result": False, "Errors": {"API": {"Error": "Invalid credentials"}}}},
        ],
    )
    assert hook.test_connection() == (True, f"Connected to Oktopost: account Acme ({ACCOUNT}) as John.")
    ok, message = hook.test_connection()
    assert not ok and "HTTP 401: Invalid credentials" in message and API_KEY not in message


# -- error shapes --------------------------------------------------------------------------------

def test_documented_error_shape_404(hook, requests_mock):
    requests_mock.get(f"{US}/post/004aaaaaaaaaaaa", status_code=404, json=ERROR_DOC)
    with pytest.raises(GtmNotFoundError) as info:
        hook.get_post("004aaaaaaaaaaaa")
    assert info.value.api_message == "The page you are looking for was not found"
    assert info.value.status == 404


def test_observed_lowercase_error_shape_400(hook, requests_mock):
    requests_mock.get(f"{US}/message", status_code=400, json=ERROR_OBSERVED)
    with pytest.raises(GtmClientError) as info:
        hook.client.get_json("/v2/message")
    assert info.value.api_message == "You must send either of the mandatory parameters: campaignId\\ids"


def test_result_false_in_200_is_an_error(hook, requests_mock):
    requests_mock.get(f"{US}/board/brd000000000001", json=ERROR_OBSERVED)
    with pytest.raises(GtmClientError, match="mandatory parameters") as info:
        hook.get_board("brd000000000001")
    assert info.value.status == 200


def test_field_keyed_and_empty_errors(hook, requests_mock):
    requests_mock.post(
        f"{US}/campaign",
        [
            {"status_code": 400, "json": {"Result": False, "Errors": {"name": {"Error": "Name is required"}}}},
            {"json": {"Result": False, "Errors": []}},
        ],
    )
    with pytest.raises(GtmClientError, match="name: Name is required"):
        hook.create_campaign("Launch")
    with pytest.raises(GtmClientError, match="Result: false with no error message"):
        hook.create_campaign("Launch")


def test_auth_error_never_carries_the_key(hook, requests_mock, caplog):
    caplog.set_level(logging.DEBUG)
    requests_mock.get(f"{US}/me", status_code=403, json={"Result": False, "Errors": {"API": {"Error": "Forbidden"}}})
    with pytest.raises(GtmAuthError) as info:
        hook.me()
    assert API_KEY not in str(info.value) and API_KEY not in repr(info.value.body) and API_KEY not in caplog.text


# -- reads and pagination ------------------------------------------------------------------------

def test_pages_followed_until_total(hook, requests_mock):
    requests_mock.get(
        f"{US}/campaign",
        [
            {"json": {"Result": True, "Items": [{"Id": f"c{i}"} for i in range(25)], "Total": 30}},
            {"json": {"Result": True, "Items": [{"Id": f"c{i}"} for i in range(25, 30)], "Total": 30}},
        ],
    )
    pages = list(hook.iter_pages("campaigns", params={"status": "active"}, count=25, order="created,1"))
    assert [len(p.records) for p in pages] == [25, 5]
    assert [p.next_state for p in pages] == [1, None] and pages[0].total == 30
    assert [query(r) for r in requests_mock.request_history] == [
        {"status": "active", "_order": "created,1", "_page": "0", "_count": "25"},
        {"status": "active", "_order": "created,1", "_page": "1", "_count": "25"},
    ]


def test_pages_end_on_exact_total_and_on_empty_page(hook, requests_mock):
    requests_mock.get(f"{US}/board", json={"Result": True, "Items": [{"Id": "b1"}] * 25, "Total": 25})
    assert len(list(hook.iter_pages("boards", count=25))) == 1
    assert requests_mock.call_count == 1
    requests_mock.get(f"{US}/lead", json={"Result": True, "Items": [], "Total": 0})
    assert list(hook.iter_records("leads")) == []


def test_start_page_and_limit(hook, requests_mock):
    requests_mock.get(f"{US}/credential", json={"Result": True, "Items": [{"Id": "x"}] * 50, "Total": 500})
    pages = list(hook.iter_pages("credentials", count=50, start_page=3, limit=70))
    assert [len(p.records) for p in pages] == [50, 20]
    assert [query(r)["_page"] for r in requests_mock.request_history] == ["3", "4"]


def test_iter_records_for_credentials_network_filter(hook, requests_mock):
    requests_mock.get(f"{US}/credential", json={"Result": True, "Items": [{"Id": "003-a", "Network": "LinkedIn"}],
                                               "Total": 1})
    assert list(hook.iter_records("credentials", params={"network": "LinkedIn"})) == [
        {"Id": "003-a", "Network": "LinkedIn"}
    ]
    assert query(requests_mock.last_request) == {"network": "LinkedIn", "_page": "0", "_count": "100"}


def test_after_before_converted_and_lists_joined(hook, requests_mock):
    requests_mock.get(f"{US}/post", json={"Result": True, "Items": [], "Total": 0})
    list(hook.iter_pages("posts", params={
        "after": "2026-01-01T00:00:00Z",
        "before": datetime(2026, 1, 2, tzinfo=timezone.utc),
        "ids": ["004aaa", "004bbb"],
        "withTags": True,
        "createdBy": None,
    }))
    assert query(requests_mock.last_request) == {
        "after": "1767225600", "before": "1767312000", "ids": "004aaa,004bbb", "withTags": "1",
        "_page": "0", "_count": "100",
    }


def test_clicks_allow_200_others_do_not(hook, requests_mock):
    requests_mock.get(f"{US}/click", json={"Result": True, "Items": [], "Total": 0})
    list(hook.iter_pages("clicks", count=200, params={"after": 1767225600}))
    assert query(requests_mock.last_request)["_count"] == "200"
    with pytest.raises(GtmConfigError, match=r"count=200 .* 25, 50, 100"):
        hook.iter_pages("posts", count=200)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda h: h.iter_pages("messages", params={"network": "LinkedIn"}), "campaignId"),
        (lambda h: h.iter_pages("comments"), "resource='comments'"),
        (lambda h: h.iter_pages("posts", params={"after": "last tuesday"}), r"params\['after'\]"),
        (lambda h: h.iter_pages("posts", params={"_page": 2}), "start_page"),
        (lambda h: h.iter_pages("posts", start_page=-1), "start_page"),
        (lambda h: h.get_campaign(""), "id must be"),
        # "tags" became creatable (issue 22: tags.create); clicks never are (the SDK has no click create).
        (lambda h: h.iter_create("clicks", []), "kind='clicks'"),
        (lambda h: h.iter_create("campaigns", [], batch_size=0), "batch_size"),
    ],
)
def test_bad_arguments_name_the_argument(hook, requests_mock, call, pattern):
    with pytest.raises(GtmConfigError, match=pattern):
        call(hook)
    assert requests_mock.call_count == 0


def test_messages_by_campaign(hook, requests_mock):
    requests_mock.get(f"{US}/message", json={"Result": True, "Items": [{"Id": "005a"}], "Total": 1})
    assert [r["Id"] for r in hook.iter_records("messages", params={"campaignId": "002g5m4amrtu2xs"})] == ["005a"]


def test_single_object_getters(hook, requests_mock):
    requests_mock.get(f"{US}/post/004aaaaaaaaaaaa", json={"Result": True, "Post": {"Id": "004aaaaaaaaaaaa"}})
    requests_mock.get(f"{US}/advocate/adv1", json={"Result": True, "Advocate": {"Id": "adv1"}})
    requests_mock.get(f"{US}/analytics/004aaaaaaaaaaaa", json={"Result": True, "Stats": {"LinkClicks": 7}})
    assert hook.get_post("004aaaaaaaaaaaa", stats=True) == {"Id": "004aaaaaaaaaaaa"}
    assert query(requests_mock.last_request) == {"stats": "1"}
    assert hook.get_advocate("adv1", board_id="brd1") == {"Id": "adv1"}
    assert query(requests_mock.last_request) == {"boardId": "brd1"}
    assert hook.get_post_analytics("004aaaaaaaaaaaa") == {"LinkClicks": 7}
    requests_mock.get(f"{US}/message/005m", json={"Result": True, "Message": {"Id": "005m", "Network": "LinkedIn"}})
    requests_mock.get(f"{US}/credential/003-a", json={"Result": True, "Credential": {"Id": "003-a", "Status": "valid"}})
    assert hook.get_message("005m") == {"Id": "005m", "Network": "LinkedIn"}
    assert hook.get_credential("003-a") == {"Id": "003-a", "Status": "valid"}


# -- writes --------------------------------------------------------------------------------------

def test_create_campaign_form_encoded(hook, requests_mock):
    requests_mock.post(f"{US}/campaign", json={"Result": True, "Campaign": {"Id": "002new", "Name": "Launch"}})
    assert hook.create_campaign("Launch", url="https://acme.example", tag_ids=["t1", "t2"]) == {
        "Id": "002new", "Name": "Launch"
    }
    request = requests_mock.last_request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(request) == {"name": "Launch", "url": "https://acme.example", "tagIds": "t1,t2"}


def test_create_message_optional_fields(hook, requests_mock):
    requests_mock.post(f"{US}/message", json={"Result": True, "Message": {"Id": "005new"}})
    hook.create_message("002c", "LinkedIn", "Hello", link_url="https://acme.example", imageUrl="https://i.example/a.png",
                        media=("026a", "026b"))
    assert form(requests_mock.last_request) == {
        "campaignId": "002c", "network": "LinkedIn", "message": "Hello", "linkUrl": "https://acme.example",
        "imageUrl": "https://i.example/a.png", "media": "026a,026b",
    }
    with pytest.raises(GtmConfigError, match="unknown argument 'link'"):
        hook.create_message("002c", "LinkedIn", "Hello", link="x")
    with pytest.raises(GtmConfigError, match="'campaign_id'"):
        hook.create_message(" ", "LinkedIn", "Hello")
    assert requests_mock.call_count == 1


def test_create_post_converts_time_and_checks_status(hook, requests_mock):
    requests_mock.post(f"{US}/post", json={"Result": True, "Post": {"Id": "004new"}})
    assert hook.create_post("005m", ["003-a", "003-b"], start_date_time="2026-01-01T01:00:00+01:00",
                            status="pending") == {"Id": "004new"}
    assert form(requests_mock.last_request) == {
        "messageId": "005m", "credentialIds": "003-a,003-b", "startDateTime": "1767225600", "status": "pending"
    }
    with pytest.raises(GtmConfigError, match="status='published'"):
        hook.create_post("005m", "003-a", status="published")
    with pytest.raises(GtmConfigError, match="'credential_ids'"):
        hook.create_post("005m", [])
    assert requests_mock.call_count == 1


def test_create_board_message_and_invite(hook, requests_mock):
    requests_mock.post(f"{US}/board-message", json={"Result": True})
    requests_mock.post(f"{US}/advocate", json={"Result": True, "Advocate": {"Id": "adv9"}})
    assert hook.create_board_message("brd1", "005m", start_date=1767225600, expire_date="2026-02-01 00:00:00",
                                     important=True, topic_ids=["tpc1", "tpc2"]) == {"Result": True}
    assert form(requests_mock.last_request) == {
        "boardId": "brd1", "messageId": "005m", "startDate": "2026-01-01 00:00:00",
        "expireDate": "2026-02-01 00:00:00", "important": "1", "topicIds": "tpc1,tpc2",
    }
    assert hook.invite_advocate("Ada", "Lovelace", "a@acme.example", "brd1")["Id"] == "adv9"
    assert form(requests_mock.last_request) == {
        "firstName": "Ada", "lastName": "Lovelace", "email": "a@acme.example", "boardId": "brd1"
    }
    with pytest.raises(GtmConfigError, match="'email'"):
        hook.invite_advocate("Ada", "Lovelace", "", "brd1")


def test_write_not_retried_on_5xx(hook, requests_mock, timer):
    requests_mock.post(f"{US}/post", [{"status_code": 503}, {"json": {"Result": True, "Post": {"Id": "004dup"}}}])
    with pytest.raises(GtmOutcomeUnknownError, match="outcome unknown"):
        hook.create_post("005m", "003-a")
    assert requests_mock.call_count == 1 and timer.sleeps == []


def test_write_retried_when_connection_refused(hook, requests_mock, timer):
    refused = requests.ConnectionError("Failed to establish a new connection: [Errno 111] Connection refused")
    requests_mock.post(f"{US}/campaign", [{"exc": refused}, {"json": {"Result": True, "Campaign": {"Id": "002x"}}}])
    assert hook.create_campaign("Launch") == {"Id": "002x"}
    assert requests_mock.call_count == 2 and len(timer.sleeps) == 1


def test_read_retried_on_5xx(hook, requests_mock, timer):
    requests_mock.get(
        f"{US}/campaign/002c", [{"status_code": 502}, {"json": {"Result": True, "Campaign": {"Id": "002c"}}}]
    )
    assert hook.get_campaign("002c") == {"Id": "002c"}
    assert requests_mock.call_count == 2 and len(timer.sleeps) == 1


# -- rate limits ---------------------------------------------------------------------------------

def test_default_windows_pace_the_61st_call(hook, requests_mock, timer):
    requests_mock.get(f"{US}/me", json={"Result": True})
    for _ in range(61):
        hook.me()
    assert timer.sleeps == [pytest.approx(60.1)]  # the window, plus the limiter's 0.1 s safety margin


def test_429_blocks_key_and_fails_naming_block_end(hook, requests_mock, timer):
    requests_mock.get(f"{US}/me", status_code=429, json={"Result": False, "Errors": {"API": {"Error": "Too many"}}})
    with pytest.raises(GtmRateLimitError) as info:
        hook.me()
    assert requests_mock.call_count == 1  # never sent into the 15-minute block
    assert "2026-01-01T00:15:00" in str(info.value)
    with pytest.raises(GtmRateLimitError):
        hook.me()  # the block is remembered: nothing is sent
    assert requests_mock.call_count == 1


def test_429_waited_out_when_budget_allows(monkeypatch, requests_mock, timer):
    set_conn(monkeypatch, extra={"max_wait_seconds": 1000})
    requests_mock.post(f"{US}/campaign", [{"status_code": 429}, {"json": {"Result": True, "Campaign": {"Id": "002z"}}}])
    assert OktopostHook(timer=timer).create_campaign("Launch") == {"Id": "002z"}
    assert sum(timer.sleeps) == pytest.approx(900)
    assert requests_mock.call_count == 2


# -- iter_create ---------------------------------------------------------------------------------

def test_iter_create_every_failure_shape(monkeypatch, requests_mock, timer):
    set_conn(monkeypatch)
    hook = OktopostHook(timer=timer, retry=RetryPolicy(max_attempts=3, jitter=0))
    requests_mock.post(
        f"{US}/campaign",
        [
            {"json": {"Result": True, "Campaign": {"Id": "002a", "Name": "A"}}},
            {"status_code": 400, "json": {"Result": False, "Errors": {"API": {"Error": "Campaign name exists"}}}},
            {"json": {"Result": False, "Errors": {"api": {"message": "Invalid url"}}}},
            {"status_code": 500, "json": ERROR_DOC},
            {"json": {"Result": True, "Campaign": {"Id": "002e", "Name": "E"}}},
        ],
    )
    records = [{"name": "A"}, {"name": "B"}, "not a dict", {"name": "C", "url": "x"}, {"url": "no name"},
               {"name": "D"}, {"name": "E", "tagIds": ["t1"]}]
    results = list(hook.iter_create("campaigns", records, batch_size=4))
    assert [(r.submitted, r.succeeded, r.failed) for r in results] == [(4, 1, 3), (3, 1, 2)]
    assert all(r.submitted == r.succeeded + r.failed for r in results)
    assert [a["Id"] for r in results for a in r.accepted] == ["002a", "002e"]
    failures = {str(f.identifier): (f.error_message, f.status) for r in results for f in r.failures}
    assert failures["B"] == ("Campaign name exists", 400)
    assert failures["C"] == ("Invalid url", 200)
    assert failures["D"][1] == 500 and "outcome unknown" in failures["D"][0]
    malformed = {json.dumps(f.record): (f.error_message, f.status) for r in results for f in r.failures
                 if f.identifier is None}
    assert malformed['"not a dict"'] == (
        "an Oktopost campaigns record must be a dict of Oktopost fields (required: name), got str", None
    )
    assert malformed['{"url": "no name"}'] == ("required field 'name' is missing or empty", None)
    assert requests_mock.call_count == 5  # malformed records never sent, the 500 never resent
    assert form(requests_mock.request_history[4]) == {"name": "E", "tagIds": "t1"}


def test_iter_create_posts_from_transform_records(hook, requests_mock):
    requests_mock.post(f"{US}/post", json={"Result": True, "Post": {"Id": "004p"}})
    records = [
        {"messageId": "005m", "credentialIds": ["003-a"], "startDateTime": 1767225600, "status": "pending"},
        {"messageId": "005m", "credentialIds": ["003-b"], "status": "scheduled"},
    ]
    (result,) = hook.iter_create("posts", records)
    assert (result.submitted, result.succeeded, result.failed) == (2, 1, 1)
    assert result.failures[0].identifier == "005m" and "status='scheduled'" in result.failures[0].error_message
    assert form(requests_mock.last_request) == {
        "messageId": "005m", "credentialIds": "003-a", "startDateTime": "1767225600", "status": "pending"
    }


def test_iter_create_key_block_reported_not_raised(hook, requests_mock):
    requests_mock.post(f"{US}/advocate", status_code=429)
    records = [{"firstName": "A", "lastName": "B", "email": f"p{i}@acme.example", "boardId": "brd1"} for i in range(3)]
    (result,) = hook.iter_create("advocate_invites", records, batch_size=10)
    assert (result.submitted, result.succeeded, result.failed) == (3, 0, 3)
    assert [f.identifier for f in result.failures] == ["p0@acme.example", "p1@acme.example", "p2@acme.example"]
    assert all(f.status == 429 for f in result.failures)
    assert requests_mock.call_count == 1


def test_iter_create_datetimes_pass_the_pre_send_check_and_nan_does_not(hook, requests_mock):
    from datetime import datetime, timezone

    requests_mock.post(f"{US}/post", json={"Result": True, "Post": {"Id": "004p"}})
    records = [
        {"messageId": "005m", "credentialIds": ["003-a"], "startDateTime": datetime(2026, 1, 1, tzinfo=timezone.utc),
         "status": "pending"},
        {"messageId": "005n", "credentialIds": ["003-a"], "startDateTime": float("nan"), "status": "pending"},
    ]
    (result,) = hook.iter_create("posts", records)
    assert (result.submitted, result.succeeded, result.failed) == (2, 1, 1)
    assert "'startDateTime' is nan" in result.failures[0].error_message
    assert requests_mock.call_count == 1
    assert form(requests_mock.last_request)["startDateTime"] == "1767225600"


# -- answers as Oktopost/oktopost-typescript-sdk reads them (src/resources/**, src/types/common.ts) --

def test_invite_confirmed_by_result_true_alone(hook, requests_mock):
    """src/resources/advocacy/advocates.ts: invite returns a BaseApiResponse ``{"Result": true}``."""
    requests_mock.post(f"{US}/advocate", json={"Result": True})
    records = [{"firstName": "A", "lastName": "B", "email": "p@acme.example", "boardId": "brd1"}]
    (result,) = hook.iter_create("advocate_invites", records)
    assert (result.succeeded, result.failed) == (1, 0)


@pytest.mark.parametrize("answer", [{"Result": True}, {"Result": True, "Errors": {}}, {"Result": True, "Campaign": {}}])
def test_create_without_the_created_object_confirms_nothing(hook, requests_mock, answer):
    """src/resources/publishing/campaigns.ts returns ``response.Campaign``: an answer without it
    confirms no campaign, so the record is "outcome unknown", never success."""
    requests_mock.post(f"{US}/campaign", json=answer)
    (result,) = hook.iter_create("campaigns", [{"name": "Launch"}])
    assert (result.succeeded, result.failed) == (0, 1)
    assert "outcome unknown" in result.failures[0].error_message


def test_get_post_stats_beside_the_post_are_merged(hook, requests_mock):
    """src/resources/publishing/posts.ts get(): ``{Result, Post, Stats}``; the post comes back with Stats."""
    requests_mock.get(f"{US}/post/004aaaaaaaaaaaa", json={"Result": True, "Post": {"Id": "004aaaaaaaaaaaa"},
                                                          "Stats": {"LinkClicks": 3}})
    assert hook.get_post("004aaaaaaaaaaaa", stats=True) == {"Id": "004aaaaaaaaaaaa", "Stats": {"LinkClicks": 3}}


def test_find_advocate_reads_the_list_page(hook, requests_mock):
    """src/resources/advocacy/advocates.ts list({email}): ``{Result, Items, Total}``."""
    item = {"Email": "ada@acme.example", "Id": "00Aada", "LastBoardLogin": "", "Name": "Ada", "PictureUrl": None}
    requests_mock.get(f"{US}/advocate", [{"json": {"Result": True, "Items": [item], "Total": 1}},
                                         {"json": {"Result": True, "Items": [], "Total": 0}},
                                         {"json": {"Result": True, "Advocate": {"Id": "00Ab", "Email": "b@x.io"}}}])
    assert hook.find_advocate("Ada@acme.example") == item
    assert query(requests_mock.last_request) == {"email": "Ada@acme.example"}
    assert hook.find_advocate("nobody@acme.example") is None
    assert hook.find_advocate("b@x.io") == {"Id": "00Ab", "Email": "b@x.io"}


# -- updates and deletes: as Oktopost/oktopost-typescript-sdk src/resources/publishing/*.ts send them ---

def test_update_campaign_posts_the_form_to_its_path(hook, requests_mock):
    """campaigns.ts ``update(id, params)``: POST ``/campaign/{id}``, form-encoded, answers ``Campaign``."""
    requests_mock.post(f"{US}/campaign/002abc", json={"Result": True, "Campaign": {"Id": "002abc", "Name": "N"}})
    assert hook.update_campaign("002abc", name="N", status="paused", tagIds=["t1", "t2"]) == {
        "Id": "002abc", "Name": "N"}
    request = requests_mock.last_request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.text) == {"name": ["N"], "status": ["paused"], "tagIds": ["t1,t2"]}
    with pytest.raises(GtmConfigError, match="nothing to update"):
        hook.update_campaign("002abc")
    with pytest.raises(GtmConfigError, match="not a campaign status"):
        hook.update_campaign("002abc", status="complete")


def test_update_post_converts_the_start_time(hook, requests_mock):
    requests_mock.post(f"{US}/post/004abc", json={"Result": True, "Post": {"Id": "004abc"}})
    hook.update_post("004abc", startDateTime="2030-01-01T00:00:00Z", status="draft")
    assert parse_qs(requests_mock.last_request.text) == {"startDateTime": ["1893456000"], "status": ["draft"]}
    requests_mock.post(f"{US}/message/005abc", json={"Result": True, "Message": {"Id": "005abc", "Message": "m"}})
    assert hook.update_message("005abc", message="m")["Message"] == "m"


@pytest.mark.parametrize(("method", "path"), [("delete_campaign", "campaign"), ("delete_message", "message"),
                                              ("delete_post", "post")])
def test_delete_sends_no_body_and_is_confirmed_by_result_true(hook, requests_mock, method, path):
    """``delete(id)``: DELETE ``/<resource>/{id}`` without a form, answering ``BaseApiResponse``."""
    requests_mock.delete(f"{US}/{path}/00Xabc", json={"Result": True})
    assert getattr(hook, method)("00Xabc") == {"Result": True, "Id": "00Xabc"}
    assert requests_mock.last_request.method == "DELETE" and not requests_mock.last_request.body


def test_iter_write_reports_every_refusal_and_confirms_only_what_the_answer_says(hook, requests_mock):
    requests_mock.delete(f"{US}/campaign/002a", json={"Result": True})
    requests_mock.delete(f"{US}/campaign/002b", status_code=404, json=ERROR_DOC)
    requests_mock.delete(f"{US}/campaign/002c", json={"Result": False, "Errors": {"API": {"Error": "Locked"}}})
    requests_mock.delete(f"{US}/campaign/002d", json={})
    records = [{"id": "002a"}, {"id": "002b"}, {"id": "002c"}, {"id": "002d"}, {"id": ""}, {"id": "002e", "x": 1}]
    (result,) = hook.iter_write("campaigns.delete", records, batch_size=10)
    assert (result.submitted, result.succeeded, result.failed) == (6, 1, 5)
    assert result.accepted == [{"Result": True, "Id": "002a"}]
    failures = {json.dumps(f.record): (f.identifier, f.error_message, f.status) for f in result.failures}
    assert failures['{"id": "002b"}'] == ("002b", "The page you are looking for was not found", 404)
    assert failures['{"id": "002c"}'] == ("002c", "Locked", 200)
    assert "outcome unknown" in failures['{"id": "002d"}'][1]
    assert failures['{"id": ""}'][1] == "required field 'id' is missing or empty"
    assert failures['{"id": "002e", "x": 1}'][1] == "a delete takes only 'id'; got also x"
    with pytest.raises(GtmConfigError, match="operation='campaigns.archive' is unknown"):
        list(hook.iter_write("campaigns.archive", records))


def test_update_without_the_object_confirms_nothing(hook, requests_mock):
    """campaigns.ts ``update`` returns ``response.Campaign``: without it nothing is confirmed."""
    requests_mock.post(f"{US}/campaign/002a", json={"Result": True})
    (result,) = hook.iter_write("campaigns.update", [{"id": "002a", "name": "N"}])
    assert result.succeeded == 0 and "outcome unknown" in result.failures[0].error_message


def test_iter_write_create_is_iter_create(hook, requests_mock):
    requests_mock.post(f"{US}/campaign", json={"Result": True, "Campaign": {"Id": "002n", "Name": "N"}})
    (result,) = hook.iter_write("campaigns.create", [{"name": "N"}])
    assert result.accepted == [{"Id": "002n", "Name": "N"}]
