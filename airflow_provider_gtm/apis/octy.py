"""Octy retention API v1 (https://api-docs.octy.ai/): the facts the provider uses, written once.

Sources: the API reference (paths, 500 records per batch call, 120 calls per minute per key) and the
services' code, simonbermudez/octy-services-wasm at f514fe2 (``*/data/repositories/implementation/
*_repository.py`` refuse a second profile ``customer_id``, item ``item_id`` or event type
``event_type``; ``events/services/events.py`` echoes refused events whole).
"""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_gtm.apis.model import ApiSpec, Operation, Resource

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


def _op(path: str, body_key: str, accepted: str, rejected: str, identifier: str | None, **kw: Any) -> Operation:
    return Operation("POST", f"{_R}{path}", body_key=body_key, accepted_key=accepted, rejected_key=rejected,
                     identifier=identifier, batch_max=BATCH_MAX, **kw)


OCTY = ApiSpec(
    name="octy",
    display_name="Octy",
    conn_type="octy",
    default_conn_id="octy_default",
    conn_name_attr="octy_conn_id",
    hook_class="airflow_provider_gtm.hooks.octy.OctyHook",
    hosts={"default": HOST},
    field_labels={"login": "Public key", "password": "Secret key", "host": "Base URL"},
    hidden_fields=("schema", "port"),
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
        "profiles": Resource(f"{_R}/profiles", "profiles"),
        "items": Resource(f"{_R}/items", "items"),
        "event_types": Resource(f"{_R}/events/types", "event_types"),
        "segments": Resource(f"{_R}/segments", "segments"),
        "templates": Resource(f"{_R}/messaging/templates", "templates"),
    },
    operations={
        "profiles.create": _op("/profiles/create", "profiles", "profiles", "failed_to_create", "customer_id",
                               safe_to_retry=True, resolution="resend", unique_fields=("customer_id",),
                               source=_REPOSITORIES + "profiles_repository.py"),
        "profiles.update": _op("/profiles/update", "profiles", "profiles", "failed_to_update", "profile_id"),
        "profiles.delete": _op("/profiles/delete", "profiles", "deleted_profiles", "failed_to_delete", None),
        "items.create": _op("/items/create", "items", "items", "failed_to_create", "item_id",
                            safe_to_retry=True, resolution="resend", unique_fields=("item_id",),
                            source=_REPOSITORIES + "items_repository.py"),
        "items.update": _op("/items/update", "items", "items", "failed_to_update", "item_id"),
        "items.delete": _op("/items/delete", "items", "deleted_items", "failed_to_delete", None),
        # Resent by the client after a timeout (a duplicate answers "exists"); a lost chunk is
        # not settled by resending it (no resolution, as before this spec).
        "event_types.create": _op("/events/types/create", "event_types", "event_types", "failed_to_create",
                                  "event_type", safe_to_retry=True,
                                  source=_REPOSITORIES + "event_types_repository.py"),
        "event_types.delete": _op("/events/types/delete", "event_type_ids", "deleted_event_types",
                                  "failed_to_delete", None),
        "templates.create": _op("/messaging/templates/create", "templates", "templates", "failed_to_create",
                                "friendly_name"),
        "templates.update": _op("/messaging/templates/update", "templates", "templates", "failed_to_update",
                                "template_id"),
        "templates.delete": _op("/messaging/templates/delete", "template_ids", "deleted_templates",
                                "failed_to_delete", None),
        "events.create": _op("/events/create/batch", "events", "created_events", "failed_to_create", "profile_id",
                             source="octy-services-wasm@f514fe2 events/services/events.py"),
    },
    calls={
        # One call each (OctyHook methods), from the routers and request models at f514fe2.
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
    source="https://api-docs.octy.ai/; simonbermudez/octy-services-wasm at f514fe2",
)
