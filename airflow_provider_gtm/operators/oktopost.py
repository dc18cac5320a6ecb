"""Oktopost operators: fetch lists to JSON Lines, and create records one call each under the rate limit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_gtm.apis.model import Operation
from airflow_provider_gtm.apis.oktopost import OKTOPOST, PAGE_SIZES, create_kinds
from airflow_provider_gtm.operators._validation import check_choice, is_template
from airflow_provider_gtm.operators.base import GtmBatchOperator, GtmFetchOperator, LazyHookClass
from airflow_provider_gtm.operators.links import OktopostAppLink
from airflow_provider_gtm.operators.watermark import CatalogueWatermark

if TYPE_CHECKING:
    from airflow_provider_gtm.apis.model import Resource
    from airflow_provider_gtm.core.batching import BatchResult
    from airflow_provider_gtm.core.pagination import Page
    from airflow_provider_gtm.hooks.oktopost import OktopostHook

OKTOPOST_RESOURCES = tuple(OKTOPOST.resources)
OKTOPOST_CREATE_KINDS = create_kinds()
#: Every write of the catalogue, ``<resource>.<create|update|delete>`` (OktopostBatchOperator).
OKTOPOST_OPERATIONS = tuple(OKTOPOST.operations)


class OktopostFetchOperator(CatalogueWatermark, GtmFetchOperator["OktopostHook"]):
    """Fetch an Oktopost list (``_page``/``_count`` paging) to JSON Lines; the XCom carries ``total``.

    :param resource: ``campaigns``, ``messages`` (needs ``campaignId`` or ``ids`` in ``filters``),
        ``posts``, ``credentials`` (social profiles), ``boards``, ``advocates``, ``clicks`` or ``leads``.
    :param filters: the list's own query parameters, e.g. ``{"campaignId": "002..."}`` or
        ``{"status": "active"}`` (templated).
    :param count: page size: 25, 50 or 100 (200 for ``clicks``); default 100, the fewest calls.
    :param order: ``_order``, e.g. ``"created,1"`` (ascending).
    :param after: / :param before: posts and clicks created after/before this time (epoch seconds,
        datetime or ISO string; templated, e.g. ``"{{ data_interval_start }}"``).

    Incremental: with ``watermark_field="Created"`` and ``since_last_watermark=True`` each run
    continues after the newest record the last successful run wrote. ``posts`` and ``clicks`` take
    it as their own filter (``after`` = the watermark one second early; the records already written
    are dropped by ``Id``); the other lists have no time filter, so they are read whole and only the
    records past the watermark kept (docs/endpoints.md). An explicit ``after`` wins (a replay).

    Example::

        OktopostFetchOperator(task_id="posts", resource="posts", watermark_field="Created",
                              since_last_watermark=True)
    """

    template_fields: Sequence[str] = (
        *GtmFetchOperator.template_fields, "resource", "filters", "count", "order", "after", "before",
    )
    template_fields_renderers = {**GtmFetchOperator.template_fields_renderers, "filters": "json"}
    hook_class = LazyHookClass["OktopostHook"]("airflow_provider_gtm.hooks.oktopost.OktopostHook")
    default_conn_id = OKTOPOST.default_conn_id
    default_api_host = OKTOPOST.default_host

    def __init__(
        self,
        *,
        resource: str,
        filters: dict[str, Any] | None = None,
        count: int = 100,
        order: str | None = None,
        after: int | str | datetime | None = None,
        before: int | str | datetime | None = None,
        **kwargs: Any,
    ) -> None:
        self.id_field_from_catalogue = "id_field" not in kwargs
        super().__init__(**kwargs)
        name = type(self).__name__
        check_choice(name, "resource", resource, OKTOPOST_RESOURCES)
        listed = OKTOPOST.resources.get(resource)
        allowed = listed.page_sizes if listed else PAGE_SIZES
        check_choice(name, "count (_count)", count, allowed)
        if resource == "messages" and not is_template(filters) and not (
            filters and (filters.get("campaignId") or filters.get("ids"))
        ):
            raise ValueError(
                f"{name}: Oktopost lists messages only by campaign: pass filters={{'campaignId': ...}} or ids"
            )
        self.resource = resource
        self.filters = filters
        self.count = count
        self.order = order
        self.after = after
        self.before = before

    def describe(self) -> str:
        return f"Oktopost {self.resource}"

    lineage_api = OKTOPOST.name
    watermark_fields = ("Created",)

    def lineage_endpoint(self) -> str:
        spec = OKTOPOST.resources.get(self.resource)
        return OKTOPOST.path_prefix + (spec.path if spec else "/" + self.resource)

    def catalogue_row(self) -> Resource | None:
        return OKTOPOST.resources.get(self.resource)

    def pages(self, hook: OktopostHook, start: Any, limit: int | None) -> Iterator[Page]:
        params = dict(self.filters or {})
        replay = self.after not in (None, "") or (self.filters or {}).get("after") not in (None, "")
        if self.after not in (None, ""):
            params["after"] = self.after
        if self.before not in (None, ""):
            params["before"] = self.before
        since = None if replay else self.since_filter()
        if since is not None:
            params[since[0]] = since[1]
        pages = hook.iter_pages(
            self.resource,  # type: ignore[arg-type]
            params=params or None,
            count=int(self.count),
            start_page=int(start or 0),
            limit=limit,
            order=self.order or None,
        )
        return pages if replay else iter(self.since_pages(pages))


class _OktopostWriteOperator(GtmBatchOperator["OktopostHook"]):
    """What the Oktopost write operators share: one call per record, the spec's rules, lookups."""

    hook_class = LazyHookClass["OktopostHook"]("airflow_provider_gtm.hooks.oktopost.OktopostHook")
    default_conn_id = OKTOPOST.default_conn_id
    default_api_host = OKTOPOST.default_host
    one_call_per_record = True
    operator_extra_links = (OktopostAppLink(),)
    max_batch_size = OKTOPOST.batch_max
    lineage_api = OKTOPOST.name
    sync_api = OKTOPOST.name

    def operation_name(self) -> str:
        """The catalogue row this task writes through (``campaigns.create``, ``posts.delete``...)."""
        raise NotImplementedError

    def sync_operation(self) -> str:
        return self.operation_name()

    def _spec(self) -> Operation | None:
        return OKTOPOST.operations.get(self.operation_name())

    def lineage_endpoint(self) -> str:
        spec = self._spec()
        return OKTOPOST.path_prefix + (spec.dataset if spec else "/" + self.operation_name().partition(".")[0])

    def send(self, hook: OktopostHook, records: Iterable[Any]) -> Iterator[BatchResult]:
        return hook.iter_write(self.operation_name(), records, batch_size=self.batch_size or 50)

    def assigned_id(self, accepted: Any) -> Any:
        return accepted.get("Id") if isinstance(accepted, dict) else None

    def validate_record(self, record: Any) -> str | None:
        """Every required Oktopost field is present (checked for every record before any is sent)."""
        spec = self._spec()
        if spec is None:
            return None
        if not isinstance(record, dict):
            return f"expected an object with {', '.join(spec.required)}, got {type(record).__name__}"
        missing = [name for name in spec.required if record.get(name) in (None, "")]
        if missing:
            return f"field {missing[0]!r} is missing"
        if spec.write in ("update", "delete"):
            from airflow_provider_gtm.core.errors import GtmConfigError
            from airflow_provider_gtm.hooks.oktopost import build_change_form  # the hook's own check

            try:
                build_change_form(self.operation_name(), record)
            except GtmConfigError as exc:
                return str(exc)
        return None

    def can_resolve_unknown(self, records: list[Any]) -> bool:
        spec = self._spec()
        return spec is not None and spec.can_resolve(records)

    def resolve_unknown(
        self, hook: OktopostHook, records: list[Any], started_at: str | None
    ) -> tuple[list[Any], list[int]] | None:
        """Look up what a lost answer did (creates: see :class:`OktopostCreateOperator`).

        Updates: ``GET <path>/{id}``; the update was applied when every field it sets reads back as
        sent, else it is sent again (an update re-sent sets the same values: safe). A field the
        answer does not echo comparably (``tagIds``, ``credentialIds``...) cannot tell: re-sent.
        Deletes: ``GET <path>/{id}``; a 404 means the object is gone (the lost delete, or an earlier
        one, removed it): done; an object still there is deleted again. docs/choices.md.
        """
        spec = self._spec()
        if spec is None:
            return None
        if spec.write in ("update", "delete") and spec.resolution != "lookup":
            return None  # the SDK has no get(id) for it (topics, streams, board messages...): a person decides
        if spec.write == "update":
            return _resolve_updates(hook, self.operation_name(), records)
        if spec.write == "delete":
            return _resolve_deletes(hook, self.operation_name(), records)
        return self._resolve_creates(hook, records, started_at)

    #: How far before the lost chunk's start a "created since" lookup reaches (clock skew).
    lookup_margin: ClassVar[timedelta] = timedelta(minutes=2)

    def _resolve_creates(
        self, hook: OktopostHook, records: list[Any], started_at: str | None
    ) -> tuple[list[Any], list[int]] | None:
        """Campaigns: list the campaigns created since the lost chunk started and match every field
        sent (:func:`_match_campaigns`); another run's campaign of the same name is never adopted.

        Posts: ``GET /v2/post?messageId=`` for each message of the lost records, the posts created
        since the chunk started, matched by message, social profiles and start time.
        Advocate invites: ``GET /v2/advocate?email=`` per record (found on the board: invited).
        Other kinds have no field that tells a record this task sent from another one: ``None``.
        """
        kind = self.operation_name().rpartition(".")[0]
        if kind == "advocate_invites":
            return self._resolve_advocates(hook, records)
        # ``started_at`` is the lost calls' window: "<start>[/<end>]" (ISO 8601; core/ledger.py).
        start, _, end = (started_at or "").partition("/")
        if kind == "posts" and start:
            return self._resolve_posts(hook, records, datetime.fromisoformat(start) - self.lookup_margin)
        if kind != "campaigns" or not start:
            return None
        created = hook.created_since("campaigns", datetime.fromisoformat(start) - self.lookup_margin)
        if created is None:
            return None
        if end:
            # A campaign created well after the lost calls ended is someone else's (a later run's).
            from airflow_provider_gtm.hooks.oktopost import parse_created

            until = datetime.fromisoformat(end) + self.lookup_margin
            created = [c for c in created if (when := parse_created(c.get("Created"))) is None or when <= until]
        return _match_campaigns(records, created)

    #: A message with more posts than this is not listed to resolve a lost post (it cannot tell cheaply).
    max_posts_listed: ClassVar[int] = 2000

    def _resolve_posts(
        self, hook: OktopostHook, records: list[Any], since: datetime
    ) -> tuple[list[Any], list[int]] | None:
        from airflow_provider_gtm.hooks.oktopost import parse_created

        candidates: dict[str, list[dict[str, Any]]] = {}
        for message_id in {str(r.get("messageId")) for r in records if isinstance(r, dict)}:
            posts = list(hook.iter_records("posts", params={"messageId": message_id},
                                           limit=self.max_posts_listed + 1))
            if len(posts) > self.max_posts_listed:
                return None
            created = [p for p in posts if (when := parse_created(p.get("Created"))) is None or when >= since]
            if any(_post_profiles(p) is None for p in created):
                return None  # the answer does not say which profiles a post is for: it cannot tell
            candidates[message_id] = created
        found: list[Any] = []
        not_applied: list[int] = []
        for position, record in enumerate(records):
            pool = candidates.get(str(record.get("messageId")), []) if isinstance(record, dict) else []
            match = next((p for p in pool if _post_matches(p, record)), None)
            if match is None:
                not_applied.append(position)
            else:
                pool.remove(match)
                found.append(match)
        return found, not_applied

    @staticmethod
    def _resolve_advocates(hook: OktopostHook, records: list[Any]) -> tuple[list[Any], list[int]]:
        from airflow_provider_gtm.core.errors import GtmNotFoundError

        found: list[Any] = []
        not_applied: list[int] = []
        for position, record in enumerate(records):
            advocate = hook.find_advocate(str(record.get("email"))) if isinstance(record, dict) else None
            if advocate is not None and "BoardIds" not in advocate and advocate.get("Id"):
                # The list item (AdvocateListItem) does not say which boards: the advocate itself does.
                try:
                    advocate = hook.get_advocate(str(advocate["Id"]), board_id=str(record.get("boardId")))
                except GtmNotFoundError:
                    advocate = None
            if advocate is not None and record.get("boardId") in (advocate.get("BoardIds") or []):
                found.append({"Result": True, "Advocate": advocate})
            else:
                not_applied.append(position)
        return found, not_applied


