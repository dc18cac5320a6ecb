"""Oktopost API v2 (https://developers.oktopost.com/): the facts the provider uses, written once.

Sources: the developer docs (hosts per data center, ``/v2`` paths, ``_count`` sizes, 60 calls per
minute and 120 per 5 seconds, a 15-minute block after a 429) and Oktopost/oktopost-typescript-sdk
``src/resources/**`` (what a create answers: the created object, or ``BaseApiResponse`` for board
messages and advocate invites; ``update(id, params)`` POSTs the form to ``<path>/{id}`` and answers
the object, ``delete(id)`` is a bodiless DELETE of ``<path>/{id}`` answering ``BaseApiResponse``).
"""

from __future__ import annotations

from airflow_provider_gtm.apis.model import ApiSpec, Operation, Resource

US_HOST = "https://api.oktopost.com"
EU_HOST = "https://eu-api.oktopost.com"
PAGE_SIZES = (25, 50, 100)
CLICK_PAGE_SIZES = (25, 50, 100, 200)
BATCH_MAX = 100  # records per operator chunk (one call each)


_SDK_DIR = "Oktopost/oktopost-typescript-sdk src/resources/"
_CAMPAIGNS = _SDK_DIR + "publishing/campaigns.ts; src/types/publishing.ts"
_MESSAGES = _SDK_DIR + "publishing/messages.ts; src/types/publishing.ts"
_POSTS = _SDK_DIR + "publishing/posts.ts; src/types/publishing.ts"

#: What an incremental Oktopost fetch narrows by: ``after`` (src/types/publishing.ts PostListParams,
#: src/types/analytics.ts ClickListParams; epoch seconds per the docs), fed from the ``Created``
#: watermark one second early (docs/choices.md).
_AFTER = "after=<watermark Created − 1 s> (epoch seconds; operator after=/before= win)"

#: The update forms' ``status`` values (src/types/publishing.ts UpdateCampaignParams / UpdatePostParams).
CAMPAIGN_UPDATE_STATUSES = ("active", "paused", "archived")


def _list(path: str, source: str, page_sizes: tuple[int, ...] = PAGE_SIZES, incremental: str = "") -> Resource:
    return Resource(path, "Items", page_sizes=page_sizes, paging="_page/_count, Total", incremental=incremental,
                    hook_method="iter_pages", source=source, id_key="Id",
                    since_param="after" if incremental else "", since_field="Created" if incremental else "",
                    since_unit="epoch_seconds" if incremental else None)


def _get(path: str, key: str, hook_method: str, source: str) -> Resource:
    return Resource(f"{path}/{{id}}", key, hook_method=hook_method, source=source)


def _update_delete(resource: str, path: str, key: str, fields: tuple[str, ...], source: str) -> dict[str, Operation]:
    """``<resource>.update`` and ``<resource>.delete``: the SDK's ``update(id, params)`` / ``delete(id)``."""
    singular = resource[:-1]
    return {
        f"{resource}.update": Operation(
            "POST", f"{path}/{{id}}", identifier="id", required=("id",), optional=fields, response_key=key,
            batch_max=BATCH_MAX, resolution="lookup", dataset_path=path, write="update", source=source,
            hook_method=f"update_{singular}"),
        f"{resource}.delete": Operation(
            "DELETE", f"{path}/{{id}}", identifier="id", required=("id",), result_only=True,
            batch_max=BATCH_MAX, resolution="lookup", dataset_path=path, write="delete", source=source,
            hook_method=f"delete_{singular}"),
    }


