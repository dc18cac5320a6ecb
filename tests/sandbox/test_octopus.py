"""Contract tests of the Octopus Community Connect sandbox, driven with plain requests."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_gtm.sandbox import SANDBOX_CREDENTIALS

AUTH = {"Authorization": f"Bearer {SANDBOX_CREDENTIALS['octopus']['password']}"}


@pytest.fixture
def get(gtm_sandbox):
    base = gtm_sandbox.base_url("octopus")

    def call(path, headers=AUTH, **params):
        return requests.get(base + path, headers=headers, params=params, timeout=10)

    return call


def test_missing_key_is_401_and_wrong_key_is_403(get):
    assert get("/v1/topics", headers={}).status_code == 401
    wrong = get("/v1/topics", headers={"Authorization": "Bearer connect-secret-wrong"})
    assert wrong.status_code == 403
    assert wrong.json()["error"]["message"] == "Invalid API key"


def test_all_posts_pages_with_an_opaque_cursor_until_null(gtm_sandbox, get):
    gtm_sandbox.configure(records=47)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"pageCursor": cursor, "pageSize": 20} if cursor else {"pageSize": 20, "order": "Asc", "originTime": 0,
                                                         "direction": "After"}
        body = get("/v1/feeds/all-posts", **params).json()
        seen += [p["id"] for p in body["posts"]]
        pages += 1
        cursor = body["nextPageCursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 47
    assert seen == sorted(seen)  # Asc, encoded in the cursor


def test_cursor_keeps_its_order_whatever_is_resent(get):
    first = get("/v1/feeds/posts", topicId="topic-0", pageSize=2, order="Desc").json()
    second = get("/v1/feeds/posts", pageCursor=first["nextPageCursor"], order="Asc").json()
    created = [p["createdAt"] for p in first["posts"] + second["posts"]]
    assert created == sorted(created, reverse=True)


def test_origin_time_and_direction_filter_all_posts(get):
    posts = get("/v1/feeds/all-posts", pageSize=20, order="Asc").json()["posts"]
    origin = posts[4]["createdAt"]
    after = get("/v1/feeds/all-posts", pageSize=20, order="Asc", originTime=origin, direction="After").json()
    assert all(p["createdAt"] > origin for p in after["posts"])
    before = get("/v1/feeds/all-posts", pageSize=20, originTime=origin, direction="Before").json()
    assert [p["createdAt"] for p in before["posts"]] == sorted((p["createdAt"] for p in posts[:4]), reverse=True)


@pytest.mark.parametrize("size", [0, 21])
def test_page_size_outside_1_to_20_is_400(get, size):
    response = get("/v1/feeds/all-posts", pageSize=size)
    assert response.status_code == 400 and "pageSize" in response.json()["error"]["message"]


def test_malformed_cursor_is_400(get):
    assert get("/v1/feeds/all-posts", pageCursor="not-a-cursor").status_code == 400


def test_comments_replies_and_details(get):
    post = get("/v1/feeds/posts", topicId="topic-1", pageSize=1).json()["posts"][0]
    comments = get("/v1/feeds/comments", postId=post["id"]).json()["comments"]
    assert comments and all(c["parentID"] == post["id"] for c in comments)
    replies = get("/v1/feeds/replies", commentId=comments[0]["id"]).json()["replies"]
    assert replies and all(r["parentID"] == comments[0]["id"] for r in replies)
    detail = get("/v1/messages/post", postId=post["id"], retrieveLatestComments="true").json()["post"]
    assert detail["id"] == post["id"] and len(detail["latestComments"]) <= 5
    assert get("/v1/messages/comment", commentId=comments[0]["id"]).json()["comment"]["id"] == comments[0]["id"]
    assert get("/v1/messages/reply", replyId=replies[0]["id"]).json()["reply"]["id"] == replies[0]["id"]
    assert get("/v1/messages/post", postId="post-99999999").status_code == 404


def test_profile_with_latest_posts_and_topics(get):
    author = get("/v1/feeds/all-posts", pageSize=1).json()["posts"][0]["createdBy"]
    body = get("/v1/users/profile", octopusId=author["profileID"], retrieveLatestPosts="true").json()
    assert body["profile"]["nickname"] == author["nickname"]
    assert body["firstPostsPage"] and all(p["createdBy"]["profileID"] == author["profileID"]
                                          for p in body["firstPostsPage"])
    assert len(get("/v1/topics").json()["topics"]) == 5


def test_rate_limit_headers_and_429_with_retry_after(gtm_sandbox, get):
    gtm_sandbox.configure(rate_limits={"octopus": {"windows": [[2, 60]]}})
    first = get("/v1/topics")
    assert first.headers["RateLimit-Limit"] == "2" and first.headers["RateLimit-Remaining"] == "1"
    get("/v1/topics")
    limited = get("/v1/topics")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert gtm_sandbox.state()["rate_limited"]["octopus"] == 1


def test_paths_and_cursor_field_are_configurable(gtm_sandbox, get):
    gtm_sandbox.configure(octopus={"paths": {"all_posts": "/v1/posts"}, "cursor_field": "next"})
    body = get("/v1/posts", pageSize=1).json()
    assert "next" in body and len(body["posts"]) == 1
    assert get("/v1/feeds/all-posts").status_code == 404


def test_every_catalogued_single_call_is_served(get):
    """/work/shared/seeds 002_75bcc6fce979b39c (the Octopus Connect page): "Get details of a message
    item", "Get details about a profile", "Get all topics", "Get all translations of a message" -- every
    ``OCTOPUS.calls`` row answers 200 for an object the feeds name (issue 22: each operation catalogued)."""
    from airflow_provider_gtm.apis.octopus import OCTOPUS

    post = get("/v1/feeds/posts", topicId="topic-1", pageSize=1).json()["posts"][0]
    comment = get("/v1/feeds/comments", postId=post["id"]).json()["comments"][0]
    reply = get("/v1/feeds/replies", commentId=comment["id"]).json()["replies"][0]
    params = {"post": {"postId": post["id"]}, "comment": {"commentId": comment["id"]},
              "reply": {"replyId": reply["id"]}, "profile": {"octopusId": post["createdBy"]["profileID"]},
              "topics": {}, "translations": {"messageId": post["id"]}}
    assert set(params) == set(OCTOPUS.calls)
    for name, row in OCTOPUS.calls.items():
        assert get(row.path, **params[name]).status_code == 200, (name, row.source)
