"""OctopusConnectHook: Bearer auth, hosts, feeds and pageCursor paging, details, errors, retries and rate limits."""

from __future__ import annotations

import email.utils
import logging
from datetime import datetime, timedelta, timezone
from itertools import islice
from urllib.parse import urlsplit

import pytest

from airflow_provider_gtm.core.errors import (
    GtmAuthError,
    GtmClientError,
    GtmConfigError,
    GtmNotFoundError,
    GtmPaginationError,
    GtmRateLimitError,
)
from airflow_provider_gtm.hooks.octopus import OctopusConnectHook, to_epoch_ms

from .support import query, set_connection

API_KEY = "connect-secret-3f9a7c1e5b2d4f60a8c9"
API = "https://connect.octopuscommunity.com"
TOPIC_POSTS = f"{API}/v1/feeds/posts"
ALL_POSTS = f"{API}/v1/feeds/all-posts"
TOPICS = f"{API}/v1/topics"
POST = f"{API}/v1/messages/post"


def set_conn(monkeypatch, *, host=None, password=API_KEY, extra=None):
    set_connection(monkeypatch, "octopus_connect_default", "octopus_connect", host=host, extra=extra,
                   password=password)


@pytest.fixture
def hook(monkeypatch, timer):
    set_conn(monkeypatch)
    return OctopusConnectHook(timer=timer)


def posts(*ids: str, cursor: str | None = None, field: str = "nextPageCursor") -> dict:
    body: dict = {"posts": [{"id": i, "content": {"text": f"post {i}"}} for i in ids]}
    if cursor is not None:
        body[field] = cursor
    return body


# -- connection, auth, hosts ---------------------------------------------------------------------

def test_bearer_auth_user_agent_and_default_host(hook, requests_mock):
    requests_mock.get(TOPICS, json={"topics": [{"id": "t1"}]})
    assert hook.get_topics() == [{"id": "t1"}]
    request = requests_mock.last_request
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["User-Agent"].startswith("airflow-provider-gtm/")
    assert request.url == TOPICS