def create_kinds() -> tuple[str, ...]:
    """The ``kind`` values of :class:`OktopostCreateOperator`: the resources of the ``.create`` rows."""
    return tuple(name.rpartition(".")[0] for name, op in OKTOPOST.operations.items() if op.write == "create")


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
        "campaigns": _list("/campaign", _CAMPAIGNS),
        "messages": _list("/message", _MESSAGES + " (campaignId or ids required)"),
        "posts": _list("/post", _POSTS, incremental=_AFTER),
        "credentials": _list("/credential", _SDK_DIR + "account/social-profiles.ts"),
        "boards": _list("/board", _SDK_DIR + "advocacy/boards.ts"),
        "advocates": _list("/advocate", _SDK_DIR + "advocacy/advocates.ts; src/types/advocacy.ts (AdvocateListItem)"),
        "clicks": _list("/click", _SDK_DIR + "analytics/clicks.ts; src/types/analytics.ts", CLICK_PAGE_SIZES,
                        incremental=_AFTER),
        "leads": _list("/lead", _SDK_DIR + "leads/leads.ts"),
    },
    # Single reads (OktopostHook methods): GET <path>/{id}, the object under its key (the SDK's get()).
    calls={
        "me": Resource("/me", None, hook_method="me", source="Oktopost/oktopost-typescript-sdk src/client.ts (me)"),
        "campaign": _get("/campaign", "Campaign", "get_campaign", _CAMPAIGNS),
        "message": _get("/message", "Message", "get_message", _MESSAGES),
        "post": _get("/post", "Post", "get_post", _POSTS + " (stats=1: Stats beside Post)"),
        "credential": _get("/credential", "Credential", "get_credential", _SDK_DIR + "account/social-profiles.ts"),
        "board": _get("/board", "Board", "get_board", _SDK_DIR + "advocacy/boards.ts"),
        "advocate": _get("/advocate", "Advocate", "get_advocate", _SDK_DIR + "advocacy/advocates.ts (boardId)"),
        "analytics": _get("/analytics", "Stats", "get_post_analytics", _SDK_DIR + "analytics/post-analytics.ts"),
    },
    # Writes, named ``<resource>.<create|update|delete>``: one form-encoded call per record. Creates
    # are never resent (Oktopost does not deduplicate); OktopostCreateOperator's ``kind`` is the
    # resource part of a ``.create`` row. Updates and deletes follow the SDK's resources exactly:
    # ``update(id, params)`` is a POST of the form to ``<path>/{id}`` answering the object, ``delete(id)``
    # a DELETE of ``<path>/{id}`` without a body answering ``BaseApiResponse``. Their lost answers
    # are looked up with ``GET <path>/{id}`` (docs/choices.md).
    operations={
        "campaigns.create": Operation(
            "POST", "/campaign", identifier="name", required=("name",), optional=("url", "tagIds"),
            response_key="Campaign", batch_max=BATCH_MAX, resolution="lookup", source=_CAMPAIGNS,
            hook_method="create_campaign"),
        "messages.create": Operation(
            "POST", "/message", identifier="campaignId", required=("campaignId", "network", "message"),
            optional=("linkUrl", "linkTitle", "description", "imageUrl", "tagIds", "media", "title"),
            response_key="Message", batch_max=BATCH_MAX, source=_MESSAGES, hook_method="create_message"),
        "posts.create": Operation(
            "POST", "/post", identifier="messageId", required=("messageId", "credentialIds"),
            optional=("startDateTime", "status"), response_key="Post", batch_max=BATCH_MAX, resolution="lookup",
            source=_POSTS, hook_method="create_post"),
        "board_messages.create": Operation(
            "POST", "/board-message", identifier="messageId", required=("boardId", "messageId"),
            optional=("startDate", "expireDate", "important", "topicIds"), response_key=None, result_only=True,
            batch_max=BATCH_MAX, source=_SDK_DIR + "advocacy/board-messages.ts", hook_method="create_board_message"),
        "advocate_invites.create": Operation(
            "POST", "/advocate", identifier="email", required=("firstName", "lastName", "email", "boardId"),
            response_key="Advocate", result_only=True, batch_max=BATCH_MAX, resolution="lookup",
            source=_SDK_DIR + "advocacy/advocates.ts (invite)", hook_method="invite_advocate"),
        **_update_delete("campaigns", "/campaign", "Campaign", ("name", "url", "status", "tagIds"), _CAMPAIGNS),
        **_update_delete("messages", "/message", "Message",
                         ("message", "linkUrl", "linkTitle", "description", "imageUrl"), _MESSAGES),
        **_update_delete("posts", "/post", "Post", ("messageId", "credentialIds", "startDateTime", "status"),
                         _POSTS),
    },
    fetch_operator="OktopostFetchOperator",
    batch_operator="OktopostBatchOperator",
    source="https://developers.oktopost.com/; Oktopost/oktopost-typescript-sdk",
)
