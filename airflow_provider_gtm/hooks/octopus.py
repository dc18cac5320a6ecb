"""Octopus Community Connect API v1 (read-only): feeds, message details, profiles, topics, translations.

Documented choices (the published reference documents three paths and leaves the rest open):

- Paths: ``/v1/feeds/posts`` (``topicId``), ``/v1/messages/post`` and ``/v1/users/profile`` are
  documented; the others default to the same naming (``/v1/feeds/comments?postId=``,
  ``/v1/feeds/replies?commentId=``, ``/v1/feeds/user-posts?octopusId=``, ``/v1/feeds/all-posts``,
  ``/v1/messages/comment``, ``/v1/messages/reply``, ``/v1/messages/translations``, ``/v1/topics``).
  Override any of them with the connection extra ``paths`` (``{"all_posts": "/v1/..."}``) and the
  parent parameter names with ``parent_params``.
- The next-page cursor's field name is undocumented: a field whose name contains "cursor" is
  taken, one naming a *next* cursor first, never an echo of the request's ``pageCursor`` (extra
  ``cursor_field`` pins one). A repeated cursor stops the listing with a warning.
- ``originTime`` is sent in milliseconds; an ISO-8601 string (``{{ data_interval_start }}``) or a
  datetime is converted.
- Pacing follows ``RateLimit-Remaining``/``RateLimit-Reset``; a 429 waits ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar

import requests

from airflow_provider_gtm.apis.octopus import OCTOPUS
from airflow_provider_gtm.compat import fromisoformat
from airflow_provider_gtm.core.client import ApiProfile, generic_error_message
from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.core.hook import GtmBaseHook
from airflow_provider_gtm.core.pagination import BodyCursorPaginator, Page, first_list, paginate

# From the spec (apis/octopus.py), which the connection form shows too.
DEFAULT_PATHS: dict[str, str] = dict(OCTOPUS.paths)
DEFAULT_PARENT_PARAMS: dict[str, str] = {
    feed: spec.parent_param for feed, spec in OCTOPUS.resources.items() if spec.parent_param
}
FEEDS = tuple(OCTOPUS.resources)


def octopus_error_message(body: Any, text: str) -> str:
    """The error text of an (undocumented) Octopus error body."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    return generic_error_message(body, text)


OCTOPUS_PROFILE = ApiProfile(name=OCTOPUS.name, error_message=octopus_error_message, follow_ratelimit_headers=True)


