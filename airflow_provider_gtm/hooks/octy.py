"""Octy retention API v1: profiles, events, items, segments, templates, recommendations.

Documented choices:

- Lists page with the ``cursor`` header (an offset, starting at 0); the list ends on a missing
  cursor, an empty page, a cursor at or past ``request_meta.total``, or the 400 whose message says
  the cursor is exhausted (an end, not an error). Page size is the server's (100 in the code, 500
  in the docs): we never assume it.
- Failure entries are matched back to the records sent by whichever key Octy used: the seed's
  ``identifier`` or the code's ``customer_id``, ``profile_id``, ``item_id``, ``event_type``,
  ``event_type_id``, ``template_id``/``friendly_name`` or the echoed event.
- Events are matched by every field Octy echoes (``event_type``, ``event_properties``,
  ``profile_id``); a 422 names records by ``error.errors[].loc`` and those fail with the field and
  ``msg`` while the rest is sent again. "Already exists" only for the duplicate wordings the
  services send on a create (see ``_DUPLICATE_PREFIXES``).
- When every record fails Octy answers 400 with the failures in ``error.errors``: that is a result
  (every record failed, each with its reason), not an exception.
- Creates of profiles, items and event types are retried after a timeout or a 5xx because Octy
  refuses a duplicate identifier (the retry then reports "already exists"); every other write is
  reported as "outcome unknown" instead of being sent twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import requests
from requests.auth import HTTPBasicAuth

from airflow_provider_gtm.apis.octy import BATCH_MAX, OCTY
from airflow_provider_gtm.core.batching import (
    BatchResult,
    Failure,
    check_batch_size,
    chunked,
    collect,
    mark_own_work,
    reconcile,
    run_batches,
    split_invalid,
)
from airflow_provider_gtm.core.client import ApiProfile, ApiResponse, generic_error_message
from airflow_provider_gtm.core.errors import GtmApiError, GtmConfigError
from airflow_provider_gtm.core.hook import GtmBaseHook
from airflow_provider_gtm.core.pagination import OffsetHeaderPaginator, Page, paginate
from airflow_provider_gtm.core.ratelimit import Window

IDS_MAX = 100
_FAILURE_KEYS = ("identifier", "customer_id", "profile_id", "item_id", "event_type_id", "event_type",
                 "template_id", "friendly_name", "segment_id")


def octy_error_message(body: Any, text: str) -> str:
    """Octy's own words from its error template (``error.reason`` and ``error.errors[].error_message``)."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            reason = str(error.get("reason") or error.get("message") or "").strip()
            details = [str(e.get("error_message")) for e in error.get("errors") or []
                       if isinstance(e, Mapping) and e.get("error_message")]
            if reason and details:
                return f"{reason}: {'; '.join(details[:3])}"
            if reason or details:
                return reason or "; ".join(details[:3])
        if isinstance(error, str) and error:
            return error
        meta = body.get("request_meta")
        if isinstance(meta, Mapping) and meta.get("message") and meta.get("request_status") != "Success":
            return str(meta["message"])
    return generic_error_message(body, text)


OCTY_PROFILE = ApiProfile(name=OCTY.name, error_message=octy_error_message,
                          default_windows=tuple(Window(calls, float(seconds)) for calls, seconds in OCTY.rate_windows))


@dataclass(frozen=True)
class _Resource:
    path: str
    records_key: str


#: The lists, from the spec (apis/octy.py).
RESOURCES: dict[str, _Resource] = {
    name: _Resource(spec.path, spec.records_key or name) for name, spec in OCTY.resources.items()
}


@dataclass(frozen=True)
class _Operation:
    path: str
    body_key: str
    accepted_key: str
    rejected_key: str
    identifier: str | None  # field of a record naming it; None: the record is the id (deletes)
    safe_to_retry: bool = False


#: The batch writes, from the spec (apis/octy.py).
OPERATIONS: dict[str, _Operation] = {
    name: _Operation(spec.path, str(spec.body_key), str(spec.accepted_key), str(spec.rejected_key), spec.identifier,
                     safe_to_retry=spec.safe_to_retry)
    for name, spec in OCTY.operations.items()
}


