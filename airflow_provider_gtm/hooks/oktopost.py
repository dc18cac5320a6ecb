"""Oktopost API v2 hook: campaigns, messages, posts, social profiles, advocacy boards, clicks, leads.

Authentication is HTTP Basic (login = Account ID, password = API key). Lists are paged by
``_page``/``_count`` with a ``Total``; writes are form-encoded, one call per object (Oktopost has no
batch endpoint). Oktopost signals errors with ``{"Result": false, "Errors": {...}}`` -- also inside
a 200 answer -- and blocks a key for 15 minutes after a 429, so the client paces itself under
60 calls per minute and 120 per 5 seconds and never sends a call into a block.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, ClassVar
from urllib.parse import quote

import requests
from requests.auth import HTTPBasicAuth

from airflow_provider_gtm.apis.model import Operation
from airflow_provider_gtm.apis.oktopost import (
    CAMPAIGN_UPDATE_STATUSES,
    NOTIFICATION_FIELDS,
    OKTOPOST,
    PAGE_SIZES,
    POST_STATUSES,
    US_HOST,
    USER_ROLES,
)
from airflow_provider_gtm.apis.oktopost import CLICK_PAGE_SIZES as CLICK_PAGE_SIZES  # re-exported
from airflow_provider_gtm.compat import fromisoformat
from airflow_provider_gtm.core.batching import BatchResult, check_batch_size, run_batches, send_each, split_invalid
from airflow_provider_gtm.core.client import ApiProfile, generic_error_message
from airflow_provider_gtm.core.errors import GtmConfigError, GtmNotFoundError
from airflow_provider_gtm.core.hook import GtmBaseHook
from airflow_provider_gtm.core.pagination import Page, PageNumberPaginator, paginate
from airflow_provider_gtm.core.ratelimit import Window

DATA_CENTERS = dict(OKTOPOST.hosts)
API_PREFIX = OKTOPOST.path_prefix

#: List resources and their paths (under ``/v2``), from the spec (apis/oktopost.py).
RESOURCE_PATHS: dict[str, str] = {name: spec.path for name, spec in OKTOPOST.resources.items()}
_BOARD_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
_BOARD_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


# -- error shapes -------------------------------------------------------------------------------

def _ci_get(mapping: Mapping[Any, Any], key: str) -> Any:
    """``mapping[key]`` with the key matched case-insensitively (``API``/``api``, ``Error``/``error``)."""
    for name, value in mapping.items():
        if isinstance(name, str) and name.lower() == key:
            return value
    return None


def _collect_messages(errors: Any, field: str | None = None, depth: int = 0) -> list[str]:
    if depth > 4 or errors is None:
        return []
    prefix = f"{field}: " if field and field.lower() != "api" else ""
    if isinstance(errors, str):
        return [prefix + errors] if errors.strip() else []
    if isinstance(errors, list):
        return [m for item in errors for m in _collect_messages(item, field, depth + 1)]
    if isinstance(errors, Mapping):
        for key in ("error", "message"):
            value = _ci_get(errors, key)
            if isinstance(value, str) and value.strip():
                return [prefix + value]
        messages: list[str] = []
        for key, value in errors.items():
            messages.extend(_collect_messages(value, str(key), depth + 1))
        return messages
    return []


def oktopost_error_message(body: Any, text: str) -> str:
    """Oktopost's own message from ``{"Result": false, "Errors": {"API": {"Error": "..."}}}``.

    Also reads the observed ``{"Errors": {"api": {"message": "..."}}}`` variant (keys matched
    case-insensitively) and field-keyed errors (``{"Errors": {"name": {"Error": "..."}}}`` gives
    ``"name: ..."``); falls back to the generic parser.
    """
    if isinstance(body, Mapping):
        messages = _collect_messages(_ci_get(body, "errors"))
        if messages:
            return "; ".join(dict.fromkeys(messages))
    return generic_error_message(body, text)


def oktopost_body_error(body: Any) -> str | None:
    """The error message of a 2xx answer whose ``Result`` is false, else ``None``."""
    if not isinstance(body, Mapping) or _ci_get(body, "result") is not False:
        return None
    messages = _collect_messages(_ci_get(body, "errors"))
    return "; ".join(dict.fromkeys(messages)) if messages else "Oktopost answered Result: false with no error message"


OKTOPOST_PROFILE = ApiProfile(
    name=OKTOPOST.name,
    error_message=oktopost_error_message,
    body_error=oktopost_body_error,
    default_windows=tuple(Window(calls, float(seconds)) for calls, seconds in OKTOPOST.rate_windows),
    block_on_429_seconds=OKTOPOST.rate_block_seconds,
)


# -- value conversion ---------------------------------------------------------------------------

def to_epoch_seconds(value: Any, name: str) -> int:
    """Epoch seconds from an int/float, a numeric string, an ISO 8601 string or a datetime (naive = UTC).

    :raises GtmConfigError: naming ``name`` when the value is none of these.
    """
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return int(float(text))
        try:
            return to_epoch_seconds(fromisoformat(text), name)
        except ValueError:
            pass
    raise GtmConfigError(
        f"Oktopost: {name}={value!r} is not a time; pass epoch seconds, an ISO 8601 string such as "
        "'2026-01-01T00:00:00Z' or a datetime."
    )


def _board_datetime(value: Any, name: str) -> str:
    """A board-message date as Oktopost wants it: ``YYYY-MM-DD HH:mm:ss`` in UTC."""
    if isinstance(value, str) and _BOARD_DATE_RE.match(value.strip()):
        return value.strip()
    return datetime.fromtimestamp(to_epoch_seconds(value, name), timezone.utc).strftime(_BOARD_DATE_FORMAT)


def _encode(value: Any) -> Any:
    """A query/form value as Oktopost reads it: lists comma-separated, objects as JSON, booleans 1/0."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return to_epoch_seconds(value, "value")
    if isinstance(value, set | frozenset):
        value = sorted(value, key=str)
    if isinstance(value, list | tuple):
        if all(isinstance(item, str | int | float) and not isinstance(item, bool) for item in value):
            return ",".join(str(item).strip() for item in value)
        return json.dumps(list(value), separators=(",", ":"), default=str)
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"), default=str)
    return value


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | frozenset):
        return not value or any(_is_blank(item) for item in value)
    return False


def _require_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GtmConfigError(f"Oktopost: {name} must be a non-empty Oktopost id string, got {value!r}.")
    return quote(value.strip(), safe="")


# -- creates ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _CreateSpec:
    path: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    response_key: str | None
    identifier: str


#: The creates ("kinds": the resource part of the ``<kind>.create`` rows), from the spec (apis/oktopost.py).
CREATE_SPECS: dict[str, _CreateSpec] = {
    name.rpartition(".")[0]: _CreateSpec(spec.path, spec.required, spec.optional, spec.response_key,
                                         str(spec.identifier))
    for name, spec in OKTOPOST.operations.items() if spec.write == "create"
}

#: Creates the SDK types as ``BaseApiResponse``: ``Result: true`` is their whole confirmation.
_RESULT_ONLY_CREATES = frozenset(name.rpartition(".")[0] for name, spec in OKTOPOST.operations.items()
                                 if spec.result_only and spec.write == "create")

#: The updates and deletes (``campaigns.update``, ``posts.delete``...), from the spec.
CHANGE_OPERATIONS: dict[str, Operation] = {
    name: spec for name, spec in OKTOPOST.operations.items() if spec.write in ("update", "delete")
}

#: The ``status`` an update form may carry, per resource (src/types/publishing.ts Update*Params).
_UPDATE_STATUSES = {"campaigns": CAMPAIGN_UPDATE_STATUSES, "posts": POST_STATUSES}

