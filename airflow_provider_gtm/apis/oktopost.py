"""Oktopost API v2 (https://developers.oktopost.com/): the facts the provider uses, written once.

Sources: the developer docs (hosts per data center, ``/v2`` paths, ``_count`` sizes, 60 calls per
minute and 120 per 5 seconds, a 15-minute block after a 429) and Oktopost/oktopost-typescript-sdk
``src/resources/**`` (what a create answers: the created object, or ``BaseApiResponse`` for board
messages and advocate invites; ``update(id, params)`` POSTs the form to ``<path>/{id}`` and answers
the object, ``delete(id)`` is a bodiless DELETE of ``<path>/{id}`` answering ``BaseApiResponse``).
"""

from __future__ import annotations

from airflow_provider_gtm.apis.model import ApiSpec, Operation, Resolution, Resource

US_HOST = "https://api.oktopost.com"
EU_HOST = "https://eu-api.oktopost.com"
PAGE_SIZES = (25, 50, 100)
CLICK_PAGE_SIZES = (25, 50, 100, 200)
WEBHOOK_PAGE_SIZES = (20, 25, 50, 100)  # src/types/events.ts WebhookConfigListParams
BATCH_MAX = 100  # records per operator chunk (one call each)


_SDK_DIR = "Oktopost/oktopost-typescript-sdk src/resources/"
_CAMPAIGNS = _SDK_DIR + "publishing/campaigns.ts; src/types/publishing.ts"
_MESSAGES = _SDK_DIR + "publishing/messages.ts; src/types/publishing.ts"
_POSTS = _SDK_DIR + "publishing/posts.ts; src/types/publishing.ts"

#: What an incremental Oktopost fetch narrows by: ``after`` (src/types/publishing.ts PostListParams,
#: src/types/analytics.ts ClickListParams; epoch seconds per the docs), fed from the ``Created``
#: watermark one second early (docs/choices.md).
_AFTER = "after=<watermark Created − 1 s> (epoch seconds; operator after=/before= win)"

#: src/types/advocacy.ts CreateStoryParams / UpdateStoryParams (title, description, campaignId required to create).
STORY_FIELDS = ("title", "description", "campaignId", "boardId", "mediaIds", "link", "messageIds", "topicIds",
                "tagIds", "publishDatetime", "expirationDatetime", "isDraft", "isFeatured", "workflowId")
#: src/types/events.ts UpdateWebhookConfigParams.
WEBHOOK_FIELDS = ("event", "name", "url", "description", "isEnabled", "isHidden")
#: src/types/common.ts UserRole.
USER_ROLES = ("admin", "publisher", "contributor", "read")
#: src/types/account.ts UpdateNotificationParams: each 0 or 1.
NOTIFICATION_FIELDS = ("EmailDaily", "EmailWeekly", "EmailCampaignComplete", "EmailOnNewAssignment",
                       "EmailOnNoteAdded", "EmailOnNoteMention", "EmailOnStatusChange", "SendDailyEmailReport")

#: The update forms' ``status`` values (src/types/publishing.ts UpdateCampaignParams / UpdatePostParams).
CAMPAIGN_UPDATE_STATUSES = ("active", "paused", "archived")
POST_STATUSES = ("pending", "inqueue", "draft", "inqueue-draft")  # src/types/publishing.ts PostStatus
#: The networks a message may be written for (src/types/publishing.ts Network).
MESSAGE_NETWORKS = ("LinkedIn", "Twitter", "Facebook", "Instagram", "YouTube")


def _list(path: str, source: str, page_sizes: tuple[int, ...] = PAGE_SIZES, incremental: str = "") -> Resource:
    return Resource(path, "Items", page_sizes=page_sizes, paging="_page/_count, Total", incremental=incremental,
                    hook_method="iter_pages", source=source, id_key="Id",
                    since_param="after" if incremental else "", since_field="Created" if incremental else "",
                    since_unit="epoch_seconds" if incremental else None)


def _get(path: str, key: str | None, hook_method: str, source: str) -> Resource:
    return Resource(f"{path}/{{id}}", key, hook_method=hook_method, source=source)


def _read(path: str, key: str | None, hook_method: str, source: str, method: str = "GET") -> Resource:
    """A read the SDK makes in one call (not ``_page``-paged): the answer field it returns."""
    return Resource(path, key, method=method, hook_method=hook_method, source=_SDK_DIR + source)


