"""Octy retention API v1 (https://api-docs.octy.ai/): the facts the provider uses, written once.

Sources: the API reference (paths, 500 records per batch call, 120 calls per minute per key) and the
services' code, simonbermudez/octy-services-wasm at f514fe2 (``*/data/repositories/implementation/
*_repository.py`` refuse a second profile ``customer_id``, item ``item_id`` or event type
``event_type``; ``events/services/events.py`` echoes refused events whole).
"""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_gtm.apis.model import ApiSpec, Operation, Resource, Write

HOST = "https://api.octy.ai"
_R = "/v1/retention"
_REPOSITORIES = "octy-services-wasm@f514fe2 */data/repositories/implementation/"
BATCH_MAX = 500  # records per batch call (API reference)
IDS_MAX = 100  # profile ids per recommendations call (recommendation router, MAX_REC_PREDICTIONS)
# messaging/kubernetes/production/configMaps/configMap.yaml at f514fe2 (base64 JSON):
MESSAGE_GEN_LIMIT = 100  # messages per content/generate call
MAX_MESSAGE_DATA = 25  # data objects per message
_SERVICES = "octy-services-wasm@f514fe2 "
RATE_WINDOWS = ((120, 60),)
#: Octy's rule for names such as ``event_type`` and ``customer_id``, as the sandbox reproduces it (sandbox/octy.py
#: ``_identifier_error``): 1 to 60 characters, none of these; an event type may not contain a space either.
IDENTIFIER_MAX_LENGTH = 60
IDENTIFIER_ILLEGAL_CHARACTERS = (",", '"', "'", ".")
#: What profiles/create refuses a profile without (CreateProfiles in request_models/profiles.py at f514fe2).
PROFILE_REQUIRED_KEYS = ("customer_id", "profile_data", "platform_info", "has_charged")


#: The router each batch write is declared in (octy-services-wasm at f514fe2), by resource.
_ROUTERS = {
    "profiles": "profiles/api/routers/profiles.py", "items": "items/api/routers/items.py",
    "event_types": "events/api/routers/event_types.py", "events": "events/api/routers/events.py",
    "templates": "messaging/api/routers/messaging.py",
}


_WRITES: dict[str, Write] = {"create": "create", "update": "update", "delete": "delete"}


def _op(name: str, path: str, body_key: str, accepted: str, rejected: str, identifier: str | None,
        **kw: Any) -> dict[str, Operation]:
    """``{name: the batch write}``; ``name`` is ``<resource>.<write>``, the hook method ``<write>_<resource>``."""
    resource, _, write = name.partition(".")
    kw.setdefault("source", _SERVICES + _ROUTERS[resource])
    # The field the routers look a record up by (a delete's records are the ids themselves).
    kw.setdefault("key", identifier or "")
    return {name: Operation("POST", f"{_R}{path}", body_key=body_key, accepted_key=accepted, rejected_key=rejected,
                            identifier=identifier, batch_max=BATCH_MAX, write=_WRITES[write],
                            hook_method=f"{write}_{resource}", **kw)}


def _list(path: str, records_key: str, router: str, id_key: str) -> Resource:
    # The list routes at f514fe2 take only ``ids`` (and, for profiles, ``rfm``/``churn_prob``/``segments``)
    # besides the offset cursor: no time, id or order filter, so an incremental fetch reads them whole.
    return Resource(f"{_R}{path}", records_key, paging="cursor header (offset), or ?ids=", hook_method="iter_pages",
                    source=_SERVICES + router, id_key=id_key)


def _call(method: str, path: str, records_key: str | None, hook_method: str, router: str, **kw: Any) -> Resource:
    return Resource(path, records_key, method=method, hook_method=hook_method, source=_SERVICES + router, **kw)


