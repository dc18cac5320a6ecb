"""Paginators for the three paging styles of the four APIs, as generators of one page at a time.

Every paginator yields :class:`Page` objects and holds only the current page in memory. Each page
carries ``next_state``: a small JSON value from which the same paginator can resume (a fetch
operator checkpoints it after writing the page, so a retried task resumes where it stopped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_gtm.core.client import ApiResponse, RestClient

log = logging.getLogger(__name__)


@dataclass
class Page:
    """One page of records.

    :param records: the page's records, as the API returned them.
    :param number: 0-based index of the page within this iteration.
    :param total: total number of records when the API tells it, else ``None``.
    :param state: the state that fetched this page (pass as ``start`` to fetch it again).
    :param next_state: the state that fetches the next page; ``None`` on the last page.
    """

    records: list[Any]
    number: int
    total: int | None = None
    state: Any = None
    next_state: Any = None


FetchPage = Callable[[Any], tuple[list[Any], Any, int | None]]


def iterate_pages(
    fetch: FetchPage, start: Any, *, limit: int | None = None, label: str = "list"
) -> Iterator[Page]:
    """Drive ``fetch(state) -> (records, next_state, total)`` until the list ends.

    Ends on an empty page, on ``next_state is None``, once ``limit`` records were yielded, or on a
    repeated state (a cursor the API already sent), which is logged instead of looping forever.
    """
    if limit is not None and limit < 1:
        return
    seen: set[str] = set()
    state = start
    yielded = 0
    number = 0
    while True:
        seen.add(repr(state))
        records, next_state, total = fetch(state)
        if limit is not None and yielded + len(records) >= limit:
            records = records[: limit - yielded]
            next_state = None
        if not records:
            return
        if next_state is not None and repr(next_state) in seen:
            log.warning(
                "%s: the API returned cursor %r again after %d pages; stopping instead of looping",
                label, next_state, number + 1,
            )
            next_state = None
        yielded += len(records)
        yield Page(records=records, number=number, total=total, state=state, next_state=next_state)
        if next_state is None:
            return
        state = next_state
        number += 1


def offset_header_pages(
    client: RestClient,
    path: str,
    *,
    records_key: str,
    params: Mapping[str, Any] | None = None,
    start: int = 0,
    limit: int | None = None,
    is_end_of_list: Callable[[ApiResponse], bool] = lambda resp: False,
    total_of: Callable[[Any], int | None] = lambda body: None,
) -> Iterator[Page]:
    """Pages of a list that is paged by a ``cursor`` request/response header holding an offset (Octy).

    The list ends on a missing ``cursor`` header, an empty page, a cursor at or past ``total``,
    or an error answer for which ``is_end_of_list`` is true (Octy's 400 "cursor exhausted").
    """

    def fetch(cursor: int) -> tuple[list[Any], Any, int | None]:
        resp = client.request(
            "GET", path, params=params, headers={"cursor": str(cursor)}, accept_statuses=(400, 404)
        )
        if resp.status >= 400:
            if is_end_of_list(resp):
                return [], None, None
            client.raise_for_response(resp, "GET", path)
        body = resp.data if isinstance(resp.data, dict) else {}
        records = body.get(records_key) or []
        total = total_of(body)
        header = resp.headers.get("cursor")
        next_cursor: int | None = None
        if header is not None and str(header).strip():
            try:
                next_cursor = int(str(header).strip())
            except ValueError:
                next_cursor = None
        if next_cursor is not None and total is not None and next_cursor >= total:
            next_cursor = None
        return records, next_cursor, total

    return iterate_pages(fetch, start, limit=limit, label=f"{client.profile.name} {path}")


def find_cursor(
    body: Mapping[str, Any], field: str | None = None, echo: tuple[str, str | None] | None = None
) -> str | None:
    """The next-page cursor in a response body: ``field`` if given, else the key naming a cursor.

    Without ``field``, a key naming a *next* cursor wins over any other cursor-named key. ``echo`` is
    ``(request parameter, value sent)``: a body that repeats the request's own cursor under the
    parameter's name is an echo, not a next cursor, and must not end the list early.
    """
    if field:
        value = body.get(field)
        return value if isinstance(value, str) and value else None
    found = [(key, value) for key, value in body.items()
             if "cursor" in key.lower() and isinstance(value, str) and value and (key, value) != echo]
    for key, value in found:
        if "next" in key.lower():
            return value
    return found[0][1] if found else None


def first_list(body: Mapping[str, Any], key: str | None = None) -> list[Any]:
    """The records of a page: ``body[key]`` if given, else the first list-valued field."""
    if key is not None:
        value = body.get(key)
        return value if isinstance(value, list) else []
    for value in body.values():
        if isinstance(value, list):
            return value
    return []


def body_cursor_pages(
    client: RestClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    records_key: str | None = None,
    cursor_param: str = "pageCursor",
    cursor_field: str | None = None,
    start: str | None = None,
    limit: int | None = None,
) -> Iterator[Page]:
    """Pages of a list that is paged by an opaque cursor returned in the body (Octopus ``pageCursor``)."""
    base = {k: v for k, v in (params or {}).items() if v is not None}

    def fetch(cursor: str | None) -> tuple[list[Any], Any, int | None]:
        query = dict(base)
        if cursor:
            query[cursor_param] = cursor
        body = client.get_json(path, params=query) or {}
        return first_list(body, records_key), find_cursor(body, cursor_field, (cursor_param, cursor)), None

    return iterate_pages(fetch, start, limit=limit, label=f"{client.profile.name} {path}")


def page_number_pages(
    client: RestClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    count: int,
    page_param: str = "_page",
    count_param: str = "_count",
    items_key: str = "Items",
    total_key: str = "Total",
    start: int = 0,
    limit: int | None = None,
) -> Iterator[Page]:
    """Pages of a list paged by page number and page size with a total (Oktopost ``_page``/``_count``)."""
    base = {k: v for k, v in (params or {}).items() if v is not None}

    def fetch(page: int) -> tuple[list[Any], Any, int | None]:
        body = client.get_json(path, params={**base, page_param: page, count_param: count}) or {}
        items = body.get(items_key) or []
        raw_total = body.get(total_key)
        total = int(raw_total) if isinstance(raw_total, int | str) and str(raw_total).isdigit() else None
        more = len(items) >= count if total is None else (page + 1) * count < total
        return items, (page + 1 if more and items else None), total

    return iterate_pages(fetch, start, limit=limit, label=f"{client.profile.name} {path}")
