"""Oktopost API v2 in the sandbox (``/oktopost``), after section 4 of the API reference.

Auth: HTTP Basic, account id / API key from ``SANDBOX_CREDENTIALS["oktopost"]``; missing or wrong
→ 401 ``{"Result": false, "Errors": {"API": {"Error": "..."}}}`` (the documented envelope, also used
for every other error, 429 included).

Routes (after the prefix, all under ``/v2``): ``GET /me``; ``GET /campaign`` ``/campaign/{id}``,
``POST /campaign`` (``name``*); ``GET /message`` (``campaignId`` or ``ids`` mandatory, else the
observed lower-case ``{"Errors": {"api": {"message": ...}}}`` variant), ``GET /message/{id}``,
``POST /message`` (``network``*, ``campaignId``*, ``message``*); ``GET /post`` (filters
``campaignId``, ``messageId``, ``status``, ``before``/``after`` epoch seconds on ``Created``, exclusive),
``GET /post/{id}``
(``stats=1`` adds ``Stats`` beside ``Post``), ``POST /post`` (``messageId``*, ``credentialIds``* comma list, each an
existing credential; ``startDateTime`` epoch seconds; ``status``); ``GET /credential`` (``network``)
and ``/credential/{id}``; ``GET /board`` ``/board/{id}``; ``POST /board-message`` (``boardId``*,
``messageId``*) → ``{"Result": true}``; ``GET /advocate`` (``email`` filter; a page of
``AdvocateListItem``: ``Email, Id, LastBoardLogin, Name, PictureUrl``), ``GET /advocate/{id}``,
``POST /advocate`` (``firstName``*, ``lastName``*, ``email``*, ``boardId``*)
→ ``{"Result": true}``; ``GET /analytics/{postId}``;
``GET /click``; ``GET /lead``. Updates and deletes (the SDK's ``update(id, params)`` and ``delete(id)``,
src/resources/publishing/{campaigns,messages,posts}.ts): ``POST /campaign/{id}`` (``name``, ``url``,
``status`` active|paused|archived, ``tagIds``), ``POST /message/{id}`` (``message``, ``linkUrl``,
``linkTitle``, ``description``, ``imageUrl``), ``POST /post/{id}`` (``messageId``, ``credentialIds``,
``startDateTime``, ``status``) → ``{"Result": true, <Campaign|Message|Post>: object}``; ``DELETE
/campaign/{id}`` ``/message/{id}`` ``/post/{id}`` (no body) → ``{"Result": true}``; an unknown or
already deleted id → 404.

Lists: ``_page`` (0-based), ``_count`` 25/50/100 (200 for ``/click``; anything else 400), ``_order``
accepted; answer ``{"Result": true, "Items": [...], "Total": N}``. Synthetic campaigns, messages,
posts, credentials, boards, advocates, clicks and leads (``ctx.records`` each, fewer credentials and
boards) are generated per page from the seed; created records follow them.

Writes: ``application/x-www-form-urlencoded`` only. Created ids are 15 characters: the type prefix
(``002`` campaign, ``005`` message, ``004`` post, ``00A`` user) + 12 lowercase alphanumerics.

Rate limit: 60 calls per 60 s and 120 per 5 s (sliding); a breach blocks the key for 15 minutes
(900 s on the sandbox clock), every call of the block answered 429.

``state()``: ``{"campaigns": {id: rec}, "messages": {...}, "posts": {...}, "advocates": {...},
"board_messages": [...], "changes": [{"operation", "id", "form"}, ...]}`` (created records, and every
update or delete applied, in order).

Documented choices (where the reference is silent or in conflict):

- A JSON body on a write → 400 ``Content-Type must be application/x-www-form-urlencoded``
  (everything points to form encoding; JSON acceptance is undocumented).
- Timestamps in answers are ``YYYY-MM-DD HH:MM:SS`` strings (as every documented example shows);
  ``startDateTime`` / ``before`` / ``after`` inputs are epoch seconds.
- A post for several credentials is stored once with ``CredentialIds`` (and ``TotalCount``).
"""

from __future__ import annotations

import base64
import calendar
import secrets
import string
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from airflow_provider_gtm.apis.oktopost import NOTIFICATION_FIELDS, OKTOPOST, STORY_FIELDS, USER_ROLES
from airflow_provider_gtm.sandbox.credentials import SANDBOX_CREDENTIALS
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
    parse_ids,
)

