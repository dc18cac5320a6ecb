"""Octopus Community Connect API v1 (https://octopus-documentation.pages.dev/connect/), written once.

Source: the published reference documents three paths (``/v1/feeds/posts`` with ``topicId``,
``/v1/messages/post``, ``/v1/users/profile``); the others follow the same naming and a connection
may override any of them (extra ``paths``). Read-only: no write operations.
"""

from __future__ import annotations

from airflow_provider_gtm.apis.model import ApiSpec, Resource

HOST = "https://connect.octopuscommunity.com"
PAGE_SIZE_MAX = 20  # pageSize 1-20
_DOCUMENTED = "Octopus Connect reference"
_BY_NAMING = "not documented: named like the documented paths"

def _call(name: str, hook_method: str, source: str) -> Resource:
    return Resource(DEFAULT_PATHS[name], hook_method=hook_method, source=source)


#: The paths a connection may override (extra ``paths``), by name.
DEFAULT_PATHS: dict[str, str] = {
    "topic_posts": "/v1/feeds/posts",
    "post_comments": "/v1/feeds/comments",
    "comment_replies": "/v1/feeds/replies",
    "user_posts": "/v1/feeds/user-posts",
    "all_posts": "/v1/feeds/all-posts",
    "post": "/v1/messages/post",
    "comment": "/v1/messages/comment",
    "reply": "/v1/messages/reply",
    "translations": "/v1/messages/translations",
    "profile": "/v1/users/profile",
    "topics": "/v1/topics",
}


def _feed(name: str, parent_param: str | None, source: str = _BY_NAMING, incremental: str = "") -> Resource:
    return Resource(DEFAULT_PATHS[name], page_size_max=PAGE_SIZE_MAX, parent_param=parent_param, source=source,
                    paging="pageCursor/pageSize (1-20)", incremental=incremental, hook_method="iter_feed_pages",
                    id_key="id",
                    since_param="originTime" if incremental else "", since_field="createdAt" if incremental else "",
                    since_unit="epoch_ms" if incremental else None)


OCTOPUS = ApiSpec(
    name="octopus",
    display_name="Octopus Community Connect",
    conn_type="octopus_connect",
    default_conn_id="octopus_connect_default",
    conn_name_attr="octopus_conn_id",
    hook_class="airflow_provider_gtm.hooks.octopus.OctopusConnectHook",
    hosts={"default": HOST},
    field_labels={"password": "API key", "host": "Base URL"},
    hidden_fields=("schema", "login"),
    placeholders={"host": HOST, "password": "connect-secret-...", "extra": '{"read_timeout": 60}'},
    external_doc_url="https://octopus-documentation.pages.dev/connect/",
    rate_windows=(),
    rate_limit_note="Octopus paces calls with its RateLimit-* headers, which are followed either way.",
    resources={
        "topic_posts": _feed("topic_posts", "topicId", _DOCUMENTED),
        "post_comments": _feed("post_comments", "postId"),
        "comment_replies": _feed("comment_replies", "commentId"),
        "user_posts": _feed("user_posts", "octopusId"),
        "all_posts": _feed("all_posts", None, incremental="originTime=<watermark createdAt − 1 ms>, direction=After"),
    },
    # The seed page's other operations, one GET each (issue 22): message details (by postId or
    # clientObjectId; comments, replies), a profile (octopusId or loginId), all topics, a message's
    # translations. The hook reads their paths from ``paths`` (a connection may override them).
    calls={
        "post": _call("post", "get_post", _DOCUMENTED + " (postId or clientObjectId; retrieveLatestComments)"),
        "comment": _call("comment", "get_comment", _BY_NAMING + " (commentId; retrieveLatestReplies)"),
        "reply": _call("reply", "get_reply", _BY_NAMING + " (replyId)"),
        "profile": _call("profile", "get_profile", _DOCUMENTED + " (octopusId or loginId; retrieveLatestPosts)"),
        "topics": _call("topics", "get_topics", _BY_NAMING + " ('Get all topics')"),
        "translations": _call("translations", "get_translations",
                              _BY_NAMING + " ('Get all translations of a message')"),
    },
    paths=DEFAULT_PATHS,
    fetch_operator="OctopusFetchOperator",
    fetch_argument="feed",
    source="https://octopus-documentation.pages.dev/connect/",
)
