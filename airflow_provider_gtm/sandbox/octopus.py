"""Octopus Community Connect API v1 in the sandbox (``/octopus``), after section 3 of the API reference.

Auth: ``Authorization: Bearer <SANDBOX_CREDENTIALS["octopus"]["password"]>``; missing → 401, wrong →
403. Every call is a GET.

Routes (defaults; the undocumented ones are configurable, see below):

- feeds: ``/v1/feeds/posts?topicId=`` (documented), ``/v1/feeds/comments?postId=``,
  ``/v1/feeds/replies?commentId=``, ``/v1/feeds/user-posts?octopusId=``, ``/v1/feeds/all-posts``
  (``originTime`` ms, ``direction`` ``Before``|``After`` default ``Before``); all take ``pageSize``
  1–20 (default 5; outside → 400), ``order`` ``Asc``|``Desc`` (default ``Desc``) and ``pageCursor``.
- messages: ``/v1/messages/post`` (documented; ``postId`` or ``clientObjectId``,
  ``retrieveLatestComments``), ``/v1/messages/comment`` (``commentId``, ``retrieveLatestReplies``),
  ``/v1/messages/reply`` (``replyId``), ``/v1/messages/translations`` (``messageId``).
- ``/v1/users/profile`` (documented; ``octopusId`` or ``loginId``, ``retrieveLatestPosts`` →
  ``firstPostsPage``), ``/v1/topics``.

Pagination: ``pageCursor`` is opaque (URL-safe base64 of JSON: feed, parent, offset, order,
direction, origin); once sent, ``order``/``direction``/``originTime`` are ignored; a malformed one →
400. A page answers ``{"<posts|comments|replies>": [...], "nextPageCursor": "..."}`` and the last
page has ``"nextPageCursor": null``.

Rate limit: per key, 600 credits per minute (fixed window; every call costs one, whatever its
status), ``RateLimit-Limit/Remaining/Reset`` on every answer, 429 with ``Retry-After``.

``configure`` options: ``paths`` ({name: path} for ``topic_posts``, ``post_comments``,
``comment_replies``, ``user_posts``, ``all_posts``, ``post``, ``comment``, ``reply``, ``profile``,
``topics``, ``translations``), ``parent_params`` ({feed: query parameter}), ``cursor_field`` (the
name of the next-cursor field, default ``nextPageCursor``).

``state()``: ``{}`` (the API is read-only).

Documented choices (the reference leaves these open):

- The error body is ``{"error": {"code": <status>, "message": ...}}``.
- The next-cursor field is ``nextPageCursor`` (configurable), ``null`` on the last page.
- Posts carry both ``createdBy.name`` (the REST example) and ``createdBy.nickname`` (the SDK).
- 600 credits per minute (no number is published).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_gtm.apis.octopus import OCTOPUS
from airflow_provider_gtm.sandbox.framework import (
    HttpError,
    RateLimitSpec,
    Request,
    Response,
    Route,
    SandboxApi,
    SandboxContext,
    json_response,
    page_of,
)

# Spelled out here, not imported from the hook: the sandbox stands for the API, so a wrong default
# in the hook must make the tests fail rather than be served back to it.
DEFAULT_PATHS = {
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
DEFAULT_PARENT_PARAMS = {"topic_posts": "topicId", "post_comments": "postId", "comment_replies": "commentId",
                         "user_posts": "octopusId"}
FEED_KEYS = {"topic_posts": "posts", "post_comments": "comments", "comment_replies": "replies",
             "user_posts": "posts", "all_posts": "posts"}
TOPICS = 5
CHILDREN = 3  # comments per post, replies per comment
BASE_MS = 1_767_225_600_000  # 2026-01-01 UTC
STEP_MS = 3_600_000  # one synthetic post per hour


class OctopusSandbox(SandboxApi):
    name = OCTOPUS.name  # the path prefix
    default_rate_limit = RateLimitSpec(windows=[(600, 60.0)], fixed=True, headers=True, retry_after=True)
    cacheable_gets = True

    def __init__(self, ctx: SandboxContext) -> None:
        self.options = self._default_options()
        super().__init__(ctx)
        self.options = self._default_options()

    @staticmethod
    def _default_options() -> dict[str, Any]:
        return {"paths": dict(DEFAULT_PATHS), "parent_params": dict(DEFAULT_PARENT_PARAMS),
                "cursor_field": "nextPageCursor"}

    def routes(self) -> list[Route]:
        return []  # paths are configurable: dispatch() resolves them at request time

    def dispatch(self, request: Request) -> Response:
        for name, path in self.options["paths"].items():
            if path.rstrip("/") == request.path.rstrip("/"):
                if request.method != "GET":
                    return self.error(405, f"Method {request.method} not allowed: the Connect API is read-only")
                try:
                    if name in FEED_KEYS:
                        return self.feed(request, name)
                    return getattr(self, f"get_{name}")(request)
                except HttpError as exc:
                    return self.error(exc.status, exc.message)
        return self.error(404, f"Not found: {request.path}")

    # --- framework hooks --------------------------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        header = request.header("Authorization")
        if not header:
            return self.error(401, "Missing API key: send Authorization: Bearer <Connect API secret key>")
        if header != f"Bearer {self.ctx.credentials['octopus']['password']}":
            return self.error(403, "Invalid API key")
        return None

    def error(self, status: int, message: str, **extra: Any) -> Response:
        return json_response({"error": {"code": status, "message": message}}, status)

    def rate_limited(self, retry_after: float | None, blocked: bool) -> Response:
        return self.error(429, "Rate limit exceeded")

    def reset(self) -> None:
        self.options = self._default_options()

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"paths", "parent_params", "cursor_field"}
        if unknown:
            raise ValueError(f"unknown octopus option(s) {sorted(unknown)}; use paths, parent_params, cursor_field")
        for key in ("paths", "parent_params"):
            if key in options:
                bad = set(options[key]) - set(self.options[key])
                if bad:
                    raise ValueError(f"unknown octopus {key} name(s) {sorted(bad)}")
                self.options[key].update(options[key])
        if "cursor_field" in options:
            self.options["cursor_field"] = str(options["cursor_field"])

    # --- synthetic data ---------------------------------------------------------------------------
    def _authors(self) -> int:
        return max(1, self.ctx.records // 3 + 1)

    def _author(self, index: int) -> dict[str, Any]:
        return {"profileID": f"user-{index:06d}", "name": f"Member {index}", "nickname": f"member{index}",
                "avatarURL": None, "tags": [], "gamificationLevel": index % 5}

    def _post(self, index: int) -> dict[str, Any]:
        rng = self.ctx.rng("octopus", "post", index)
        author = rng.randrange(self._authors())
        topic = index % TOPICS
        return {
            "id": f"post-{index:08d}", "parentID": f"topic-{topic}", "topicId": f"topic-{topic}",
            "createdAt": BASE_MS + index * STEP_MS, "updatedAt": BASE_MS + index * STEP_MS,
            "createdBy": self._author(author),
            "content": {"text": f"Synthetic community post {index}", "originalLanguage": "en"},
            "metrics": {"childrenCount": CHILDREN, "viewCount": rng.randrange(1000), "likeCount": rng.randrange(50),
                        "reactions": [{"unicode": "👍", "count": rng.randrange(20)}]},
        }

    def _child(self, kind: str, parent: str, index: int) -> dict[str, Any]:
        rng = self.ctx.rng("octopus", kind, parent, index)
        return {"id": f"{kind}-{parent.split('-', 1)[1]}-{index}", "parentID": parent,
                "createdAt": BASE_MS + index * 60_000, "createdBy": self._author(rng.randrange(self._authors())),
                "content": {"text": f"Synthetic {kind} {index} on {parent}", "originalLanguage": "en"},
                "metrics": {"childrenCount": CHILDREN if kind == "comment" else 0, "viewCount": rng.randrange(100)}}

    def _post_index(self, post_id: str | None) -> int:
        if post_id and post_id.startswith("post-") and post_id[5:].isdigit():
            index = int(post_id[5:])
            if 0 <= index < self.ctx.records:
                return index
        raise HttpError(404, f"Post not found: {post_id}")

    def _feed_items(self, feed: str, parent: str | None, origin: int | None, direction: str) -> tuple[Any, int]:
        """(item at position i, count) for one feed, in ascending creation order."""
        total = self.ctx.records
        key = parent or ""
        if feed == "topic_posts":
            if not key.startswith("topic-") or not key[6:].isdigit() or int(key[6:]) >= TOPICS:
                raise HttpError(404, f"Topic not found: {parent}")
            topic = int(key[6:])
            count = len(range(topic, total, TOPICS))
            return (lambda i: self._post(topic + i * TOPICS)), count
        if feed == "post_comments":
            self._post_index(parent)
            return (lambda i: self._child("comment", key, i)), CHILDREN
        if feed == "comment_replies":
            if not key.startswith("comment-"):
                raise HttpError(404, f"Comment not found: {parent}")
            return (lambda i: self._child("reply", key, i)), CHILDREN
        if feed == "user_posts":
            # Scans the posts of the sandbox list: user feeds are small lists in practice.
            indexes = [i for i in range(total) if self._post(i)["createdBy"]["profileID"] == parent]
            return (lambda i: self._post(indexes[i])), len(indexes)
        start, end = 0, total
        if origin is not None:
            first_after = max(0, min(total, (origin - BASE_MS) // STEP_MS + 1)) if origin >= BASE_MS else 0
            last_before = max(0, min(total, -(-(origin - BASE_MS) // STEP_MS))) if origin >= BASE_MS else 0
            start, end = (first_after, total) if direction == "After" else (0, last_before)
        return (lambda i: self._post(start + i)), max(0, end - start)

    # --- handlers ---------------------------------------------------------------------------------
    def feed(self, request: Request, feed: str) -> Response:
        try:
            size = int(request.arg("pageSize") or 5)
        except ValueError:
            raise HttpError(400, "pageSize must be an integer between 1 and 20") from None
        if not 1 <= size <= 20:
            raise HttpError(400, f"pageSize must be between 1 and 20, got {size}")
        cursor = request.arg("pageCursor")
        if cursor:
            state = self._decode(cursor, feed)
        else:
            order = request.arg("order") or "Desc"
            direction = request.arg("direction") or "Before"
            if order not in ("Asc", "Desc"):
                raise HttpError(400, f"order must be Asc or Desc, got {order!r}")
            if direction not in ("Before", "After"):
                raise HttpError(400, f"direction must be Before or After, got {direction!r}")
            origin = request.arg("originTime") if feed == "all_posts" else None
            if origin is not None and not origin.lstrip("-").isdigit():
                raise HttpError(400, "originTime must be a Unix time in milliseconds")
            parent = None
            if feed in DEFAULT_PARENT_PARAMS:
                param = self.options["parent_params"][feed]
                parent = request.arg(param)
                if not parent:
                    raise HttpError(400, f"Missing required parameter {param}")
            state = {"feed": feed, "parent": parent, "offset": 0, "order": order, "direction": direction,
                     "origin": int(origin) if origin is not None else None}
        item, count = self._feed_items(feed, state["parent"], state["origin"], state["direction"])
        offset = state["offset"]
        positions = page_of(count, offset, size)
        if state["order"] == "Desc":
            records = [item(count - 1 - p) for p in positions]
        else:
            records = [item(p) for p in positions]
        following = offset + size
        if "repeat_cursor" in request.faults and cursor:
            next_cursor: str | None = cursor
        else:
            next_cursor = self._encode(dict(state, offset=following)) if following < count else None
        return json_response({FEED_KEYS[feed]: records, self.options["cursor_field"]: next_cursor})

    @staticmethod
    def _encode(state: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")

    @staticmethod
    def _decode(cursor: str, feed: str) -> dict[str, Any]:
        try:
            state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if state["feed"] != feed or not isinstance(state["offset"], int):
                raise ValueError
            return state
        except (ValueError, KeyError, TypeError):
            raise HttpError(400, "Invalid pageCursor") from None

    @staticmethod
    def _flag(request: Request, name: str) -> bool:
        return (request.arg(name) or "").lower() in ("true", "1")

    def get_post(self, request: Request) -> Response:
        post_id = request.arg("postId")
        client_object = request.arg("clientObjectId")
        if not post_id and not client_object:
            raise HttpError(400, "Provide postId or clientObjectId")
        if client_object:
            if not client_object.startswith("client-"):
                raise HttpError(404, f"No bridge post for clientObjectId {client_object}")
            post_id = "post-" + client_object[7:]
        post = self._post(self._post_index(post_id))
        if client_object:
            post["content"]["bridgeToClientObject"] = {"clientObjectID": client_object, "catchPhrase": None}
        if self._flag(request, "retrieveLatestComments"):
            post["latestComments"] = [self._child("comment", post["id"], i) for i in range(CHILDREN)][::-1]
        return json_response({"post": post})

    def get_comment(self, request: Request) -> Response:
        comment_id = request.arg("commentId") or ""
        parts = comment_id.split("-")
        if len(parts) != 3 or parts[0] != "comment" or not parts[2].isdigit() or int(parts[2]) >= CHILDREN:
            raise HttpError(404, f"Comment not found: {comment_id}")
        post_id = f"post-{parts[1]}"
        self._post_index(post_id)
        comment = self._child("comment", post_id, int(parts[2]))
        if self._flag(request, "retrieveLatestReplies"):
            comment["latestReplies"] = [self._child("reply", comment_id, i) for i in range(CHILDREN)][::-1]
            comment["nextRepliesCursor"] = None
        return json_response({"comment": comment})

    def get_reply(self, request: Request) -> Response:
        reply_id = request.arg("replyId") or ""
        head, _, index = reply_id.rpartition("-")
        if not head.startswith("reply-") or not index.isdigit() or int(index) >= CHILDREN:
            raise HttpError(404, f"Reply not found: {reply_id}")
        return json_response({"reply": self._child("reply", "comment-" + head[6:], int(index))})

    def get_translations(self, request: Request) -> Response:
        message_id = request.arg("messageId")
        if not message_id:
            raise HttpError(400, "Missing required parameter messageId")
        if message_id.startswith("post-"):
            self._post_index(message_id)
        text = f"Synthetic text of {message_id}"
        return json_response({"messageId": message_id, "translations": {
            "fr": {"text": f"[fr] {text}"}, "de": {"text": f"[de] {text}"}, "es": {"text": f"[es] {text}"}}})

    def get_profile(self, request: Request) -> Response:
        octopus_id = request.arg("octopusId")
        login_id = request.arg("loginId")
        if not octopus_id and not login_id:
            raise HttpError(400, "Provide octopusId or loginId")
        raw = octopus_id or (login_id or "").replace("login-", "user-", 1)
        if not raw.startswith("user-") or not raw[5:].isdigit() or int(raw[5:]) >= self._authors():
            raise HttpError(404, "Profile not found")
        author = self._author(int(raw[5:]))
        profile = {"octopusId": author["profileID"], "nickname": author["nickname"], "avatarUrl": None,
                   "biography": f"Synthetic member {raw[5:]}", "totalMessages": CHILDREN,
                   "accountAgeInDays": 100 + int(raw[5:]) % 300, "gamificationLevel": author["gamificationLevel"]}
        body: dict[str, Any] = {"profile": profile}
        if self._flag(request, "retrieveLatestPosts"):
            posts = []
            for index in range(self.ctx.records - 1, -1, -1):
                post = self._post(index)
                if post["createdBy"]["profileID"] == author["profileID"]:
                    posts.append(post)
                    if len(posts) == 5:
                        break
            body["firstPostsPage"] = posts
        return json_response(body)

    def get_topics(self, request: Request) -> Response:
        return json_response({"topics": [{"id": f"topic-{i}", "name": f"Topic {i}"} for i in range(TOPICS)]})