NETWORKS = ("LinkedIn", "Twitter", "Facebook")
POST_STATUSES = ("pending", "inqueue", "draft", "inqueue-draft")
#: What a ``GET /advocate`` list item carries (src/types/advocacy.ts ``AdvocateListItem``).
ADVOCATE_LIST_FIELDS = ("Email", "Id", "LastBoardLogin", "Name", "PictureUrl")
BASE_EPOCH = 1_767_225_600  # 2026-01-01 UTC
_ALNUM = string.ascii_lowercase + string.digits
#: The account the sandbox's data belongs to: the documented sandbox account, whatever credentials a
#: test makes it accept (a test that plants a secret login must not see it echoed in the data).
ACCOUNT_ID = SANDBOX_CREDENTIALS["oktopost"]["login"]
DOMAINS = ("acme.io", "globex.com", "initech.dev", "umbrella.co", "hooli.xyz", "vandelay.net", "stark.ai")
FIRST = ("Ada", "Alan", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Edsger")
LAST = ("Lovelace", "Turing", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie", "Allen")


def _ts(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def _epoch(created: Any) -> int:
    """Epoch seconds of an answer's ``Created`` (``YYYY-MM-DD HH:MM:SS``, UTC); 0 when absent."""
    if not isinstance(created, str) or not created:
        return 0
    return calendar.timegm(time.strptime(created[:19], "%Y-%m-%d %H:%M:%S"))


def _plural(kind: str) -> str:
    """The catalogue's resource name of a sandbox kind (``story`` → ``stories``), as state() and changes name it."""
    return {"media": "media", "story": "stories", "lead_activity": "lead_activities"}.get(kind, kind + "s")


def _fields(*names: str) -> dict[str, str]:
    """Form field → answer field (``firstName`` → ``FirstName``), as the other resources answer them."""
    return {name: name[:1].upper() + name[1:] for name in names}


def _sid(prefix: str, index: int) -> str:
    """A synthetic 15-character id derivable from its index (``002`` + 12 characters)."""
    return f"{prefix}s{index:011d}"


class OktopostSandbox(SandboxApi):
    name = OKTOPOST.name  # the path prefix
    default_rate_limit = RateLimitSpec(windows=[(60, 60.0), (120, 5.0)], block_seconds=900.0)
    cacheable_gets = True

    def __init__(self, ctx: SandboxContext) -> None:
        self.reset()
        super().__init__(ctx)

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v2/me", self.me),
            Route("GET", "/v2/campaign", self.list_of("campaign")),
            Route("GET", "/v2/campaign/{id}", self.get_one("campaign", "Campaign")),
            Route("POST", "/v2/campaign", self.create_campaign),
            Route("POST", "/v2/campaign/{id}", self.update_of("campaign")),
            Route("DELETE", "/v2/campaign/{id}", self.delete_of("campaign")),
            Route("GET", "/v2/message", self.list_messages),
            Route("GET", "/v2/message/{id}", self.get_one("message", "Message")),
            Route("POST", "/v2/message", self.create_message),
            Route("POST", "/v2/message/{id}", self.update_of("message")),
            Route("DELETE", "/v2/message/{id}", self.delete_of("message")),
            Route("GET", "/v2/post", self.list_of("post")),
            Route("GET", "/v2/post/{id}", self.get_post),
            Route("POST", "/v2/post", self.create_post),
            Route("POST", "/v2/post/{id}", self.update_of("post")),
            Route("DELETE", "/v2/post/{id}", self.delete_of("post")),
            Route("GET", "/v2/credential", self.list_of("credential")),
            Route("GET", "/v2/credential/{id}", self.get_one("credential", "Credential")),
            Route("GET", "/v2/board", self.list_of("board")),
            Route("GET", "/v2/board/{id}", self.get_one("board", "Board")),
            Route("POST", "/v2/board-message", self.create_board_message),
            Route("GET", "/v2/advocate", self.list_advocates),
            Route("GET", "/v2/advocate/{id}", self.get_one("advocate", "Advocate")),
            Route("POST", "/v2/advocate", self.invite_advocate),
            Route("GET", "/v2/analytics/{id}", self.analytics),
            Route("GET", "/v2/click", self.list_of("click")),
            Route("GET", "/v2/lead", self.list_of("lead")),
            Route("GET", "/v2/lead/{id}", self.get_one("lead", "Lead")),
            Route("DELETE", "/v2/lead/{id}", self.delete_of("lead")),
            Route("PUT", "/v2/credential/{id}", self.update_of("credential")),
            Route("DELETE", "/v2/credential/{id}", self.delete_of("credential")),
            Route("DELETE", "/v2/board-message", self.remove_board_message),
            Route("DELETE", "/v2/advocate/{id}", self.delete_advocate),
            *self._other_routes(),
        ]

    #: The other ``_page``/``_count`` lists of the SDK (src/resources/**): kind → (path, id prefix,
    #: single-object key or ``None`` when the SDK has no ``get``).
    OTHER_LISTS: dict[str, tuple[str, str, str | None]] = {
        "user": ("/user", "00A", "User"), "team": ("/team", "tea", "Team"), "cname": ("/cname", "cna", None),
        "conversion_tag": ("/conversion-tag", "cvt", None), "tag": ("/tag", "tag", "Tag"),
        "media": ("/media", "026", "Media"), "upload": ("/upload", "upl", "Upload"), "link": ("/link", "lnk", None),
        "story": ("/story", "sty", "Item"), "topic": ("/board-topic", "tpc", None),
        "webhook": ("/webhook", "whk", "Webhook"), "lead_activity": ("/lead-activity", "lac", None),
        "stream_tab": ("/stream-tab", "stb", "StreamTab"),
    }

    def _other_routes(self) -> list[Route]:
        routes: list[Route] = []
        for kind, (path, _prefix, key) in self.OTHER_LISTS.items():
            routes.append(Route("GET", f"/v2{path}", self.list_of(kind)))
            if key:
                routes.append(Route("GET", f"/v2{path}/{{id}}", self.get_one(kind, key)))
        return routes + [
            Route("GET", "/v2/link/{hash}", self.get_link),
            Route("GET", "/v2/video-validate/{id}", self.validate_video),
            Route("GET", "/v2/team-entity/{id}", self.team_entities),
            Route("GET", "/v2/notification", self.notifications),
            Route("GET", "/v2/webhook-log/{id}", self.webhook_log),
            Route("GET", "/v2/bi-export", self.exports),
            Route("GET", "/v2/bi-export/{id}", self.export),
            Route("GET", "/v2/followers/{id}", self.followers),
            Route("GET", "/v2/postlog", self.postlogs),
            Route("GET", "/v2/postlog/{id}", self.postlog),
            Route("POST", "/v2/calendar", self.calendar),
            Route("GET", "/v2/workflow", self.workflows),
            Route("GET", "/v2/workflow/{id}", self.workflow),
            Route("GET", "/v2/workflow-step", self.workflow_steps),
            Route("GET", "/v2/workflow-step/{id}", self.workflow_step),
            Route("GET", "/v2/workflow-item", self.workflow_items),
            Route("GET", "/v2/workflow-item-note", self.workflow_item_notes),
            Route("GET", "/v2/comments", self.comments),
            Route("GET", "/v2/stream", self.streams),
            *self._write_routes(),
        ]

    #: The SDK's other creates (issue 22; src/resources/**, src/types/*.ts): kind → (path, id prefix,
    #: answer key (``None``: BaseApiResponse), required form fields). The prefixes are OTHER_LISTS'.
    CREATES: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {
        "user": ("/user", "00A", "User", ("firstName", "lastName", "email", "password", "role", "timezone")),
        "team": ("/team", "tea", "Team", ("name",)),
        "cname": ("/cname", "cna", "Cname", ("cname",)),
        "tag": ("/tag", "tag", "Tag", ("tag",)),
        "media": ("/media", "026", "Media", ("resource",)),
        "upload": ("/upload", "upl", "Upload", ("source",)),
        "story": ("/story", "sty", None, ("title", "description", "campaignId")),
        "topic": ("/board-topic", "tpc", "Topic", ("boardId", "name")),
        "webhook": ("/webhook", "whk", "Webhook", ("event", "name", "url")),
        "stream_tab": ("/stream-tab", "stb", "StreamTab", ("name",)),
        "stream": ("/stream", "str", "Stream", ("streamTabId", "network", "credentialId", "type")),
        "workflow_item": ("/workflow-item", "wfi", "Data", ("entityId", "workflowId")),
    }
    #: Kinds with an ``update(id, params)`` (POST <path>/{id}) and a ``delete(id)``; media and
    #: workflow items' updates differ (none; approve/reject).
    UPDATED = ("user", "team", "cname", "tag", "story", "topic", "webhook", "stream_tab", "stream", "link",
               "workflow_item")
    DELETED = ("user", "team", "cname", "tag", "media", "story", "topic", "webhook", "stream_tab", "stream",
               "workflow_item")

    def _write_routes(self) -> list[Route]:
        paths = {**{k: v[0] for k, v in self.CREATES.items()}, "link": "/link"}
        routes = [Route("POST", f"/v2{path}", self.create_of(kind))
                  for kind, (path, _prefix, _key, _required) in self.CREATES.items()]
        routes += [Route("POST", f"/v2{paths[kind]}/{{id}}", self.update_of(kind)) for kind in self.UPDATED]
        routes += [Route("DELETE", f"/v2{paths[kind]}/{{id}}", self.delete_of(kind)) for kind in self.DELETED]
        return routes + [
            # src/resources/events/webhooks.ts update: POST at the newest commit (fbda98d), PUT at ec43e8a.
            Route("PUT", "/v2/webhook/{id}", self.update_of("webhook")),
            Route("POST", "/v2/lead-link-replace", self.replace_lead_link),
            Route("DELETE", "/v2/lead-activity/{id}", self.delete_lead_activity),
            Route("POST", "/v2/team-entity/{id}", self.add_team_entities),
            Route("DELETE", "/v2/team-entity/{id}", self.remove_team_entities),
            Route("PUT", "/v2/workflow-item-note", self.add_workflow_item_note),
            Route("POST", "/v2/notification", self.update_notifications),
        ]

    # --- framework hooks --------------------------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        header = request.header("Authorization") or ""
        creds = self.ctx.credentials["oktopost"]
        expected = base64.b64encode(f"{creds['login']}:{creds['password']}".encode()).decode()
        if header != f"Basic {expected}":
            return self.error(401, "Authentication failed: wrong account id or API key")
        return None

    def error(self, status: int, message: str, **extra: Any) -> Response:
        return json_response({"Result": False, "Errors": {"API": {"Error": message}}}, status)

    def rate_limited(self, retry_after: float | None, blocked: bool) -> Response:
        return self.error(429, "Rate limit exceeded. The API key is blocked for 15 minutes.")

    def state(self) -> dict[str, Any]:
        with self.ctx.lock:
            data: dict[str, Any] = {kind: {k: dict(v) for k, v in records.items()}
                                    for kind, records in self.created.items()}
            data["board_messages"] = [dict(b) for b in self.board_messages]
            data["changes"] = [dict(c) for c in self.changes]
            return data

    def reset(self) -> None:
        self.created: dict[str, dict[str, dict[str, Any]]] = {
            "campaigns": {}, "messages": {}, "posts": {}, "advocates": {}}
        self.board_messages: list[dict[str, Any]] = []
        # Updates and deletes: the object as it now is (None: deleted), per kind and id, and a log
        # of every applied change ({"operation", "id", "form"}) so tests can count them.
        self.overrides: dict[str, dict[str, dict[str, Any] | None]] = {
            "campaign": {}, "message": {}, "post": {}, "credential": {}, "lead": {}, "advocate": {}}
        self.changes: list[dict[str, Any]] = []
        # Team-entity add/remove (entity id → team ids), workflow-item notes, notification settings.
        self.entity_teams: dict[str, list[str]] = {}
        self.notes: dict[str, list[dict[str, Any]]] = {}
        self.notification_settings: dict[str, bool] = dict.fromkeys(NOTIFICATION_FIELDS, False)

    def configure(self, options: Mapping[str, Any]) -> None:
        if options:
            raise ValueError(f"unknown oktopost option(s) {sorted(options)}; oktopost has no options")

    # --- synthetic data ---------------------------------------------------------------------------
    def _total(self, kind: str) -> int:
        records = self.ctx.records
        if kind in self.OTHER_LISTS:
            return min(records, 60)  # account-sized lists: a few pages at most
        return {"credential": min(12, max(3, records // 20)), "board": 3}.get(kind, records)

    def _synthetic(self, kind: str, index: int) -> dict[str, Any]:
        rng = self.ctx.rng("oktopost", kind, index)
        created = _ts(BASE_EPOCH + index * 600)
        if kind == "campaign":
            return {"Id": _sid("002", index), "Name": f"Campaign {index}", "Status": "active", "Created": created,
                    "TotalPosts": rng.randrange(0, 50), "Clicks": rng.randrange(0, 500)}
        if kind == "message":
            return {"Id": _sid("005", index), "CampaignId": _sid("002", index % max(1, self._total("campaign"))),
                    "Network": NETWORKS[index % len(NETWORKS)], "Message": f"Synthetic message {index}",
                    "Created": created}
        if kind == "post":
            return {"Id": _sid("004", index), "MessageId": _sid("005", index), "Status": "complete",
                    "CredentialIds": [self._credential_id(index % self._total("credential"))],
                    "StartDateTime": BASE_EPOCH + index * 600, "Created": created, "Source": "UI"}
        if kind == "credential":
            network = NETWORKS[index % len(NETWORKS)]
            return {"Id": self._credential_id(index), "Name": f"{network} profile {index}", "Network": network,
                    "DisplayName": f"Sandbox {network} {index}", "Status": "invalid" if index % 7 == 6 else "valid",
                    "Created": created}
        if kind in self.OTHER_LISTS:
            return self._other(kind, index, created)
        if kind == "board":
            return {"Id": _sid("brd", index), "Name": f"Board {index}", "Status": "active", "UsersCount": 10}
        first, last = FIRST[index % len(FIRST)], LAST[(index // len(FIRST)) % len(LAST)]
        email = f"{first.lower()}.{last.lower()}{index}@{DOMAINS[rng.randrange(len(DOMAINS))]}"
        if kind == "advocate":
            return {"Id": _sid("00A", index), "Name": f"{first} {last}", "FirstName": first, "LastName": last,
                    "Email": email, "BoardIds": [_sid("brd", index % 3)], "Profiles": [], "PictureUrl": None,
                    "LastBoardLogin": created}
        if kind == "lead":
            return {"Id": _sid("lea", index), "FirstName": first, "LastName": last, "Email": email,
                    "Company": email.split("@")[1].split(".")[0].title(), "Created": created}
        return {"Id": _sid("clk", index), "MessageId": _sid("005", index), "LeadId": _sid("lea", index),
                "Created": created, "Converted": bool(rng.randrange(2))}

    def _other(self, kind: str, index: int, created: str) -> dict[str, Any]:
        """A record of one of the other lists: ``Id``, ``Name``, ``Created``, ``Modified`` and what ties it."""
        record: dict[str, Any] = {"Id": _sid(self.OTHER_LISTS[kind][1], index), "Name": f"{kind} {index}",
                                  "Created": created, "Modified": created}
        if kind in ("story", "topic"):
            record["BoardId"] = _sid("brd", index % 3)
        elif kind == "lead_activity":
            record.update(LeadId=_sid("lea", index), Type="click", ActivityDate=created, Data={})
        elif kind == "link":
            record.update(Hash=f"h{index:07d}", LongUrl=f"https://example.com/{index}")
        elif kind == "webhook":
            record.update(Event="post.published", Url=f"https://hooks.example.com/{index}", IsEnabled=True)
        elif kind == "media":
            record.update(Type="Image")
        elif kind == "upload":
            record.update(Status="complete")
        return record

    def _credential_id(self, index: int) -> str:
        return f"003-{ACCOUNT_ID}-{index}"

    def _stored(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.created.get(_plural(kind), {})

    #: The one synthetic stream and workflow item their lists answer (``streams``, ``workflow_items``).
    FIXED: dict[str, dict[str, Any]] = {
        "stream": {"Id": "str000000000001", "Network": "LinkedIn"},
        "workflow_item": {"Id": "wfi000000000001", "Status": "pending", "StepId": "wfs000000000001",
                          "WorkflowId": "wfl000000000001", "MessageId": _sid("005", 0), "CreatedBy": "00Asandbox0usr"},
    }

    def _find(self, kind: str, object_id: str) -> dict[str, Any] | None:
        overrides = self.overrides.get(kind, {})
        if object_id in overrides:
            return overrides[object_id]
        stored = self._stored(kind).get(object_id)
        if stored is not None:
            return stored
        if kind in self.FIXED:
            fixed = self.FIXED[kind]
            return dict(fixed) if fixed["Id"] == object_id else None
        for index in self._candidates(kind, object_id):
            if 0 <= index < self._total(kind):
                record = self._synthetic(kind, index)
                if record["Id"] == object_id:
                    return record
        return None

    @staticmethod
    def _candidates(kind: str, object_id: str) -> list[int]:
        tail = object_id.rsplit("-", 1)[-1] if kind == "credential" else object_id[4:]
        return [int(tail)] if tail.isdigit() else []

    # --- handlers ---------------------------------------------------------------------------------
    def me(self, request: Request) -> Response:
        return json_response({"Result": True, "User": {"Id": "00Asandbox0usr", "Name": "Sandbox User",
                                                       "Email": "sandbox@example.com", "LastLogin": _ts(BASE_EPOCH)},
                              "Account": {"Id": ACCOUNT_ID, "Name": "Sandbox Account"}})

    def _paging(self, request: Request, kind: str) -> tuple[int, int]:
        # src/types/analytics.ts ClickListParams (200 too); src/types/events.ts WebhookConfigListParams (20 too).
        allowed = {"click": (25, 50, 100, 200), "webhook": (20, 25, 50, 100)}.get(kind, (25, 50, 100))
        try:
            count = int(request.arg("_count") or 25)
            page = int(request.arg("_page") or 0)
        except ValueError:
            raise HttpError(400, "_page and _count must be integers") from None
        if count not in allowed or page < 0:
            raise HttpError(400, f"Invalid _count {count}: allowed values are {', '.join(map(str, allowed))}")
        return page, count

    def _page(self, request: Request, kind: str, matches: Any = None) -> Response:
        body = self._page_body(request, kind, matches)
        return json_response(body)

    def _page_body(self, request: Request, kind: str, matches: Any = None) -> dict[str, Any]:
        page, count = self._paging(request, kind)
        total_synthetic = self._total(kind)
        stored = list(self._stored(kind).values())
        overrides = self.overrides.get(kind, {})
        if overrides:
            # Updated or deleted synthetic objects: read through the scan below (sandbox-sized lists).
            matches = matches or (lambda r: True)
            stored = [r for r in stored if r["Id"] not in overrides]
        if matches is None:
            start = page * count
            items = [self._synthetic(kind, i) for i in page_of(total_synthetic, start, count)]
            rest = max(0, start + count - total_synthetic)
            offset = max(0, start - total_synthetic)
            items += stored[offset: offset + rest] if rest else []
            return {"Result": True, "Items": items, "Total": total_synthetic + len(stored)}
        # Filtered lists scan (sandbox-sized lists only; filters are rare in bulk reads).
        synthetic = (self._synthetic(kind, i) for i in range(total_synthetic))
        current = (overrides.get(r["Id"], r) if r["Id"] in overrides else r for r in synthetic)
        selected = [r for r in current if r is not None and matches(r)]
        selected += [r for r in stored if matches(r)]
        return {"Result": True, "Items": selected[page * count:(page + 1) * count], "Total": len(selected)}

    def list_of(self, kind: str) -> Any:
        def handler(request: Request) -> Response:
            filters = {k: v[-1] for k, v in request.query.items() if not k.startswith("_") and k != "withTags"}
            if kind == "credential" and request.arg("includeInvalid") not in ("1", "true"):
                filters["Status"] = "valid"
            filters.pop("includeInvalid", None)
            if not filters:
                return self._page(request, kind)
            return self._page(request, kind, lambda r: all(self._field_matches(r, k, v) for k, v in filters.items()))
        return handler

    @staticmethod
    def _field_matches(record: Mapping[str, Any], key: str, value: str) -> bool:
        if key in ("before", "after"):
            # PostListParams / ClickListParams ``before``/``after`` (Oktopost/oktopost-typescript-sdk
            # src/types/publishing.ts, src/types/analytics.ts): epoch seconds, on when the record was
            # created; exclusive here (the provider sends them one second early either way).
            moment = _epoch(record.get("Created"))
            return moment < int(value) if key == "before" else moment > int(value)
        field = {"network": "Network", "campaignId": "CampaignId", "messageId": "MessageId", "status": "Status",
                 "Status": "Status", "email": "Email"}.get(key, key[:1].upper() + key[1:])
        return str(record.get(field, "")).lower() == value.lower()

    def list_messages(self, request: Request) -> Response:
        if not request.arg("campaignId") and not request.arg("ids"):
            return json_response({"Result": False, "Errors": {"api": {
                "message": "You must send either of the mandatory parameters: campaignId\\ids"}}}, 400)
        ids = set(parse_ids(request.arg("ids")))
        campaign = request.arg("campaignId")
        network = request.arg("network")
        return self._page(request, "message", lambda r: (not ids or r["Id"] in ids)
                          and (not campaign or r["CampaignId"] == campaign)
                          and (not network or r["Network"].lower() == network.lower()))

    def get_one(self, kind: str, key: str) -> Any:
        def handler(request: Request) -> Response:
            record = self._find(kind, request.path_params["id"])
            if record is None:
                raise HttpError(404, "The page you are looking for was not found")
            return json_response({"Result": True, key: record})
        return handler

    def get_post(self, request: Request) -> Response:
        record = self._find("post", request.path_params["id"])
        if record is None:
            raise HttpError(404, "The page you are looking for was not found")
        if request.arg("stats") == "1":
            # Oktopost/oktopost-typescript-sdk src/resources/publishing/posts.ts get(): ``Stats`` comes
            # beside ``Post`` in the answer (the SDK merges it into the post it returns).
            return json_response({"Result": True, "Post": record, "Stats": self._stats(record["Id"])})
        return json_response({"Result": True, "Post": record})

    def _stats(self, post_id: str) -> dict[str, int]:
        rng = self.ctx.rng("oktopost", "stats", post_id)
        return {k: rng.randrange(0, 100) for k in ("LinkClicks", "Conversions", "Comments", "Likes", "Shares",
                                                   "ImpressionsAdded")}

    def analytics(self, request: Request) -> Response:
        if self._find("post", request.path_params["id"]) is None:
            raise HttpError(404, "The page you are looking for was not found")
        return json_response({"Result": True, "Stats": self._stats(request.path_params["id"])})

    def list_advocates(self, request: Request) -> Response:
        """``GET /advocate`` (``email`` optional): a page of ``AdvocateListItem`` (Oktopost/
        oktopost-typescript-sdk src/resources/advocacy/advocates.ts list(), src/types/advocacy.ts:
        ``Email, Id, LastBoardLogin, Name, PictureUrl``); no match is an empty page, not a 404."""
        email = (request.arg("email") or "").strip().lower()
        body = self._page_body(request, "advocate",
                               (lambda r: str(r.get("Email", "")).lower() == email) if email else None)
        body["Items"] = [{key: item.get(key) for key in ADVOCATE_LIST_FIELDS} for item in body["Items"]]
        return json_response(body)

    # --- writes -----------------------------------------------------------------------------------
    def _form(self, request: Request, required: tuple[str, ...]) -> dict[str, str]:
        if not request.content_type.lower().startswith("application/x-www-form-urlencoded"):
            raise HttpError(400, "Content-Type must be application/x-www-form-urlencoded")
        form = request.form()
        # The SDK (Oktopost/oktopost-typescript-sdk, src/http/base-client.ts appendEncoded) sends a
        # list as repeated ``key[]=`` fields; the docs' curl sends ``key=a,b``. Both are read.
        pairs = parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        listed: dict[str, list[str]] = {}
        for key, value in pairs:
            if key.endswith("[]"):
                listed.setdefault(key[:-2], []).append(value)
        for key, values in listed.items():
            form.pop(f"{key}[]", None)
            form[key] = ",".join(values)
        missing = [name for name in required if not form.get(name, "").strip()]
        if missing:
            raise HttpError(400, f"Missing mandatory parameter(s): {', '.join(missing)}")
        return form

    def _new_id(self, prefix: str) -> str:
        return prefix + "".join(secrets.choice(_ALNUM) for _ in range(12))

    def _now(self) -> str:
        return _ts(self.ctx.clock.now())

    def create_campaign(self, request: Request) -> Response:
        form = self._form(request, ("name",))
        record: dict[str, Any]
        record = {"Id": self._new_id("002"), "Name": form["name"], "Url": form.get("url", ""), "Status": "active",
                  "Created": self._now(), "TotalPosts": 0, "Clicks": 0,
                  "TagIds": parse_ids(form.get("tagIds"))}
        with self.ctx.lock:
            self.created["campaigns"][record["Id"]] = record
        return json_response({"Result": True, "Campaign": record})

    def create_message(self, request: Request) -> Response:
        form = self._form(request, ("network", "campaignId", "message"))
        if self._find("campaign", form["campaignId"]) is None:
            raise HttpError(400, f"Campaign {form['campaignId']} was not found")
        network = next((n for n in (*NETWORKS, "Instagram", "YouTube", "Youtube", "WeChat", "Xing")
                        if n.lower() == form["network"].lower()), None)
        if network is None:
            raise HttpError(400, f"Invalid network: {form['network']}")
        record = {"Id": self._new_id("005"), "CampaignId": form["campaignId"], "Network": network,
                  "Message": form["message"], "Created": self._now()}
        for key in ("linkUrl", "linkTitle", "description", "imageUrl", "title"):
            if form.get(key):
                record[key[:1].upper() + key[1:]] = form[key]
        with self.ctx.lock:
            self.created["messages"][record["Id"]] = record
        return json_response({"Result": True, "Message": record})

    def create_post(self, request: Request) -> Response:
        form = self._form(request, ("messageId", "credentialIds"))
        if self._find("message", form["messageId"]) is None:
            raise HttpError(400, f"Message {form['messageId']} was not found")
        credentials = parse_ids(form["credentialIds"])
        for credential in credentials:
            if self._find("credential", credential) is None:
                raise HttpError(400, f"Invalid credential: {credential}")
        status = form.get("status") or "pending"
        if status not in POST_STATUSES:
            raise HttpError(400, f"Invalid status {status!r}: use one of {', '.join(POST_STATUSES)}")
        start = form.get("startDateTime") or str(int(self.ctx.clock.now()))
        if not start.isdigit():
            raise HttpError(400, "startDateTime must be a Unix timestamp in seconds")
        record: dict[str, Any]
        record = {"Id": self._new_id("004"), "MessageId": form["messageId"], "CredentialIds": credentials,
                  "StartDateTime": int(start), "Status": status, "Source": "API", "TotalCount": len(credentials),
                  "Created": self._now()}
        with self.ctx.lock:
            self.created["posts"][record["Id"]] = record
        return json_response({"Result": True, "Post": record})

    def create_board_message(self, request: Request) -> Response:
        form = self._form(request, ("boardId", "messageId"))
        if self._find("board", form["boardId"]) is None:
            raise HttpError(404, "The page you are looking for was not found")
        if self._find("message", form["messageId"]) is None:
            raise HttpError(400, f"Message {form['messageId']} was not found")
        with self.ctx.lock:
            self.board_messages.append(dict(form))
        return json_response({"Result": True})

    def invite_advocate(self, request: Request) -> Response:
        form = self._form(request, ("firstName", "lastName", "email", "boardId"))
        if "@" not in form["email"]:
            raise HttpError(400, f"Invalid email: {form['email']}")
        if self._find("board", form["boardId"]) is None:
            raise HttpError(400, f"Board {form['boardId']} was not found")
        record: dict[str, Any] = {"Id": self._new_id("00A"), "Name": f"{form['firstName']} {form['lastName']}",
                  "FirstName": form["firstName"], "LastName": form["lastName"], "Email": form["email"],
                  "BoardIds": [form["boardId"]], "Profiles": [], "PictureUrl": None,
                  "LastBoardLogin": ""}
        with self.ctx.lock:
            self.created["advocates"][record["Id"]] = record
        # Oktopost/oktopost-typescript-sdk src/resources/advocacy/advocates.ts: invite answers a
        # BaseApiResponse, ``{"Result": true}`` without the advocate (look it up by email).
        return json_response({"Result": True})


    # --- updates and deletes ----------------------------------------------------------------------
    #: Form field → answer field, per kind (Oktopost/oktopost-typescript-sdk src/types/publishing.ts
    #: UpdateCampaignParams / UpdateMessageParams / UpdatePostParams); other form fields are ignored.
    UPDATE_FIELDS = {
        "campaign": {"name": "Name", "url": "Url", "status": "Status", "tagIds": "TagIds"},
        "message": {"message": "Message", "linkUrl": "LinkUrl", "linkTitle": "LinkTitle",
                    "description": "Description", "imageUrl": "ImageUrl"},
        "post": {"messageId": "MessageId", "credentialIds": "CredentialIds", "startDateTime": "StartDateTime",
                 "status": "Status"},
        # src/types/account.ts UpdateSocialProfileParams (sent with PUT).
        "credential": {"displayName": "DisplayName", "nativePostsEnabled": "NativePostsEnabled"},
        # Issue 22 (src/types/{account,publishing,advocacy,events,streams,approvals}.ts Update*Params).
        "user": _fields("firstName", "lastName", "email", "password", "timezone"),
        "team": _fields("name"), "cname": _fields("cname"), "tag": _fields("tag"), "topic": _fields("name"),
        "stream_tab": _fields("name"), "stream": _fields("position"), "link": _fields("longUrl"),
        "story": _fields(*STORY_FIELDS),
        "webhook": _fields("event", "name", "url", "description", "isEnabled", "isHidden"),
        "workflow_item": _fields("isApprove", "note", "stepId"),
    }
    #: The answer field of an update (``None``: BaseApiResponse; links answer a page, ``Items``).
    KEYS: dict[str, str | None] = {
        "campaign": "Campaign", "message": "Message", "post": "Post", "credential": "Credential", "user": "User",
        "team": "Team", "cname": "Cname", "tag": "Tag", "topic": "Topic", "stream_tab": "StreamTab",
        "stream": "Stream", "link": "Items", "story": None, "webhook": "Webhook", "workflow_item": "Data"}
    #: Update fields the SDK's type requires (UpdateTeamParams ``name``... are not optional).
    UPDATE_REQUIRED = {"team": ("name",), "cname": ("cname",), "tag": ("tag",), "topic": ("name",),
                       "stream_tab": ("name",), "stream": ("position",), "link": ("longUrl",),
                       "workflow_item": ("isApprove",)}

    def update_of(self, kind: str) -> Any:
        """``POST /<kind>/{id}``: the SDK's ``update(id, params)`` (src/resources/publishing/*.ts): the
        form changes the object, the answer is ``{"Result": true, <Key>: object}``; 404 for no object."""
        def handler(request: Request) -> Response:
            form = self._form(request, self.UPDATE_REQUIRED.get(kind, ()))
            object_id = request.path_params["id"]
            with self.ctx.lock:
                record = self._link(object_id) if kind == "link" else self._find(kind, object_id)
                if record is None:
                    raise HttpError(404, "The page you are looking for was not found")
                changed = self._apply_update(kind, dict(record), form)
                changed["Modified"] = self._now()
                self._put(kind, changed)
                self.changes.append({"operation": f"{_plural(kind)}.update", "id": object_id, "form": dict(form)})
            key = self.KEYS[kind]
            if key is None:
                return json_response({"Result": True})
            return json_response({"Result": True, key: [changed] if key == "Items" else changed})
        return handler

    def _apply_update(self, kind: str, record: dict[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
        for key, field in self.UPDATE_FIELDS[kind].items():
            if key not in form:
                continue
            value: Any = form[key]
            if key == "status":
                allowed = ("active", "paused", "archived") if kind == "campaign" else POST_STATUSES
                if value not in allowed:
                    raise HttpError(400, f"Invalid status {value!r}: use one of {', '.join(allowed)}")
            elif key == "startDateTime":
                if not value.isdigit():
                    raise HttpError(400, "startDateTime must be a Unix timestamp in seconds")
                value = int(value)
            elif key in ("tagIds", "credentialIds"):
                value = parse_ids(value)
                if key == "credentialIds":
                    for credential in value:
                        if self._find("credential", credential) is None:
                            raise HttpError(400, f"Invalid credential: {credential}")
            elif key == "nativePostsEnabled":
                if value not in ("0", "1"):
                    raise HttpError(400, "nativePostsEnabled must be 0 or 1")
                value = value == "1"
            elif key == "messageId" and self._find("message", value) is None:
                raise HttpError(400, f"Message {value} was not found")
            elif key in ("isApprove", "isEnabled", "isHidden"):
                if value not in ("0", "1"):
                    raise HttpError(400, f"{key} must be 0 or 1")
                if key == "isApprove":
                    field, value = "Status", "approved" if value == "1" else "rejected"
                else:
                    value = value == "1"
            elif key == "position":
                if not value.lstrip("-").isdigit():
                    raise HttpError(400, "position must be an integer")
                value = int(value)
            record[field] = value
        return record

    def _put(self, kind: str, record: dict[str, Any]) -> None:
        stored = self._stored(kind)
        if record["Id"] in stored:
            stored[record["Id"]] = record
        else:
            self.overrides.setdefault(kind, {})[record["Id"]] = record

    def _link(self, object_id: str) -> dict[str, Any] | None:
        """A short link by its ``Id`` (publishing/links.ts ``update(id, ...)`` names it by id, not hash)."""
        overrides = self.overrides.get("link", {})
        if object_id in overrides:
            return overrides[object_id]
        return next((r for r in self._others("link", self._total("link")) if r["Id"] == object_id), None)

    def create_of(self, kind: str) -> Any:
        """``POST <path>``: the SDK's ``create(params)`` of the other resources: the form's fields become
        the object's (``name`` → ``Name``), answered under the SDK's key, or ``{"Result": true}`` where the
        SDK types a ``BaseApiResponse`` (stories)."""
        path, prefix, key, required = self.CREATES[kind]

        def handler(request: Request) -> Response:
            form = self._form(request, required)
            if kind == "user" and form["role"] not in USER_ROLES:
                raise HttpError(400, f"Invalid role {form['role']!r}: use one of {', '.join(USER_ROLES)}")
            if kind == "workflow_item":
                record: dict[str, Any] = {"Id": self._new_id(prefix), "Status": "pending",
                                          "WorkflowId": form["workflowId"], "EntityId": form["entityId"],
                                          "Created": self._now()}
            else:
                record = {"Id": self._new_id(prefix), "Created": self._now(), "Modified": self._now(),
                          **{k[:1].upper() + k[1:]: v for k, v in form.items() if k != "password"}}
            with self.ctx.lock:
                self.created.setdefault(_plural(kind), {})[record["Id"]] = record
                self.changes.append({"operation": f"{_plural(kind)}.create", "id": record["Id"],
                                     "form": {k: v for k, v in form.items() if k != "password"}})
            return json_response({"Result": True, key: record} if key else {"Result": True})
        return handler

    def replace_lead_link(self, request: Request) -> Response:
        """``POST /lead-link-replace`` (leads/lead-links.ts ``replace``; ReplaceLeadLinkParams, all three
        required): ``{"Result": true}``."""
        form = self._form(request, ("integrationId", "linkedRecordId", "newLinkedRecordId"))
        with self.ctx.lock:
            self.changes.append({"operation": "lead_links.update", "id": form["linkedRecordId"], "form": dict(form)})
        return json_response({"Result": True})

    def delete_lead_activity(self, request: Request) -> Response:
        """``DELETE /lead-activity/{id}?leadId=`` (leads/lead-activities.ts ``delete(id, leadId)``: the lead
        in the query string): ``{"Result": true}``; no ``leadId`` → 400, an activity not of that lead → 404."""
        lead_id = request.arg("leadId") or ""
        if not lead_id:
            raise HttpError(400, "Missing mandatory parameter(s): leadId")
        object_id = request.path_params["id"]
        with self.ctx.lock:
            record = self._find("lead_activity", object_id)
            if record is None or record.get("LeadId") != lead_id:
                raise HttpError(404, "The page you are looking for was not found")
            self.overrides.setdefault("lead_activity", {})[object_id] = None
            self.changes.append({"operation": "lead_activities.delete", "id": object_id, "form": {"leadId": lead_id}})
        return json_response({"Result": True})

    def _team_ids(self, request: Request) -> list[str]:
        return parse_ids(self._form(request, ("teamIds",))["teamIds"])

    def add_team_entities(self, request: Request) -> Response:
        """``POST /team-entity/{entityId}`` with ``teamIds`` (account/team-entities.ts ``add``):
        ``{"Result": true}``."""
        teams = self._team_ids(request)
        entity = request.path_params["id"]
        with self.ctx.lock:
            joined = self.entity_teams.setdefault(entity, [])
            joined.extend(t for t in teams if t not in joined)
            self.changes.append({"operation": "team_entities.create", "id": entity, "form": {"teamIds": teams}})
        return json_response({"Result": True})

    def remove_team_entities(self, request: Request) -> Response:
        """``DELETE /team-entity/{entityId}`` with the form ``teamIds`` (account/team-entities.ts ``remove``):
        ``{"Result": true}`` (taking an entity out of a team it is not in changes nothing)."""
        teams = self._team_ids(request)
        entity = request.path_params["id"]
        with self.ctx.lock:
            self.entity_teams[entity] = [t for t in self.entity_teams.get(entity, []) if t not in teams]
            self.changes.append({"operation": "team_entities.delete", "id": entity, "form": {"teamIds": teams}})
        return json_response({"Result": True})

    def add_workflow_item_note(self, request: Request) -> Response:
        """``PUT /workflow-item-note?id=&note=`` (approvals/workflow-item-notes.ts ``create``: no body, both
        in the query string): ``{"Result": true}``; a missing one → 400, an unknown item → 404."""
        item, note = request.arg("id") or "", request.arg("note") or ""
        missing = [name for name, value in (("id", item), ("note", note)) if not value.strip()]
        if missing:
            raise HttpError(400, f"Missing mandatory parameter(s): {', '.join(missing)}")
        with self.ctx.lock:
            if self._find("workflow_item", item) is None:
                raise HttpError(404, "The page you are looking for was not found")
            self.notes.setdefault(item, []).append({"Id": self._new_id("wfn"), "Note": note, "Created": self._now()})
            self.changes.append({"operation": "workflow_item_notes.create", "id": item, "form": {"note": note}})
        return json_response({"Result": True})

    def update_notifications(self, request: Request) -> Response:
        """``POST /notification`` (account/notifications.ts ``update``; UpdateNotificationParams, each 0|1):
        the settings under ``Items``; an unknown setting or another value → 400."""
        form = self._form(request, ())
        unknown = sorted(set(form) - set(NOTIFICATION_FIELDS))
        bad = sorted(k for k, v in form.items() if v not in ("0", "1"))
        if unknown or bad or not form:
            raise HttpError(400, f"Invalid notification settings: {', '.join(unknown + bad) or 'none given'}")
        with self.ctx.lock:
            self.notification_settings.update({k: v == "1" for k, v in form.items()})
            self.changes.append({"operation": "notifications.update", "id": "", "form": dict(form)})
            settings = dict(self.notification_settings)
        return json_response({"Result": True, "Items": settings})

    def delete_of(self, kind: str) -> Any:
        """``DELETE /<kind>/{id}``: the SDK's ``delete(id)``: no body, ``BaseApiResponse``
        ``{"Result": true}``; an object that is not there (any more) is a 404."""
        def handler(request: Request) -> Response:
            object_id = request.path_params["id"]
            with self.ctx.lock:
                if self._find(kind, object_id) is None:
                    raise HttpError(404, "The page you are looking for was not found")
                self._stored(kind).pop(object_id, None)
                self.overrides.setdefault(kind, {})[object_id] = None
                self.changes.append({"operation": f"{_plural(kind)}.delete", "id": object_id, "form": {}})
            return json_response({"Result": True})
        return handler


    def remove_board_message(self, request: Request) -> Response:
        """``DELETE /board-message`` with the form ``boardId``, ``messageId`` (src/resources/advocacy/
        board-messages.ts ``remove``): ``{"Result": true}``; a message not on that board is a 404."""
        form = self._form(request, ("boardId", "messageId"))
        with self.ctx.lock:
            found = next((b for b in self.board_messages
                          if b.get("boardId") == form["boardId"] and b.get("messageId") == form["messageId"]), None)
            if found is None:
                raise HttpError(404, "The page you are looking for was not found")
            self.board_messages.remove(found)
            self.changes.append({"operation": "board_messages.delete", "id": form["messageId"], "form": dict(form)})
        return json_response({"Result": True})

    def delete_advocate(self, request: Request) -> Response:
        """``DELETE /advocate/{id}`` with the form ``boardId`` (src/resources/advocacy/advocates.ts
        ``delete(id, boardId)``): the advocate leaves that board; ``{"Result": true}``; an advocate who
        is not (any more) on the board is a 404."""
        form = self._form(request, ("boardId",))
        object_id = request.path_params["id"]
        with self.ctx.lock:
            record = self._find("advocate", object_id)
            if record is None or form["boardId"] not in (record.get("BoardIds") or []):
                raise HttpError(404, "The page you are looking for was not found")
            changed = {**record, "BoardIds": [b for b in record["BoardIds"] if b != form["boardId"]]}
            self._put("advocate", changed)
            self.changes.append({"operation": "advocates.delete", "id": object_id, "form": dict(form)})
        return json_response({"Result": True})

    # --- the SDK's other reads (src/resources/**), each answered under the key the SDK reads --------
    def _others(self, kind: str, count: int = 5) -> list[dict[str, Any]]:
        return [self._synthetic(kind, i) for i in range(min(count, self._total(kind)))]

    def get_link(self, request: Request) -> Response:
        """``GET /link/{hash}`` (publishing/links.ts ``getByHash``): ``Link``."""
        wanted = request.path_params["hash"]
        for index in range(self._total("link")):
            record = self._synthetic("link", index)
            if record["Hash"] == wanted:
                return json_response({"Result": True, "Link": record})
        raise HttpError(404, "The page you are looking for was not found")

    def validate_video(self, request: Request) -> Response:
        """``GET /video-validate/{mediaId}`` (publishing/uploads.ts ``validateVideo``): ``Validations``."""
        return json_response({"Result": True, "Validations": {n: {"IsValid": True, "Errors": []} for n in NETWORKS}})

    def team_entities(self, request: Request) -> Response:
        """``GET /team-entity/{entityId}`` (account/team-entities.ts): ``Items``, no ``Total``."""
        teams = self._others("team", 2)
        with self.ctx.lock:
            joined = list(self.entity_teams.get(request.path_params["id"], []))
        known = {t["Id"] for t in teams}
        teams += [self._find("team", t) or {"Id": t} for t in joined if t not in known]
        return json_response({"Result": True, "Items": teams})

    def notifications(self, request: Request) -> Response:
        """``GET /notification`` (account/notifications.ts): the settings under ``Items``, shaped as
        src/types/account.ts NotificationSettings (eight booleans, ``EmailDaily``...)."""
        with self.ctx.lock:
            return json_response({"Result": True, "Items": dict(self.notification_settings)})

    def webhook_log(self, request: Request) -> Response:
        """``GET /webhook-log/{webhookId}`` (events/webhook-log.ts): ``Items``, ``Total``."""
        entries = [{"Id": f"whl{i:012d}", "WebhookId": request.path_params["id"], "StatusCode": 200,
                    "Created": _ts(BASE_EPOCH + i * 60)} for i in range(3)]
        return json_response({"Result": True, "Items": entries, "Total": len(entries)})

    def exports(self, request: Request) -> Response:
        """``GET /bi-export`` (analytics/exports.ts ``list``): ``Exports``, ``Total``."""
        items = [{"Id": f"bix{i:012d}", "Name": f"Export {i}", "Status": "active"} for i in range(2)]
        return json_response({"Result": True, "Exports": items, "Total": len(items)})

    def export(self, request: Request) -> Response:
        """``GET /bi-export/{id}`` (analytics/exports.ts ``get``): ``Export``."""
        return json_response({"Result": True, "Export": {"Id": request.path_params["id"], "Status": "active",
                                                         "Destination": {"Email": "bi@example.com"}}})

    def followers(self, request: Request) -> Response:
        """``GET /followers/{credentialId}`` (analytics/followers.ts): ``Data`` points."""
        if self._find("credential", request.path_params["id"]) is None:
            raise HttpError(404, "The page you are looking for was not found")
        data = [{"Followers": 100 + i, "FollowersAdded": 1, "HistoryDate": _ts(BASE_EPOCH + i * 86400)[:10]}
                for i in range(3)]
        return json_response({"Result": True, "Data": data})

    def _postlog(self, post_id: str, index: int) -> dict[str, Any]:
        return {"Id": f"pl{index}{post_id}", "PostId": post_id, "Status": "success", "RemoteId": f"r{index}",
                "RemoteUrl": f"https://social.example.com/{post_id}/{index}", "Error": ""}

    def postlogs(self, request: Request) -> Response:
        """``GET /postlog?postId=`` (publishing/post-log.ts ``listByPost``): ``Postlogs``."""
        post_id = request.arg("postId") or ""
        if self._find("post", post_id) is None:
            return json_response({"Result": True, "Postlogs": []})
        return json_response({"Result": True, "Postlogs": [self._postlog(post_id, 0)]})

    def postlog(self, request: Request) -> Response:
        """``GET /postlog/{id}`` (publishing/post-log.ts ``get``): ``Postlog`` (``Stats`` beside it with stats=1)."""
        body: dict[str, Any] = {"Result": True, "Postlog": {"Id": request.path_params["id"], "Status": "success"}}
        if request.arg("stats") == "1":
            body["Stats"] = self._stats(request.path_params["id"])
        return json_response(body)

    def calendar(self, request: Request) -> Response:
        """``POST /calendar`` (publishing/calendar.ts; CalendarParams ``fromDate``*, ``toDate``*, ``filters``):
        a read sent as a form POST; maps keyed by id."""
        self._form(request, ("fromDate", "toDate"))
        posts = {p["Id"]: p for p in (self._synthetic("post", i) for i in range(min(3, self._total("post"))))}
        return json_response({"Result": True, "Campaigns": {}, "Credentials": {}, "Media": [], "Messages": {},
                              "Posts": posts})

    def workflows(self, request: Request) -> Response:
        """``GET /workflow`` (approvals/workflows.ts ``list``): ``Items``, no ``Total``."""
        return json_response({"Result": True, "Items": [{"Id": "wfl000000000001", "Name": "Legal review"}]})

    def workflow(self, request: Request) -> Response:
        """``GET /workflow/{id}`` (approvals/workflows.ts ``get``): the workflow itself, not under a key."""
        return json_response({"Result": True, "Id": request.path_params["id"], "Name": "Legal review"})

    def workflow_steps(self, request: Request) -> Response:
        """``GET /workflow-step`` (approvals/workflow-steps.ts ``list``): ``Items``."""
        return json_response({"Result": True, "Items": [{"Id": "wfs000000000001", "WorkflowId": "wfl000000000001"}]})

    def workflow_step(self, request: Request) -> Response:
        """``GET /workflow-step/{id}`` (approvals/workflow-steps.ts ``get``): the step itself."""
        return json_response({"Result": True, "Id": request.path_params["id"], "WorkflowId": "wfl000000000001"})

    def workflow_items(self, request: Request) -> Response:
        """``GET /workflow-item`` (approvals/workflow-items.ts; ``page``/``count``): ``Items``, ``Total``."""
        items = self._current("workflow_item")
        return json_response({"Result": True, "Items": items, "Total": len(items)})

    def _current(self, kind: str) -> list[dict[str, Any]]:
        """The fixed object of ``kind`` and the created ones, as updated, without the deleted ones."""
        with self.ctx.lock:
            ids = [self.FIXED[kind]["Id"], *self._stored(kind)]
            found = (self._find(kind, object_id) for object_id in ids)
            return [dict(record) for record in found if record is not None]

    def workflow_item_notes(self, request: Request) -> Response:
        """``GET /workflow-item-note?id=`` (approvals/workflow-item-notes.ts): ``Notes``, ``Authors``."""
        if not request.arg("id"):
            raise HttpError(400, "Missing mandatory parameter(s): id")
        with self.ctx.lock:
            added = [dict(n) for n in self.notes.get(request.arg("id") or "", [])]
        return json_response({"Result": True, "Authors": {},
                              "Notes": [{"Id": "wfn000000000001", "Note": "ok"}, *added]})

    def comments(self, request: Request) -> Response:
        """``GET /comments`` (inbox/comments.ts; ``postlogId``, ``network``): ``Data``."""
        return json_response({"Result": True, "Data": [{"Id": "cmt000000000001", "Text": "Nice post"}]})

    def streams(self, request: Request) -> Response:
        """``GET /stream`` (streams/streams.ts ``list``): ``Items``, no ``Total``."""
        return json_response({"Result": True, "Items": self._current("stream")})