def test_connection_is_read_lazily(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_OCTOPUS_CONNECT_DEFAULT", raising=False)
    hook = OctopusConnectHook()  # no connection yet: constructing must not read it
    assert hook.conn_id == "octopus_connect_default"


def test_missing_api_key_is_named(monkeypatch, timer, requests_mock):
    set_conn(monkeypatch, password="")
    with pytest.raises(GtmConfigError) as info:
        OctopusConnectHook(timer=timer).get_topics()
    assert "'password'" in str(info.value) and "API key" in str(info.value)
    assert requests_mock.call_count == 0


def test_http_allowed_for_loopback_only(monkeypatch, timer, requests_mock):
    set_conn(monkeypatch, host="http://127.0.0.1:9/x")
    requests_mock.get("http://127.0.0.1:9/x/v1/topics", json={"topics": []})
    assert OctopusConnectHook(timer=timer).get_topics() == []
    assert requests_mock.last_request.url == "http://127.0.0.1:9/x/v1/topics"

    set_conn(monkeypatch, host="http://example.com")
    requests_mock.reset_mock()
    with pytest.raises(GtmConfigError, match="loopback"):
        OctopusConnectHook(timer=timer).get_topics()
    assert requests_mock.call_count == 0


# -- feeds and pagination ------------------------------------------------------------------------

def test_topic_posts_follow_body_cursor(hook, requests_mock):
    requests_mock.get(TOPIC_POSTS, [
        {"json": posts("p1", "p2", cursor="c1")},
        {"json": posts("p3", "p4", cursor="c2")},
        {"json": posts("p5")},
    ])
    pages = list(hook.iter_feed_pages("topic_posts", parent_id="t1", page_size=2))
    assert [[r["id"] for r in p.records] for p in pages] == [["p1", "p2"], ["p3", "p4"], ["p5"]]
    assert [p.next_state for p in pages] == ["c1", "c2", None]
    sent = [query(r) for r in requests_mock.request_history]
    assert sent == [
        {"pageSize": "2", "topicId": "t1"},
        {"pageSize": "2", "topicId": "t1", "pageCursor": "c1"},
        {"pageSize": "2", "topicId": "t1", "pageCursor": "c2"},
    ]


def test_iter_feed_streams_records_with_order(hook, requests_mock):
    requests_mock.get(TOPIC_POSTS, [{"json": posts("p1", cursor="c1")}, {"json": posts("p2")}])
    assert [r["id"] for r in hook.iter_feed("topic_posts", parent_id="t1", order="Asc")] == ["p1", "p2"]
    assert query(requests_mock.request_history[0]) == {"pageSize": "20", "order": "Asc", "topicId": "t1"}


def test_cursor_field_extra_pins_the_field(monkeypatch, timer, requests_mock):
    set_conn(monkeypatch, extra={"cursor_field": "next"})
    requests_mock.get(TOPIC_POSTS, [
        {"json": {"posts": [{"id": "p1"}], "pageCursor": "echo", "next": "n1"}},
        {"json": {"posts": [{"id": "p2"}], "pageCursor": "n1", "repliesCursor": "r9"}},
    ])
    pages = list(OctopusConnectHook(timer=timer).iter_feed_pages("topic_posts", parent_id="t1"))
    assert [p.next_state for p in pages] == ["n1", None]
    assert requests_mock.call_count == 2
    assert query(requests_mock.request_history[1])["pageCursor"] == "n1"


def test_echoed_request_cursor_is_not_taken_for_the_next_one(hook, requests_mock):
    # Undocumented field names: an API that echoes the pageCursor it was sent must not end the list early.
    requests_mock.get(TOPIC_POSTS, [
        {"json": {"posts": [{"id": "p1"}], "cursor": "c1"}},
        {"json": {"pageCursor": "c1", "posts": [{"id": "p2"}], "cursor": "c2"}},
        {"json": {"pageCursor": "c2", "posts": [{"id": "p3"}]}},
    ])
    assert [r["id"] for r in islice(hook.iter_feed("topic_posts", parent_id="t1"), 10)] == ["p1", "p2", "p3"]
    assert requests_mock.call_count == 3


def test_topics_accepts_a_bare_list_or_another_list_field(hook, requests_mock):
    requests_mock.get(TOPICS, [{"json": [{"id": "t1"}]}, {"json": {"items": [{"id": "t2"}]}}])
    assert hook.get_topics() == [{"id": "t1"}]
    assert hook.get_topics() == [{"id": "t2"}]


def test_start_cursor_resumes(hook, requests_mock):
    requests_mock.get(TOPIC_POSTS, json=posts("p9"))
    pages = list(hook.iter_feed_pages("topic_posts", parent_id="t1", start_cursor="c5"))
    assert [p.state for p in pages] == ["c5"]
    assert query(requests_mock.last_request)["pageCursor"] == "c5"
    assert requests_mock.call_count == 1


def test_limit_stops_without_an_extra_request(hook, requests_mock):
    requests_mock.get(TOPIC_POSTS, [
        {"json": posts("p1", "p2", cursor="c1")},
        {"json": posts("p3", "p4", cursor="c2")},
        {"json": posts("p5", "p6", cursor="c3")},
    ])
    records = list(hook.iter_feed("topic_posts", parent_id="t1", page_size=2, limit=3))
    assert [r["id"] for r in records] == ["p1", "p2", "p3"]
    assert requests_mock.call_count == 2


def test_repeated_cursor_is_an_error_not_an_end(hook, requests_mock, caplog, timer):
    # Before issue #10 a repeated cursor ended the list with a warning and the fetch succeeded.
    caplog.set_level(logging.WARNING)
    requests_mock.get(TOPIC_POSTS, json=posts("p1", cursor="same"))  # every page sends the same cursor
    pages = []
    with pytest.raises(GtmPaginationError, match="'same' again") as caught:
        pages.extend(islice(hook.iter_feed_pages("topic_posts", parent_id="t1"), 10))  # capped: never hangs
    assert caught.value.retryable
    assert len(pages) == 1 and pages[0].next_state == "same"
    assert requests_mock.call_count == 2 + 3  # the second page re-fetched 3 times
    assert len(timer.sleeps) == 3


@pytest.mark.parametrize("body", [{}, {"posts": [], "nextPageCursor": "c2"}, [], "text"])
def test_incomplete_page_mid_list_is_refetched_then_an_error(hook, requests_mock, timer, body):
    requests_mock.get(TOPIC_POSTS, [{"json": posts("p1", cursor="c1")}, {"json": body}])
    with pytest.raises(GtmPaginationError, match="incomplete page at cursor 'c1'"):
        list(hook.iter_feed("topic_posts", parent_id="t1"))
    assert requests_mock.call_count == 5


def test_404_mid_list_is_refetched_and_recovers(hook, requests_mock, timer):
    requests_mock.get(TOPIC_POSTS, [{"json": posts("p1", cursor="c1")}, {"status_code": 404, "json": {}},
                                    {"json": posts("p2")}])
    assert [r["id"] for r in hook.iter_feed("topic_posts", parent_id="t1")] == ["p1", "p2"]


def test_all_posts_origin_time_direction_order(hook, requests_mock):
    requests_mock.get(ALL_POSTS, json=posts("p1"))
    list(hook.iter_feed_pages("all_posts", origin_time="2026-01-01T00:00:00Z", direction="After", order="Asc"))
    assert query(requests_mock.last_request) == {
        "pageSize": "20", "order": "Asc", "direction": "After", "originTime": "1767225600000",
    }
    list(hook.iter_feed_pages("all_posts", origin_time=datetime(2026, 1, 2, tzinfo=timezone.utc)))
    assert query(requests_mock.last_request) == {"pageSize": "20", "originTime": "1767312000000"}


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"feed": "all_posts", "origin_time": "last tuesday"}, "origin_time"),
        ({"feed": "all_posts", "origin_time": True}, "origin_time"),
        ({"feed": "all_posts", "direction": "Sideways"}, "direction"),
        ({"feed": "all_posts", "order": "asc"}, "order"),
        ({"feed": "all_posts", "parent_id": "t1"}, "parent_id"),
        ({"feed": "topic_posts"}, "parent_id"),
        ({"feed": "post_comments", "parent_id": ""}, "parent_id"),
        ({"feed": "topic_posts", "parent_id": "t1", "origin_time": 1}, "all_posts"),
        ({"feed": "topic_posts", "parent_id": "t1", "page_size": 0}, "page_size"),
        ({"feed": "topic_posts", "parent_id": "t1", "page_size": 21}, "page_size"),
        ({"feed": "topic_posts", "parent_id": "t1", "page_size": True}, "page_size"),
        ({"feed": "topic_replies", "parent_id": "t1"}, "feed='topic_replies'"),
    ],
)
def test_bad_feed_arguments_name_the_argument(hook, requests_mock, kwargs, pattern):
    feed = kwargs.pop("feed")
    with pytest.raises(GtmConfigError, match=pattern):
        list(hook.iter_feed_pages(feed, **kwargs))
    assert requests_mock.call_count == 0