def to_epoch_ms(value: int | float | str | datetime, argument: str = "origin_time") -> int:
    """Epoch milliseconds from an int (already ms), a datetime, or an ISO-8601 string."""
    if isinstance(value, bool):
        raise GtmConfigError(f"Octopus: {argument} must be a time, got {value!r}.")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            value = fromisoformat(text)
        except ValueError:
            raise GtmConfigError(
                f"Octopus: {argument}={value!r} is neither epoch milliseconds nor an ISO-8601 time."
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return int(value.timestamp() * 1000)
    raise GtmConfigError(f"Octopus: {argument} must be epoch milliseconds, an ISO-8601 string or a datetime.")


class OctopusConnectHook(GtmBaseHook):
    """Octopus Community Connect (``https://connect.octopuscommunity.com``): password = Connect API
    secret key (``connect-secret-…``), sent as ``Authorization: Bearer``.

    :param conn_id: the Airflow connection id (default ``octopus_connect_default``).
    """

    conn_name_attr = OCTOPUS.conn_name_attr
    default_conn_name = OCTOPUS.default_conn_id
    conn_type = OCTOPUS.conn_type
    hook_name = OCTOPUS.display_name
    profile: ClassVar[ApiProfile] = OCTOPUS_PROFILE
    default_host: ClassVar[str] = OCTOPUS.default_host
    field_labels: ClassVar[dict[str, str]] = dict(OCTOPUS.field_labels)

    def _credentials(self) -> tuple[requests.auth.AuthBase | None, dict[str, str], str]:
        key = self.require("password")
        return None, {"Authorization": f"Bearer {key}"}, key

    def _probe(self) -> str:
        topics = self.get_topics()
        return f"{len(topics)} topics visible"

    def _setting(self, name: str, defaults: Mapping[str, str]) -> dict[str, str]:
        configured = self.extra.get(name) or {}
        if not isinstance(configured, Mapping):
            raise GtmConfigError(f"Connection {self.conn_id!r}: extra {name!r} must be an object such as "
                                 f"{{{next(iter(defaults))!r}: ...}}.")
        unknown = set(configured) - set(defaults)
        if unknown:
            raise GtmConfigError(f"Connection {self.conn_id!r}: extra {name!r} has unknown name(s) {sorted(unknown)}; "
                                 f"use {', '.join(defaults)}.")
        return {**defaults, **{k: str(v) for k, v in configured.items()}}

    def path(self, name: str) -> str:
        """The path used for ``name`` (a feed or endpoint), after the connection's ``paths`` overrides."""
        return self._setting("paths", DEFAULT_PATHS)[name]

    def _get(self, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        body = self.client.get_json(self.path(name), params={k: v for k, v in params.items() if v is not None})
        return body if isinstance(body, dict) else {}

    # -- feeds ------------------------------------------------------------------------------------

    def iter_feed_pages(self, feed: str, *, parent_id: str | None = None, page_size: int = 20,
                        order: str | None = None, origin_time: int | str | datetime | None = None,
                        direction: str | None = None, start_cursor: str | None = None,
                        limit: int | None = None) -> Iterator[Page]:
        """Pages of a feed, one in memory at a time.

        :param feed: ``topic_posts``, ``post_comments``, ``comment_replies``, ``user_posts`` (each
            with ``parent_id``: topic, post, comment or user id) or ``all_posts``.
        :param page_size: 1–20 records per call.
        :param order: ``Asc`` or ``Desc`` (Octopus default ``Desc``).
        :param origin_time: ``all_posts`` only: epoch ms, ISO-8601 string or datetime.
        :param direction: ``all_posts`` only: ``Before`` or ``After`` the origin time.
        :param start_cursor: resume from this ``pageCursor`` (``Page.next_state`` of a previous page).
        :param limit: stop after this many records.
        """
        if feed not in FEEDS:
            raise GtmConfigError(f"Octopus: feed={feed!r} is unknown; use one of {', '.join(FEEDS)}.")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 20:
            raise GtmConfigError(f"Octopus: page_size (pageSize) must be an integer from 1 to 20, got {page_size!r}.")
        if order not in (None, "Asc", "Desc"):
            raise GtmConfigError(f"Octopus: order must be 'Asc' or 'Desc', got {order!r}.")
        if direction not in (None, "Before", "After"):
            raise GtmConfigError(f"Octopus: direction must be 'Before' or 'After', got {direction!r}.")
        params: dict[str, Any] = {"pageSize": page_size, "order": order}
        if feed == "all_posts":
            if parent_id is not None:
                raise GtmConfigError("Octopus: feed='all_posts' takes no parent_id.")
            params["direction"] = direction
            params["originTime"] = None if origin_time is None else to_epoch_ms(origin_time)
        else:
            if not parent_id:
                raise GtmConfigError(f"Octopus: feed={feed!r} needs parent_id (its topic, post, comment or user id).")
            if origin_time is not None or direction is not None:
                raise GtmConfigError("Octopus: origin_time and direction apply to feed='all_posts' only.")
            params[self._setting("parent_params", DEFAULT_PARENT_PARAMS)[feed]] = parent_id
        cursor_field = self.extra.get("cursor_field") or None
        return paginate(self.client, self.path(feed), BodyCursorPaginator(cursor_field=cursor_field),
                        params=params, start=start_cursor or None, limit=limit)

    def iter_feed(self, feed: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every record of a feed (arguments as :meth:`iter_feed_pages`), streamed."""
        for page in self.iter_feed_pages(feed, **kwargs):
            yield from page.records

    # -- details ----------------------------------------------------------------------------------

    def get_post(self, post_id: str | None = None, *, client_object_id: str | None = None,
                 retrieve_latest_comments: bool = False) -> dict[str, Any]:
        """A post by Octopus id or by ``clientObjectId`` (bridge post): the ``post`` object."""
        if bool(post_id) == bool(client_object_id):
            raise GtmConfigError("Octopus: get_post needs exactly one of post_id or client_object_id.")
        body = self._get("post", {"postId": post_id, "clientObjectId": client_object_id,
                                  "retrieveLatestComments": _flag(retrieve_latest_comments)})
        return body["post"] if isinstance(body.get("post"), dict) else body

    def get_comment(self, comment_id: str, *, retrieve_latest_replies: bool = False) -> dict[str, Any]:
        """A comment by id (with its five latest replies when asked): the ``comment`` object."""
        if not comment_id:
            raise GtmConfigError("Octopus: get_comment needs comment_id.")
        body = self._get("comment", {"commentId": comment_id, "retrieveLatestReplies": _flag(retrieve_latest_replies)})
        return body["comment"] if isinstance(body.get("comment"), dict) else body

    def get_reply(self, reply_id: str) -> dict[str, Any]:
        """A reply by id: the ``reply`` object."""
        if not reply_id:
            raise GtmConfigError("Octopus: get_reply needs reply_id.")
        body = self._get("reply", {"replyId": reply_id})
        return body["reply"] if isinstance(body.get("reply"), dict) else body

    def get_profile(self, octopus_id: str | None = None, *, login_id: str | None = None,
                    retrieve_latest_posts: bool = False) -> dict[str, Any]:
        """A user profile by ``octopusId`` or ``loginId``: ``{"profile", "firstPostsPage"?}``."""
        if bool(octopus_id) == bool(login_id):
            raise GtmConfigError("Octopus: get_profile needs exactly one of octopus_id or login_id.")
        return self._get("profile", {"octopusId": octopus_id, "loginId": login_id,
                                     "retrieveLatestPosts": _flag(retrieve_latest_posts)})

    def get_topics(self) -> list[dict[str, Any]]:
        """All topics of the community."""
        # The shape is undocumented: accept {"topics": [...]}, any single list field, or a bare list.
        body = self.client.get_json(self.path("topics"))
        if isinstance(body, list):
            return body
        if not isinstance(body, dict):
            return []
        topics = body.get("topics")
        return topics if isinstance(topics, list) else first_list(body)

    def get_translations(self, message_id: str) -> dict[str, Any]:
        """Every translation of a message (text, poll options, CTA, catch phrase) by language code."""
        if not message_id:
            raise GtmConfigError("Octopus: get_translations needs message_id.")
        return self._get("translations", {"messageId": message_id})


def _flag(value: bool) -> str | None:
    return "true" if value else None