def _update_delete(resource: str, path: str, key: str | None, fields: tuple[str, ...], source: str,
                   lookup: bool = True, singular: str = "") -> dict[str, Operation]:
    """``<resource>.update`` and ``<resource>.delete``: the SDK's ``update(id, params)`` / ``delete(id)``.

    :param key: the answer field holding the changed object (``None``: the SDK types the update as
        ``BaseApiResponse``, so ``Result: true`` confirms it).
    :param lookup: whether the SDK has a ``get(id)`` to look a lost answer up with (else a person decides).
    """
    singular = singular or resource[:-1]
    resolution: Resolution | None = "lookup" if lookup else None
    return {
        f"{resource}.update": Operation(
            "POST", f"{path}/{{id}}", identifier="id", key="id", required=("id",), optional=fields, response_key=key,
            result_only=key is None, batch_max=BATCH_MAX, resolution=resolution, dataset_path=path, write="update",
            source=source, hook_method=f"update_{singular}"),
        **_delete(resource, path, source, lookup, singular),
    }


def _delete(resource: str, path: str, source: str, lookup: bool = True, singular: str = "") -> dict[str, Operation]:
    """``<resource>.delete``: the SDK's ``delete(id)``, a bodiless DELETE answering ``BaseApiResponse``."""
    return {f"{resource}.delete": Operation(
        "DELETE", f"{path}/{{id}}", identifier="id", key="id", required=("id",), result_only=True,
        batch_max=BATCH_MAX, resolution="lookup" if lookup else None, dataset_path=path, write="delete", source=source,
        hook_method=f"delete_{singular or resource[:-1]}")}