def test_paths_and_parent_params_overrides(monkeypatch, timer, requests_mock):
    set_conn(monkeypatch, extra={"paths": {"all_posts": "/v2/posts"}, "parent_params": {"post_comments": "post"}})
    hook = OctopusConnectHook(timer=timer)
    requests_mock.get(f"{API}/v2/posts", json=posts("p1"))
    requests_mock.get(f"{API}/v1/feeds/comments", json={"comments": [{"id": "c1"}]})
    assert [r["id"] for r in hook.iter_feed("all_posts")] == ["p1"]
    assert [r["id"] for r in hook.iter_feed("post_comments", parent_id="p1")] == ["c1"]
    assert query(requests_mock.last_request) == {"pageSize": "20", "post": "p1"}
    assert hook.path("all_posts") == "/v2/posts" and hook.path("topics") == "/v1/topics"


def test_unknown_path_name_is_rejected(monkeypatch, timer, requests_mock):
    set_conn(monkeypatch, extra={"paths": {"everything": "/v1/all"}})
    with pytest.raises(GtmConfigError, match="everything"):
        OctopusConnectHook(timer=timer).get_topics()
    assert requests_mock.call_count == 0


# -- details -------------------------------------------------------------------------------------

def test_get_post_by_id_and_by_client_object_id(hook, requests_mock):
    requests_mock.get(POST, json={"post": {"id": "p1", "metrics": None}})
    assert hook.get_post("p1") == {"id": "p1", "metrics": None}
    assert urlsplit(requests_mock.last_request.url).path == "/v1/messages/post"
    assert query(requests_mock.last_request) == {"postId": "p1"}
    assert hook.get_post(client_object_id="Article-42", retrieve_latest_comments=True)["id"] == "p1"
    assert query(requests_mock.last_request) == {"clientObjectId": "Article-42", "retrieveLatestComments": "true"}