class OktopostCreateOperator(_OktopostWriteOperator):
    """Create Oktopost campaigns, messages, posts, board messages or advocate invites, one call each.

    Oktopost has no batch endpoint: every record is one call, paced under its limits (60 per minute,
    120 per 5 seconds) so that the key is never blocked; each refusal goes to the failures file with
    Oktopost's own message. :class:`OktopostBatchOperator` with ``operation="<kind>.create"`` does
    the same; it also updates and deletes.

    :param kind: ``campaigns``, ``messages``, ``posts``, ``board_messages`` or ``advocate_invites``.
        Records use Oktopost's field names (``name``; ``campaignId``/``network``/``message``;
        ``messageId``/``credentialIds``/``startDateTime``; ``boardId``/``messageId``;
        ``firstName``/``lastName``/``email``/``boardId``).

    Example::

        OktopostCreateOperator(task_id="campaign", kind="campaigns", records=[{"name": "Launch"}])
    """

    template_fields: Sequence[str] = (*GtmBatchOperator.template_fields, "kind")

    def __init__(self, *, kind: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_choice(type(self).__name__, "kind", kind, OKTOPOST_CREATE_KINDS)
        self.kind = kind
        self.check_sync()

    def operation_name(self) -> str:
        return f"{self.kind}.create"

    def describe(self) -> str:
        return f"Oktopost {self.kind}"

class OktopostBatchOperator(_OktopostWriteOperator):
    """Create, update or delete Oktopost records: ``operation="<resource>.<create|update|delete>"``.

    One call per record under the rate limit, with the write ledger, the preflight, the
    confirmation rule and the failures file of every batch operator. Operations (apis/oktopost.py;
    docs/endpoints.md lists them all): every create, update and delete of the SDK's resources
    (Oktopost/oktopost-typescript-sdk ``src/resources/**``) that is one call per record, records in the
    SDK's field names, e.g. ``campaigns.create`` (records as for :class:`OktopostCreateOperator`),
    ``users.create``, ``tags.update``, ``webhooks.delete``, ``workflow_items.update`` (approve with
    ``isApprove=1``, reject with 0), ``lead_activities.delete`` (``id``, ``leadId``):

    - ``.update``: ``POST /v2/<resource>/{id}`` with the other fields as the form (campaigns ``name,
      url, status, tagIds``; messages ``message, linkUrl, linkTitle, description, imageUrl``; posts
      ``messageId, credentialIds, startDateTime, status``); confirmed by the changed object.
    - ``.delete``: ``DELETE /v2/<resource>/{id}``, records ``{"id": ...}``; confirmed by ``Result: true``.

    A lost answer is looked up (``GET /v2/<resource>/{id}``) before anything is re-sent, where the SDK
    has such a read; else (cnames, topics, streams, links, workflow items...) a person decides.

    Example::

        OktopostBatchOperator(task_id="pause", operation="campaigns.update",
                              records=[{"id": "002g5m4amrtu2xs", "status": "paused"}])
    """

    template_fields: Sequence[str] = (*GtmBatchOperator.template_fields, "operation")

    def __init__(self, *, operation: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_choice(type(self).__name__, "operation", operation, OKTOPOST_OPERATIONS)
        self.operation = operation
        self.check_sync()

    def operation_name(self) -> str:
        return self.operation

    def describe(self) -> str:
        return f"Oktopost {self.operation}"


def _resolve_updates(hook: OktopostHook, operation: str, records: list[Any]) -> tuple[list[Any], list[int]]:
    from airflow_provider_gtm.core.errors import GtmNotFoundError
    from airflow_provider_gtm.hooks.oktopost import build_change_form

    getter = _GETTERS[operation.rpartition(".")[0]]
    found: list[Any] = []
    not_applied: list[int] = []
    for position, record in enumerate(records):
        object_id, form = build_change_form(operation, record)
        try:
            current = getattr(hook, getter)(object_id)
        except GtmNotFoundError:
            not_applied.append(position)  # re-sent: Oktopost's own 404 goes to the failures file
            continue
        if form and all(_reads_back(current, key, value) for key, value in form.items()):
            found.append(current)
        else:
            not_applied.append(position)
    return found, not_applied


def _resolve_deletes(hook: OktopostHook, operation: str, records: list[Any]) -> tuple[list[Any], list[int]]:
    from airflow_provider_gtm.core.errors import GtmNotFoundError

    getter = _GETTERS[operation.rpartition(".")[0]]
    found: list[Any] = []
    not_applied: list[int] = []
    for position, record in enumerate(records):
        object_id = str(record.get("id")).strip() if isinstance(record, dict) else ""
        try:
            getattr(hook, getter)(object_id)
        except GtmNotFoundError:
            found.append({"Result": True, "Id": object_id})
            continue
        not_applied.append(position)
    return found, not_applied


#: The hook getter that reads one object back, per resource with updates and deletes.
_GETTERS = {"campaigns": "get_campaign", "messages": "get_message", "posts": "get_post",
            "credentials": "get_credential", "leads": "get_lead", "users": "get_user", "teams": "get_team",
            "tags": "get_tag", "media": "get_media", "stories": "get_story", "webhooks": "get_webhook",
            "stream_tabs": "get_stream_tab"}


def _reads_back(current: dict[str, Any], key: str, sent: Any) -> bool:
    """Whether the object's field for form field ``key`` (``name`` → ``Name``) holds what was sent."""
    if key in ("tagIds", "credentialIds"):
        return False  # echoed as lists of objects or not at all: it cannot tell
    field = key[:1].upper() + key[1:]
    if field not in current or current[field] is None:
        return False
    value = current[field]
    if isinstance(value, bool) or isinstance(value, dict | list):
        return False
    return str(value).strip() == str(sent).strip()


def _id_set(value: Any) -> frozenset[str] | None:
    """Profile ids from a comma list, a list of ids or a list of ``{"Id": ...}`` objects."""
    if isinstance(value, str):
        return frozenset(part.strip() for part in value.split(",") if part.strip()) or None
    if isinstance(value, list):
        ids = {str(v.get("Id") if isinstance(v, dict) else v) for v in value}
        return frozenset(ids) or None
    return None


def _post_profiles(post: dict[str, Any]) -> frozenset[str] | None:
    """The social profiles an Oktopost post is for (the answer's field name varies by source)."""
    for key in ("CredentialIds", "Credentials", "CredentialId"):
        ids = _id_set(post.get(key))
        if ids:
            return ids
    return None


def _post_matches(post: dict[str, Any], record: dict[str, Any]) -> bool:
    """Whether ``post`` is what creating ``record`` would have made (message, profiles, start time)."""
    if _post_profiles(post) != _id_set(record.get("credentialIds")):
        return False
    start = record.get("startDateTime")
    if start in (None, "") or post.get("StartDateTime") in (None, ""):
        return True
    try:
        return int(float(start)) == int(float(post["StartDateTime"]))
    except (TypeError, ValueError):
        return str(start) == str(post["StartDateTime"])


#: A campaign create's fields and the campaign object's (the SDK's src/types/publishing.ts Campaign).
_CAMPAIGN_FIELDS = {"name": "Name", "url": "Url", "tagIds": "TagIds"}


def _campaign_content(record: Any) -> tuple[Any, ...] | None:
    """What a campaign create sends, comparable with a campaign read back (``None``: a field it cannot compare)."""
    if not isinstance(record, dict) or any(name not in _CAMPAIGN_FIELDS for name in record):
        return None
    tags = record.get("tagIds")
    tag_list = [t for t in (tags.split(",") if isinstance(tags, str) else tags or []) if str(t).strip()]
    return str(record.get("name")), str(record.get("url") or ""), tuple(sorted(str(t).strip() for t in tag_list))


def _stored_campaign_content(campaign: dict[str, Any]) -> tuple[Any, ...]:
    tags = campaign.get("TagIds")
    tag_list = tags.split(",") if isinstance(tags, str) else tags or []
    return (str(campaign.get("Name")), str(campaign.get("Url") or ""),
            tuple(sorted(str(t).strip() for t in tag_list if str(t).strip())))


def _match_campaigns(records: list[Any], created: list[dict[str, Any]]) -> tuple[list[Any], list[int]] | None:
    """Settle lost campaign creates against the campaigns created in their window, or ``None`` (a person).

    A campaign is this task's only when every field sent reads back equal, and only when that is
    unambiguous: more such campaigns in the window than lost records with that content means another
    run (or a person) created one too, and nothing tells which is whose, so a person decides. A
    record with a field the campaign does not read back comparably cannot be told either.
    """
    maybe = [_campaign_content(record) for record in records]
    contents = [content for content in maybe if content is not None]
    if len(contents) < len(maybe):
        return None
    pool: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for campaign in created:
        pool.setdefault(_stored_campaign_content(campaign), []).append(campaign)
    wanted: dict[tuple[Any, ...], int] = {}
    for content in contents:
        wanted[content] = wanted.get(content, 0) + 1
    if any(len(pool.get(content, [])) > count for content, count in wanted.items()):
        return None
    found: list[Any] = []
    not_applied: list[int] = []
    for position, content in enumerate(contents):
        matches = pool.get(content)
        if matches:
            found.append(matches.pop(0))
        else:
            not_applied.append(position)
    return found, not_applied
