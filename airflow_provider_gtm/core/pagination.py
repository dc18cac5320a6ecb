"""Paginators for the three paging styles of the four APIs, as generators of one page at a time.

Every paginator yields :class:`Page` objects and holds only the current page in memory. Each page
carries ``next_state``: a small JSON value from which the same paginator can resume (a fetch
operator checkpoints it after writing the page, so a retried task resumes where it stopped).

**Completeness rule** (one for every API): a list ends only on the API's documented end signal,
which each paginator below declares (Octy: the cursor reaching ``total``, or the 400 "pagination
cursor exhausted" where the end is expected; Oktopost: ``Total`` reached, or the last page of a list
without ``Total``; Octopus: no next cursor). Anything else in the middle of a list (an empty or
``{}`` page, a missing cursor, a repeated cursor, a 404, a body that is not the list's shape) is an
incomplete page: :func:`iterate_pages` re-fetches it a few times and then raises
:class:`~airflow_provider_gtm.core.errors.GtmPaginationError`, which is retryable (the operator's
page checkpoint makes Airflow's retry resume at that page).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_gtm.core import redact
from airflow_provider_gtm.core.client import ApiResponse, RestClient
from airflow_provider_gtm.core.errors import GtmNotFoundError, GtmPaginationError
from airflow_provider_gtm.core.timing import REAL_TIMER, Timer

log = logging.getLogger(__name__)
redact.protect(log)  # no secret reaches a log line, even outside a task (core/redact.py)

#: Re-fetches of one incomplete page before the paginator gives up with GtmPaginationError.
PAGE_REFETCHES = 3
#: How many recent cursors the loop guard remembers (constant memory, however long the list).
RECENT_CURSORS = 64


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


def incomplete(label: str, state: Any, why: str) -> GtmPaginationError:
    """The error for a page that is neither a full page nor the list's documented end."""
    return GtmPaginationError(f"incomplete page at cursor {state!r}: {why}", api=label, path="")


@dataclass
class Refetch:
    """How often and how long an incomplete page is re-fetched (waits go through ``timer``).

    :param attempts: re-fetches after the first try.
    :param wait: first wait in seconds, doubled each time, capped at ``max_wait``.
    :param budget: the most all waits of one page may add up to.
    """

    attempts: int = PAGE_REFETCHES
    wait: float = 1.0
    max_wait: float = 30.0
    budget: float = 60.0
    timer: Timer = REAL_TIMER

    @classmethod
    def of(cls, client: RestClient) -> Refetch:
        """Waits from the client's retry policy (so connection extras such as ``max_wait_seconds`` apply)."""
        policy = client.retry
        return cls(wait=policy.backoff_initial, max_wait=policy.backoff_max,
                   budget=policy.max_wait_seconds, timer=client.timer)


def iterate_pages(
    fetch: FetchPage,
    start: Any,
    *,
    limit: int | None = None,
    label: str = "list",
    beginning: Any = None,
    refetch: Refetch | None = None,
) -> Iterator[Page]:
    """Drive ``fetch(state) -> (records, next_state, total)`` until the list ends.

    ``fetch`` returns ``next_state=None`` only on the API's documented end signal and raises
    :class:`GtmPaginationError` for a page that is neither full nor the end. On top of that the
    loop refuses, as incomplete: an empty page that is not the end, a next cursor equal to one of
    the last :data:`RECENT_CURSORS` cursors (constant memory), and a 404 after the list's first page
    (a 404 on the very first page, at ``beginning``, is a wrong path or host and raised as is).
    An incomplete page is re-fetched (``refetch``) before the error is raised. Ends early, without
    error, once ``limit`` records were yielded.
    """
    if limit is not None and limit < 1:
        return
    refetch = refetch or Refetch()
    recent: deque[str] = deque(maxlen=RECENT_CURSORS)
    state = start
    yielded = 0
    number = 0
    while True:
        recent.append(repr(state))
        records, next_state, total = _fetch_complete(fetch, state, label, recent, refetch,
                                                     at_beginning=number == 0 and state == beginning)
        if limit is not None and yielded + len(records) >= limit:
            records = records[: limit - yielded]
            next_state = None
        if not records and next_state is None:
            return
        yielded += len(records)
        yield Page(records=records, number=number, total=total, state=state, next_state=next_state)
        if next_state is None:
            return
        state = next_state
        number += 1