# Every "already exists" wording Octy's services send on a create (simonbermudez/octy-services-wasm at
# f514fe2, */data/repositories/implementation/*_repository.py), as lower-case prefixes. Nothing that
# merely contains "exists": "No item exists with provided item_id" is a refusal, not a duplicate.
# Older versions of a file are covered too (event types before June 2025 said "A system event type
# exists ..." / "Another custom event type exists ..."; profiles wrote "customer_id :" and "customer_id:").
_DUPLICATE_PREFIXES = (
    "another profile exists with provided customer_id",  # profiles_repository.py
    "another item exists with provided item_id",  # items_repository.py
    "failed to created new message template. template(s) with provided friendly_name(s) already exist",
    "system event type exists:",  # event_types_repository.py: the type is there, so "ensure it" succeeded
    "a system event type exists with provided event_type",
    "another custom event type exists with provided event_type",
    "conflict:",  # event_types_repository.py: a duplicate key on insert ("Conflict: <event_type>")
    "already exists",
)


def _is_duplicate(message: str) -> bool:
    lowered = message.strip().lower()
    # segmentation/services/segmentation.py: "Segment with provided name: X already exists. ..."
    return lowered.startswith(_DUPLICATE_PREFIXES) or (
        lowered.startswith("segment with provided") and "already exists" in lowered)


def _validation_errors(body: Any, body_key: str, size: int) -> tuple[dict[int, str], list[str]]:
    """A 422 (FastAPI ``RequestValidationError``, ``*/api/routers/error_handlers.py``): pydantic's
    ``error.errors[]`` entries ``{"loc": ["body", <body_key>, <index>, <field>...], "msg", "type"}``.

    :return: ``({record index: "field: msg; ..."}, [messages naming no record])``.
    """
    error = body.get("error") if isinstance(body, Mapping) else None
    entries = error.get("errors") if isinstance(error, Mapping) else None
    per_record: dict[int, list[str]] = {}
    general: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping):
            continue
        raw_loc = entry.get("loc")
        loc: list[Any] = list(raw_loc) if isinstance(raw_loc, list) else []
        message = str(entry.get("msg") or entry.get("error_message") or "invalid")
        path = loc[1:] if loc[:1] == ["body"] else loc
        if len(path) >= 2 and path[0] == body_key and isinstance(path[1], int) and 0 <= path[1] < size:
            field = ".".join(str(part) for part in path[2:])
            per_record.setdefault(path[1], []).append(f"{field}: {message}" if field else message)
        else:
            where = ".".join(str(part) for part in path)
            general.append(f"{where}: {message}" if where else message)
    return {index: "; ".join(texts) for index, texts in per_record.items()}, general


def _is_cursor_exhausted(resp: ApiResponse) -> bool:
    # Octy's end of a list: 400 "... pagination cursor exhausted". A 404 is not an end (a wrong path
    # or host prefix): the paginator raises it on the first page and re-fetches it mid-list.
    return resp.status == 400 and "exhausted" in octy_error_message(resp.data, resp.text).lower()


def record_problem(operation: str, record: Any) -> str | None:
    """Why Octy cannot take ``record`` for ``operation`` at all (``None``: it can be sent).

    Only what makes a record unsendable or untrackable: not an object (or, for deletes, not an id),
    or without the field that names it. What Octy itself validates (formats, lengths, types of
    values) is left to its per-record answer, whose reason is the API's own.
    """
    spec = OPERATIONS.get(operation)
    if spec is None:
        return None
    if spec.identifier is None:
        return None if isinstance(record, str) and record.strip() else (
            f"{operation} takes ids (non-empty strings); got {record!r:.60}")
    if type(record) is not dict and not isinstance(record, Mapping):  # exact type first: no ABC check per record
        return f"{operation} takes objects; got {type(record).__name__}"
    required = ("event_type", "profile_id") if operation == "events.create" else (spec.identifier,)
    missing = [name for name in required if record.get(name) in (None, "")]
    if missing:
        return f"field {missing[0]!r} is missing; every {operation} record needs it (a non-empty string)"
    return None