@pytest.mark.parametrize("kwargs", [{}, {"post_id": "p1", "client_object_id": "o1"}])
def test_get_post_needs_exactly_one_id(hook, requests_mock, kwargs):
    with pytest.raises(GtmConfigError, match="exactly one of post_id or client_object_id"):
        hook.get_post(**kwargs)
    assert requests_mock.call_count == 0


def test_comment_reply_translations_and_topics(hook, requests_mock):
    requests_mock.get(f"{API}/v1/messages/comment", json={"comment": {"id": "c1"}})
    requests_mock.get(f"{API}/v1/messages/reply", json={"reply": {"id": "r1"}})
    requests_mock.get(f"{API}/v1/messages/translations", json={"text": {"fr": "Bonjour"}})
    requests_mock.get(TOPICS, json={"topics": [{"id": "t1"}, {"id": "t2"}]})
    assert hook.get_comment("c1", retrieve_latest_replies=True) == {"id": "c1"}
    assert query(requests_mock.last_request) == {"commentId": "c1", "retrieveLatestReplies": "true"}
    assert hook.get_reply("r1") == {"id": "r1"}
    assert query(requests_mock.last_request) == {"replyId": "r1"}
    assert hook.get_translations("m1") == {"text": {"fr": "Bonjour"}}
    assert query(requests_mock.last_request) == {"messageId": "m1"}
    assert hook.get_topics() == [{"id": "t1"}, {"id": "t2"}]
    assert [urlsplit(r.url).path for r in requests_mock.request_history] == [
        "/v1/messages/comment", "/v1/messages/reply", "/v1/messages/translations", "/v1/topics",
    ]


def test_get_profile_by_octopus_id_or_login_id(hook, requests_mock):
    body = {"profile": {"nickname": "ada"}, "firstPostsPage": [{"content": {"text": "hi"}}]}
    requests_mock.get(f"{API}/v1/users/profile", json=body)
    assert hook.get_profile("u1", retrieve_latest_posts=True) == body
    assert query(requests_mock.last_request) == {"octopusId": "u1", "retrieveLatestPosts": "true"}
    assert hook.get_profile(login_id="ada@acme.example") == body
    assert query(requests_mock.last_request) == {"loginId": "ada@acme.example"}
    with pytest.raises(GtmConfigError, match="exactly one of octopus_id or login_id"):
        hook.get_profile("u1", login_id="ada@acme.example")
    assert requests_mock.call_count == 2


# -- errors and retries --------------------------------------------------------------------------

def test_429_waits_retry_after_seconds(hook, requests_mock, timer):
    requests_mock.get(TOPICS, [
        {"status_code": 429, "headers": {"Retry-After": "7"}, "json": {"message": "Too many requests"}},
        {"json": {"topics": [{"id": "t1"}]}},
    ])
    assert hook.get_topics() == [{"id": "t1"}]
    assert requests_mock.call_count == 2
    assert len(timer.sleeps) == 1 and 7 <= timer.sleeps[0] <= 8


def test_429_waits_retry_after_http_date(hook, requests_mock, timer):
    # The client reads "now" from the injected timer: FakeTimer's wall clock starts at 2026-01-01T00:00:00Z.
    when = email.utils.format_datetime(timer.utcnow() + timedelta(seconds=30), usegmt=True)
    requests_mock.get(TOPICS, [
        {"status_code": 429, "headers": {"Retry-After": when}},
        {"json": {"topics": []}},
    ])
    assert hook.get_topics() == []
    assert requests_mock.call_count == 2
    assert timer.sleeps == [pytest.approx(30, abs=1)]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_retried_for_gets(hook, requests_mock, timer, status):
    requests_mock.get(TOPICS, [{"status_code": status, "text": "upstream failed"}, {"json": {"topics": []}}])
    assert hook.get_topics() == []
    assert requests_mock.call_count == 2
    assert len(timer.sleeps) == 1 and 1 <= timer.sleeps[0] <= 2  # first backoff step plus jitter