def _fetch_complete(
    fetch: FetchPage, state: Any, label: str, recent: deque[str], refetch: Refetch, *, at_beginning: bool
) -> tuple[list[Any], Any, int | None]:
    """One page that is either full or the documented end, re-fetched while it is incomplete."""
    waited = 0.0
    attempt = 0
    while True:
        try:
            records, next_state, total = fetch(state)
            if not isinstance(records, list):
                raise incomplete(label, state, f"the records are a {type(records).__name__}, not a list")
            if next_state is not None and not records:
                raise incomplete(label, state, "an empty page where the API does not signal the end")
            if next_state is not None and repr(next_state) in recent:
                raise incomplete(label, state, f"the API sent cursor {next_state!r} again (a loop)")
            return records, next_state, total
        except GtmNotFoundError as error:
            if at_beginning:
                raise
            last: GtmPaginationError = incomplete(
                label, state, f"HTTP 404 in the middle of the list: {error.api_message}")
        except GtmPaginationError as error:
            last = error
        wait = min(refetch.max_wait, refetch.wait * (2 ** attempt))
        if attempt >= refetch.attempts or waited + wait > refetch.budget:
            raise last
        attempt += 1
        log.warning("%s: %s; re-fetching the page in %.1fs (%d of %d)",
                    label, last.api_message, wait, attempt, refetch.attempts)
        refetch.timer.sleep(wait)
        waited += wait


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

    Documented end: the next cursor reaching ``total`` (``total_of(body)``), or an error answer for
    which ``is_end_of_list`` is true (Octy's 400 "pagination cursor exhausted") where the end is
    expected: at a cursor at or past the known total, or when no total is known (an empty list, a
    list without totals). A resumed iteration knows no total yet: an exhausted answer there is checked
    against the total of the list's first page before it is taken for the end. Everything else
    (an exhausted answer before the total, an empty page, a missing or non-advancing ``cursor``
    header, a body without ``records_key``) is an incomplete page.
    """
    label = f"{client.profile.name} {path}"
    known_total: list[int | None] = [None]
    pages_seen = [0]

    def get(cursor: int) -> ApiResponse:
        return client.request(
            "GET", path, params=params, headers={"cursor": str(cursor)}, accept_statuses=(400, 404)
        )

    def total_from_first_page() -> int | None:
        resp = get(0)
        body = resp.data if resp.status < 400 and isinstance(resp.data, dict) else None
        return total_of(body) if body is not None else (0 if is_end_of_list(resp) else None)

    def fetch(cursor: int) -> tuple[list[Any], Any, int | None]:
        resp = get(cursor)
        if resp.status >= 400:
            if is_end_of_list(resp):
                total = known_total[0]
                if total is None and cursor > 0 and not pages_seen[0]:
                    total = known_total[0] = total_from_first_page()
                if total is None or cursor >= total:
                    return [], None, total
                raise incomplete(label, cursor, f"the API said the list is exhausted before its total {total}: "
                                 f"{client.error_message(resp)}")
            client.raise_for_response(resp, "GET", path)
        body = resp.data
        if not isinstance(body, dict) or not isinstance(body.get(records_key), list):
            raise incomplete(label, cursor, f"the answer has no {records_key!r} list")
        records = body[records_key]
        pages_seen[0] += 1
        total = total_of(body)
        if total is not None:
            known_total[0] = total
        if not records:
            if total is not None and cursor >= total:
                return [], None, total
            raise incomplete(label, cursor, "an empty page before the list's total")
        end = cursor + len(records)
        header = str(resp.headers.get("cursor") or "").strip()
        if not header.isdigit():
            if total is not None and end >= total:
                return records, None, total
            raise incomplete(label, cursor, f"no usable 'cursor' header ({header!r}) before the list's total")
        next_cursor = int(header)
        if total is not None and next_cursor >= total:
            return records, None, total
        if next_cursor <= cursor:
            raise incomplete(label, cursor, f"the 'cursor' header did not advance ({next_cursor})")
        return records, next_cursor, total

    return iterate_pages(fetch, start, limit=limit, label=label, beginning=0, refetch=Refetch.of(client))


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
    label = f"{client.profile.name} {path}"

    def fetch(cursor: str | None) -> tuple[list[Any], Any, int | None]:
        query = dict(base)
        if cursor:
            query[cursor_param] = cursor
        body = client.get_json(path, params=query)
        if not isinstance(body, dict):
            raise incomplete(label, cursor, f"the answer is {type(body).__name__}, not an object")
        records = body.get(records_key) if records_key is not None else next(
            (value for value in body.values() if isinstance(value, list)), None)
        if not isinstance(records, list):
            raise incomplete(label, cursor, f"the answer has no {records_key or 'records'!r} list")
        # Documented end: no next cursor.
        return records, find_cursor(body, cursor_field, (cursor_param, cursor or None)), None

    return iterate_pages(fetch, start, limit=limit, label=label, beginning=None, refetch=Refetch.of(client))


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
    label = f"{client.profile.name} {path}"

    def fetch(page: int) -> tuple[list[Any], Any, int | None]:
        body = client.get_json(path, params={**base, page_param: page, count_param: count})
        if not isinstance(body, dict) or not isinstance(body.get(items_key), list):
            raise incomplete(label, page, f"the answer has no {items_key!r} list")
        items = body[items_key]
        raw_total = body.get(total_key)
        total = int(raw_total) if isinstance(raw_total, int | str) and str(raw_total).isdigit() else None
        if total is None:
            # Lists without Total end on their last page: one shorter than the page size.
            return items, (page + 1 if len(items) >= count else None), None
        # Documented end: Total reached (the SDK loops while page * count < Total).
        if (page + 1) * count >= total:
            return items, None, total
        if not items:
            raise incomplete(label, page, f"an empty page while Total is {total}")
        return items, page + 1, total

    return iterate_pages(fetch, start, limit=limit, label=label, beginning=0, refetch=Refetch.of(client))