#: Fields the SDK types as ``0 | 1`` (approve/reject, webhook switches): anything else is refused before sending.
_ZERO_ONE_FIELDS = frozenset({"isApprove", "isEnabled", "isHidden"})

#: ``create_message`` optional keyword arguments (snake_case) and their Oktopost field names.
MESSAGE_OPTIONAL_ARGS = {
    "link_url": "linkUrl",
    "link_title": "linkTitle",
    "description": "description",
    "image_url": "imageUrl",
    "tag_ids": "tagIds",
    "media": "media",
    "title": "title",
}


def build_create_form(kind: str, record: Any, arg_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The form body for one create of ``kind`` from a record of Oktopost field names.

    Required fields must be present and non-empty; ``startDateTime`` becomes epoch seconds,
    ``startDate``/``expireDate`` become ``YYYY-MM-DD HH:mm:ss`` (UTC), a post ``status`` must be one
    of ``pending, inqueue, draft, inqueue-draft``. Fields the hook does not know are sent as given.

    :param arg_names: how to name a field in messages (Python argument names for direct calls).
    :raises GtmConfigError: naming the field that is missing or wrong.
    """
    spec = CREATE_SPECS[kind]
    names = arg_names or {}
    if not isinstance(record, Mapping):
        raise GtmConfigError(
            f"an Oktopost {kind} record must be a dict of Oktopost fields (required: "
            f"{', '.join(spec.required)}), got {type(record).__name__}"
        )
    for field in spec.required:
        if _is_blank(record.get(field)):
            raise GtmConfigError(f"required field {names.get(field, field)!r} is missing or empty")
    form: dict[str, Any] = {}
    for key, value in record.items():
        if value is None:
            continue
        label = names.get(key, key)
        if key == "startDateTime":
            value = to_epoch_seconds(value, label)
        elif key in ("startDate", "expireDate"):
            value = _board_datetime(value, label)
        elif key == "status" and kind == "posts" and value not in POST_STATUSES:
            raise GtmConfigError(f"{label}={value!r} is not a post status; use one of {', '.join(POST_STATUSES)}")
        elif key == "role" and kind == "users" and value not in USER_ROLES:
            raise GtmConfigError(f"{label}={value!r} is not a user role; use one of {', '.join(USER_ROLES)}")
        form[str(key)] = _encode(value)
    return form


def _placed(spec: Operation, form: Mapping[str, Any], object_id: str = "") -> tuple[str, dict[str, Any],
                                                                                    dict[str, Any]]:
    """Where one write's values go, as the SDK sends them: the path (``{id}`` filled from ``object_id``,
    or from the form's ``id`` when the path names an entity, as team-entity ``add`` does), the form,
    and the query string (``spec.query``: lead-activity ``leadId``, workflow-item note ``id, note``)."""
    body = dict(form)
    query = {name: body.pop(name) for name in spec.query if name in body}
    path = spec.path
    if "{id}" in path:
        path = path.replace("{id}", _require_id(object_id or body.pop("id", None), "id"))
    return path, body, query


def build_change_form(operation: str, record: Any) -> tuple[str, dict[str, Any]]:
    """The object id and the form of one update or delete (``campaigns.update``, ``posts.delete``...).

    Where the path names the object (``<path>/{id}``) the record's ``id`` goes in the path, never in
    the form. An update sends the other fields as given (the SDK's ``Update*Params``: campaigns
    ``name, url, status, tagIds``; messages ``message, linkUrl, linkTitle, description, imageUrl``;
    posts ``messageId, credentialIds, startDateTime, status``; social profiles ``displayName,
    nativePostsEnabled``) and needs at least one; ``startDateTime`` becomes epoch seconds and a
    ``status`` must be one the SDK types. A delete sends only the fields the SDK sends as its body
    (advocates ``boardId``; board messages ``boardId, messageId``); any other field is refused.

    :return: the object id (``""`` for a path without one) and the form.
    :raises GtmConfigError: naming what is missing or wrong.
    """
    spec = CHANGE_OPERATIONS[operation]
    resource = operation.rpartition(".")[0]
    if not isinstance(record, Mapping):
        raise GtmConfigError(f"an Oktopost {operation} record must be a dict with "
                             f"{', '.join(repr(f) for f in spec.required)}, got {type(record).__name__}")
    for name in spec.required:
        if _is_blank(record.get(name)):
            raise GtmConfigError(f"required field {name!r} is missing or empty")
    in_path = "{id}" in spec.path
    object_id = str(record.get("id")).strip() if in_path else ""
    fields = {str(k): v for k, v in record.items() if not (in_path and k == "id") and v is not None}
    if spec.write == "delete":
        body = set(spec.required) - {"id"} if in_path else set(spec.required)
        extra = sorted(set(fields) - body)
        if extra:
            takes = ", ".join(repr(f) for f in spec.required)
            raise GtmConfigError(f"a delete takes only {takes}; got also {', '.join(extra)}")
        return object_id, {key: _encode(value) for key, value in fields.items()}
    if not fields:
        raise GtmConfigError(f"nothing to update: give at least one of {', '.join(spec.optional)}")
    form: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "startDateTime":
            value = to_epoch_seconds(value, key)
        elif key == "status" and resource in _UPDATE_STATUSES and value not in _UPDATE_STATUSES[resource]:
            raise GtmConfigError(f"status={value!r} is not a {resource[:-1]} status for an update; use one of "
                                 f"{', '.join(_UPDATE_STATUSES[resource])}")
        elif key in _ZERO_ONE_FIELDS and _encode(value) not in ("0", "1", 0, 1):
            raise GtmConfigError(f"{key}={value!r} must be 1 or 0 (or true/false)")
        form[key] = _encode(value)
    return object_id, form


class OktopostHook(GtmBaseHook):
    """Oktopost API v2 (``https://api.oktopost.com/v2``, EU: ``https://eu-api.oktopost.com/v2``).

    Connection: login = Account ID, password = API key (both under My Profile). Extra
    ``data_center``: ``us`` (default) or ``eu``; an explicit host (a base URL, which may carry a
    path prefix) wins. Every call is paced under 60 per minute and 120 per 5 seconds (extra
    ``rate_limits`` overrides); a 429 blocks the key for 15 minutes: the call waits it out when
    ``max_wait_seconds`` allows, else fails with :class:`GtmRateLimitError` naming when the block ends.

    :param conn_id: the Airflow connection id (default ``oktopost_default``).
    """

    conn_name_attr = OKTOPOST.conn_name_attr
    default_conn_name = OKTOPOST.default_conn_id
    conn_type = OKTOPOST.conn_type
    hook_name = OKTOPOST.display_name
    profile: ClassVar[ApiProfile] = OKTOPOST_PROFILE
    default_host: ClassVar[str] = OKTOPOST.default_host
    field_labels: ClassVar[dict[str, str]] = dict(OKTOPOST.field_labels)

    # -- connection -------------------------------------------------------------------------------

    def _credentials(self) -> tuple[requests.auth.AuthBase | None, dict[str, str], str]:
        account_id = self.require("login")
        api_key = self.require("password")
        return HTTPBasicAuth(account_id, api_key), {}, f"{account_id}:{api_key}"

    def _data_center_host(self) -> str:
        raw = self.extra.get("data_center")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return US_HOST
        key = raw.strip().lower() if isinstance(raw, str) else raw
        if key not in DATA_CENTERS:
            raise GtmConfigError(
                f"Connection {self.conn_id!r}: extra 'data_center' must be 'us' or 'eu', got {raw!r}."
            )
        return DATA_CENTERS[key]

    def _host(self) -> str:
        default = self._data_center_host()
        host = super()._host() if self.connection.host and str(self.connection.host).strip() else default
        # The docs give the base URL with /v2; every path here adds it, so do not double it.
        return re.sub(r"/v2/*$", "", host)

    def _path(self, path: str) -> str:
        return f"{API_PREFIX}{path}"

    def _probe(self) -> str:
        me = self.me()
        account = me["Account"] if isinstance(me.get("Account"), dict) else {}
        user = me["User"] if isinstance(me.get("User"), dict) else {}
        who = f"account {account.get('Name') or '?'} ({account.get('Id') or '?'})"
        return who + (f" as {user['Name']}" if user.get("Name") else "")

    # -- reads ------------------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = self.client.get_json(self._path(path), params=params)
        return body if isinstance(body, dict) else {}

    @staticmethod
    def _unwrap(body: dict[str, Any], key: str | None) -> dict[str, Any]:
        value = body.get(key) if key else None
        if isinstance(value, dict):
            return value
        return {k: v for k, v in body.items() if k != "Result"} if key else body

    def me(self) -> dict[str, Any]:
        """``GET /v2/me``: ``{"Result": true, "User": {Id, Name, Email, LastLogin}, "Account": {Id, Name}}``.

        :raises GtmAuthError: when Oktopost refuses the Account ID / API key.
        """
        return self._get(OKTOPOST.calls["me"].path)

    def _one_body(self, call: str, id: str, name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._get(OKTOPOST.calls[call].path.replace("{id}", _require_id(id, name)), params)

    def _one(self, call: str, id: str, name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One object by id, unwrapped from its key (both from the catalogue's ``calls[call]``)."""
        return self._unwrap(self._one_body(call, id, name, params), OKTOPOST.calls[call].records_key)

    def get_campaign(self, id: str) -> dict[str, Any]:
        """``GET /v2/campaign/{id}``: the ``Campaign`` object.

        :raises GtmNotFoundError: no such campaign (or no access to it).
        """
        return self._one("campaign", id, "id")

    def get_message(self, id: str) -> dict[str, Any]:
        """``GET /v2/message/{id}``: the ``Message`` object. :raises GtmNotFoundError: no such message."""
        return self._one("message", id, "id")

    def get_post(self, id: str, stats: bool = False) -> dict[str, Any]:
        """``GET /v2/post/{id}``: the ``Post`` object; ``stats=True`` adds its ``Stats``.

        Oktopost answers ``Stats`` beside ``Post`` (``{"Result", "Post", "Stats"}``); like the SDK
        (Oktopost/oktopost-typescript-sdk src/resources/publishing/posts.ts ``get``) the post is
        returned with ``Stats`` merged in. A ``Stats`` already inside the post is kept.

        :raises GtmNotFoundError: no such post.
        """
        body = self._one_body("post", id, "id", {"stats": 1} if stats else None)
        post = self._unwrap(body, OKTOPOST.calls["post"].records_key)
        beside = body.get("Stats")
        if stats and isinstance(beside, dict) and "Stats" not in post:
            post = {**post, "Stats": beside}
        return post

    def get_credential(self, id: str) -> dict[str, Any]:
        """``GET /v2/credential/{id}``: the social profile (``Credential``). :raises GtmNotFoundError:."""
        return self._one("credential", id, "id")

    def get_board(self, id: str) -> dict[str, Any]:
        """``GET /v2/board/{id}``: the advocacy ``Board``. :raises GtmNotFoundError: no such board."""
        return self._one("board", id, "id")

    def get_advocate(self, id: str, board_id: str | None = None) -> dict[str, Any]:
        """``GET /v2/advocate/{id}`` (``?boardId=`` when given): the ``Advocate`` object.

        :raises GtmNotFoundError: no such advocate.
        """
        params = {"boardId": board_id} if board_id else None
        return self._one("advocate", id, "id", params)

    def find_advocate(self, email: str) -> dict[str, Any] | None:
        """``GET /v2/advocate?email=``: the advocate with this email, ``None`` when there is none.

        Oktopost answers a list page ``{"Result", "Items", "Total"}`` of ``AdvocateListItem``
        (``Email, Id, LastBoardLogin, Name, PictureUrl``; Oktopost/oktopost-typescript-sdk
        src/resources/advocacy/advocates.ts ``list``, src/types/advocacy.ts): the item whose
        ``Email`` matches (case-insensitively) is returned, not the page; an empty page is ``None``.
        For the full ``Advocate`` (``BoardIds``, ``Profiles``) call :meth:`get_advocate` with its ``Id``.
        A bare ``{"Advocate": {...}}`` answer is read too; a 404 is ``None``.
        """
        if not isinstance(email, str) or not email.strip():
            raise GtmConfigError(f"Oktopost: email must be a non-empty string, got {email!r}.")
        wanted = email.strip().lower()
        try:
            body = self._get("/advocate", {"email": email.strip()})
        except GtmNotFoundError:
            return None
        single = body.get("Advocate")
        items = body.get("Items")
        candidates = [single] if isinstance(single, dict) else items if isinstance(items, list) else []
        for item in candidates:
            if isinstance(item, dict) and str(item.get("Email", "")).strip().lower() == wanted:
                return item
        return None

    def get_post_analytics(self, post_id: str) -> dict[str, Any]:
        """``GET /v2/analytics/{postId}``: the post's ``Stats``
        (``LinkClicks, Conversions, Comments, Likes, Shares, ImpressionsAdded``).
        """
        return self._one("analytics", post_id, "post_id")

    def _call(self, call: str, ids: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
              form: Mapping[str, Any] | None = None) -> Any:
        """One catalogued read (``OKTOPOST.calls[call]``): path parameters filled, the answer's field returned."""
        row = OKTOPOST.calls[call]
        path = row.path
        for name, value in (ids or {}).items():
            path = path.replace("{" + name + "}", _require_id(value, name))
        query = {k: _encode(v) for k, v in (params or {}).items() if v is not None}
        if row.method == "GET":
            body = self._get(path, query or None)
        else:
            data = self.client.request(row.method, self._path(path), data=dict(form or {}), safe_to_retry=True).data
            body = data if isinstance(data, dict) else {}
        return body.get(row.records_key) if row.records_key else self._unwrap(body, None)

    def get_lead(self, id: str) -> dict[str, Any]:
        """``GET /v2/lead/{id}``: the ``Lead``. :raises GtmNotFoundError: no such lead."""
        return self._one("lead", id, "id")

    def get_user(self, id: str) -> dict[str, Any]:
        """``GET /v2/user/{id}``: the ``User``."""
        return self._one("user", id, "id")

    def get_team(self, id: str) -> dict[str, Any]:
        """``GET /v2/team/{id}``: the ``Team``."""
        return self._one("team", id, "id")

    def get_tag(self, id: str) -> dict[str, Any]:
        """``GET /v2/tag/{id}``: the ``Tag``."""
        return self._one("tag", id, "id")

    def get_media(self, id: str) -> dict[str, Any]:
        """``GET /v2/media/{id}``: the ``Media`` item."""
        return self._one("media_item", id, "id")

    def get_upload(self, id: str) -> dict[str, Any]:
        """``GET /v2/upload/{id}``: the ``Upload``."""
        return self._one("upload", id, "id")

    def get_story(self, id: str) -> dict[str, Any]:
        """``GET /v2/story/{id}``: the story (Oktopost answers it under ``Item``)."""
        return self._one("story", id, "id")

    def get_webhook(self, id: str) -> dict[str, Any]:
        """``GET /v2/webhook/{id}``: the ``Webhook`` configuration."""
        return self._one("webhook", id, "id")

    def get_stream_tab(self, id: str) -> dict[str, Any]:
        """``GET /v2/stream-tab/{id}``: the ``StreamTab``."""
        return self._one("stream_tab", id, "id")

    def get_export(self, id: str) -> dict[str, Any]:
        """``GET /v2/bi-export/{id}``: the BI export's details (``Export``)."""
        return self._one("export", id, "id")

    def get_postlog(self, id: str, stats: bool = False) -> dict[str, Any]:
        """``GET /v2/postlog/{id}``: one published post (``Postlog``); ``stats=True`` merges the ``Stats``
        answered beside it, as the SDK does (src/resources/publishing/post-log.ts ``get``)."""
        body = self._one_body("postlog", id, "id", {"stats": 1} if stats else None)
        postlog = self._unwrap(body, "Postlog")
        if stats and isinstance(body.get("Stats"), dict) and "Stats" not in postlog:
            postlog = {**postlog, "Stats": body["Stats"]}
        return postlog

    def get_workflow(self, id: str, with_steps: bool = False) -> dict[str, Any]:
        """``GET /v2/workflow/{id}`` (``withSteps=1``): the approval workflow (the bare answer)."""
        return self._one("workflow", id, "id", {"withSteps": 1} if with_steps else None)

    def get_workflow_step(self, id: str) -> dict[str, Any]:
        """``GET /v2/workflow-step/{id}``: the approval step (the bare answer)."""
        return self._one("workflow_step", id, "id")

    def get_link(self, hash: str) -> dict[str, Any]:
        """``GET /v2/link/{hash}``: the short ``Link`` by its hash."""
        found = self._call("link", {"hash": hash})
        return found if isinstance(found, dict) else {}

    def validate_video(self, media_id: str) -> dict[str, Any]:
        """``GET /v2/video-validate/{mediaId}``: per network, whether the video can be posted (``Validations``)."""
        found = self._call("video_validation", {"id": media_id})
        return found if isinstance(found, dict) else {}

    def get_team_entities(self, entity_id: str) -> list[dict[str, Any]]:
        """``GET /v2/team-entity/{entityId}``: the teams an entity belongs to (``Items``, no ``Total``)."""
        return list(self._call("team_entities", {"id": entity_id}) or [])

    def get_notifications(self) -> dict[str, Any]:
        """``GET /v2/notification``: the account's notification settings (answered under ``Items``)."""
        found = self._call("notifications")
        return found if isinstance(found, dict) else {}

    def get_webhook_log(self, webhook_id: str) -> list[dict[str, Any]]:
        """``GET /v2/webhook-log/{webhookId}``: the webhook's delivery log (``Items``; one call, as the SDK)."""
        return list(self._call("webhook_log", {"id": webhook_id}) or [])

    def list_exports(self, page: int = 0, order: str | None = None, status: str | None = None
                     ) -> list[dict[str, Any]]:
        """``GET /v2/bi-export`` (``_page``, ``_order``, ``status`` active|inactive): one page of ``Exports``."""
        return list(self._call("exports", params={"_page": page, "_order": order, "status": status}) or [])

    def get_followers(self, credential_id: str, from_date: str | None = None, to_date: str | None = None
                      ) -> list[dict[str, Any]]:
        """``GET /v2/followers/{credentialId}`` (``fromDate``, ``toDate``): follower counts per day (``Data``)."""
        return list(self._call("followers", {"id": credential_id},
                               {"fromDate": from_date, "toDate": to_date}) or [])

    def list_postlogs(self, post_id: str) -> list[dict[str, Any]]:
        """``GET /v2/postlog?postId=``: what a post published, per profile (``Postlogs``)."""
        return list(self._call("postlogs", params={"postId": _require_id(post_id, "post_id")}) or [])

    def get_calendar(self, from_date: str, to_date: str, filters: Mapping[str, Any] | None = None
                     ) -> dict[str, Any]:
        """``POST /v2/calendar`` (a read sent as a form POST, safe to resend): ``fromDate``, ``toDate``
        and ``filters`` (sent as JSON): the answer's ``Campaigns``, ``Credentials``, ``Media``,
        ``Messages`` and ``Posts``."""
        form = {"fromDate": from_date, "toDate": to_date, "filters": _encode(dict(filters)) if filters else None}
        found = self._call("calendar", form={k: v for k, v in form.items() if v is not None})
        return found if isinstance(found, dict) else {}

    def list_workflows(self, with_steps: bool = False) -> list[dict[str, Any]]:
        """``GET /v2/workflow`` (``withSteps``): the approval workflows (``Items``, no ``Total``)."""
        return list(self._call("workflows", params={"withSteps": 1 if with_steps else None}) or [])

    def list_workflow_steps(self, workflow_id: str | None = None) -> list[dict[str, Any]]:
        """``GET /v2/workflow-step`` (``workflowId``): the approval steps (``Items``)."""
        return list(self._call("workflow_steps", params={"workflowId": workflow_id}) or [])

    def list_workflow_items(self, page: int | None = None, count: int | None = None,
                            **filters: Any) -> list[dict[str, Any]]:
        """``GET /v2/workflow-item``: one page of items awaiting approval; this list pages with ``page``
        and ``count`` (not ``_page``/``_count``); ``filters``: ``stepId``, ``workflowId``,
        ``withHistory``, ``withAuthors``, ``withSteps``."""
        return list(self._call("workflow_items", params={"page": page, "count": count, **filters}) or [])

    def list_workflow_item_notes(self, item_id: str) -> list[dict[str, Any]]:
        """``GET /v2/workflow-item-note?id=``: the notes on an approval item (``Notes``)."""
        return list(self._call("workflow_item_notes", params={"id": _require_id(item_id, "item_id")}) or [])

    def list_comments(self, postlog_id: str | None = None, network: str | None = None) -> list[dict[str, Any]]:
        """``GET /v2/comments`` (``postlogId``, ``network``): inbox comments (``Data``)."""
        return list(self._call("comments", params={"postlogId": postlog_id, "network": network}) or [])

    def list_streams(self, position: int | None = None) -> list[dict[str, Any]]:
        """``GET /v2/stream`` (``position``): the streams (``Items``, no ``Total``)."""
        return list(self._call("streams", params={"position": position}) or [])

    def iter_pages(
        self,
        resource: str,
        params: Mapping[str, Any] | None = None,
        count: int = 100,
        start_page: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> Iterator[Page]:
        """Pages of an Oktopost list, one call (and one page in memory) at a time.

        :param resource: a list of the catalogue (``OKTOPOST.resources``): ``campaigns``, ``messages``,
            ``posts``, ``credentials``, ``boards``, ``advocates``, ``clicks``, ``leads``, ``users``,
            ``teams``, ``cnames``, ``conversion_tags``, ``tags``, ``media``, ``uploads``, ``links``,
            ``stories``, ``topics``, ``webhooks``, ``lead_activities`` or ``stream_tabs``.
        :param params: the list's own filters, e.g. ``{"campaignId": "002..."}``, ``{"network": "LinkedIn"}``.
            Lists are sent comma-separated, booleans as 1/0; ``after``/``before`` take epoch seconds,
            an ISO 8601 string or a datetime. ``messages`` needs ``campaignId`` or ``ids``.
        :param count: ``_count``, 25, 50 or 100 (200 too for ``clicks``; 20 too for ``webhooks``).
        :param start_page: ``_page`` to start from (0-based; a page's ``next_state`` resumes).
        :param limit: stop after this many records.
        :param order: ``_order``, e.g. ``"created,1"`` (field, 0 = descending, 1 = ascending).
        :return: pages with ``total`` (Oktopost's ``Total``) and ``next_state`` (next ``_page``, or ``None``).
        :raises GtmConfigError: on an unknown resource, a bad count or missing mandatory filters.
        """
        if resource not in RESOURCE_PATHS:
            raise GtmConfigError(
                f"Oktopost: resource={resource!r} is not a list; use one of {', '.join(RESOURCE_PATHS)}."
            )
        sizes = OKTOPOST.resources[resource].page_sizes or PAGE_SIZES
        if isinstance(count, bool) or count not in sizes:
            raise GtmConfigError(
                f"Oktopost: count={count!r} is not a page size for {resource}; use one of "
                f"{', '.join(map(str, sizes))}."
            )
        if isinstance(start_page, bool) or not isinstance(start_page, int) or start_page < 0:
            raise GtmConfigError(f"Oktopost: start_page must be an integer >= 0, got {start_page!r}.")
        query: dict[str, Any] = {}
        for key, value in (params or {}).items():
            if key in ("_page", "_count", "_order"):
                raise GtmConfigError(
                    f"Oktopost: pass paging through start_page=/count=/order=, not params[{key!r}]."
                )
            if value is None:
                continue
            if key in ("after", "before"):
                value = to_epoch_seconds(value, f"params[{key!r}]")
            query[key] = _encode(value)
        if resource == "messages" and _is_blank(query.get("campaignId")) and _is_blank(query.get("ids")):
            raise GtmConfigError(
                "Oktopost lists messages only by campaign: pass params={'campaignId': ...} or params={'ids': [...]}."
            )
        if order:
            query["_order"] = order
        return paginate(
            self.client, self._path(RESOURCE_PATHS[resource]), PageNumberPaginator(count=count), params=query,
            start=start_page, limit=limit,
        )

    def created_since(self, resource: str, since: datetime, max_pages: int = 10) -> list[dict[str, Any]] | None:
        """The records of a list whose ``Created`` is at or after ``since`` (UTC), newest pages first.

        Used to find out whether a create whose answer was lost was applied. Oktopost lists oldest
        first, so this reads the last pages (from ``Total``) backwards until a page starts before
        ``since``. ``None`` when that takes more than ``max_pages`` pages (it cannot tell cheaply).
        """
        count = 100
        first = next(iter(self.iter_pages(resource, count=count, limit=count)), None)
        total = first.total if first is not None and first.total is not None else 0
        found: list[dict[str, Any]] = []
        last_page = max(0, (total - 1) // count)
        for number, page_index in enumerate(range(last_page, -1, -1)):
            if number >= max_pages:
                return None
            page = first if page_index == 0 else next(
                iter(self.iter_pages(resource, count=count, start_page=page_index, limit=count)), None
            )
            records = page.records if page is not None else []
            older = False
            for record in records:
                created = parse_created(record.get("Created"))
                if created is not None and created >= since:
                    found.append(record)
                elif created is not None:
                    older = True
            if older or not records:
                return found
        return found

    def iter_records(
        self,
        resource: str,
        params: Mapping[str, Any] | None = None,
        count: int = 100,
        limit: int | None = None,
        order: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The records of an Oktopost list, one by one (same arguments as :meth:`iter_pages`)."""
        for page in self.iter_pages(resource, params=params, count=count, limit=limit, order=order):
            yield from page.records

    # -- writes -----------------------------------------------------------------------------------

    def _create(self, kind: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """One form-encoded POST; never resent after a timeout/5xx (Oktopost does not deduplicate)."""
        spec = CREATE_SPECS[kind]
        row = OKTOPOST.operations[f"{kind}.create"]
        path, body_form, query = _placed(row, form)
        data = self.client.request(row.method, self._path(path), params=query or None,
                                   data=body_form if body_form or not query else None).data
        body = data if isinstance(data, dict) else {}
        # What confirms a create is what the SDK returns (Oktopost/oktopost-typescript-sdk,
        # src/resources/**): the created object (``Campaign``/``Message``/``Post``/``User``...), or for
        # ``/board-message``, ``/advocate``, ``/story``, team-entity ``add`` and workflow-item notes the
        # bare ``{"Result": true}`` (BaseApiResponse).
        created = body.get(spec.response_key) if spec.response_key else None
        if isinstance(created, dict) and created:
            return created
        if kind in _RESULT_ONLY_CREATES and _ci_get(body, "result") is True:
            named = form.get(spec.identifier)
            return {"Result": True, "Id": named} if "{id}" in row.path or row.query else {"Result": True}
        return {}  # confirms nothing: the record is reported "outcome unknown"

    def _create_direct(self, kind: str, record: Mapping[str, Any], arg_names: Mapping[str, str]) -> dict[str, Any]:
        try:
            form = build_create_form(kind, record, arg_names)
        except GtmConfigError as exc:
            raise GtmConfigError(f"Oktopost create ({kind}): {exc}") from None
        return self._create(kind, form)

    def create_campaign(self, name: str, url: str | None = None, tag_ids: Iterable[str] | str | None = None
                        ) -> dict[str, Any]:
        """``POST /v2/campaign``: create a campaign and return the ``Campaign`` (with its ``Id``).

        :param tag_ids: tag ids (a list or a comma-separated string).
        :raises GtmConfigError: when ``name`` is empty. :raises GtmClientError: Oktopost refused it.
        :raises GtmOutcomeUnknownError: the call timed out or got a 5xx; it is not resent.
        """
        record = {"name": name, "url": url, "tagIds": _listish(tag_ids)}
        return self._create_direct("campaigns", record, {"name": "name", "url": "url", "tagIds": "tag_ids"})

    def create_message(self, campaign_id: str, network: str, message: str, **optional: Any) -> dict[str, Any]:
        """``POST /v2/message``: create a message in a campaign and return the ``Message``.

        :param network: e.g. ``LinkedIn``, ``Twitter``, ``Facebook``, ``Instagram``, ``YouTube``.
        :param optional: ``link_url``, ``link_title``, ``description``, ``image_url``, ``tag_ids``,
            ``media`` (media ids), ``title`` (Oktopost's camelCase names are accepted too).
        :raises GtmConfigError: a required argument is empty or an optional one unknown.
        :raises GtmClientError: Oktopost refused it (its message says why).
        """
        record: dict[str, Any] = {"campaignId": campaign_id, "network": network, "message": message}
        names = {"campaignId": "campaign_id", "network": "network", "message": "message"}
        by_field = {v: v for v in MESSAGE_OPTIONAL_ARGS.values()}
        for arg, value in optional.items():
            field = MESSAGE_OPTIONAL_ARGS.get(arg) or by_field.get(arg)
            if field is None:
                raise GtmConfigError(
                    f"Oktopost create_message: unknown argument {arg!r}; use "
                    f"{', '.join(MESSAGE_OPTIONAL_ARGS)}."
                )
            record[field] = _listish(value) if field in ("tagIds", "media") else value
            names[field] = arg
        return self._create_direct("messages", record, names)

    def create_post(
        self,
        message_id: str,
        credential_ids: Iterable[str] | str,
        start_date_time: int | str | datetime | None = None,
        status: str | None = None,
    ) -> dict[str, Any]:
        """``POST /v2/post``: schedule a message on social profiles and return the ``Post``.

        :param credential_ids: social profile ids (a list or a comma-separated string).
        :param start_date_time: when to publish: epoch seconds, ISO 8601 string or datetime.
        :param status: ``pending``, ``inqueue``, ``draft`` or ``inqueue-draft``.
        :raises GtmConfigError: a required argument is empty, a bad time or status.
        :raises GtmOutcomeUnknownError: timed out or 5xx; not resent (it could post twice).
        """
        record = {
            "messageId": message_id,
            "credentialIds": _listish(credential_ids),
            "startDateTime": start_date_time,
            "status": status,
        }
        names = {
            "messageId": "message_id", "credentialIds": "credential_ids",
            "startDateTime": "start_date_time", "status": "status",
        }
        return self._create_direct("posts", record, names)

    def create_board_message(
        self,
        board_id: str,
        message_id: str,
        start_date: int | str | datetime | None = None,
        expire_date: int | str | datetime | None = None,
        important: bool | None = None,
        topic_ids: Iterable[str] | str | None = None,
    ) -> dict[str, Any]:
        """``POST /v2/board-message``: put a message on an advocacy board; returns Oktopost's answer.

        :param start_date: / :param expire_date: epoch seconds, ISO 8601, datetime or
            ``"YYYY-MM-DD HH:mm:ss"`` (UTC); sent in that last form.
        :param important: sent as 1/0. :param topic_ids: a list or a comma-separated string.
        :return: Oktopost's body, ``{"Result": true}``.
        """
        record = {
            "boardId": board_id, "messageId": message_id, "startDate": start_date, "expireDate": expire_date,
            "important": important, "topicIds": _listish(topic_ids),
        }
        names = {
            "boardId": "board_id", "messageId": "message_id", "startDate": "start_date",
            "expireDate": "expire_date", "important": "important", "topicIds": "topic_ids",
        }
        return self._create_direct("board_messages", record, names)

    def invite_advocate(self, first_name: str, last_name: str, email: str, board_id: str) -> dict[str, Any]:
        """``POST /v2/advocate``: invite a person to an advocacy board; returns the ``Advocate``
        (or Oktopost's body when it has none).

        :raises GtmConfigError: an argument is empty. :raises GtmClientError: Oktopost refused it.
        """
        record = {"firstName": first_name, "lastName": last_name, "email": email, "boardId": board_id}
        names = {"firstName": "first_name", "lastName": "last_name", "email": "email", "boardId": "board_id"}
        return self._create_direct("advocate_invites", record, names)

    def _change(self, operation: str, object_id: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """One update or delete, sent as the SDK sends it (method and path from the catalogue).

        Updates are a form POST (a PUT for social profiles) to ``<path>/{id}``; deletes a DELETE of
        ``<path>/{id}``, bodiless except where the SDK sends a form (advocates ``boardId``, board
        messages ``boardId, messageId``). Never resent by the client after a timeout or 5xx: the write
        ledger looks the object up instead (OktopostBatchOperator). What confirms it is what the SDK
        returns (Oktopost/oktopost-typescript-sdk src/resources/**): for an update the changed object
        under its key (``Campaign``/``Message``/``Post``/``Credential``), for a delete ``Result: true``
        (``BaseApiResponse``), returned as ``{"Result": true, "Id": id}``.
        """
        spec = CHANGE_OPERATIONS[operation]
        path, body_form, query = _placed(spec, form, object_id)
        data = self.client.request(spec.method, self._path(path), params=query or None,
                                   data=body_form or None).data
        body = data if isinstance(data, dict) else {}
        if spec.write == "delete" or spec.result_only:  # BaseApiResponse (stories, lead-link replace)
            if _ci_get(body, "result") is not True:
                return {}
            return {"Result": True, "Id": object_id or form.get(str(spec.identifier))}
        changed = body.get(spec.response_key) if spec.response_key else None
        if isinstance(changed, list):  # links.update answers a page; the SDK returns its first item
            changed = changed[0] if changed else None
        return changed if isinstance(changed, dict) and changed else {}  # else: outcome unknown

    def _change_direct(self, operation: str, record: Mapping[str, Any]) -> dict[str, Any]:
        try:
            object_id, form = build_change_form(operation, record)
        except GtmConfigError as exc:
            raise GtmConfigError(f"Oktopost {operation}: {exc}") from None
        return self._change(operation, object_id, form)

    def update_campaign(self, id: str, **fields: Any) -> dict[str, Any]:
        """``POST /v2/campaign/{id}``: change ``name``, ``url``, ``status`` (active, paused, archived) or
        ``tagIds``; returns the ``Campaign``. :raises GtmNotFoundError: no such campaign."""
        return self._change_direct("campaigns.update", {"id": id, **fields})

    def delete_campaign(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/campaign/{id}``: ``{"Result": true, "Id": id}``. :raises GtmNotFoundError:."""
        return self._change_direct("campaigns.delete", {"id": id})

    def update_message(self, id: str, **fields: Any) -> dict[str, Any]:
        """``POST /v2/message/{id}``: change ``message``, ``linkUrl``, ``linkTitle``, ``description`` or
        ``imageUrl``; returns the ``Message``. :raises GtmNotFoundError: no such message."""
        return self._change_direct("messages.update", {"id": id, **fields})

    def delete_message(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/message/{id}``: ``{"Result": true, "Id": id}``. :raises GtmNotFoundError:."""
        return self._change_direct("messages.delete", {"id": id})

    def update_post(self, id: str, **fields: Any) -> dict[str, Any]:
        """``POST /v2/post/{id}``: change ``messageId``, ``credentialIds``, ``startDateTime`` (epoch
        seconds, ISO 8601 or datetime) or ``status``; returns the ``Post``. :raises GtmNotFoundError:."""
        return self._change_direct("posts.update", {"id": id, **fields})

    def delete_post(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/post/{id}``: ``{"Result": true, "Id": id}``. :raises GtmNotFoundError:."""
        return self._change_direct("posts.delete", {"id": id})

    def update_credential(self, id: str, **fields: Any) -> dict[str, Any]:
        """``PUT /v2/credential/{id}`` (the SDK's only PUT): change a social profile's ``displayName`` or
        ``nativePostsEnabled`` (0/1); returns the ``Credential``. :raises GtmNotFoundError:."""
        return self._change_direct("credentials.update", {"id": id, **fields})

    def delete_credential(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/credential/{id}``: remove a social profile; ``{"Result": true, "Id": id}``."""
        return self._change_direct("credentials.delete", {"id": id})

    def remove_board_message(self, board_id: str, message_id: str) -> dict[str, Any]:
        """``DELETE /v2/board-message`` with the form ``boardId, messageId`` (the SDK's ``remove``):
        take a message off an advocacy board; ``{"Result": true, "Id": message_id}``."""
        return self._change_direct("board_messages.delete", {"boardId": board_id, "messageId": message_id})

    def delete_advocate(self, id: str, board_id: str) -> dict[str, Any]:
        """``DELETE /v2/advocate/{id}`` with the form ``boardId`` (the SDK's ``delete(id, boardId)``):
        remove an advocate from a board; ``{"Result": true, "Id": id}``."""
        return self._change_direct("advocates.delete", {"id": id, "boardId": board_id})

    def delete_lead(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/lead/{id}``: ``{"Result": true, "Id": id}``. :raises GtmNotFoundError:."""
        return self._change_direct("leads.delete", {"id": id})

    # -- the SDK's other writes (issue 22): one method per SDK method, Oktopost field names --------------

    def _create_named(self, kind: str, record: Mapping[str, Any]) -> dict[str, Any]:
        return self._create_direct(kind, {k: v for k, v in record.items() if v is not None}, {})

    def create_user(self, first_name: str, last_name: str, email: str, password: str, role: str,
                    timezone: str) -> dict[str, Any]:
        """``POST /v2/user`` (account/users.ts ``create``): a user with ``role`` admin, publisher,
        contributor or read; returns the ``User``."""
        return self._create_direct("users", {"firstName": first_name, "lastName": last_name, "email": email,
                                             "password": password, "role": role, "timezone": timezone},
                                   {"firstName": "first_name", "lastName": "last_name"})

    def update_user(self, id: str, **fields: Any) -> dict[str, Any]:
        """``POST /v2/user/{id}``: change ``firstName``, ``lastName``, ``email``, ``password`` or ``timezone``;
        returns the ``User``."""
        return self._change_direct("users.update", {"id": id, **fields})

    def delete_user(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/user/{id}``: ``{"Result": true, "Id": id}``."""
        return self._change_direct("users.delete", {"id": id})

    def create_team(self, name: str) -> dict[str, Any]:
        """``POST /v2/team``: returns the ``Team``."""
        return self._create_named("teams", {"name": name})

    def update_team(self, id: str, name: str) -> dict[str, Any]:
        """``POST /v2/team/{id}``: rename the team; returns the ``Team``."""
        return self._change_direct("teams.update", {"id": id, "name": name})

    def delete_team(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/team/{id}``: ``{"Result": true, "Id": id}``."""
        return self._change_direct("teams.delete", {"id": id})

    def create_cname(self, cname: str) -> dict[str, Any]:
        """``POST /v2/cname``: a custom short-link domain; returns the ``Cname``."""
        return self._create_named("cnames", {"cname": cname})

    def update_cname(self, id: str, cname: str) -> dict[str, Any]:
        """``POST /v2/cname/{id}``: returns the ``Cname``."""
        return self._change_direct("cnames.update", {"id": id, "cname": cname})

    def delete_cname(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/cname/{id}``: ``{"Result": true, "Id": id}``."""
        return self._change_direct("cnames.delete", {"id": id})

    def create_tag(self, tag: str) -> dict[str, Any]:
        """``POST /v2/tag``: returns the ``Tag``."""
        return self._create_named("tags", {"tag": tag})

    def update_tag(self, id: str, tag: str) -> dict[str, Any]:
        """``POST /v2/tag/{id}``: rename the tag; returns the ``Tag``."""
        return self._change_direct("tags.update", {"id": id, "tag": tag})

    def delete_tag(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/tag/{id}``: ``{"Result": true, "Id": id}``."""
        return self._change_direct("tags.delete", {"id": id})

    def create_media(self, resource: str) -> dict[str, Any]:
        """``POST /v2/media`` (``resource``: an upload id or a URL, as the SDK's CreateMediaParams);
        returns the ``Media`` item."""
        return self._create_named("media", {"resource": resource})

    def delete_media(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/media/{id}``: ``{"Result": true, "Id": id}``."""
        return self._change_direct("media.delete", {"id": id})

    def create_upload(self, source: str, name: str | None = None, mime_type: str | None = None) -> dict[str, Any]:
        """``POST /v2/upload`` (``source`` URL, optional ``name``, ``mimeType``): returns the ``Upload``."""
        return self._create_named("uploads", {"source": source, "name": name, "mimeType": mime_type})

    def create_story(self, title: str, description: str, campaign_id: str, **optional: Any) -> dict[str, Any]:
        """``POST /v2/story``: an advocacy story (optional fields by their Oktopost names: ``boardId``,
        ``mediaIds``, ``link``, ``messageIds``, ``topicIds``, ``tagIds``, ``publishDatetime``...). The SDK
        types the answer as ``BaseApiResponse``: ``{"Result": true}``."""
        return self._create_named("stories", {"title": title, "description": description,
                                              "campaignId": campaign_id, **optional})

    def update_story(self, id: str, **fields: Any) -> dict[str, Any]:
        """``POST /v2/story/{id}`` (UpdateStoryParams): ``{"Result": true, "Id": id}`` (BaseApiResponse)."""
        return self._change_direct("stories.update", {"id": id, **fields})

    def delete_story(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/story/{id}``: ``{"Result": true, "Id": id}``."""
        return self._change_direct("stories.delete", {"id": id})

    def create_topic(self, board_id: str, name: str) -> dict[str, Any]:
        """``POST /v2/board-topic``: a topic on an advocacy board; returns the ``Topic``."""
        return self._create_direct("topics", {"boardId": board_id, "name": name}, {"boardId": "board_id"})

    def update_topic(self, id: str, name: str) -> dict[str, Any]:
        """``POST /v2/board-topic/{id}``: rename the topic; returns the ``Topic``."""
        return self._change_direct("topics.update", {"id": id, "name": name})

    def delete_topic(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/board-topic/{id}``: ``{"Result": true, "Id": id}``."""
        return self._change_direct("topics.delete", {"id": id})

    def create_webhook(self, event: str, name: str, url: str, **optional: Any) -> dict[str, Any]:
        """``POST /v2/webhook`` (optional ``description``, ``isEnabled``, ``isHidden`` 0/1): returns the ``Webhook``."""
        return self._create_named("webhooks", {"event": event, "name": name, "url": url, **optional})

    def update_webhook(self, id: str, **fields: Any) -> dict[str, Any]:
        """``POST /v2/webhook/{id}`` (``event``, ``name``, ``url``, ``description``, ``isEnabled``,
        ``isHidden``): returns the ``Webhook``. The SDK sent this as a PUT for one commit (ec43e8a,
        reverted): the POST of its newest code is sent (docs/choices.md)."""
        return self._change_direct("webhooks.update", {"id": id, **fields})

    def delete_webhook(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/webhook/{id}``: ``{"Result": true, "Id": id}``."""
        return self._change_direct("webhooks.delete", {"id": id})

    def create_stream_tab(self, name: str) -> dict[str, Any]:
        """``POST /v2/stream-tab``: returns the ``StreamTab``."""
        return self._create_named("stream_tabs", {"name": name})

    def update_stream_tab(self, id: str, name: str) -> dict[str, Any]:
        """``POST /v2/stream-tab/{id}``: rename the tab; returns the ``StreamTab``."""
        return self._change_direct("stream_tabs.update", {"id": id, "name": name})

    def delete_stream_tab(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/stream-tab/{id}``: ``{"Result": true, "Id": id}``."""
        return self._change_direct("stream_tabs.delete", {"id": id})

    def create_stream(self, stream_tab_id: str, network: str, credential_id: str, type: str,
                      keyword: str | None = None, position: int | None = None) -> dict[str, Any]:
        """``POST /v2/stream``: a social stream on a tab; returns the ``Stream``."""
        return self._create_direct("streams", {k: v for k, v in {
            "streamTabId": stream_tab_id, "network": network, "credentialId": credential_id, "type": type,
            "keyword": keyword, "position": position}.items() if v is not None},
            {"streamTabId": "stream_tab_id", "credentialId": "credential_id"})

    def update_stream_position(self, id: str, position: int) -> dict[str, Any]:
        """``POST /v2/stream/{id}`` with ``position`` (the SDK's ``updatePosition``): returns the ``Stream``."""
        return self._change_direct("streams.update", {"id": id, "position": position})

    def delete_stream(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/stream/{id}``: ``{"Result": true, "Id": id}``."""
        return self._change_direct("streams.delete", {"id": id})

    def update_link(self, id: str, long_url: str) -> dict[str, Any]:
        """``POST /v2/link/{id}`` with ``longUrl``: Oktopost answers a page (``Items``); its first item,
        as the SDK returns it."""
        return self._change_direct("links.update", {"id": id, "longUrl": long_url})

    def replace_lead_link(self, integration_id: str, linked_record_id: str, new_linked_record_id: str
                          ) -> dict[str, Any]:
        """``POST /v2/lead-link-replace`` (leads/lead-links.ts ``replace``): point the leads linked to a CRM
        record at another one; ``{"Result": true, "Id": linked_record_id}``."""
        return self._change_direct("lead_links.update", {"integrationId": integration_id,
                                                         "linkedRecordId": linked_record_id,
                                                         "newLinkedRecordId": new_linked_record_id})

    def delete_lead_activity(self, id: str, lead_id: str) -> dict[str, Any]:
        """``DELETE /v2/lead-activity/{id}?leadId=`` (the SDK puts ``leadId`` in the query string):
        ``{"Result": true, "Id": id}``."""
        return self._change_direct("lead_activities.delete", {"id": id, "leadId": lead_id})

    def add_team_entities(self, entity_id: str, team_ids: Iterable[str] | str) -> dict[str, Any]:
        """``POST /v2/team-entity/{entityId}`` with ``teamIds`` (comma list): put an entity in teams;
        ``{"Result": true, "Id": entity_id}``."""
        return self._create_direct("team_entities", {"id": entity_id, "teamIds": _listish(team_ids)},
                                   {"id": "entity_id", "teamIds": "team_ids"})

    def remove_team_entities(self, entity_id: str, team_ids: Iterable[str] | str) -> dict[str, Any]:
        """``DELETE /v2/team-entity/{entityId}`` with the form ``teamIds``: take an entity out of teams;
        ``{"Result": true, "Id": entity_id}``."""
        return self._change_direct("team_entities.delete", {"id": entity_id, "teamIds": _listish(team_ids)})

    def create_workflow_item(self, entity_id: str, workflow_id: str) -> dict[str, Any]:
        """``POST /v2/workflow-item``: submit an entity (a message...) for approval; returns the item
        (answered under ``Data``)."""
        return self._create_direct("workflow_items", {"entityId": entity_id, "workflowId": workflow_id},
                                   {"entityId": "entity_id", "workflowId": "workflow_id"})

    def approve_workflow_item(self, id: str, note: str | None = None, step_id: str | None = None
                              ) -> dict[str, Any]:
        """``POST /v2/workflow-item/{id}`` with ``isApprove=1`` (and ``note``, ``stepId``): returns the item."""
        return self._decide(id, 1, note, step_id)

    def reject_workflow_item(self, id: str, note: str | None = None, step_id: str | None = None
                             ) -> dict[str, Any]:
        """``POST /v2/workflow-item/{id}`` with ``isApprove=0`` (and ``note``, ``stepId``): returns the item."""
        return self._decide(id, 0, note, step_id)

    def _decide(self, id: str, approve: int, note: str | None, step_id: str | None) -> dict[str, Any]:
        record = {"id": id, "isApprove": approve, "note": note, "stepId": step_id}
        return self._change_direct("workflow_items.update", {k: v for k, v in record.items() if v is not None})

    def delete_workflow_item(self, id: str) -> dict[str, Any]:
        """``DELETE /v2/workflow-item/{id}``: ``{"Result": true, "Id": id}``."""
        return self._change_direct("workflow_items.delete", {"id": id})

    def add_workflow_item_note(self, item_id: str, note: str) -> dict[str, Any]:
        """``PUT /v2/workflow-item-note?id=&note=`` (no body, as the SDK sends it): ``{"Result": true, "Id"}``."""
        return self._create_direct("workflow_item_notes", {"id": item_id, "note": note}, {"id": "item_id"})

    def update_notifications(self, **settings: Any) -> dict[str, Any]:
        """``POST /v2/notification``: change the account's e-mail notification settings (each of
        ``EmailDaily``, ``EmailWeekly``, ``EmailCampaignComplete``, ``EmailOnNewAssignment``,
        ``EmailOnNoteAdded``, ``EmailOnNoteMention``, ``EmailOnStatusChange``, ``SendDailyEmailReport``:
        1/0 or true/false); returns the settings (``Items``). Resent after a timeout: setting the same
        flags twice leaves the same state.

        :raises GtmConfigError: on an unknown setting, a value other than 0/1, or no setting.
        """
        unknown = sorted(set(settings) - set(NOTIFICATION_FIELDS))
        if unknown or not settings:
            raise GtmConfigError(f"Oktopost update_notifications: give settings among {', '.join(NOTIFICATION_FIELDS)}"
                                 + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
        form = {key: _encode(value) for key, value in settings.items()}
        bad = sorted(key for key, value in form.items() if value not in ("0", "1", 0, 1))
        if bad:
            raise GtmConfigError(f"Oktopost update_notifications: {', '.join(bad)} must be 1 or 0")
        found = self._call("notifications_update", form=form)
        return found if isinstance(found, dict) else {}

    def iter_write(self, operation: str, records: Iterable[Any], batch_size: int = 50) -> Iterator[BatchResult]:
        """Send ``<resource>.<create|update|delete>`` one call per record; one result per ``batch_size``.

        ``.create`` operations are :meth:`iter_create`. For updates and deletes each record is a dict
        with the object's ``id`` (and, for an update, the fields to change: :func:`build_change_form`);
        ``accepted`` holds the changed objects (updates) or ``{"Result": true, "Id"}`` (deletes), and
        ``failures`` every refusal with Oktopost's own message (a 404: no such object). A record with
        no ``id`` or nothing to change is a failure and is not sent.

        :raises GtmConfigError: on an unknown ``operation`` or ``batch_size`` < 1.
        """
        resource, _, write = operation.rpartition(".")
        if write == "create" and resource in CREATE_SPECS:
            return self.iter_create(resource, records, batch_size=batch_size)
        if operation not in CHANGE_OPERATIONS:
            known = [f"{kind}.create" for kind in CREATE_SPECS] + list(CHANGE_OPERATIONS)
            raise GtmConfigError(f"Oktopost: operation={operation!r} is unknown; use one of {', '.join(known)}.")
        size = check_batch_size(batch_size, "Oktopost")

        key = CHANGE_OPERATIONS[operation].identifier or "id"

        def identifier(record: Any) -> Any:
            return record.get(key) if isinstance(record, Mapping) else None

        def send_chunk(chunk: list[Any]) -> BatchResult:
            built: dict[int, tuple[str, dict[str, Any]]] = {}

            def problem(record: Any) -> str | None:
                try:
                    built[id(record)] = build_change_form(operation, record)
                except GtmConfigError as exc:
                    return str(exc)
                return None

            refused, valid = split_invalid(chunk, problem, identifier, convertible=(date,))
            sent = send_each(valid, lambda r: self._change(operation, *built[id(r)]), identifier)
            return refused.extend(sent).check()

        return run_batches(records, size, send_chunk)

    def iter_create(self, kind: str, records: Iterable[Any], batch_size: int = 50) -> Iterator[BatchResult]:
        """Create records one call each, and yield one :class:`BatchResult` per ``batch_size`` records.

        :param kind: ``campaigns``, ``messages``, ``posts``, ``board_messages`` or ``advocate_invites``.
        :param records: dicts of Oktopost field names (``name``; ``campaignId``/``network``/``message``;
            ``messageId``/``credentialIds``/``startDateTime``/``status``; ``boardId``/``messageId``;
            ``firstName``/``lastName``/``email``/``boardId``). Read lazily.
        :return: per chunk: ``accepted`` holds the created objects (``Campaign``/``Message``/``Post``
            dicts with ``Id``), ``failures`` every refusal with Oktopost's own message. A record that
            is not a dict or misses a required field is a failure naming the field and is not sent;
            a write whose outcome is unknown (timeout, 5xx) is a failure and is never resent.
        :raises GtmConfigError: on an unknown ``kind`` or ``batch_size`` < 1.
        """
        if kind not in CREATE_SPECS:
            raise GtmConfigError(f"Oktopost: kind={kind!r} cannot be created; use one of {', '.join(CREATE_SPECS)}.")
        size = check_batch_size(batch_size, "Oktopost")
        spec = CREATE_SPECS[kind]

        def identifier(record: Any) -> Any:
            return record.get(spec.identifier) if isinstance(record, Mapping) else None

        def send_chunk(chunk: list[Any]) -> BatchResult:
            # Each record's form is built once: building it is the check, and the form is what is sent.
            forms: dict[int, dict[str, Any]] = {}

            def problem(record: Any) -> str | None:
                try:
                    forms[id(record)] = build_create_form(kind, record)
                except GtmConfigError as exc:
                    return str(exc)
                return None

            refused, valid = split_invalid(chunk, problem, identifier, convertible=(date,))  # datetimes: epoch
            sent = send_each(valid, lambda r: self._create(kind, forms[id(r)]), identifier)
            return refused.extend(sent).check()

        return run_batches(records, size, send_chunk)


def _listish(value: Any) -> Any:
    """A list argument as given (lists are joined with commas when sent); iterables become lists."""
    if value is None or isinstance(value, str | list | tuple):
        return value
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return list(value)
    return value


def parse_created(value: Any) -> datetime | None:
    """Oktopost's ``Created`` (``YYYY-MM-DD HH:MM:SS``, UTC) as an aware datetime."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
