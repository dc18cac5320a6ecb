"""Oktopost API v2 (https://developers.oktopost.com/): the facts the provider uses, written once.

Sources: the developer docs (hosts per data center, ``/v2`` paths, ``_count`` sizes, 60 calls per
minute and 120 per 5 seconds, a 15-minute block after a 429) and Oktopost/oktopost-typescript-sdk
``src/resources/**`` (what a create answers: the created object, or ``BaseApiResponse`` for board
messages and advocate invites).
"""

from __future__ import annotations

from airflow_provider_gtm.apis.model import ApiSpec, Operation, Resource

US_HOST = "https://api.oktopost.com"
EU_HOST = "https://eu-api.oktopost.com"
PAGE_SIZES = (25, 50, 100)
CLICK_PAGE_SIZES = (25, 50, 100, 200)
BATCH_MAX = 100  # records per operator chunk (one call each)
_SDK = "Oktopost/oktopost-typescript-sdk src/resources/**"


def _list(path: str, page_sizes: tuple[int, ...] = PAGE_SIZES) -> Resource:
    return Resource(path, page_sizes=page_sizes)


OKTOPOST = ApiSpec(
    name="oktopost",
    display_name="Oktopost",
    conn_type="oktopost",
    default_conn_id="oktopost_default",
    conn_name_attr="oktopost_conn_id",
    hook_class="airflow_provider_gtm.hooks.oktopost.OktopostHook",
    hosts={"us": US_HOST, "eu": EU_HOST},
    field_labels={"login": "Account ID", "password": "API key", "host": "Base URL"},
    ui_relabeling={"host": "Base URL (optional)"},
    hidden_fields=("schema", "port"),
    placeholders={
        "host": f"{US_HOST} (us) or {EU_HOST} (eu)",
        "login": "001xxxxxxxxxxxx",
        "password": "API key from My Profile",
    },
    external_doc_url="https://developers.oktopost.com/",
    rate_windows=((60, 60), (120, 5)),
    rate_block_seconds=900,
    rate_limit_note="Oktopost allows 60 calls per minute and 120 per 5 seconds, and blocks a key for 15 "
    "minutes after a breach.",
    path_prefix="/v2",
    resources={
        "campaigns": _list("/campaign"),
        "messages": _list("/message"),
        "posts": _list("/post"),
        "credentials": _list("/credential"),
        "boards": _list("/board"),
        "advocates": _list("/advocate"),
        "clicks": _list("/click", CLICK_PAGE_SIZES),
        "leads": _list("/lead"),
    },
    # Creates ("kinds"): one form-encoded call per record, never resent (Oktopost does not deduplicate).
    operations={
        "campaigns": Operation(
            "POST", "/campaign", identifier="name", required=("name",), optional=("url", "tagIds"),
            response_key="Campaign", batch_max=BATCH_MAX, resolution="lookup", source=_SDK),
        "messages": Operation(
            "POST", "/message", identifier="campaignId", required=("campaignId", "network", "message"),
            optional=("linkUrl", "linkTitle", "description", "imageUrl", "tagIds", "media", "title"),
            response_key="Message", batch_max=BATCH_MAX, source=_SDK),
        "posts": Operation(
            "POST", "/post", identifier="messageId", required=("messageId", "credentialIds"),
            optional=("startDateTime", "status"), response_key="Post", batch_max=BATCH_MAX, resolution="lookup",
            source=_SDK),
        "board_messages": Operation(
            "POST", "/board-message", identifier="messageId", required=("boardId", "messageId"),
            optional=("startDate", "expireDate", "important", "topicIds"), response_key=None, result_only=True,
            batch_max=BATCH_MAX, source=_SDK),
        "advocate_invites": Operation(
            "POST", "/advocate", identifier="email", required=("firstName", "lastName", "email", "boardId"),
            response_key="Advocate", result_only=True, batch_max=BATCH_MAX, resolution="lookup", source=_SDK),
    },
    source="https://developers.oktopost.com/; Oktopost/oktopost-typescript-sdk",
)
