"""Octy retention API v1 in the sandbox (``/octy``), after section 1 of the API reference.

Auth: HTTP Basic with the sandbox keys (``SANDBOX_CREDENTIALS["octy"]``). No ``Authorization``
header → 400 ``Missing header``; anything else that is not the right pk/sk → 401
``Authentication failed``. Every answer carries ``request_meta``; errors use Octy's template::

    {"request_meta": {"request_status": "Failure", "message": "Bad request"},
     "error": {"code": 400, "reason": "...", "errors": [{"error_message": "...", "extended_help": "..."}]}}

Lists (profiles, items, event types, segments, templates): ``?ids=`` (≤ 100, profile ids or
customer ids / segment ids or names) or a ``cursor`` header (integer offset, pages of 100; the
answer's ``cursor`` header = request cursor + returned; ``request_meta.count``/``total``). Past the
end → 400 ``... pagination cursor exhausted``; neither ids nor cursor, or a non-integer cursor →
400 ``Missing Parameters``. Profile filters ``rfm=int-int`` (exclusive bounds), ``churn_prob``,
``segments=tag,tag`` (any of). Synthetic records come first (``ctx.records`` per list,
generated from the index: ``profile_000000000042`` / ``customer_000000000042``,
``item_000000000042``, ``custom_event_type_000000000042`` / ``custom_event_42``,
``segment_000000000042`` / ``synthetic_segment_42``, ``template_000000000042``), then what
clients created, in creation order; deleted records vanish.

Writes: batch create/update/delete of profiles, items, event types, templates; events (single and
batch); segments (create one, delete many); recommendations; churn report; profile metadata;
``/v1/configurations/account`` (get, set → 202) and ``/v1/configurations/retention/algorithms``
(get, set → 202); ``GET /v1/account/authenticate`` (``auth.jwt`` and the ``X-AUTH-JWT`` header);
``events/types/delete/all`` (none to delete → 400 ``No event types deleted!``);
``POST /v1/retention/events?checkout_id=`` (the latest ``checkout_contact_info_submitted`` event with
that ``event_properties.checkout_id``, else 400 ``No event found``); ``messaging/content/generate``
(``{{tag}}`` placeholders filled per data object, see :meth:`OctySandbox.generate_content`).
Failures are listed per record in ``failed_to_create|update|delete`` with the
code's key (``customer_id``, ``profile_id``, ``item_id``, ``event_type``, ``event_type_id``,
``segment_id``, ``template_id``, the whole event for events) plus ``error_message``; when every
record fails the answer is 400 with ``error.errors`` = the failure list. More than 500 records
(100 profile ids for recommendations) → 422 ``Missing or invalid JSON parameters``. The POST routes
that run ``validate_post_headers`` (profiles create/update/delete, recommendations,
messaging/*) answer 400 ``Missing header`` unless ``Content-Type`` is exactly
``application/json``, 411 without ``Content-Length``, 501 with an ``http-transfer-encoding`` header.

Rate limit: 120 calls per sliding minute per credential; 429 in Octy's template without
``Retry-After`` (none is documented; configure ``{"octy": {"retry_after": true}}`` to add one).

``state()`` shape::

    {"profiles": {profile_id: record}, "items": {...}, "event_types": {...}, "segments": {...},
     "templates": {...}, "events": {event_id: record},
     "deleted": {"profiles": [ids], "items": [...], "event_types": [...], "segments": [...], "templates": [...]},
     "account": {...}, "algorithms": [...]}

where each collection holds what clients created or updated (synthetic records only once updated).

``configure`` options: ``page_size`` (records per list page, default 100 as in the code; the docs
say 500 — the benchmarks use both), ``profiles_validation`` (``per_record``, the default, or
``pydantic``: see below); unknown keys raise ``ValueError``.

Documented choices (where the reference is silent or in conflict):

- Per-record validation follows the documented partial-failure semantics (seed): a record that
  breaks the identifier rules, misses a required key or has an empty ``profile_data`` /
  ``platform_info`` is reported in ``failed_*`` rather than failing the whole request with 422 as
  the 2022+ pydantic models would (the 2021 code). ``configure(octy={"profiles_validation":
  "pydantic"})`` answers profiles creates as f514fe2 does instead: a 422 listing pydantic's errors
  per record and field (``profiles/api/routers/request_models/profiles.py``). A body without the
  top-level list, or over the batch maximum,
  is a 422 (pydantic shape: ``errors`` = ``[{loc, msg, type}]``).
- Failure keys follow the code, not the seed's ``identifier`` (the reference's advice). Templates
  are keyed by ``friendly_name`` on create and by ``template_id`` on update/delete.
- Page size 100 (code), not 500 (docs). ``error.code`` is an int.
- Event types: the system types ``charged`` (needs string ``payment_method`` and ``item_id``),
  ``churned`` and ``complaint`` are always valid for events and cannot be created, but are not
  part of the event-type list. ``delete/all`` deletes the custom (synthetic and created) ones.
- Duplicate ``item_id`` inside one items update rejects the request (400, as the code still
  does); profiles update has no such check (the 2025 rewrite dropped it): records apply in order.
- The per-plan resource caps, the profile key-type consistency rule and the monthly quotas are not
  enforced.
- Updates, creates and deletes answer with the status in the reference's table (profiles 201,
  event-type/items/segments/templates delete and items/templates update 200, creates 201).
- Recommendations for an unknown profile come back with ``recommendations: []`` and an ``error``
  string rather than failing the request.
- Filtered profile lists (``rfm``, ``churn_prob``, ``segments``) scan the synthetic list for each
  page (memory stays flat; time is O(records) per page).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import random
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from airflow_provider_gtm.apis.octy import (
    IDENTIFIER_ILLEGAL_CHARACTERS,
    IDENTIFIER_MAX_LENGTH,
    MAX_MESSAGE_DATA,
    MESSAGE_GEN_LIMIT,
    OCTY,
)
from airflow_provider_gtm.sandbox.framework import (
    HttpError,
    RateLimitSpec,
    Request,
    Response,
    Route,
    SandboxApi,
    SandboxContext,
    json_response,
    parse_ids,
)

PAGE_SIZE = 100
MAX_BATCH = 500
MAX_IDS = 100
MAX_RECOMMENDATION_PROFILES = 100
#: The event type the checkout lookup reads (events_repository.py at f514fe2); a custom type.
CHECKOUT_EVENT_TYPE = "checkout_contact_info_submitted"
SYSTEM_EVENT_TYPES = {"charged": ["payment_method", "item_id"], "churned": [], "complaint": ["channel"]}
CHURN_LEVELS = ("low", "mid", "high", "very-high")
SEGMENT_TAGS = 5  # synthetic profiles carry tags of the first synthetic segments
DOCS = "https://api-docs.octy.ai/"
TS_FORMAT = "%a, %d %b %Y %H:%M:%S GMT"
BASE_EPOCH = 1_640_995_200  # 2022-01-01

STATUS_MESSAGES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Resource not found", 405: "Method Not Allowed",
    411: "Length Required", 413: "Request Entity Too Large", 415: "Unsupported media type",
    422: "Unprocessable Entity", 429: "Too many requests", 500: "Unknown server error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}
ILLEGAL_ID_CHARS = list(IDENTIFIER_ILLEGAL_CHARACTERS)


def _ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime(TS_FORMAT)


def _parsed_ts(value: Any) -> float:
    """Epoch seconds of a :func:`_ts` text (0 when it is not one): what "latest" sorts by."""
    try:
        return datetime.strptime(str(value), TS_FORMAT).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return 0.0


def _mix(seed: int, kind: int, index: int) -> int:
    """A cheap deterministic 32-bit hash (filters scan the list with it, no per-record RNG)."""
    value = (index * 2654435761 + seed * 40503 + kind * 97) & 0xFFFFFFFF
    value ^= value >> 15
    value = (value * 2246822519) & 0xFFFFFFFF
    return value ^ (value >> 13)


def _identifier_error(value: Any, label: str, *, no_space: bool = False) -> str | None:
    if not isinstance(value, str):
        return f"{label} must be a string."
    if len(value) > IDENTIFIER_MAX_LENGTH or len(value) < 1:
        return f"{label[0].upper()}{label[1:]}s must be at least 1 character long and less than 60 characters long."
    illegal = ILLEGAL_ID_CHARS + ([" "] if no_space else [])
    found = [c for c in illegal if c in value]
    if found:
        return f"Illegal character(s) found in provided {label} : {found}"
    return None


class _Collection:
    """Synthetic records (from the index) plus what clients created/updated/deleted."""

    def __init__(self, api: OctySandbox, kind: str, id_key: str, id_prefix: str,
                 make: Callable[[int], dict[str, Any]], alt_key: str | None = None,
                 alt_pattern: str | None = None) -> None:
        self.api = api
        self.kind = kind
        self.id_key = id_key
        self.id_prefix = id_prefix
        self.make = make
        self.alt_key = alt_key
        self._id_re = re.compile(rf"^{re.escape(id_prefix)}(\d{{12}})$")
        self._alt_re = re.compile(alt_pattern) if alt_pattern else None
        self.reset()

    def reset(self) -> None:
        self.created: dict[str, dict[str, Any]] = {}
        self.overrides: dict[str, dict[str, Any]] = {}
        self.deleted_synth: list[int] = []  # sorted indexes
        self.deleted_ids: list[str] = []
        self.alt_index: dict[str, str] = {}  # alt key (customer_id, name) of created records -> id

    @property
    def records(self) -> int:
        return self.api.ctx.records

    def synthetic_id(self, index: int) -> str:
        return f"{self.id_prefix}{index:012d}"

    def _live_index(self, index: int) -> bool:
        if not 0 <= index < self.records:
            return False
        pos = bisect.bisect_left(self.deleted_synth, index)
        return not (pos < len(self.deleted_synth) and self.deleted_synth[pos] == index)

    def index_of(self, identifier: str) -> int | None:
        """The synthetic index behind an id or alternative key, if it is a live synthetic record."""
        found = self._id_re.match(identifier)
        if not found and self._alt_re is not None:
            found = self._alt_re.match(identifier)
        if not found:
            return None
        index = int(found.group(1))
        if not self._live_index(index):
            return None
        # An updated synthetic record may have changed its alternative key.
        if self.alt_key and not self._id_re.match(identifier):
            record = self.overrides.get(self.synthetic_id(index))
            if record is not None and record.get(self.alt_key) != identifier:
                return None
        return index

    def synthetic(self, index: int) -> dict[str, Any]:
        record_id = self.synthetic_id(index)
        override = self.overrides.get(record_id)
        return dict(override) if override is not None else self.make(index)

    def get(self, identifier: str) -> dict[str, Any] | None:
        if not isinstance(identifier, str):
            return None
        if identifier in self.created:
            return self.created[identifier]
        if self.alt_key and identifier in self.alt_index:
            return self.created.get(self.alt_index[identifier])
        index = self.index_of(identifier)
        if index is not None:
            return self.synthetic(index)
        if self.alt_key:  # an updated synthetic record that took a new alternative key
            for record in self.overrides.values():
                if record.get(self.alt_key) == identifier and self.index_of(record[self.id_key]) is not None:
                    return dict(record)
        return None

    def alt_owner(self, value: str) -> str | None:
        """The id of the live record whose alternative key is ``value``."""
        record = self.get(value)
        if record is not None and self.alt_key and record.get(self.alt_key) == value:
            return str(record[self.id_key])
        return None

    def add(self, record: dict[str, Any]) -> None:
        self.created[record[self.id_key]] = record
        if self.alt_key:
            self.alt_index[record[self.alt_key]] = record[self.id_key]

    def replace(self, record: dict[str, Any]) -> None:
        record_id = record[self.id_key]
        if record_id in self.created:
            old = self.created[record_id]
            if self.alt_key and (old_alt := old.get(self.alt_key)) is not None:
                self.alt_index.pop(old_alt, None)
            self.add(record)
        else:
            self.overrides[record_id] = record

    def delete(self, identifier: str) -> dict[str, Any] | None:
        record = self.created.pop(identifier, None)
        if record is not None:
            if self.alt_key and (alt := record.get(self.alt_key)) is not None:
                self.alt_index.pop(alt, None)
        else:
            match = self._id_re.match(identifier)
            index = int(match.group(1)) if match else None
            if index is None or not self._live_index(index):
                return None
            record = self.synthetic(index)
            bisect.insort(self.deleted_synth, index)
            self.overrides.pop(identifier, None)
        self.deleted_ids.append(identifier)
        return record

    def live_synthetic_count(self) -> int:
        return self.records - bisect.bisect_left(self.deleted_synth, self.records)

    def total(self) -> int:
        return self.live_synthetic_count() + len(self.created)

    def _nth_live(self, n: int) -> int:
        """The synthetic index of the n-th (0-based) live synthetic record.

        The least fixed point of ``i = n + deleted(<= i)``, reached by iterating from ``n``; it is
        always a live index.
        """
        index = n
        while True:
            candidate = n + bisect.bisect_right(self.deleted_synth, index)
            if candidate == index:
                return index
            index = candidate

    def delete_all(self) -> list[dict[str, Any]]:
        """Delete every live record (synthetic and created); the deleted records, in list order."""
        out = []
        for index in range(self.records):
            if self._live_index(index):
                record = self.synthetic(index)
                out.append(record)
                self.deleted_ids.append(record[self.id_key])
        self.deleted_synth = list(range(self.records))
        self.overrides.clear()
        for record_id, record in list(self.created.items()):
            out.append(record)
            self.deleted_ids.append(record_id)
        self.created.clear()
        self.alt_index.clear()
        return out

    def page(self, offset: int, size: int) -> list[dict[str, Any]]:
        live = self.live_synthetic_count()
        out: list[dict[str, Any]] = []
        position = offset
        if position < live:
            index = self._nth_live(position)
            while len(out) < size and position < live:
                while not self._live_index(index):
                    index += 1
                out.append(self.synthetic(index))
                index += 1
                position += 1
        if len(out) < size and position >= live:
            created = list(self.created.values())
            start = position - live
            out.extend(created[start:start + size - len(out)])
        return out

    def filtered_page(self, keep: Callable[[int, dict[str, Any] | None], bool],
                      record_keep: Callable[[dict[str, Any]], bool], offset: int,
                      size: int) -> tuple[list[dict[str, Any]], int]:
        """A page of a filtered list and the filtered total (scans the synthetic indexes)."""
        out: list[dict[str, Any]] = []
        total = 0
        for index in range(self.records):
            if not self._live_index(index):
                continue
            override = self.overrides.get(self.synthetic_id(index))
            if not keep(index, override):
                continue
            if offset <= total < offset + size:
                out.append(self.synthetic(index))
            total += 1
        for record in self.created.values():
            if record_keep(record):
                if offset <= total < offset + size:
                    out.append(record)
                total += 1
        return out, total

    def state(self) -> dict[str, Any]:
        return {**self.overrides, **self.created}


class OctySandbox(SandboxApi):
    """The Octy retention API v1 (see the module docstring for behaviour and state shape)."""

    name = OCTY.name  # the path prefix
    default_rate_limit = RateLimitSpec(windows=[(120, 60.0)])
    cacheable_gets = True

    def __init__(self, ctx: SandboxContext) -> None:
        self.profiles = _Collection(self, "profiles", "profile_id", "profile_", self._make_profile,
                                    alt_key="customer_id", alt_pattern=r"^customer_(\d{12})$")
        self.items = _Collection(self, "items", "item_id", "item_", self._make_item)
        self.event_types = _Collection(self, "event_types", "event_type_id", "custom_event_type_",
                                       self._make_event_type, alt_key="event_type",
                                       alt_pattern=r"^custom_event_(\d+)$")
        self.segments = _Collection(self, "segments", "segment_id", "segment_", self._make_segment,
                                    alt_key="segment_name", alt_pattern=r"^synthetic_segment_(\d+)$")
        self.templates = _Collection(self, "templates", "template_id", "template_", self._make_template)
        self._collections = (self.profiles, self.items, self.event_types, self.segments, self.templates)
        super().__init__(ctx)
        self.reset()

    # --- framework hooks --------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        r = "/v1/retention"
        return [
            Route("GET", f"{r}/profiles", self.get_profiles),
            Route("POST", f"{r}/profiles/create", self.create_profiles),
            Route("POST", f"{r}/profiles/update", self.update_profiles),
            Route("POST", f"{r}/profiles/delete", self.delete_profiles),
            Route("GET", f"{r}/profiles/metadata", self.profiles_metadata),
            Route("POST", f"{r}/events/create", self.create_event),
            Route("POST", f"{r}/events/create/batch", self.create_events),
            Route("GET", f"{r}/events/types", self.get_event_types),
            Route("POST", f"{r}/events/types/create", self.create_event_types),
            Route("POST", f"{r}/events/types/delete", self.delete_event_types),
            Route("POST", f"{r}/events/types/delete/all", self.delete_all_event_types),
            Route("POST", f"{r}/events", self.checkout_event),
            Route("POST", f"{r}/messaging/content/generate", self.generate_content),
            Route("GET", f"{r}/items", self.get_items),
            Route("POST", f"{r}/items/create", self.create_items),
            Route("POST", f"{r}/items/update", self.update_items),
            Route("POST", f"{r}/items/delete", self.delete_items),
            Route("GET", f"{r}/segments", self.get_segments),
            Route("POST", f"{r}/segments/create", self.create_segment),
            Route("POST", f"{r}/segments/delete", self.delete_segments),
            Route("POST", f"{r}/recommendations", self.recommendations),
            Route("GET", f"{r}/churn_prediction/report", self.churn_report),
            Route("GET", f"{r}/messaging/templates", self.get_templates),
            Route("POST", f"{r}/messaging/templates/create", self.create_templates),
            Route("POST", f"{r}/messaging/templates/update", self.update_templates),
            Route("POST", f"{r}/messaging/templates/delete", self.delete_templates),
            Route("GET", "/v1/configurations/account", self.get_account),
            Route("POST", "/v1/configurations/account/set", self.set_account),
            Route("GET", "/v1/configurations/retention/algorithms", self.get_algorithms),
            Route("POST", "/v1/configurations/retention/algorithms/set", self.set_algorithms),
            Route("GET", "/v1/account/authenticate", self.authenticate_route),
        ]

    def authenticate(self, request: Request) -> Response | None:
        header = request.header("Authorization")
        if not header:
            return self.error(400, "Missing header", error_message=(
                "[Authorization] : Basic authentication header must be provided in request headers."))
        creds = self.ctx.credentials["octy"]
        scheme, _, token = header.strip().partition(" ")
        ok = False
        if scheme.lower() == "basic":
            try:
                public, _, secret = base64.b64decode(token.strip(), validate=True).decode().partition(":")
                ok = public == creds["login"] and secret == creds["password"]
            except (binascii.Error, UnicodeDecodeError, ValueError):
                ok = False
        if not ok:
            return self.error(401, "Authentication failed",
                              error_message="Invalid public_key or secret_key provided")
        return None

    def error(self, status: int, message: str, **extra: Any) -> Response:
        errors = extra.pop("errors", None)
        if errors is None:
            errors = [{"error_message": extra.pop("error_message", message), "extended_help": DOCS}]
        body = {
            "request_meta": {"request_status": "Failure", "message": STATUS_MESSAGES.get(status, "Error")},
            "error": {"code": status, "reason": message, "errors": errors},
        }
        return json_response(body, status)

    def rate_limited(self, retry_after: float | None, blocked: bool) -> Response:
        return self.error(429, "You have exceeded the total number of allowed requests to this endpoint: "
                               "120 per 1 minute", errors=[{"error_message": "Too many requests",
                                                            "extended_help": DOCS}])

    def state(self) -> dict[str, Any]:
        with self.ctx.lock:
            data: dict[str, Any] = {c.kind: c.state() for c in self._collections}
            data["events"] = dict(self.events)
            data["deleted"] = {c.kind: list(c.deleted_ids) for c in self._collections}
            data["account"] = dict(self.account)
            data["algorithms"] = [dict(a) for a in self.algorithms]
            return data

    def reset(self) -> None:
        with self.ctx.lock:
            getattr(self, "options", {}).pop("page_size", None)
            getattr(self, "options", {}).pop("profiles_validation", None)
            for collection in self._collections:
                collection.reset()
            self.events: dict[str, dict[str, Any]] = {}
            self._seq = 0
            self.account = {"contact_name": "Sandbox", "contact_surname": "Account",
                            "contact_email_address": "owner@sandbox.example", "webhook_url": None,
                            "authenticated_id_key": None}
            self.algorithms: list[dict[str, Any]] = [
                {"algorithm_name": "rec", "configurations": {"recommend_interacted_items": True,
                                                             "item_id_stop_list": [], "profile_features": []}},
                {"algorithm_name": "churn", "configurations": {"profile_features": []}},
            ]

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"page_size", "profiles_validation"}
        if unknown:
            raise ValueError(f"unknown octy option(s) {sorted(unknown)}; allowed: page_size, profiles_validation")
        if "profiles_validation" in options:
            mode = str(options["profiles_validation"])
            if mode not in ("per_record", "pydantic"):
                raise ValueError("octy profiles_validation must be 'per_record' or 'pydantic'")
            self.options["profiles_validation"] = mode
        if "page_size" in options:
            size = int(options["page_size"])
            if not 1 <= size <= 1000:
                raise ValueError("octy page_size must be from 1 to 1000")
            self.options["page_size"] = size

    @property
    def page_size(self) -> int:
        return int(self.options.get("page_size", PAGE_SIZE))

    # --- synthetic data ---------------------------------------------------------------------------
    @staticmethod
    def _created_at(rng: random.Random) -> tuple[str, str]:
        created = BASE_EPOCH + rng.randrange(0, 86400 * 365)
        return _ts(created), _ts(created + rng.randrange(0, 86400 * 30))

    def _profile_traits(self, index: int) -> tuple[int, str, str]:
        mixed = _mix(self.ctx.seed, 1, index)
        rfm = 111 + (mixed >> 4) % 445
        churn = CHURN_LEVELS[mixed % 4]
        tag = f"synthetic_segment_{(mixed >> 12) % SEGMENT_TAGS}"
        return rfm, churn, tag

    def _make_profile(self, index: int) -> dict[str, Any]:
        rng = self.ctx.rng("profile", index)
        rfm, churn, tag = self._profile_traits(index)
        created, updated = self._created_at(rng)
        return {
            "profile_id": self.profiles.synthetic_id(index),
            "customer_id": f"customer_{index:012d}",
            "profile_data": {"name": f"Customer {index}", "age": rng.randrange(18, 80),
                             "plan": rng.choice(["free", "starter", "pro"])},
            "platform_info": {"os": rng.choice(["ios", "android", "web"]),
                              "country": rng.choice(["US", "GB", "DE", "FR", "ZA"])},
            "has_charged": rng.random() < 0.6,
            "status": "active",
            "rfm_score": rfm,
            "rfm_segment_desc": rng.choice(["champions", "loyal", "at risk", "hibernating"]),
            "churn_probability": churn,
            "segment_tags": [{"segment_tag": tag, "created_at": created}],
            "created_at": created,
            "updated_at": updated,
        }

    def _make_item(self, index: int) -> dict[str, Any]:
        rng = self.ctx.rng("item", index)
        created, updated = self._created_at(rng)
        category = rng.choice(["shoes", "shirts", "bags", "hats"])
        return {
            "item_id": self.items.synthetic_id(index), "item_category": category,
            "item_name": f"{category.title()} {index}", "item_description": f"Synthetic {category} #{index}"[:40],
            "item_price": rng.randrange(100, 20000), "status": "active", "created_at": created,
            "updated_at": updated,
        }

    def _make_event_type(self, index: int) -> dict[str, Any]:
        rng = self.ctx.rng("event_type", index)
        created, _ = self._created_at(rng)
        props = rng.sample(["page", "button", "duration", "source", "value"], 2)
        return {"event_type_id": self.event_types.synthetic_id(index), "event_type": f"custom_event_{index}",
                "event_properties": sorted(props), "created_at": created}

    def _make_segment(self, index: int) -> dict[str, Any]:
        rng = self.ctx.rng("segment", index)
        created, _ = self._created_at(rng)
        segment_type = rng.choice(["live", "past"])
        return {
            "segment_id": self.segments.synthetic_id(index), "segment_name": f"synthetic_segment_{index}",
            "segment_type": segment_type, "segment_sub_type": rng.randint(1, 2 if segment_type == "live" else 4),
            "segment_timeframe": rng.choice([7, 14, 30]),
            "event_sequence": [{"event_type": "charged", "exp_timeframe": 0, "action_inaction": "action",
                                "event_properties": None}],
            "segment_status": "created", "created_at": created, "profile_count": rng.randrange(0, 1000),
        }

    def _make_template(self, index: int) -> dict[str, Any]:
        rng = self.ctx.rng("template", index)
        created, updated = self._created_at(rng)
        return {
            "template_id": self.templates.synthetic_id(index), "friendly_name": f"template_{index}",
            "template_type": rng.choice(["email", "sms", "push"]), "title": f"Hello {{first_name}} #{index}",
            # messaging/services/template_engine.py: placeholders are {{tag}}, filled per data object.
            "content": "Hi {{first_name}}, we picked {{item_name}} for you.",
            "default_values": {"first_name": "there", "item_name": "something"},
            "metadata": {}, "created_at": created, "updated_at": updated,
        }

    def _new_id(self, prefix: str) -> str:
        self._seq += 1
        rng = self.ctx.rng("uid", prefix, self._seq)
        return f"{prefix}_{str(uuid.UUID(int=rng.getrandbits(128), version=4))[:34]}"

    def _now(self) -> str:
        return _ts(self.ctx.clock.now())

    # --- request helpers --------------------------------------------------------------------------
    @staticmethod
    def _validate_post_headers(request: Request) -> None:
        if request.header("Content-Type") != "application/json":
            raise HttpError(400, "Missing header", error_message=(
                "[Content-Type] : [application/json] header must be provided in request headers."))
        if not request.header("Content-Length"):
            raise HttpError(411, "Invalid headers provided",
                            error_message="[Content-Length] header must be provided in request headers.")
        if request.header("http-transfer-encoding") is not None:
            raise HttpError(501, "Invalid headers provided", error_message=(
                "[Transfer-Encoding] header must NOT be provided in request headers as it is not supported."))

    @staticmethod
    def _unprocessable(loc: list[Any], msg: str, kind: str = "value_error") -> HttpError:
        return HttpError(422, "Missing or invalid JSON parameters", errors=[{"loc": loc, "msg": msg, "type": kind}])

    def _batch(self, request: Request, key: str, limit: int = MAX_BATCH, verb: str = "create") -> list[Any]:
        try:
            body = request.json()
        except HttpError:
            raise self._unprocessable(["body"], "value is not a valid dict", "type_error.dict") from None
        if not isinstance(body, dict) or key not in body:
            raise self._unprocessable(["body", key], "field required", "value_error.missing")
        records = body[key]
        if not isinstance(records, list):
            raise self._unprocessable(["body", key], "value is not a valid list", "type_error.list")
        if len(records) > limit:
            raise self._unprocessable(["body", key], f"You can only {verb} up to {limit} {key} per request.")
        return records

    @staticmethod
    def _meta(message: str, **extra: Any) -> dict[str, Any]:
        return {"request_status": "Success", "message": message, **extra}

    def _batch_answer(self, status: int, message: str, results_key: str, results: list[Any],
                      failures_key: str, failures: list[dict[str, Any]], none_reason: str,
                      submitted: int) -> Response:
        if submitted and not results:
            raise HttpError(400, none_reason, errors=failures)
        body = {"request_meta": self._meta(message, count=len(results)), results_key: results,
                failures_key: failures}
        return json_response(body, status)

    def _cursor(self, request: Request) -> int:
        raw = request.header("cursor")
        try:
            cursor = int(str(raw).strip())
            if cursor < 0:
                raise ValueError
        except (TypeError, ValueError):
            message = ("Please provide a valid object identifier within the query string eg: (?id=) or set a "
                       "pagination header (-H cursor: str)")
            if raw is not None:
                message = ("The value provided for the pagination header (-H cursor: str) could not be casted "
                           "to type int.")
            raise HttpError(400, "Missing Parameters", error_message=message) from None
        return cursor

    @staticmethod
    def _ids(request: Request) -> list[str] | None:
        raw = request.query.get("ids")
        if raw is None:
            return None
        text = re.sub(r"(\s|\u180B|\u200B|\u200C|\u200D|\u2060|\uFEFF)+", "", ",".join(raw))
        ids = list(dict.fromkeys(part for part in text.split(",") if part))
        if len(ids) > MAX_IDS:
            raise HttpError(400, "Invalid Parameters", error_message=(
                f'A maximum number of {MAX_IDS} identifiers can be provided with the "?ids=" query param '
                "per request"))
        return ids

    def _list(self, request: Request, collection: _Collection, label: str, found_message: str,
              page: Callable[[int], tuple[list[dict[str, Any]], int]] | None = None) -> Response:
        ids = self._ids(request)
        with self.ctx.lock:
            if ids is not None:
                records = []
                seen: set[str] = set()
                for identifier in ids:
                    record = collection.get(identifier)
                    if record is not None and record[collection.id_key] not in seen:
                        seen.add(record[collection.id_key])
                        records.append(record)
                if not records:
                    raise HttpError(400, f"Invalid {label} identifier(s) provided", error_message=(
                        f"No {label}s were found with the provided identifier(s)"))
                body = {"request_meta": self._meta(found_message, count=len(records), total=len(records)),
                        collection.kind: records}
                return json_response(body, headers={"cursor": str(len(records))})
            cursor = self._cursor(request)
            if page is not None:
                records, total = page(cursor)
            else:
                records, total = collection.page(cursor, self.page_size), collection.total()
        if not records:
            raise HttpError(400, f"No {label}s found", error_message=(
                f"No {label}s found with the provided query parameters or pagination cursor exhausted"))
        next_cursor = cursor if "repeat_cursor" in request.faults else cursor + len(records)
        body = {"request_meta": self._meta(found_message, count=len(records), total=total), collection.kind: records}
        return json_response(body, headers={"cursor": str(next_cursor)})

    # --- profiles ---------------------------------------------------------------------------------
    def get_profiles(self, request: Request) -> Response:
        rfm_bounds: tuple[int, int] | None = None
        churn = request.arg("churn_prob")
        segments = None
        if request.arg("ids") is None:
            rfm = request.arg("rfm")
            if rfm is not None:
                parts = rfm.split("-")
                try:
                    if len(parts) != 2:
                        raise ValueError
                    rfm_bounds = (int(parts[0]), int(parts[1]))
                except ValueError:
                    raise HttpError(400, "Invalid query string argument", error_message=(
                        "rfm argument provided in an invalid format. Required format : int-int")) from None
            if churn is not None:
                try:
                    int(churn)
                    raise HttpError(400, "Invalid query string argument", error_message=(
                        "churn_prob argument provided in an invalid format. Required format : string (low, mid, "
                        "high, very-high)"))
                except ValueError:
                    pass
            if request.arg("segments") is not None:
                segments = set(parse_ids(request.arg("segments")))
        page = None
        if rfm_bounds or churn is not None or segments:
            def matches(rfm_score: Any, churn_probability: Any, tags: list[str]) -> bool:
                if rfm_bounds and not (isinstance(rfm_score, int) and rfm_bounds[0] < rfm_score < rfm_bounds[1]):
                    return False
                if churn is not None and churn_probability != churn:
                    return False
                return not segments or bool(segments.intersection(tags))

            def record_keep(record: dict[str, Any]) -> bool:
                tags = [t.get("segment_tag") for t in record.get("segment_tags") or []]
                return matches(record.get("rfm_score"), record.get("churn_probability"), tags)

            def keep(index: int, override: dict[str, Any] | None) -> bool:
                if override is not None:
                    return record_keep(override)
                rfm_score, churn_probability, tag = self._profile_traits(index)
                return matches(rfm_score, churn_probability, [tag])

            def page(cursor: int) -> tuple[list[dict[str, Any]], int]:
                return self.profiles.filtered_page(keep, record_keep, cursor, self.page_size)

        return self._list(request, self.profiles, "customer profile", "Customer profiles found.", page)

    def _profile_fields_error(self, record: dict[str, Any]) -> str | None:
        for key in ("profile_data", "platform_info"):
            if key not in record:
                return f"Missing required key : {key}"
            if not isinstance(record[key], dict):
                return f"{key} must be a JSON object."
        if not record["profile_data"] or not record["platform_info"]:
            return ("Both profile_data and platform_info must contain at least one single key pair. "
                    "eg: {'age' : '30'}")
        for key in ("profile_data", "platform_info"):
            for k, v in record[key].items():
                if v is None or (isinstance(v, str) and (v == "" or v.isspace())):
                    return (f"Invalid {key} attribute provided. Null values or empty strings can not be provided "
                            f"as {key} values. Invalid key pair value: ({k} : {v})")
        both = set(record["profile_data"]) & set(record["platform_info"])
        if both:
            return (f"Duplicate key: '{sorted(both)[0]}', provided in profile with customer_id: "
                    f"{record.get('customer_id')}")
        if not isinstance(record.get("has_charged"), bool):
            return "Missing required key : has_charged (bool)"
        return None

    @staticmethod
    def _create_profile_errors(records: list[Any]) -> list[dict[str, Any]]:
        """pydantic's errors for ``CreateProfiles`` as profiles/api/routers/request_models/profiles.py
        declares it at f514fe2 (customer_id validator, no null or blank profile_data/platform_info
        values, ``has_charged: bool``), located ``["body", "profiles", <index>, <field>]``."""
        errors: list[dict[str, Any]] = []
        for index, record in enumerate(records):
            where: list[Any] = ["body", "profiles", index]
            if not isinstance(record, dict):
                errors.append({"loc": where, "msg": "value is not a valid dict", "type": "type_error.dict"})
                continue
            for field in ("customer_id", "profile_data", "platform_info", "has_charged"):
                value = record.get(field)
                loc = [*where, field]
                if value is None:
                    errors.append({"loc": loc, "msg": "field required", "type": "value_error.missing"})
                elif field == "customer_id":
                    problem = _identifier_error(value, "customer identifier")
                    if problem:
                        errors.append({"loc": loc, "msg": problem, "type": "value_error"})
                elif field == "has_charged":
                    if not isinstance(value, bool):
                        errors.append({"loc": loc, "msg": "value could not be parsed to a boolean",
                                       "type": "type_error.bool"})
                elif not isinstance(value, dict):
                    errors.append({"loc": loc, "msg": "value is not a valid dict", "type": "type_error.dict"})
                else:
                    for key, item in value.items():
                        if item is None or (isinstance(item, str) and not item.strip()):
                            errors.append({"loc": loc, "type": "value_error", "msg": (
                                f"Invalid {field} attribute provided. Null values or empty strings can not be "
                                f"provided as {field} values. Invalid key pair value: ({key} : {item})")})
                            break
        return errors

    def create_profiles(self, request: Request) -> Response:
        self._validate_post_headers(request)
        records = self._batch(request, "profiles")
        if self.options.get("profiles_validation") == "pydantic":
            invalid = self._create_profile_errors(records)
            if invalid:
                raise HttpError(422, "Missing or invalid JSON parameters", errors=invalid)
        created: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for record in records:
                if not isinstance(record, dict):
                    failed.append({"customer_id": None, "error_message": "Each profile must be a JSON object."})
                    continue
                customer_id = record.get("customer_id")
                problem = ("Missing required key : customer_id" if "customer_id" not in record
                           else _identifier_error(customer_id, "customer identifier"))
                problem = problem or self._profile_fields_error(record)
                if problem is None and self.profiles.alt_owner(str(customer_id)) is not None:
                    problem = f"Another profile exists with provided customer_id: {customer_id}"
                if problem:
                    failed.append({"customer_id": customer_id, "error_message": problem})
                    continue
                now = self._now()
                stored = {"profile_id": self._new_id("profile"), "customer_id": customer_id,
                          "profile_data": record["profile_data"], "platform_info": record["platform_info"],
                          "has_charged": record["has_charged"], "status": "active", "rfm_score": None,
                          "rfm_segment_desc": None, "churn_probability": None, "segment_tags": [],
                          "created_at": now, "updated_at": None}
                self.profiles.add(stored)
                created.append({k: stored[k] for k in ("profile_id", "customer_id", "profile_data",
                                                       "platform_info", "has_charged")})
        return self._batch_answer(201, "Customer profiles created.", "profiles", created, "failed_to_create",
                                  failed, "No profiles created!", len(records))

    def update_profiles(self, request: Request) -> Response:
        self._validate_post_headers(request)
        records = self._batch(request, "profiles", verb="update")
        updated: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for record in records:
                if not isinstance(record, dict):
                    failed.append({"profile_id": None, "error_message": "Each profile must be a JSON object."})
                    continue
                profile_id = record.get("profile_id")
                missing = [k for k in ("profile_id", "customer_id", "profile_data", "platform_info",
                                       "has_charged", "status") if k not in record]
                problem = f"Missing required key : {missing[0]}" if missing else None
                problem = problem or _identifier_error(record["customer_id"], "customer identifier")
                problem = problem or self._profile_fields_error(record)
                if problem is None and record["status"] not in ("active", "inactive", "churned"):
                    problem = "Invalid status provided. Allowed statuses : 'active', 'inactive' or 'churned'"
                existing = self.profiles.get(str(profile_id)) if problem is None else None
                if problem is None and (existing is None or existing["profile_id"] != profile_id):
                    problem = f"No profile exists with provided profile_id : {profile_id}"
                if problem is None:
                    owner = self.profiles.alt_owner(record["customer_id"])
                    if owner is not None and owner != profile_id:
                        problem = f"Another profile exists with provided customer_id : {record['customer_id']}"
                if problem:
                    failed.append({"profile_id": profile_id, "error_message": problem})
                    continue
                assert existing is not None
                stored = {**existing, **{k: record[k] for k in ("customer_id", "profile_data", "platform_info",
                                                                 "has_charged", "status")},
                          "updated_at": self._now()}
                self.profiles.replace(stored)
                updated.append(stored)
        return self._batch_answer(201, "Customer profiles updated.", "profiles", updated, "failed_to_update",
                                  failed, "No profiles updated!", len(records))

    def delete_profiles(self, request: Request) -> Response:
        self._validate_post_headers(request)
        ids = self._batch(request, "profiles", verb="delete")
        deleted: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for profile_id in ids:
                record = self.profiles.delete(profile_id) if isinstance(profile_id, str) else None
                if record is None:
                    failed.append({"profile_id": profile_id,
                                   "error_message": f"No profile found with profile_id : {profile_id}"})
                else:
                    deleted.append({"profile_id": record["profile_id"], "customer_id": record["customer_id"]})
        return self._batch_answer(201, "Customer profiles deleted.", "deleted_profiles", deleted,
                                  "failed_to_delete", failed, "No profiles deleted!", len(ids))

    def profiles_metadata(self, request: Request) -> Response:
        if request.arg("ids") is None:
            raise self._unprocessable(["query", "ids"], "field required", "value_error.missing")
        ids = self._ids(request) or []
        if not ids:
            raise HttpError(400, "Invalid Parameters",
                            error_message="A minimum number of 1 identifier must be provided with each request")
        meta = []
        with self.ctx.lock:
            for identifier in ids:
                record = self.profiles.get(identifier)
                meta.append({
                    "provided_identifier": identifier,
                    "profile": {"profile_exists": record is not None,
                                "profile_id": record["profile_id"] if record else None,
                                "customer_id": record["customer_id"] if record else None,
                                "created_at": record["created_at"] if record else None,
                                "updated_at": record["updated_at"] if record else None},
                    "merged_info": {"was_merged": False, "merged_at": None, "authenticated_id_key": None,
                                    "authenticated_id_value": None, "parent_or_child": None,
                                    "parent_profile": {"parent_profile_id": None, "parent_customer_id": None},
                                    "merged_child_profiles": []},
                })
        return json_response({"request_meta": self._meta("Profiles metadata found.", count=len(meta)),
                              "profiles_meta": meta})

    # --- events -----------------------------------------------------------------------------------
    def _event_type_properties(self, name: str) -> list[str] | None:
        if name in SYSTEM_EVENT_TYPES:
            return SYSTEM_EVENT_TYPES[name]
        record = self.event_types.get(name)
        if record is None or record.get("event_type") != name:
            return None
        return list(record.get("event_properties") or [])

    def _event(self, record: Any) -> tuple[dict[str, Any] | None, str | None]:
        """(stored event, None) or (None, error message)."""
        if not isinstance(record, dict):
            return None, "Each event must be a JSON object."
        for key in ("event_type", "profile_id"):
            if not isinstance(record.get(key), str) or not record.get(key):
                return None, f"Missing required key : {key}"
        properties = record.get("event_properties", {})
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            return None, "event_properties must be a JSON object."
        event_type = record["event_type"]
        if self._event_type_properties(event_type) is None:
            return None, "Unknown event type supplied with this request."
        if event_type == "charged":
            for key in ("payment_method", "item_id"):
                if not isinstance(properties.get(key), str) or not properties.get(key):
                    return None, f"The event_property '{key}' (string) is required for event_type : charged"
        profile = self.profiles.get(record["profile_id"])
        if profile is None:
            return None, f"No profile found with profile_id : {record['profile_id']}"
        created_at = record.get("created_at")
        if created_at is not None:
            try:
                when = datetime.strptime(str(created_at), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
            except ValueError:
                return None, "Invalid created_at provided. Required format : YYYY-MM-DD HH:MM:SS"
            created_at = _ts(when.timestamp())
        else:
            created_at = self._now()
        type_record = self.event_types.get(event_type)
        event = {"event_id": self._new_id("event"), "profile_id": profile["profile_id"],
                 "event_type_id": type_record["event_type_id"] if type_record else f"system_event_type_{event_type}",
                 "event_type": event_type, "event_properties": properties, "created_at": created_at}
        return event, None

    def create_event(self, request: Request) -> Response:
        with self.ctx.lock:
            event, problem = self._event(request.json())
            if event is None:
                raise HttpError(400, "Invalid event data provided", error_message=problem or "")
            self.events[event["event_id"]] = event
        body = {"request_meta": self._meta("Event created.", count=1),
                **{k: event[k] for k in ("event_id", "event_type", "event_properties", "profile_id", "created_at")}}
        return json_response(body, 201)

    @staticmethod
    def _create_event_errors(records: list[Any]) -> list[dict[str, Any]]:
        """pydantic's errors for ``BatchCreateEvents`` (events/api/routers/request_models/events.py:
        ``event_type: str``, ``event_properties: dict``, ``profile_id: str``, ``created_at: Optional[str]``),
        located ``["body", "events", <index>, <field>]`` as FastAPI reports them."""
        errors: list[dict[str, Any]] = []
        for index, record in enumerate(records):
            where: list[Any] = ["body", "events", index]
            if not isinstance(record, dict):
                errors.append({"loc": where, "msg": "value is not a valid dict", "type": "type_error.dict"})
                continue
            for field in ("event_type", "event_properties", "profile_id"):
                value = record.get(field)
                if field not in record or value is None:
                    errors.append({"loc": [*where, field], "msg": "field required", "type": "value_error.missing"})
                elif field == "event_properties" and not isinstance(value, dict):
                    errors.append({"loc": [*where, field], "msg": "value is not a valid dict",
                                   "type": "type_error.dict"})
                elif field != "event_properties" and not isinstance(value, str | int | float):
                    errors.append({"loc": [*where, field], "msg": "str type expected", "type": "type_error.str"})
        return errors

    def create_events(self, request: Request) -> Response:
        records = self._batch(request, "events")
        invalid = self._create_event_errors(records)
        if invalid:
            # error_handlers.py validation_handler: 422, nothing created, every pydantic error listed.
            raise HttpError(422, "Missing or invalid JSON parameters", errors=invalid)
        created: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for record in records:
                event, problem = self._event(record)
                if event is None:
                    echo = record if isinstance(record, dict) else {"event": record}
                    failed.append({"event_type": echo.get("event_type"), "event_properties":
                                   echo.get("event_properties"), "profile_id": echo.get("profile_id"),
                                   "error_message": problem})
                    continue
                self.events[event["event_id"]] = event
                created.append(event)
        return self._batch_answer(201, "Events created.", "created_events", created, "failed_to_create", failed,
                                  "Invalid events data provided. No events were created.", len(records))

    # --- event types ------------------------------------------------------------------------------
    def get_event_types(self, request: Request) -> Response:
        return self._list(request, self.event_types, "event type", "Event types found.")

    def create_event_types(self, request: Request) -> Response:
        records = self._batch(request, "event_types")
        created: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for record in records:
                if not isinstance(record, dict):
                    failed.append({"event_type": None, "error_message": "Each event type must be a JSON object."})
                    continue
                name = record.get("event_type")
                props = record.get("event_properties", [])
                problem = ("Missing required key : event_type" if "event_type" not in record
                           else _identifier_error(name, "event type", no_space=True))
                if problem is None and (not isinstance(props, list)
                                        or not all(isinstance(p, str) and p for p in props)):
                    problem = "event_properties must be a list of strings."
                if problem is None and name in SYSTEM_EVENT_TYPES:
                    problem = f"System event type exists: {name}"
                if problem is None and self.event_types.alt_owner(str(name)) is not None:
                    problem = f"Conflict: {name}"  # event_types_repository.py (f514fe2): duplicate key
                if problem:
                    failed.append({"event_type": name, "error_message": problem})
                    continue
                stored = {"event_type_id": self._new_id("custom_event_type"), "event_type": name,
                          "event_properties": props, "created_at": self._now()}
                self.event_types.add(stored)
                created.append(stored)
        return self._batch_answer(201, "Event types created.", "event_types", created, "failed_to_create", failed,
                                  "No event types created!", len(records))

    def delete_event_types(self, request: Request) -> Response:
        ids = self._batch(request, "event_type_ids", verb="delete")
        deleted: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for type_id in ids:
                record = self.event_types.delete(type_id) if isinstance(type_id, str) else None
                if record is None:
                    failed.append({"event_type_id": type_id, "error_message": "No match found for deletion"})
                else:
                    deleted.append({"event_type_id": type_id})
        return self._batch_answer(200, "Event types deleted.", "deleted_event_types", deleted, "failed_to_delete",
                                  failed, "No event types deleted!", len(ids))

    def delete_all_event_types(self, request: Request) -> Response:
        """events/api/routers/event_types.py + services/event_types.py at f514fe2: every custom event
        type of the account; none to delete → 400 "No event types deleted!"."""
        with self.ctx.lock:
            deleted = [{"event_type_id": r["event_type_id"], "event_type": r["event_type"]}
                       for r in self.event_types.delete_all()]
        if not deleted:
            raise HttpError(400, "No event types deleted!", errors=[])
        return json_response({"request_meta": self._meta("Custom event type(s) deleted."),
                              "deleted_event_types": deleted, "failed_to_delete": []})

    def checkout_event(self, request: Request) -> Response:
        """``POST /v1/retention/events?checkout_id=`` (events/api/routers/events.py at f514fe2): the latest
        ``checkout_contact_info_submitted`` event whose ``event_properties.checkout_id`` matches
        (events_repository.py: ``event_type_id`` is the event's id, ``created_at`` text), else 400."""
        checkout_id = request.arg("checkout_id")
        if not checkout_id:
            raise HttpError(422, "Missing or invalid JSON parameters", errors=[
                {"error_message": "loc: query -> checkout_id. field required", "extended_help": DOCS}])
        with self.ctx.lock:
            matches = [e for e in self.events.values() if e.get("event_type") == CHECKOUT_EVENT_TYPE
                       and str((e.get("event_properties") or {}).get("checkout_id")) == checkout_id]
        if not matches:
            raise HttpError(400, "No event found", errors=[
                {"error_message": "No event found with provided params", "extended_help": ""}])
        latest = max(enumerate(matches), key=lambda pair: (_parsed_ts(pair[1].get("created_at")), pair[0]))[1]
        event = {k: v for k, v in latest.items() if k != "event_id"}
        event["event_type_id"] = latest.get("event_id")
        return json_response({"request_meta": self._meta("Event found."), "event": event})

    # --- messaging content ------------------------------------------------------------------------
    def generate_content(self, request: Request) -> Response:
        """``POST /v1/retention/messaging/content/generate`` as messaging/services/template_engine.py at
        f514fe2 generates it (plain templates; item-recommendation and reward-card tags are not
        simulated): ``{{tag}}`` placeholders filled from each data object (an empty value takes the
        template's default), one message per data object; a missing tag fails that message only.
        Request model (request_models/messaging.py GenerateContent): ≤ 100 messages, ≤ 25 data
        objects each, no template twice → 422. No live template at all → 400. An unknown
        ``template_id`` crashes the vendor's code (it indexes the missing template): 500."""
        self._validate_post_headers(request)
        body = request.json()
        messages = body.get("messages") if isinstance(body, dict) else None
        problem = None
        if not isinstance(messages, list) or not all(
                isinstance(m, dict) and isinstance(m.get("template_id"), str) and isinstance(m.get("data"), list)
                and all(isinstance(d, dict) for d in m["data"]) for m in messages):
            problem = "loc: body -> messages. field required"
        elif len(messages) > MESSAGE_GEN_LIMIT:
            problem = "You can only generate up to 100 messagess per request."
        elif any(len(m["data"]) > MAX_MESSAGE_DATA for m in messages):
            problem = f"A maximum number of {MAX_MESSAGE_DATA} data objects allowed per message."
        elif len({m["template_id"] for m in messages}) != len(messages):
            problem = "loc: messages : Duplicate template identifiers found in messages."
        if problem:
            raise HttpError(422, "Missing or invalid JSON parameters",
                            errors=[{"error_message": problem, "extended_help": DOCS}])
        assert isinstance(messages, list)
        with self.ctx.lock:
            if self.templates.total() == 0:
                raise HttpError(400, "Template resource not found", errors=[
                    {"error_message": "No templates exist for this account", "extended_help": DOCS}])
            templates = {m["template_id"]: self.templates.get(m["template_id"]) for m in messages}
        if any(t is None for t in templates.values()):
            raise HttpError(500, "Internal Server Error", errors=[
                {"error_message": "Unexpected error occurred when attempting to process this request",
                 "extended_help": DOCS}])
        generated: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for message in messages:
            template = templates[message["template_id"]] or {}
            tags = re.findall(r"\{\{(.*?)\}\}", str(template.get("content", "")), re.DOTALL)
            for data in message["data"]:
                missing = next((tag for tag in tags if tag not in data), None)
                if missing is not None:
                    failed.append({"template_id": message["template_id"], "provided_data": data,
                                   "error_message": f"Missing required data parameter for this message: '{missing}'"})
                    continue
                content = str(template.get("content", ""))
                for tag in tags:
                    value = data[tag]
                    if value in ("", None):
                        value = (template.get("default_values") or {}).get(tag, "")
                    content = content.replace("{{" + tag + "}}", str(value))
                generated.append({"template_id": message["template_id"], "friendly_name": template.get("friendly_name"),
                                  "title": template.get("title"), "content": content})
        meta = self._meta("Successfully generated content" if generated else "No content generated",
                          count=len(generated))
        return json_response({"request_meta": meta, "generated_messages": generated, "failed_messages": failed,
                              "failed_templates": []})

    # --- items ------------------------------------------------------------------------------------
    def get_items(self, request: Request) -> Response:
        return self._list(request, self.items, "item", "Items found.")

    @staticmethod
    def _item_error(record: dict[str, Any], update: bool) -> str | None:
        required = ["item_id", "item_category", "item_name", "item_description", "item_price"]
        if update:
            required.append("status")
        missing = [k for k in required if k not in record]
        if missing:
            return f"Missing required key : {missing[0]}"
        problem = _identifier_error(record["item_id"], "item identifier")
        if problem:
            return problem
        for key in ("item_category", "item_name"):
            if not isinstance(record[key], str) or not record[key].strip():
                return f"{key} must be a non-empty string."
        description = record["item_description"]
        if not isinstance(description, str) or not 1 <= len(description) <= 40:
            return "item_description must be between 1 and 40 characters long."
        if not isinstance(record["item_price"], int) or isinstance(record["item_price"], bool):
            return "item_price must be an integer."
        if update and record["status"] not in ("active", "inactive"):
            return "Invalid status provided. Allowed statuses : 'active' or 'inactive'"
        return None

    def create_items(self, request: Request) -> Response:
        records = self._batch(request, "items")
        created: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for record in records:
                if not isinstance(record, dict):
                    failed.append({"item_id": None, "error_message": "Each item must be a JSON object."})
                    continue
                problem = self._item_error(record, update=False)
                if problem is None and self.items.get(record["item_id"]) is not None:
                    problem = f"Another item exists with provided item_id : {record['item_id']}"
                if problem:
                    failed.append({"item_id": record.get("item_id"), "error_message": problem})
                    continue
                stored = {**{k: record[k] for k in ("item_id", "item_category", "item_name", "item_description",
                                                     "item_price")},
                          "status": "active", "created_at": self._now(), "updated_at": None}
                self.items.add(stored)
                created.append(stored)
        return self._batch_answer(201, "Items created.", "items", created, "failed_to_create", failed,
                                  "No items created!", len(records))

    def update_items(self, request: Request) -> Response:
        records = self._batch(request, "items", verb="update")
        seen: set[Any] = set()
        for record in records:
            item_id = record.get("item_id") if isinstance(record, dict) else None
            if item_id is not None and isinstance(item_id, str):
                if item_id in seen:
                    raise HttpError(400, "An error occurred when validating request.", error_message=(
                        f"Identical item identifiers supplied. Found duplicate item_id : {item_id}"))
                seen.add(item_id)
        updated: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for record in records:
                if not isinstance(record, dict):
                    failed.append({"item_id": None, "error_message": "Each item must be a JSON object."})
                    continue
                problem = self._item_error(record, update=True)
                existing = self.items.get(record["item_id"]) if problem is None else None
                if problem is None and existing is None:
                    problem = f"No item found with item_id : {record['item_id']}"
                if problem:
                    failed.append({"item_id": record.get("item_id"), "error_message": problem})
                    continue
                assert existing is not None
                stored = {**existing, **{k: record[k] for k in ("item_category", "item_name", "item_description",
                                                                 "item_price", "status")},
                          "updated_at": self._now()}
                self.items.replace(stored)
                updated.append(stored)
        return self._batch_answer(200, "Items updated.", "items", updated, "failed_to_update", failed,
                                  "No items updated!", len(records))

    def delete_items(self, request: Request) -> Response:
        ids = self._batch(request, "items", verb="delete")
        deleted: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for item_id in ids:
                record = self.items.delete(item_id) if isinstance(item_id, str) else None
                if record is None:
                    failed.append({"item_id": item_id, "error_message": f"No item found with item_id : {item_id}"})
                else:
                    deleted.append({"item_id": item_id})
        return self._batch_answer(200, "Items deleted.", "deleted_items", deleted, "failed_to_delete", failed,
                                  "No items deleted!", len(ids))

    # --- segments ---------------------------------------------------------------------------------
    def get_segments(self, request: Request) -> Response:
        return self._list(request, self.segments, "segment", "Segments found.")

    def _segment_error(self, body: dict[str, Any]) -> str | None:
        for key in ("segment_name", "segment_type", "segment_sub_type", "segment_timeframe", "event_sequence"):
            if key not in body:
                return f"Missing required key : {key}"
        problem = _identifier_error(body["segment_name"], "segment name", no_space=True)
        if problem:
            return problem
        segment_type, sub_type = body["segment_type"], body["segment_sub_type"]
        if segment_type not in ("live", "past"):
            return "Invalid segment_type provided. Allowed types : 'live' or 'past'"
        top = 2 if segment_type == "live" else 4
        if not isinstance(sub_type, int) or isinstance(sub_type, bool) or not 1 <= sub_type <= top:
            return f"Invalid segment_sub_type provided for a {segment_type} segment. Allowed : 1-{top}"
        if not isinstance(body["segment_timeframe"], int) or isinstance(body["segment_timeframe"], bool):
            return "segment_timeframe must be an integer."
        sequence = body["event_sequence"]
        if not isinstance(sequence, list) or not sequence:
            return "event_sequence must be a non-empty list."
        for step in sequence:
            if not isinstance(step, dict):
                return "Each event_sequence entry must be a JSON object."
            if self._event_type_properties(str(step.get("event_type"))) is None:
                return "Unknown event type supplied with this request."
            if not isinstance(step.get("exp_timeframe"), int) or isinstance(step.get("exp_timeframe"), bool):
                return "exp_timeframe must be an integer."
            if step.get("action_inaction") not in ("action", "inaction"):
                return "Invalid action_inaction provided. Allowed : 'action' or 'inaction'"
            if step.get("event_properties") is not None and not isinstance(step.get("event_properties"), dict):
                return "event_properties must be a JSON object or null."
        if self.segments.alt_owner(body["segment_name"]) is not None:
            return f"Another segment exists with provided segment_name : {body['segment_name']}"
        return None

    def create_segment(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise self._unprocessable(["body"], "value is not a valid dict", "type_error.dict")
        with self.ctx.lock:
            problem = self._segment_error(body)
            if problem:
                raise HttpError(400, "Invalid segment data provided", error_message=problem)
            status = "created" if body["segment_type"] == "live" else "processing"
            stored = {"segment_id": self._new_id("segment"), "segment_name": body["segment_name"],
                      "segment_type": body["segment_type"], "segment_sub_type": body["segment_sub_type"],
                      "segment_timeframe": body["segment_timeframe"], "event_sequence": body["event_sequence"],
                      "profile_property_name": body.get("profile_property_name"),
                      "profile_property_value": body.get("profile_property_value"),
                      "segment_status": status, "created_at": self._now(), "profile_count": 0}
            self.segments.add(stored)
        answer = {k: stored[k] for k in ("segment_id", "segment_name", "segment_type", "segment_sub_type",
                                         "segment_status")}
        return json_response({"request_meta": self._meta("Segment created.", count=1), **answer}, 201)

    def delete_segments(self, request: Request) -> Response:
        ids = self._batch(request, "segments", verb="delete")
        deleted: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for segment_id in ids:
                record = self.segments.delete(segment_id) if isinstance(segment_id, str) else None
                if record is None:
                    failed.append({"segment_id": segment_id,
                                   "error_message": f"No segment found with segment_id : {segment_id}"})
                else:
                    deleted.append({"segment_id": segment_id})
        return self._batch_answer(200, "Segments flagged to be deleted.", "deleted_segments", deleted,
                                  "failed_to_delete", failed, "No segments deleted!", len(ids))

    # --- recommendations & churn ------------------------------------------------------------------
    def recommendations(self, request: Request) -> Response:
        self._validate_post_headers(request)
        ids = self._batch(request, "profile_ids", limit=MAX_RECOMMENDATION_PROFILES, verb="request")
        out = []
        with self.ctx.lock:
            item_total = self.items.total()
            for profile_id in ids:
                profile = self.profiles.get(profile_id) if isinstance(profile_id, str) else None
                if profile is None:
                    out.append({"profile_id": profile_id, "recommendations": [],
                                "error": f"No profile found with profile_id : {profile_id}"})
                    continue
                rng = self.ctx.rng("recommend", profile["profile_id"])
                picks = rng.sample(range(item_total), min(10, item_total)) if item_total else []
                recs = []
                for position in sorted(picks):
                    item = self.items.page(position, 1)
                    if item:
                        recs.append({"item_id": item[0]["item_id"], "score": round(rng.uniform(0.05, 0.99), 4)})
                recs.sort(key=lambda r: -r["score"])
                out.append({"profile_id": profile["profile_id"], "recommendations": recs, "error": None})
        body = {"request_meta": self._meta("Recommendations generated.", count=len(out)), "recommendations": out,
                "model_meta_data": {"training_job_id": "training_job_sandbox_rec", "model_accuracy_score": 0.87,
                                    "recommender_event_type": "charged",
                                    "model_created_at": _ts(BASE_EPOCH + 86400 * 400)}}
        return json_response(body)

    def churn_report(self, request: Request) -> Response:
        rng = self.ctx.rng("churn_report")
        body = {"request_meta": self._meta("Churn prediction report found."),
                "churn_prediction_report": {
                    "training_job_data": {"training_job_id": "training_job_sandbox_churn",
                                          "model_accuracy": round(rng.uniform(0.7, 0.95), 4),
                                          "training_job_date": _ts(BASE_EPOCH + 86400 * 400)},
                    "churn_data": {"current_churn_percentage": round(rng.uniform(2, 15), 2),
                                   "churn_direction_indication": rng.choice(["up", "down"]),
                                   "churn_percentage_difference": round(rng.uniform(0, 3), 2),
                                   "features_of_importance": ["plan", "age", "os"]}}}
        return json_response(body)

    # --- templates --------------------------------------------------------------------------------
    def get_templates(self, request: Request) -> Response:
        return self._list(request, self.templates, "template", "Templates found.")

    @staticmethod
    def _template_error(record: dict[str, Any]) -> str | None:
        for key in ("friendly_name", "template_type", "title", "content"):
            if key not in record:
                return f"Missing required key : {key}"
            if not isinstance(record[key], str) or not record[key].strip():
                return f"{key} must be a non-empty string."
        for key in ("default_values", "metadata"):
            if record.get(key) is not None and not isinstance(record[key], dict):
                return f"{key} must be a JSON object."
        return None

    def create_templates(self, request: Request) -> Response:
        self._validate_post_headers(request)
        records = self._batch(request, "templates")
        created: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for record in records:
                if not isinstance(record, dict):
                    failed.append({"friendly_name": None, "error_message": "Each template must be a JSON object."})
                    continue
                problem = self._template_error(record)
                if problem:
                    failed.append({"friendly_name": record.get("friendly_name"), "error_message": problem})
                    continue
                stored = {"template_id": self._new_id("template"),
                          **{k: record[k] for k in ("friendly_name", "template_type", "title", "content")},
                          "default_values": record.get("default_values") or {},
                          "metadata": record.get("metadata") or {},
                          "created_at": self._now(), "updated_at": None}
                self.templates.add(stored)
                created.append(stored)
        return self._batch_answer(201, "Templates created.", "templates", created, "failed_to_create", failed,
                                  "No templates created!", len(records))

    def update_templates(self, request: Request) -> Response:
        self._validate_post_headers(request)
        records = self._batch(request, "templates", verb="update")
        updated: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for record in records:
                if not isinstance(record, dict):
                    failed.append({"template_id": None, "error_message": "Each template must be a JSON object."})
                    continue
                template_id = record.get("template_id")
                existing = self.templates.get(template_id) if isinstance(template_id, str) else None
                problem = None if existing else f"No template found with template_id : {template_id}"
                if problem is None:
                    assert existing is not None
                    problem = self._template_error({**existing, **record})
                if problem:
                    failed.append({"template_id": template_id, "error_message": problem})
                    continue
                assert existing is not None
                changes = {k: record[k] for k in ("friendly_name", "template_type", "title", "content",
                                                  "default_values", "metadata") if k in record}
                stored = {**existing, **changes, "updated_at": self._now()}
                self.templates.replace(stored)
                updated.append(stored)
        return self._batch_answer(200, "Templates updated.", "templates", updated, "failed_to_update", failed,
                                  "No templates updated!", len(records))

    def delete_templates(self, request: Request) -> Response:
        self._validate_post_headers(request)
        ids = self._batch(request, "template_ids", verb="delete")
        deleted: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        with self.ctx.lock:
            for template_id in ids:
                record = self.templates.delete(template_id) if isinstance(template_id, str) else None
                if record is None:
                    failed.append({"template_id": template_id,
                                   "error_message": f"No template found with template_id : {template_id}"})
                else:
                    deleted.append({"template_id": template_id})
        return self._batch_answer(200, "Templates deleted.", "deleted_templates", deleted, "failed_to_delete",
                                  failed, "No templates deleted!", len(ids))

    # --- configurations ---------------------------------------------------------------------------
    def get_account(self, request: Request) -> Response:
        with self.ctx.lock:
            return json_response({"request_meta": self._meta("Account configurations found."),
                                  "account_data": dict(self.account)})

    def set_account(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise self._unprocessable(["body"], "value is not a valid dict", "type_error.dict")
        for key in ("contact_email_address", "contact_name", "contact_surname", "webhook_url"):
            if key not in body:
                raise self._unprocessable(["body", key], "field required", "value_error.missing")
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(body["contact_email_address"])):
            raise HttpError(400, "Invalid account data provided",
                            error_message="Invalid contact_email_address provided.")
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", str(body["webhook_url"])):
            raise HttpError(400, "Invalid account data provided", error_message="Invalid webhook_url provided.")
        with self.ctx.lock:
            for key in ("contact_email_address", "contact_name", "contact_surname", "webhook_url",
                        "authenticated_id_key"):
                if key in body:
                    self.account[key] = body[key]
            data = dict(self.account)
        return json_response({"request_meta": self._meta("Account configurations updated."), "account_data": data},
                             202)

    def get_algorithms(self, request: Request) -> Response:
        with self.ctx.lock:
            configs = [dict(a) for a in self.algorithms]
        return json_response({"request_meta": self._meta("Algorithm configurations found.", count=len(configs)),
                              "configurations": configs})

    def set_algorithms(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or "algorithm_name" not in body or "configurations" not in body:
            raise self._unprocessable(["body"], "field required", "value_error.missing")
        name, configs = body["algorithm_name"], body["configurations"]
        allowed = {"rec": {"recommend_interacted_items", "item_id_stop_list", "profile_features"},
                   "churn": {"profile_features"}}
        if name not in allowed:
            raise HttpError(400, "Invalid algorithm configuration provided",
                            error_message="Invalid algorithm_name provided. Allowed : 'rec' or 'churn'")
        if not isinstance(configs, dict) or set(configs) - allowed[name]:
            raise HttpError(400, "Invalid algorithm configuration provided", error_message=(
                f"Invalid configurations provided for {name}. Allowed keys : {sorted(allowed[name])}"))
        features = configs.get("profile_features", [])
        if not isinstance(features, list) or "charged" in features:
            raise HttpError(400, "Invalid algorithm configuration provided", error_message=(
                "profile_features must be a list of profile keys and may not contain 'charged'."))
        with self.ctx.lock:
            for entry in self.algorithms:
                if entry["algorithm_name"] == name:
                    entry["configurations"] = {**entry["configurations"], **configs}
            configs_out = [dict(a) for a in self.algorithms]
        return json_response({"request_meta": self._meta("Algorithm configurations updated.",
                                                         count=len(configs_out)),
                              "configurations": configs_out}, 202)

    def authenticate_route(self, request: Request) -> Response:
        token = base64.urlsafe_b64encode(f"sandbox-jwt:{self.ctx.seed}".encode()).decode()
        return json_response({"request_meta": self._meta("Authenticated."), "auth": {"jwt": token}},
                             headers={"X-AUTH-JWT": token})
