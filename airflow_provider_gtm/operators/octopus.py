"""Octopus Community Connect operator: fetch any of the five feeds to JSON Lines."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_gtm.apis.octopus import OCTOPUS, PAGE_SIZE_MAX
from airflow_provider_gtm.operators._validation import check_choice, check_range, is_template
from airflow_provider_gtm.operators.base import GtmFetchOperator, LazyHookClass
from airflow_provider_gtm.operators.watermark import CatalogueWatermark, Watermark

if TYPE_CHECKING:
    from airflow_provider_gtm.apis.model import Resource
    from airflow_provider_gtm.core.pagination import Page
    from airflow_provider_gtm.hooks.octopus import OctopusConnectHook

OCTOPUS_FEEDS = tuple(OCTOPUS.resources)


class OctopusFetchOperator(CatalogueWatermark, GtmFetchOperator["OctopusConnectHook"]):
    """Fetch an Octopus Community feed to JSON Lines, following ``pageCursor`` to the end.

    :param feed: ``topic_posts`` (needs ``parent_id`` = topic id), ``post_comments`` (post id),
        ``comment_replies`` (comment id), ``user_posts`` (Octopus user id) or ``all_posts``.
    :param parent_id: id of the topic, post, comment or user (templated).
    :param page_size: 1 to 20 records per call (default 20: the fewest calls against the per-minute credits).
    :param order: ``Asc`` (oldest first) or ``Desc`` (API default).
    :param origin_time: for ``all_posts``: a Unix time in **milliseconds**, a datetime, or an ISO string
        (templated, e.g. ``"{{ data_interval_start }}"`` for incremental runs).
    :param direction: for ``all_posts``: ``After`` (newer than ``origin_time``) or ``Before`` (API default).

    Incremental: ``all_posts`` takes the watermark as its own filter (``originTime``); the other
    feeds have none, so they are read whole and only the records past the watermark kept. With
    ``watermark_field="createdAt"`` and ``since_last_watermark=True`` each run continues after the
    newest post the last successful run wrote (whatever the schedule; see
    :mod:`airflow_provider_gtm.operators.watermark`); an ``origin_time`` given explicitly wins (a
    replay), and with neither the first run takes every post::

        OctopusFetchOperator(task_id="new_posts", feed="all_posts", order="Asc",
                             watermark_field="createdAt", since_last_watermark=True)

    Do not use ``origin_time="{{ data_interval_start }}"`` for this on Airflow 3: a cron-scheduled
    run's data interval has zero length, so posts created between two runs would never be fetched.
    """

    template_fields: Sequence[str] = (
        *GtmFetchOperator.template_fields, "feed", "parent_id", "page_size", "order", "origin_time", "direction",
    )
    hook_class = LazyHookClass["OctopusConnectHook"]("airflow_provider_gtm.hooks.octopus.OctopusConnectHook")
    default_conn_id = OCTOPUS.default_conn_id
    default_api_host = OCTOPUS.default_host

    def __init__(
        self,
        *,
        feed: str,
        parent_id: str | None = None,
        page_size: int = 20,
        order: str | None = None,
        origin_time: int | str | datetime | None = None,
        direction: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.id_field_from_catalogue = "id_field" not in kwargs
        super().__init__(**kwargs)
        name = type(self).__name__
        check_choice(name, "feed", feed, OCTOPUS_FEEDS)
        check_range(name, "page_size (pageSize)", page_size, 1, PAGE_SIZE_MAX)
        check_choice(name, "order", order, ("Asc", "Desc"))
        check_choice(name, "direction", direction, ("Before", "After"))
        if not is_template(feed):
            if feed == "all_posts" and parent_id is not None:
                raise ValueError(f"{name}: feed='all_posts' takes no parent_id; use origin_time/direction to filter")
            if feed != "all_posts" and parent_id is None:
                raise ValueError(f"{name}: feed={feed!r} needs parent_id (the id of its topic, post, comment or user)")
            if feed != "all_posts" and (origin_time is not None or direction is not None):
                raise ValueError(f"{name}: origin_time and direction only apply to feed='all_posts'")
        self.feed = feed
        self.parent_id = parent_id
        self.page_size = page_size
        self.order = order
        self.origin_time = origin_time
        self.direction = direction

    def describe(self) -> str:
        return f"Octopus {self.feed}" + (f" of {self.parent_id}" if self.parent_id else "")

    def watermark_seed(self) -> Watermark | None:
        # Before any recorded watermark, an explicit "after this time" is where the next run may continue.
        if self.feed == "all_posts" and self.origin_time and self.direction == "After":
            from airflow_provider_gtm.hooks.octopus import to_epoch_ms

            return Watermark(to_epoch_ms(self.origin_time), [])
        return None

    lineage_api = OCTOPUS.name
    watermark_fields = ("createdAt",)

    def lineage_endpoint(self) -> str:
        # One dataset per feed (and parent): the parent's posts are a different list from another's.
        path = OCTOPUS.paths.get(self.feed, self.feed)
        return f"{path}/{self.parent_id}" if self.parent_id else path

    def catalogue_row(self) -> Resource | None:
        return OCTOPUS.resources.get(self.feed)

    def pages(self, hook: OctopusConnectHook, start: Any, limit: int | None) -> Iterator[Page]:
        origin, direction = self.origin_time or None, self.direction or None
        replay = origin is not None  # an explicit origin_time wins over the watermark
        since = None if replay else self.since_filter()
        if since is not None:
            # originTime one millisecond early: whether the API counts the origin itself or not, the
            # posts at exactly the watermark come back, and the ones already written are dropped below.
            origin, direction = since[1], "After"
        if origin is None and direction == "After":
            direction = None  # "after nothing" is every post: send no direction without an origin
        pages = hook.iter_feed_pages(
            self.feed,  # type: ignore[arg-type]
            parent_id=self.parent_id,
            page_size=int(self.page_size),
            order=self.order or None,  # type: ignore[arg-type]
            origin_time=origin,
            direction=direction,  # type: ignore[arg-type]
            start_cursor=start,
            limit=limit,
        )
        return pages if replay else iter(self.since_pages(pages))