class OctyHook(GtmBaseHook):
    """Octy (``https://api.octy.ai``): login = public key (``pk_…``), password = secret key (``sk_…``).

    Calls are paced under 120 per minute per key (extra ``rate_limits`` overrides).

    :param conn_id: the Airflow connection id (default ``octy_default``).
    """

    conn_name_attr = OCTY.conn_name_attr
    default_conn_name = OCTY.default_conn_id
    conn_type = OCTY.conn_type
    hook_name = OCTY.display_name
    profile: ClassVar[ApiProfile] = OCTY_PROFILE
    default_host: ClassVar[str] = OCTY.default_host
    field_labels: ClassVar[dict[str, str]] = dict(OCTY.field_labels)

    def _credentials(self) -> tuple[requests.auth.AuthBase | None, dict[str, str], str]:
        public_key = self.require("login")
        secret_key = self.require("password")
        return HTTPBasicAuth(public_key, secret_key), {}, f"{public_key}:{secret_key}"

    def _probe(self) -> str:
        account = self.get_account()
        return str(account.get("contact_email_address") or "") if isinstance(account, Mapping) else ""

    def _post(self, path: str, body: Any, *, safe_to_retry: bool = False, accept: tuple[int, ...] = ()) -> ApiResponse:
        # json= makes requests send Content-Length and exactly "application/json", which Octy checks.
        return self.client.request("POST", path, json=body, safe_to_retry=safe_to_retry, accept_statuses=accept)

    def _json(self, resp: ApiResponse) -> dict[str, Any]:
        return resp.data if isinstance(resp.data, dict) else {}

    # -- lists ------------------------------------------------------------------------------------

    @staticmethod
    def _resource(resource: str) -> _Resource:
        if resource not in RESOURCES:
            raise GtmConfigError(f"Octy: resource={resource!r} is not a list; use one of {', '.join(RESOURCES)}.")
        return RESOURCES[resource]

    @staticmethod
    def _filters(resource: str, filters: Mapping[str, Any] | None) -> dict[str, Any]:
        if not filters:
            return {}
        if resource != "profiles":
            raise GtmConfigError(f"Octy: filters apply to resource='profiles' only, not {resource!r}.")
        unknown = set(filters) - {"rfm", "churn_prob", "segments"}
        if unknown:
            raise GtmConfigError(f"Octy: unknown profile filter(s) {sorted(unknown)}; use rfm, churn_prob, segments.")
        params = dict(filters)
        if "churn_prob" in params and params["churn_prob"] not in ("low", "mid", "high", "very-high"):
            raise GtmConfigError("Octy: churn_prob must be low, mid, high or very-high.")
        if isinstance(params.get("segments"), list | tuple):
            params["segments"] = ",".join(map(str, params["segments"]))
        return params

    def iter_pages(self, resource: str, *, filters: Mapping[str, Any] | None = None, start: int = 0,
                   limit: int | None = None) -> Iterator[Page]:
        """Pages of an Octy list, one in memory at a time.

        :param resource: ``profiles``, ``items``, ``event_types``, ``segments`` or ``templates``.
        :param filters: profile filters ``rfm`` (``"1-5"``), ``churn_prob``, ``segments`` (list of tags).
        :param start: the cursor offset to start from (a resumed fetch passes ``Page.next_state``).
        :param limit: stop after this many records.
        """
        spec = self._resource(resource)
        params = self._filters(resource, filters)

        def total_of(body: Any) -> int | None:
            meta = body.get("request_meta") if isinstance(body, Mapping) else None
            total = meta.get("total") if isinstance(meta, Mapping) else None
            return int(total) if isinstance(total, int | str) and str(total).isdigit() else None

        paginator = OffsetHeaderPaginator(records_key=spec.records_key, total_of=total_of,
                                          is_end_of_list=_is_cursor_exhausted)
        return paginate(self.client, spec.path, paginator, params=params, start=int(start), limit=limit)

    def iter_records(self, resource: str, *, filters: Mapping[str, Any] | None = None,
                     limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every record of an Octy list (see :meth:`iter_pages`), streamed."""
        for page in self.iter_pages(resource, filters=filters, limit=limit):
            yield from page.records

    def get_by_ids(self, resource: str, ids: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Records by id (profiles also by customer id; segments also by name), 100 ids per call."""
        spec = self._resource(resource)
        for batch in chunked(map(str, ids), IDS_MAX):
            resp = self.client.request("GET", spec.path, params={"ids": ",".join(batch)}, accept_statuses=(400,))
            if resp.status == 400 and "no " in octy_error_message(resp.data, resp.text).lower():
                continue  # none of these ids exists
            if resp.status >= 400:
                self.client.raise_for_response(resp, "GET", spec.path)
            yield from self._json(resp).get(spec.records_key) or []

    def get_profiles_metadata(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        """``GET /v1/retention/profiles/metadata``: existence and merge information per identifier."""
        out: list[dict[str, Any]] = []
        for batch in chunked(map(str, ids), IDS_MAX):
            body = self.client.get_json(OCTY.calls["profiles_metadata"].path, params={"ids": ",".join(batch)}) or {}
            out.extend(body.get("profiles_meta") or [])
        return out

    # -- batch writes -----------------------------------------------------------------------------

    def iter_batches(self, operation: str, records: Iterable[Any], *, batch_size: int | None = None
                     ) -> Iterator[BatchResult]:
        """Send ``records`` in chunks and yield one :class:`BatchResult` per chunk.

        :param operation: ``profiles.create|update|delete``, ``items.create|update|delete``,
            ``event_types.create|delete``, ``templates.create|update|delete`` or ``events.create``.
            Deletes take ids (strings) as records.
        :param batch_size: records per call (1–500, default 500).
        :return: per chunk, every record either succeeded or failed with Octy's own message
            (``already_exists`` set for duplicate identifiers).
        :raises GtmConfigError: unknown operation or batch size.
        """
        if operation not in OPERATIONS:
            raise GtmConfigError(f"Octy: operation={operation!r} is unknown; use one of {', '.join(OPERATIONS)}.")
        size = check_batch_size(BATCH_MAX if batch_size is None else batch_size, "Octy", BATCH_MAX)
        spec = OPERATIONS[operation]
        return run_batches(records, size, lambda chunk: self._send_chunk(operation, spec, chunk))

    @staticmethod
    def _identifier(spec: _Operation) -> Callable[[Any], Any]:
        if spec.identifier is None:
            return lambda record: record
        field = spec.identifier
        return lambda record: record.get(field) if isinstance(record, Mapping) else None

    def _send_chunk(self, operation: str, spec: _Operation, chunk: list[Any]) -> BatchResult:
        identify = self._identifier(spec)
        local, valid = split_invalid(chunk, lambda record: record_problem(operation, record), identify)
        if not valid:
            return local.check()
        try:
            resp = self._post(spec.path, {spec.body_key: valid}, safe_to_retry=spec.safe_to_retry, accept=(400, 422))
        except GtmApiError as error:
            return local.extend(BatchResult.all_failed(valid, error, identify))
        body = self._json(resp)
        if resp.status == 422:
            # Validation refused the whole request before any handler ran (nothing stored): the
            # records it names fail with their field and reason; the others are sent again without them.
            named, general = _validation_errors(body, spec.body_key, len(valid))
            if named and not general:
                refused = BatchResult(submitted=len(named), failures=[
                    Failure(valid[index], identify(valid[index]), f"invalid: {named[index]}", 422)
                    for index in sorted(named)])
                rest = [record for index, record in enumerate(valid) if index not in named]
                result = local.extend(refused.check())
                return result.extend(self._send_chunk(operation, spec, rest)) if rest else result
        if resp.status >= 400:
            error_body = body["error"] if isinstance(body.get("error"), Mapping) else {}
            listed = [e for e in error_body.get("errors") or [] if isinstance(e, Mapping)]
            if resp.status == 400 and listed and any(self._entry_key(e) is not None for e in listed):
                # Every record failed: the failures are in error.errors. A result, not a crash. To
                # the client's own retry of an applied call that is all "already exists": flagged.
                result = self._reconcile(operation, spec, valid, [], listed, resp.status)
                return local.extend(mark_own_work(result, resp.earlier_attempt_may_have_applied))
            message = octy_error_message(body, resp.text)
            return local.extend(BatchResult.all_failed(valid, message, identify, status=resp.status))
        rejected = [e for e in body.get(spec.rejected_key) or [] if isinstance(e, Mapping)]
        accepted = body.get(spec.accepted_key) or []
        result = self._reconcile(operation, spec, valid, accepted, rejected, 400)
        # A duplicate answered to the client's own retry of this call is this call's work.
        return local.extend(mark_own_work(result, resp.earlier_attempt_may_have_applied))

    @staticmethod
    def _entry_key(entry: Mapping[str, Any]) -> Any:
        for key in _FAILURE_KEYS:
            if entry.get(key) is not None:
                return entry[key]
        return None

    def _reconcile(self, operation: str, spec: _Operation, chunk: list[Any], accepted: list[Any],
                   rejected: list[Mapping[str, Any]], status: int) -> BatchResult:
        accepted_key: Callable[[Any], Any] | None = None
        if operation == "events.create":
            # events/services/events.py echoes a refused event whole (event_type, event_properties,
            # profile_id, error_message) and returns each created one with the same three fields:
            # match on all three, so two events of one type for one profile are told apart.
            def record_key(record: Any) -> Any:
                return (record.get("profile_id"), record.get("event_type"), record.get("event_properties"))

            def rejected_key(entry: Any) -> Any:
                return (entry.get("profile_id"), entry.get("event_type"), entry.get("event_properties"))

            accepted_key = rejected_key if all(
                isinstance(item, Mapping) and "event_properties" in item for item in accepted) else None
        else:
            identifier = self._identifier(spec)

            def record_key(record: Any) -> Any:
                return identifier(record)

            def rejected_key(entry: Any) -> Any:
                return self._entry_key(entry)
        return reconcile(
            chunk,
            accepted=accepted,
            rejected=rejected,
            record_key=record_key,
            rejected_key=rejected_key,
            rejected_message=lambda entry: str(entry.get("error_message") or "refused by Octy (no reason given)"),
            accepted_key=accepted_key,
            status=status,
            # Only a create can meet "already exists"; an update's "Another item exists ..." is a refusal.
            already_exists=_is_duplicate if operation.endswith(".create") else lambda message: False,
        )

    def _run(self, operation: str, records: Iterable[Any]) -> BatchResult:
        return collect(self.iter_batches(operation, records))

    def create_profiles(self, records: Iterable[Mapping[str, Any]]) -> BatchResult:
        """Create profiles ``{"customer_id", "profile_data", "platform_info", "has_charged"}``."""
        return self._run("profiles.create", records)

    def update_profiles(self, records: Iterable[Mapping[str, Any]]) -> BatchResult:
        """Update profiles (``profile_id``, ``customer_id``, ``profile_data``, ``platform_info``, ``status``, ...)."""
        return self._run("profiles.update", records)

    def delete_profiles(self, profile_ids: Iterable[str]) -> BatchResult:
        """Delete profiles by ``profile_id``."""
        return self._run("profiles.delete", profile_ids)

    def create_items(self, records: Iterable[Mapping[str, Any]]) -> BatchResult:
        """Create items ``{"item_id", "item_category", "item_name", "item_description", "item_price"}``."""
        return self._run("items.create", records)

    def update_items(self, records: Iterable[Mapping[str, Any]]) -> BatchResult:
        """Update items (same fields plus ``status`` active|inactive)."""
        return self._run("items.update", records)

    def delete_items(self, item_ids: Iterable[str]) -> BatchResult:
        """Delete items by ``item_id``."""
        return self._run("items.delete", item_ids)

    def create_event_types(self, records: Iterable[Mapping[str, Any]]) -> BatchResult:
        """Create custom event types ``{"event_type", "event_properties": [...]}``."""
        return self._run("event_types.create", records)

    def delete_event_types(self, event_type_ids: Iterable[str]) -> BatchResult:
        """Delete event types by ``event_type_id``."""
        return self._run("event_types.delete", event_type_ids)

    def create_templates(self, records: Iterable[Mapping[str, Any]]) -> BatchResult:
        """Create message templates (``friendly_name``, ``template_type``, ``title``, ``content``, ...)."""
        return self._run("templates.create", records)

    def update_templates(self, records: Iterable[Mapping[str, Any]]) -> BatchResult:
        """Update message templates (``template_id`` and the fields to change)."""
        return self._run("templates.update", records)

    def delete_templates(self, template_ids: Iterable[str]) -> BatchResult:
        """Delete message templates by ``template_id``."""
        return self._run("templates.delete", template_ids)

    def create_events(self, records: Iterable[Mapping[str, Any]]) -> BatchResult:
        """Create events ``{"event_type", "profile_id", "event_properties", "created_at"?}`` in batches."""
        return self._run("events.create", records)

    # -- single calls -----------------------------------------------------------------------------

    def create_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/retention/events/create``: one event; returns the created event."""
        resp = self._post(OCTY.calls["event_create"].path, dict(event))
        return self._json(resp)

    def create_segment(self, segment: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/retention/segments/create`` (one segment object); returns ``segment_id`` etc."""
        if not isinstance(segment, Mapping) or not segment.get("segment_name"):
            raise GtmConfigError("Octy: a segment needs 'segment_name' (and segment_type, event_sequence, ...).")
        return self._json(self._post(OCTY.calls["segment_create"].path, dict(segment)))

    def delete_segments(self, segment_ids: Iterable[str]) -> BatchResult:
        """``POST /v1/retention/segments/delete``; Octy flags the segments for deletion."""
        spec = _Operation(OCTY.calls["segments_delete"].path, "segments", "deleted_segments", "failed_to_delete", None)
        return collect(run_batches(map(str, segment_ids), BATCH_MAX,
                                   lambda chunk: self._send_chunk("segments.delete", spec, chunk)))

    def get_recommendations(self, profile_ids: Iterable[str]) -> list[dict[str, Any]]:
        """``POST /v1/retention/recommendations`` for up to 100 profiles per call; one entry per profile.

        Octy answers ``model_meta_data`` (``training_job_id``, ``model_accuracy_score``,
        ``recommender_event_type``, ``model_created_at``: which model answered) beside the entries
        (octy-services-wasm@f514fe2 recommendation/api/routers/dto/recommendation.py): each entry
        carries the ``model_meta_data`` of the call that answered it.
        """
        spec = OCTY.calls["recommendations"]
        out: list[dict[str, Any]] = []
        for batch in chunked(map(str, profile_ids), spec.limit("profile_ids")):
            body = self._json(self._post(spec.path, {"profile_ids": batch}))
            meta = body.get("model_meta_data")
            for entry in body.get(str(spec.records_key)) or []:
                if isinstance(entry, dict) and isinstance(meta, dict) and "model_meta_data" not in entry:
                    entry = {**entry, "model_meta_data": meta}
                out.append(entry)
        return out

    def generate_content(self, messages: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """``POST /v1/retention/messaging/content/generate``: message content from templates.

        :param messages: ``{"template_id", "data": [{placeholder: value, ...}, ...]}``: one generated
            message per data object. Octy takes at most 100 messages per call, 25 data objects per
            message and each template once per call (messaging/api/routers/request_models/messaging.py
            ``GenerateContent`` at f514fe2; limits from the production configmap): longer data lists
            are split and the messages spread over as many calls as needed, so any number may be given.
        :return: ``{"generated_messages": [{template_id, friendly_name, title, content}],
            "failed_messages": [{template_id, provided_data, error_message}], "failed_templates":
            [{template_id, error_message}]}``, summed over the calls (messaging/services/template_engine.py).
        :raises GtmConfigError: a message without ``template_id`` or with ``data`` that is not a list
            of objects (nothing is sent).
        """
        spec = OCTY.calls["content_generate"]
        per_call, per_message = spec.limit("messages"), spec.limit("data_per_message")
        parts: list[dict[str, Any]] = []
        for position, message in enumerate(messages, start=1):
            template_id = message.get("template_id") if isinstance(message, Mapping) else None
            data = message.get("data") if isinstance(message, Mapping) else None
            if not isinstance(template_id, str) or not template_id.strip():
                raise GtmConfigError(f"Octy generate_content: message {position} needs a template_id.")
            if not isinstance(data, list) or not all(isinstance(d, Mapping) for d in data):
                raise GtmConfigError(f"Octy generate_content: message {position}: data must be a list of objects.")
            for start in range(0, max(len(data), 1), per_message):
                parts.append({"template_id": template_id, "data": [dict(d) for d in data[start:start + per_message]]})
        # Each call: at most ``per_call`` messages, each template once (the server refuses duplicates).
        calls: list[list[dict[str, Any]]] = []
        for part in parts:
            target = next((c for c in calls if len(c) < per_call
                           and all(m["template_id"] != part["template_id"] for m in c)), None)
            if target is None:
                calls.append([part])
            else:
                target.append(part)
        out: dict[str, list[dict[str, Any]]] = {"generated_messages": [], "failed_messages": [],
                                                "failed_templates": []}
        for call in calls:
            # Plain generation stores nothing (template_engine.py), so a resend after a timeout or a
            # 5xx is safe; a rybbon_reward_card tag claims a reward card: never resent.
            claims = any("rybbon_reward_card" in key for m in call for d in m["data"] for key in d)
            body = self._json(self._post(spec.path, {"messages": call}, safe_to_retry=not claims))
            for key in out:
                out[key].extend(entry for entry in body.get(key) or [] if isinstance(entry, dict))
        return out

    def delete_all_event_types(self) -> dict[str, Any]:
        """``POST /v1/retention/events/types/delete/all``: delete every custom event type of the account.

        :return: ``{"deleted_event_types": [...], "failed_to_delete": [...]}``. When there was nothing
            to delete Octy answers 400 "No event types deleted!" (events/services/event_types.py at
            f514fe2): that is ``{"deleted_event_types": [], "failed_to_delete": <its errors>}``, not an error.
        """
        path = OCTY.calls["event_types_delete_all"].path
        resp = self.client.request("POST", path, json={}, accept_statuses=(400,))
        if resp.status == 400:
            if "no event types deleted" not in octy_error_message(resp.data, resp.text).lower():
                self.client.raise_for_response(resp, "POST", path)
            error = resp.data.get("error") if isinstance(resp.data, dict) else None
            failed = error.get("errors") if isinstance(error, dict) else None
            return {"deleted_event_types": [], "failed_to_delete": failed if isinstance(failed, list) else []}
        body = self._json(resp)
        return {"deleted_event_types": body.get("deleted_event_types") or [],
                "failed_to_delete": body.get("failed_to_delete") or []}

    def get_checkout_event(self, checkout_id: str) -> dict[str, Any] | None:
        """``POST /v1/retention/events?checkout_id=``: the latest ``checkout_contact_info_submitted``
        event whose ``event_properties.checkout_id`` is ``checkout_id``; ``None`` when there is none.

        Octy answers ``{"event": {...}}`` (``event_type_id`` = the event's id, ``created_at`` as text)
        or 400 "No event found" (events/api/routers/events.py, events/services/events.py at f514fe2).
        """
        if not isinstance(checkout_id, str) or not checkout_id.strip():
            raise GtmConfigError(f"Octy: checkout_id must be a non-empty string, got {checkout_id!r}.")
        spec = OCTY.calls["checkout_event"]
        resp = self.client.request("POST", spec.path, params={str(spec.parent_param): checkout_id.strip()},
                                   accept_statuses=(400,))
        if resp.status == 400:
            if "no event found" in octy_error_message(resp.data, resp.text).lower():
                return None
            self.client.raise_for_response(resp, "POST", spec.path)
        event = self._json(resp).get(str(spec.records_key))
        return event if isinstance(event, dict) else None

    def get_churn_report(self) -> dict[str, Any]:
        """``GET /v1/retention/churn_prediction/report``: the ``churn_prediction_report`` object."""
        body = self.client.get_json(OCTY.calls["churn_report"].path) or {}
        return body.get("churn_prediction_report") or body

    def get_account(self) -> dict[str, Any]:
        """``GET /v1/configurations/account``: the ``account_data`` object."""
        body = self.client.get_json(OCTY.calls["account"].path) or {}
        return body.get("account_data") or body

    def set_account(self, **fields: Any) -> dict[str, Any]:
        """``POST /v1/configurations/account/set`` with ``contact_email_address``, ``contact_name``,
        ``contact_surname``, ``webhook_url`` (and optionally ``authenticated_id_key``)."""
        body = self._json(self._post(OCTY.calls["account_set"].path, fields))
        return body.get("account_data") or body

    def authenticate(self) -> str:
        """``GET /v1/account/authenticate``: the account JWT Octy issues for the connection's keys
        (``auth.jwt``; the same token is in the ``X-AUTH-JWT`` header). Wrong keys raise like any 401."""
        resp = self.client.request("GET", OCTY.calls["authenticate"].path)
        auth = resp.data.get("auth") if isinstance(resp.data, Mapping) else None
        token = auth.get("jwt") if isinstance(auth, Mapping) else None
        # dto/auth.py sends the token twice; the header still carries it should a proxy strip the body.
        return str(token or resp.headers.get("X-AUTH-JWT") or "")

    def get_algorithms(self) -> Any:
        """``GET /v1/configurations/retention/algorithms``: the algorithm configurations."""
        return self.client.get_json(OCTY.calls["algorithms"].path)

    def set_algorithm(self, configuration: Mapping[str, Any]) -> Any:
        """``POST /v1/configurations/retention/algorithms/set`` with one algorithm configuration."""
        return self._json(self._post(OCTY.calls["algorithms_set"].path, dict(configuration)))