def _create(path: str, key: str | None, required: tuple[str, ...], hook_method: str, source: str,
            optional: tuple[str, ...] = (), identifier: str = "") -> Operation:
    """A create of the SDK (``create(params)``: a form POST answering the object under ``key``, or
    ``BaseApiResponse`` when ``key`` is ``None``). Never resent, and a lost answer goes to a person: these
    resources have no field Oktopost refuses twice, and nothing tells a record from another one."""
    return Operation("POST", path, identifier=identifier or required[0], required=required, optional=optional,
                     response_key=key, result_only=key is None, batch_max=BATCH_MAX, source=_SDK_DIR + source,
                     hook_method=hook_method)


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
    hidden_fields=("schema",),
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
        # Every other ``_page``/``_count``-paged list of the SDK (``PaginatedApiResponse``: Items, Total).
        "users": _list("/user", _SDK_DIR + "account/users.ts (UserListItem)"),
        "teams": _list("/team", _SDK_DIR + "account/teams.ts"),
        "cnames": _list("/cname", _SDK_DIR + "account/cnames.ts"),
        "conversion_tags": _list("/conversion-tag", _SDK_DIR + "account/conversion-tags.ts"),
        "tags": _list("/tag", _SDK_DIR + "publishing/tags.ts"),
        "media": _list("/media", _SDK_DIR + "publishing/media.ts (q, type)"),
        "uploads": _list("/upload", _SDK_DIR + "publishing/uploads.ts (status, source)"),
        "links": _list("/link", _SDK_DIR + "publishing/links.ts (hash, credentialIds, ids)"),
        "stories": _list("/story", _SDK_DIR + "advocacy/stories.ts (boardId)"),
        "topics": _list("/board-topic", _SDK_DIR + "advocacy/topics.ts (q, boardId)"),
        "webhooks": _list("/webhook", _SDK_DIR + "events/webhooks.ts; src/types/events.ts (_count 20/25/50/100)",
                          WEBHOOK_PAGE_SIZES),
        "lead_activities": _list("/lead-activity", _SDK_DIR + "leads/lead-activities.ts (leadId)"),
        "stream_tabs": _list("/stream-tab", _SDK_DIR + "streams/stream-tabs.ts"),
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
        "lead": _get("/lead", "Lead", "get_lead", _SDK_DIR + "leads/leads.ts"),
        "user": _get("/user", "User", "get_user", _SDK_DIR + "account/users.ts"),
        "team": _get("/team", "Team", "get_team", _SDK_DIR + "account/teams.ts"),
        "tag": _get("/tag", "Tag", "get_tag", _SDK_DIR + "publishing/tags.ts"),
        "media_item": _get("/media", "Media", "get_media", _SDK_DIR + "publishing/media.ts"),
        "upload": _get("/upload", "Upload", "get_upload", _SDK_DIR + "publishing/uploads.ts"),
        "story": _get("/story", "Item", "get_story", _SDK_DIR + "advocacy/stories.ts (a story is under Item)"),
        "webhook": _get("/webhook", "Webhook", "get_webhook", _SDK_DIR + "events/webhooks.ts"),
        "stream_tab": _get("/stream-tab", "StreamTab", "get_stream_tab", _SDK_DIR + "streams/stream-tabs.ts"),
        "export": _get("/bi-export", "Export", "get_export", _SDK_DIR + "analytics/exports.ts"),
        "postlog": _get("/postlog", "Postlog", "get_postlog",
                        _SDK_DIR + "publishing/post-log.ts (stats=1: Stats beside Postlog)"),
        "workflow": _get("/workflow", None, "get_workflow", _SDK_DIR + "approvals/workflows.ts (the bare object)"),
        "workflow_step": _get("/workflow-step", None, "get_workflow_step",
                              _SDK_DIR + "approvals/workflow-steps.ts (the bare object)"),
        "link": _read("/link/{hash}", "Link", "get_link", "publishing/links.ts (getByHash)"),
        "video_validation": _read("/video-validate/{id}", "Validations", "validate_video",
                                  "publishing/uploads.ts (validateVideo)"),
        # Lists the SDK reads in one call, not ``_page``-paged (or paged otherwise), under their own key.
        "team_entities": _read("/team-entity/{id}", "Items", "get_team_entities", "account/team-entities.ts"),
        "notifications": _read("/notification", "Items", "get_notifications", "account/notifications.ts"),
        "webhook_log": _read("/webhook-log/{id}", "Items", "get_webhook_log", "events/webhook-log.ts"),
        "exports": _read("/bi-export", "Exports", "list_exports", "analytics/exports.ts (Exports, Total; _page)"),
        "followers": _read("/followers/{id}", "Data", "get_followers",
                           "analytics/followers.ts (fromDate, toDate)"),
        "postlogs": _read("/postlog", "Postlogs", "list_postlogs", "publishing/post-log.ts (postId)"),
        "calendar": _read("/calendar", None, "get_calendar",
                          "publishing/calendar.ts; src/types/publishing.ts CalendarParams (a read sent as POST)",
                          method="POST"),
        "workflows": _read("/workflow", "Items", "list_workflows", "approvals/workflows.ts (withSteps)"),
        "workflow_steps": _read("/workflow-step", "Items", "list_workflow_steps",
                                "approvals/workflow-steps.ts (workflowId)"),
        "workflow_items": _read("/workflow-item", "Items", "list_workflow_items",
                                "approvals/workflow-items.ts; src/types/approvals.ts (page/count, Total, "
                                "Authors, Steps)"),
        "workflow_item_notes": _read("/workflow-item-note", "Notes", "list_workflow_item_notes",
                                     "approvals/workflow-item-notes.ts (id; Notes, Authors)"),
        "comments": _read("/comments", "Data", "list_comments", "inbox/comments.ts (postlogId, network)"),
        "streams": _read("/stream", "Items", "list_streams", "streams/streams.ts (position)"),
        # An account-wide setting, not a record: a hook method (setting the same flags twice is the same state).
        "notifications_update": _read("/notification", "Items", "update_notifications",
                                      "account/notifications.ts (update: Items); src/types/account.ts "
                                      "UpdateNotificationParams", method="POST"),
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
        # Social profiles: the SDK's update is a PUT (the only one), its delete a bodiless DELETE.
        "credentials.update": Operation(
            "PUT", "/credential/{id}", identifier="id", key="id", required=("id",),
            optional=("displayName", "nativePostsEnabled"), response_key="Credential", batch_max=BATCH_MAX,
            resolution="lookup", dataset_path="/credential", write="update", hook_method="update_credential",
            source=_SDK_DIR + "account/social-profiles.ts (update: PUT); src/types/account.ts "
            "UpdateSocialProfileParams"),
        "credentials.delete": Operation(
            "DELETE", "/credential/{id}", identifier="id", key="id", required=("id",), result_only=True,
            batch_max=BATCH_MAX, resolution="lookup", dataset_path="/credential", write="delete",
            hook_method="delete_credential", source=_SDK_DIR + "account/social-profiles.ts"),
        # Board messages: ``remove`` DELETEs /board-message with boardId and messageId as the form body.
        "board_messages.delete": Operation(
            "DELETE", "/board-message", identifier="messageId", required=("boardId", "messageId"),
            result_only=True, batch_max=BATCH_MAX, write="delete", hook_method="remove_board_message",
            source=_SDK_DIR + "advocacy/board-messages.ts (remove); src/types/advocacy.ts RemoveBoardMessageParams"),
        # Advocates: ``delete(id, boardId)`` DELETEs /advocate/{id} with boardId as the form body.
        "advocates.delete": Operation(
            "DELETE", "/advocate/{id}", identifier="id", key="id", required=("id", "boardId"), result_only=True,
            batch_max=BATCH_MAX, dataset_path="/advocate", write="delete", hook_method="delete_advocate",
            source=_SDK_DIR + "advocacy/advocates.ts (delete(id, boardId))"),
        "leads.delete": Operation(
            "DELETE", "/lead/{id}", identifier="id", key="id", required=("id",), result_only=True, batch_max=BATCH_MAX,
            resolution="lookup", dataset_path="/lead", write="delete", hook_method="delete_lead",
            source=_SDK_DIR + "leads/leads.ts (delete; the SDK has no lead update)"),
        # Issue 22: the SDK's other writes (src/resources/**, params from src/types/*.ts), one call per
        # record. Creates answer the object under its key (stories: BaseApiResponse); updates POST the
        # form to <path>/{id}; deletes are bodiless DELETEs. A lost update/delete is looked up where the
        # SDK has a get(id), else a person decides (docs/choices.md).
        "users.create": _create("/user", "User", ("firstName", "lastName", "email", "password", "role", "timezone"),
                                "create_user", "account/users.ts; src/types/account.ts CreateUserParams "
                                "(role admin|publisher|contributor|read)", identifier="email"),
        **_update_delete("users", "/user", "User", ("firstName", "lastName", "email", "password", "timezone"),
                         _SDK_DIR + "account/users.ts; src/types/account.ts UpdateUserParams"),
        "teams.create": _create("/team", "Team", ("name",), "create_team", "account/teams.ts"),
        **_update_delete("teams", "/team", "Team", ("name",), _SDK_DIR + "account/teams.ts (UpdateTeamParams)"),
        "cnames.create": _create("/cname", "Cname", ("cname",), "create_cname", "account/cnames.ts"),
        **_update_delete("cnames", "/cname", "Cname", ("cname",), _SDK_DIR + "account/cnames.ts (no get: a person "
                         "decides a lost answer)", lookup=False),
        "tags.create": _create("/tag", "Tag", ("tag",), "create_tag", "publishing/tags.ts"),
        **_update_delete("tags", "/tag", "Tag", ("tag",), _SDK_DIR + "publishing/tags.ts (UpdateTagParams)"),
        "media.create": _create("/media", "Media", ("resource",), "create_media",
                                "publishing/media.ts; src/types/publishing.ts CreateMediaParams"),
        **_delete("media", "/media", _SDK_DIR + "publishing/media.ts (no update)", singular="media"),
        "uploads.create": _create("/upload", "Upload", ("source",), "create_upload",
                                  "publishing/uploads.ts; src/types/publishing.ts CreateUploadParams",
                                  optional=("name", "mimeType")),
        "stories.create": _create("/story", None, ("title", "description", "campaignId"), "create_story",
                                  "advocacy/stories.ts (BaseApiResponse); src/types/advocacy.ts CreateStoryParams",
                                  optional=STORY_FIELDS[3:], identifier="title"),
        **_update_delete("stories", "/story", None, STORY_FIELDS,
                         _SDK_DIR + "advocacy/stories.ts (update answers BaseApiResponse)", singular="story"),
        "topics.create": _create("/board-topic", "Topic", ("boardId", "name"), "create_topic",
                                 "advocacy/topics.ts", identifier="name"),
        **_update_delete("topics", "/board-topic", "Topic", ("name",),
                         _SDK_DIR + "advocacy/topics.ts (no get: a person decides a lost answer)", lookup=False),
        "webhooks.create": _create("/webhook", "Webhook", ("event", "name", "url"), "create_webhook",
                                   "events/webhooks.ts; src/types/events.ts CreateWebhookConfigParams",
                                   optional=("description", "isEnabled", "isHidden"), identifier="name"),
        **_update_delete("webhooks", "/webhook", "Webhook", WEBHOOK_FIELDS,
                         _SDK_DIR + "events/webhooks.ts (update: POST at fbda98d, PUT at ec43e8a; both served)"),
        "stream_tabs.create": _create("/stream-tab", "StreamTab", ("name",), "create_stream_tab",
                                      "streams/stream-tabs.ts"),
        **_update_delete("stream_tabs", "/stream-tab", "StreamTab", ("name",), _SDK_DIR + "streams/stream-tabs.ts"),
        "streams.create": _create("/stream", "Stream", ("streamTabId", "network", "credentialId", "type"),
                                  "create_stream", "streams/streams.ts; src/types/streams.ts CreateStreamParams",
                                  optional=("keyword", "position"), identifier="streamTabId"),
        # updatePosition(id, {position}) is the SDK's only stream update.
        "streams.update": Operation(
            "POST", "/stream/{id}", identifier="id", key="id", required=("id", "position"), response_key="Stream",
            batch_max=BATCH_MAX, dataset_path="/stream", write="update", hook_method="update_stream_position",
            source=_SDK_DIR + "streams/streams.ts (updatePosition)"),
        **_delete("streams", "/stream", _SDK_DIR + "streams/streams.ts", lookup=False),
        # links.update answers a page (Items) and the SDK returns its first item.
        "links.update": Operation(
            "POST", "/link/{id}", identifier="id", key="id", required=("id", "longUrl"), response_key="Items",
            batch_max=BATCH_MAX, dataset_path="/link", write="update", hook_method="update_link",
            source=_SDK_DIR + "publishing/links.ts (update: Items[0]); src/types/publishing.ts UpdateLinkParams"),
        "lead_links.update": Operation(
            "POST", "/lead-link-replace", identifier="linkedRecordId",
            required=("integrationId", "linkedRecordId", "newLinkedRecordId"), result_only=True,
            batch_max=BATCH_MAX, write="update", hook_method="replace_lead_link",
            source=_SDK_DIR + "leads/lead-links.ts (replace); src/types/leads.ts ReplaceLeadLinkParams"),
        # delete(id, leadId): leadId goes in the query string, not a form.
        "lead_activities.delete": Operation(
            "DELETE", "/lead-activity/{id}", identifier="id", key="id", required=("id", "leadId"), query=("leadId",),
            result_only=True, batch_max=BATCH_MAX, dataset_path="/lead-activity", write="delete",
            hook_method="delete_lead_activity", source=_SDK_DIR + "leads/lead-activities.ts (delete(id, leadId))"),
        # add(entityId, {teamIds}) / remove(entityId, {teamIds}): the entity id is the record's ``id``.
        "team_entities.create": Operation(
            "POST", "/team-entity/{id}", identifier="id", key="id", required=("id", "teamIds"), result_only=True,
            batch_max=BATCH_MAX, dataset_path="/team-entity", hook_method="add_team_entities",
            source=_SDK_DIR + "account/team-entities.ts (add); src/types/account.ts AddTeamEntitiesParams"),
        "team_entities.delete": Operation(
            "DELETE", "/team-entity/{id}", identifier="id", key="id", required=("id", "teamIds"), result_only=True,
            batch_max=BATCH_MAX, dataset_path="/team-entity", write="delete", hook_method="remove_team_entities",
            source=_SDK_DIR + "account/team-entities.ts (remove: the form on a DELETE)"),
        "workflow_items.create": Operation(
            "POST", "/workflow-item", identifier="entityId", required=("entityId", "workflowId"), response_key="Data",
            batch_max=BATCH_MAX, hook_method="create_workflow_item",
            source=_SDK_DIR + "approvals/workflow-items.ts (create: Data); src/types/approvals.ts"),
        # approve(id, {note, stepId}) and reject(...) are one POST with isApprove 1 or 0.
        "workflow_items.update": Operation(
            "POST", "/workflow-item/{id}", identifier="id", key="id", required=("id", "isApprove"),
            optional=("note", "stepId"), response_key="Data", batch_max=BATCH_MAX, dataset_path="/workflow-item",
            write="update", hook_method="approve_workflow_item",
            source=_SDK_DIR + "approvals/workflow-items.ts (approve: isApprove=1, reject: isApprove=0 "
            "(reject_workflow_item); Data); src/types/approvals.ts ApproveRejectParams"),
        **_delete("workflow_items", "/workflow-item", _SDK_DIR + "approvals/workflow-items.ts", lookup=False),
        # create(itemId, note): a bodiless PUT with id and note in the query string.
        "workflow_item_notes.create": Operation(
            "PUT", "/workflow-item-note", identifier="id", required=("id", "note"), query=("id", "note"),
            result_only=True, batch_max=BATCH_MAX, hook_method="add_workflow_item_note",
            source=_SDK_DIR + "approvals/workflow-item-notes.ts (create: PUT ?id=&note=)"),
    },
    fetch_operator="OktopostFetchOperator",
    batch_operator="OktopostBatchOperator",
    source="https://developers.oktopost.com/; Oktopost/oktopost-typescript-sdk",
)