OCTY = ApiSpec(
    name="octy",
    display_name="Octy",
    conn_type="octy",
    default_conn_id="octy_default",
    conn_name_attr="octy_conn_id",
    hook_class="airflow_provider_gtm.hooks.octy.OctyHook",
    hosts={"default": HOST},
    field_labels={"login": "Public key", "password": "Secret key", "host": "Base URL"},
    hidden_fields=("schema",),
    placeholders={
        "host": HOST,
        "login": "pk_...",
        "password": "sk_...",
        "extra": json.dumps({"read_timeout": 60, "rate_limits": [list(w) for w in RATE_WINDOWS]}),
    },
    external_doc_url="https://api-docs.octy.ai/",
    rate_windows=RATE_WINDOWS,
    rate_limit_note="Octy allows 120 calls per minute per key.",
    resources={
        "profiles": _list("/profiles", "profiles", "profiles/api/routers/profiles.py", "profile_id"),
        "items": _list("/items", "items", "items/api/routers/items.py", "item_id"),
        "event_types": _list("/events/types", "event_types", "events/api/routers/event_types.py",
                             "event_type_id"),
        "segments": _list("/segments", "segments", "segmentation/api/routers/segmentation.py",
                          "segment_id"),
        "templates": _list("/messaging/templates", "templates", "messaging/api/routers/messaging.py",
                           "template_id"),
    },
    operations={
        **_op("profiles.create", "/profiles/create", "profiles", "profiles", "failed_to_create", "customer_id",
              safe_to_retry=True, resolution="resend", unique_fields=("customer_id",),
              source=_REPOSITORIES + "profiles_repository.py"),
        **_op("profiles.update", "/profiles/update", "profiles", "profiles", "failed_to_update", "profile_id"),
        **_op("profiles.delete", "/profiles/delete", "profiles", "deleted_profiles", "failed_to_delete", None),
        **_op("items.create", "/items/create", "items", "items", "failed_to_create", "item_id",
              safe_to_retry=True, resolution="resend", unique_fields=("item_id",),
              source=_REPOSITORIES + "items_repository.py"),
        **_op("items.update", "/items/update", "items", "items", "failed_to_update", "item_id"),
        **_op("items.delete", "/items/delete", "items", "deleted_items", "failed_to_delete", None),
        # Resent by the client after a timeout (a duplicate answers "exists"); a lost chunk is
        # not settled by resending it (no resolution, as before this spec).
        **_op("event_types.create", "/events/types/create", "event_types", "event_types", "failed_to_create",
              "event_type", safe_to_retry=True, source=_REPOSITORIES + "event_types_repository.py"),
        **_op("event_types.delete", "/events/types/delete", "event_type_ids", "deleted_event_types",
              "failed_to_delete", None),
        **_op("templates.create", "/messaging/templates/create", "templates", "templates", "failed_to_create",
              "friendly_name"),
        **_op("templates.update", "/messaging/templates/update", "templates", "templates", "failed_to_update",
              "template_id"),
        **_op("templates.delete", "/messaging/templates/delete", "template_ids", "deleted_templates",
              "failed_to_delete", None),
        **_op("events.create", "/events/create/batch", "events", "created_events", "failed_to_create", "profile_id",
              key="",  # an event is a new occurrence each time: no event field names it before Octy does
              source="octy-services-wasm@f514fe2 events/services/events.py"),
    },
    calls={
        # One call each (OctyHook methods), from the routers and request models at f514fe2.
        "event_create": _call("POST", f"{_R}/events/create", "event_id", "create_event",
                              "events/api/routers/events.py"),
        "segment_create": _call("POST", f"{_R}/segments/create", "segment_id", "create_segment",
                                "segmentation/api/routers/segmentation.py"),
        "segments_delete": _call("POST", f"{_R}/segments/delete", "deleted_segments", "delete_segments",
                                 "segmentation/api/routers/segmentation.py", limits=(("segments", BATCH_MAX),)),
        "profiles_metadata": _call("GET", f"{_R}/profiles/metadata", "profiles_meta", "get_profiles_metadata",
                                   "profiles/api/routers/profiles.py", limits=(("ids", IDS_MAX),)),
        "churn_report": _call("GET", f"{_R}/churn_prediction/report", "churn_prediction_report", "get_churn_report",
                              "churn_prediction/api/routers/churn_prediction.py"),
        "account": _call("GET", "/v1/configurations/account", "account_data", "get_account",
                         "configurations/api/routers/account_configurations.py"),
        "account_set": _call("POST", "/v1/configurations/account/set", "account_data", "set_account",
                             "configurations/api/routers/account_configurations.py"),
        "algorithms": _call("GET", "/v1/configurations/retention/algorithms", None, "get_algorithms",
                            "configurations/api/routers/algorithm_configurations.py"),
        "algorithms_set": _call("POST", "/v1/configurations/retention/algorithms/set", None, "set_algorithm",
                                "configurations/api/routers/algorithm_configurations.py"),
        # The account service's one public route (account/api/routers/account.py holds only
        # /v1/admin/* and /v1/internal/* routes): the keys checked, a JWT answered in body and header.
        "authenticate": _call("GET", "/v1/account/authenticate", "auth", "authenticate",
                              "account/api/routers/auth.py; account/api/routers/dto/auth.py (auth.jwt and the "
                              "X-AUTH-JWT header); account/services/auth.py (400 Missing header, 401)"),
        "recommendations": Resource(
            f"{_R}/recommendations", "recommendations", method="POST", hook_method="get_recommendations",
            limits=(("profile_ids", IDS_MAX),),
            source=_SERVICES + "recommendation/api/routers/recommendation.py; "
            "recommendation/api/routers/dto/recommendation.py (model_meta_data beside recommendations)"),
        "content_generate": Resource(
            f"{_R}/messaging/content/generate", "generated_messages", method="POST", hook_method="generate_content",
            limits=(("messages", MESSAGE_GEN_LIMIT), ("data_per_message", MAX_MESSAGE_DATA)),
            source=_SERVICES + "messaging/api/routers/messaging.py; messaging/api/routers/request_models/"
            "messaging.py (GenerateContent); messaging/services/template_engine.py; "
            "messaging/kubernetes/production/configMaps/configMap.yaml (MESSAGE_GEN_LIMIT, MAX_MESSAGE_DATA)"),
        "event_types_delete_all": Resource(
            f"{_R}/events/types/delete/all", "deleted_event_types", method="POST",
            hook_method="delete_all_event_types",
            source=_SERVICES + "events/api/routers/event_types.py; events/services/event_types.py "
            "(400 'No event types deleted!' when there were none)"),
        "checkout_event": Resource(
            f"{_R}/events", "event", method="POST", parent_param="checkout_id", hook_method="get_checkout_event",
            source=_SERVICES + "events/api/routers/events.py (checkout_id is a query parameter); "
            "events/data/repositories/implementation/events_repository.py (the latest "
            "checkout_contact_info_submitted event); events/services/events.py (400 'No event found')"),
    },
    fetch_operator="OctyFetchOperator",
    batch_operator="OctyBatchOperator",
    source="https://api-docs.octy.ai/; simonbermudez/octy-services-wasm at f514fe2",
)