@pytest.mark.parametrize(
    ("status", "error", "body", "message"),
    [
        (400, GtmClientError, {"error": {"message": "Invalid pageCursor"}}, "Invalid pageCursor"),
        (401, GtmAuthError, {"message": "Missing API key"}, "Missing API key"),
        (403, GtmAuthError, {"error": "Invalid API key"}, "Invalid API key"),
        (404, GtmNotFoundError, {"error": {"message": "Post not found"}}, "Post not found"),
    ],
)
def test_client_errors_not_retried(hook, requests_mock, timer, status, error, body, message):
    requests_mock.get(TOPIC_POSTS, status_code=status, json=body)
    with pytest.raises(error) as info:
        # A 404 is raised as is on a list's first page only (mid-list it is re-fetched).
        list(hook.iter_feed_pages("topic_posts", parent_id="t1", start_cursor=None if status == 404 else "bad"))
    assert type(info.value) is error
    assert info.value.status == status and info.value.api_message == message
    assert requests_mock.call_count == 1 and timer.sleeps == []


def test_ratelimit_headers_pace_the_next_call(hook, requests_mock, timer):
    requests_mock.get(TOPICS, [
        {"json": {"topics": []}, "headers": {"RateLimit-Limit": "60", "RateLimit-Remaining": "3",
                                             "RateLimit-Reset": "10"}},
        {"json": {"topics": []}, "headers": {"RateLimit-Limit": "60", "RateLimit-Remaining": "0",
                                             "RateLimit-Reset": "10"}},
        {"json": {"topics": []}},
    ])
    hook.get_topics()
    hook.get_topics()
    assert timer.sleeps == []  # credits were left: no wait
    hook.get_topics()
    assert timer.sleeps == [pytest.approx(10, abs=0.5)]  # no credit left: waited for the refill before sending
    assert requests_mock.call_count == 3


def test_wait_budget_exhausted_names_server_wait(monkeypatch, requests_mock, timer):
    set_conn(monkeypatch, extra={"max_wait_seconds": 5})
    requests_mock.get(TOPICS, status_code=429, headers={"Retry-After": "60"}, json={"message": "Too many requests"})
    with pytest.raises(GtmRateLimitError) as info:
        OctopusConnectHook(timer=timer).get_topics()
    assert info.value.retry_after == pytest.approx(60)
    assert "the server asked to wait 60s" in str(info.value)
    assert requests_mock.call_count == 1 and timer.sleeps == []


# -- secrets and test_connection -----------------------------------------------------------------

def test_auth_error_never_carries_the_key(hook, requests_mock, caplog):
    caplog.set_level(logging.DEBUG)
    requests_mock.get(TOPICS, status_code=401, json={"error": {"message": "Invalid credentials"}})
    with pytest.raises(GtmAuthError) as info:
        hook.get_topics()
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {API_KEY}"  # the key was sent
    assert API_KEY not in str(info.value) and API_KEY not in repr(info.value.body) and API_KEY not in caplog.text


def test_test_connection_ok_and_refused(hook, requests_mock):
    requests_mock.get(TOPICS, [
        {"json": {"topics": [{"id": "t1"}, {"id": "t2"}]}},
        {"status_code": 403, "json": {"message": "Invalid API key"}},
    ])
    assert hook.test_connection() == (True, "Connected to Octopus Community Connect: 2 topics visible.")
    ok, message = hook.test_connection()
    assert not ok and "HTTP 403: Invalid API key" in message and API_KEY not in message


def test_test_connection_without_key(monkeypatch, timer, requests_mock):
    set_conn(monkeypatch, password="")
    ok, message = OctopusConnectHook(timer=timer).test_connection()
    assert not ok and "API key" in message
    assert requests_mock.call_count == 0


# -- to_epoch_ms ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1767225600000, 1767225600000),
        ("1767225600000", 1767225600000),
        (" 1767225600000 ", 1767225600000),
        ("2026-01-01T01:00:00+01:00", 1767225600000),
        (datetime(2026, 1, 1), 1767225600000),  # naive: UTC
        (datetime(2026, 1, 1, 0, 0, 1, tzinfo=timezone.utc), 1767225601000),
    ],
)
def test_to_epoch_ms(value, expected):
    assert to_epoch_ms(value) == expected


@pytest.mark.parametrize("value", [True, False, "yesterday", "", [2026]])
def test_to_epoch_ms_rejects(value):
    with pytest.raises(GtmConfigError, match="since"):
        to_epoch_ms(value, "since")
