"""Paginators for the three paging styles of the four APIs: small objects driven by one page loop.

**Completeness rule** (one for every API): a list ends only on the API's documented end signal,
which each paginator below declares (Octy: the cursor reaching ``total``, or the 400 "pagination
cursor exhausted" where the end is expected; Oktopost: ``Total`` reached, or the last page of a list
without ``Total``; Octopus: no next cursor). Anything else in the middle of a list (an empty or
``{}`` page, a missing cursor, a repeated cursor, a 404, a body that is not the list's shape) is an
incomplete page: :func:`iterate_pages` re-fetches it a few times and then raises
:class:`~airflow_provider_gtm.core.errors.GtmPaginationError`, which is retryable (the operator's
page checkpoint makes Airflow's retry resume at that page).

A :class:`Paginator` says how to request the page at a state and how to read its answer
(:class:`OffsetHeaderPaginator` for Octy, :class:`BodyCursorPaginator` for Octopus,
:class:`PageNumberPaginator` for Oktopost); :func:`paginate` sends the requests and drives the one
loop, :func:`iterate_pages`. The loop yields :class:`Page` objects and holds only the current page
in memory. Each page carries ``next_state``: a small JSON value from which the same paginator can
resume (a fetch operator checkpoints it after writing the page, so a retried task resumes where it
stopped).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

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


#: What reading one page gives: its records, the state of the next page (``None`` at the end), the total.
PageRead = tuple[list[Any], Any, int | None]
#: Reads the page at a state (what :func:`iterate_pages` drives).
FetchPage = Callable[[Any], PageRead]
#: Sends the request for the page at a state and returns the answer as it is (error answers included).
GetAnswer = Callable[[Any], ApiResponse]


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


def find_list(body: Mapping[str, Any], key: str | None = None) -> list[Any] | None:
    """The records of a page: ``body[key]`` if given, else the first list-valued field; ``None`` if none."""
    if key is not None:
        value = body.get(key)
        return value if isinstance(value, list) else None
    return next((value for value in body.values() if isinstance(value, list)), None)


def first_list(body: Mapping[str, Any], key: str | None = None) -> list[Any]:
    """The records of a page: ``body[key]`` if given, else the first list-valued field (``[]`` if none)."""
    found = find_list(body, key)
    return [] if found is None else found


def _status_message(answer: ApiResponse) -> str:
    return f"HTTP {answer.status}"


@dataclass(kw_only=True)
class Paginator(ABC):
    """How one paging style requests the page at a state and reads the answer (one object per iteration).

    The state is a small JSON value (an int offset, an opaque string cursor, an int page number):
    :attr:`Page.next_state` holds it, a fetch operator checkpoints it, and passing it back as
    ``start`` resumes the list at that page. :func:`paginate` sends ``request(state)`` for every page,
    starting at ``start`` or :attr:`beginning`, and hands each answer to ``read``.

    :param label: names the list in errors (:func:`paginate` sets ``"<API> <path>"``).
    :param message_of: the API's message in an error answer (:func:`paginate` sets the client's).
    """

    #: The state of the list's first page (a 404 there is a wrong path or host, raised as is).
    beginning: ClassVar[Any] = None
    #: Error statuses the client returns instead of raising, for :meth:`is_end_answer` to judge.
    accept_statuses: ClassVar[tuple[int, ...]] = ()

    label: str = "list"
    message_of: Callable[[ApiResponse], str] = _status_message

    def request(self, state: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """The query parameters and headers, added to the list's own, that request the page at ``state``."""
        return {}, {}

    def is_end_answer(self, answer: ApiResponse) -> bool:
        """Whether an error answer (one of :attr:`accept_statuses`) is the API's end-of-list signal.

        :func:`paginate` raises any other error answer as the client's typed error.
        """
        return False

    @abstractmethod
    def read(self, answer: ApiResponse, state: Any, *, fetch: GetAnswer | None = None) -> PageRead:
        """The page's ``(records, next_state, total)``; ``next_state`` is ``None`` only at the documented end.

        :param answer: the answer to ``request(state)``: a success, or an error that :meth:`is_end_answer`.
        :param state: the state the page was requested at.
        :param fetch: the answer at another state of the same list, for a paginator that must look
            back (Octy checks an "exhausted" answer of a resumed list against the first page's total).
        :raises GtmPaginationError: (:func:`incomplete`) the page is neither full nor the list's end.
        """


def _no_total(body: Any) -> int | None:
    return None


def _never_end(answer: ApiResponse) -> bool:
    return False


@dataclass(kw_only=True)
class OffsetHeaderPaginator(Paginator):
    """A list paged by a ``cursor`` request/response header holding an offset (Octy); the state is the offset.

    Documented end: the next cursor reaching ``total`` (``total_of(body)``), or an error answer for
    which ``is_end_of_list`` is true (Octy's 400 "pagination cursor exhausted") where the end is
    expected: at a cursor at or past the known total, or when no total is known (an empty list, a
    list without totals). A resumed iteration knows no total yet: an exhausted answer there is checked
    against the total of the list's first page (through ``read``'s ``fetch``; without it, as when no
    total is known) before it is taken for the end. Everything else (an exhausted answer before the
    total, an empty page, a missing or non-advancing ``cursor`` header, a body without
    ``records_key``) is an incomplete page.

    Example::

        >>> paginator = OffsetHeaderPaginator(records_key="profiles", total_of=lambda body: body["total"])
        >>> paginator.request(0)
        ({}, {'cursor': '0'})
        >>> paginator.read(ApiResponse(200, {"cursor": "2"}, {"profiles": [1, 2], "total": 3}), 0)
        ([1, 2], 2, 3)
        >>> paginator.read(ApiResponse(200, {"cursor": "3"}, {"profiles": [3], "total": 3}), 2)
        ([3], None, 3)
        >>> # for page in paginate(client, "/v1/retention/profiles", paginator): ...

    :param records_key: the body field holding the page's records.
    :param total_of: the list's total in a page's body (``None`` when it does not tell).
    :param is_end_of_list: whether an error answer is the API's end of the list.
    """

    beginning: ClassVar[Any] = 0
    accept_statuses: ClassVar[tuple[int, ...]] = (400, 404)

    records_key: str
    total_of: Callable[[Any], int | None] = _no_total
    is_end_of_list: Callable[[ApiResponse], bool] = _never_end
    #: The list's total as last seen (``None`` until a page or the first-page lookup tells it).
    known_total: int | None = field(default=None, init=False)
    #: Pages read successfully in this iteration.
    pages_seen: int = field(default=0, init=False)

    def request(self, state: Any) -> tuple[dict[str, Any], dict[str, str]]:
        return {}, {"cursor": str(state)}

    def is_end_answer(self, answer: ApiResponse) -> bool:
        return self.is_end_of_list(answer)

    def read(self, answer: ApiResponse, state: Any, *, fetch: GetAnswer | None = None) -> PageRead:
        cursor = int(state)
        if answer.status >= 400:
            if not self.is_end_of_list(answer):
                raise incomplete(self.label, cursor, f"an error answer: {self.message_of(answer)}")
            total = self.known_total
            if total is None and cursor > 0 and not self.pages_seen and fetch is not None:
                total = self.known_total = self._total_from_first_page(fetch)
            if total is None or cursor >= total:
                return [], None, total
            raise incomplete(self.label, cursor, f"the API said the list is exhausted before its total {total}: "
                             f"{self.message_of(answer)}")
        body = answer.data
        if not isinstance(body, dict) or not isinstance(body.get(self.records_key), list):
            raise incomplete(self.label, cursor, f"the answer has no {self.records_key!r} list")
        records = body[self.records_key]
        self.pages_seen += 1
        total = self.total_of(body)
        if total is not None:
            self.known_total = total
        if not records:
            if total is not None and cursor >= total:
                return [], None, total
            raise incomplete(self.label, cursor, "an empty page before the list's total")
        end = cursor + len(records)
        header = str(answer.headers.get("cursor") or "").strip()
        if not header.isdigit():
            if total is not None and end >= total:
                return records, None, total
            raise incomplete(self.label, cursor, f"no usable 'cursor' header ({header!r}) before the list's total")
        next_cursor = int(header)
        if total is not None and next_cursor >= total:
            return records, None, total
        if next_cursor <= cursor:
            raise incomplete(self.label, cursor, f"the 'cursor' header did not advance ({next_cursor})")
        return records, next_cursor, total

    def _total_from_first_page(self, fetch: GetAnswer) -> int | None:
        answer = fetch(self.beginning)
        body = answer.data if answer.status < 400 and isinstance(answer.data, dict) else None
        return self.total_of(body) if body is not None else (0 if self.is_end_of_list(answer) else None)


@dataclass(kw_only=True)
class BodyCursorPaginator(Paginator):
    """A list paged by an opaque cursor returned in the body (Octopus ``pageCursor``); the state is the cursor.

    The first page is requested without a cursor (state ``None``). Documented end: no next cursor
    in the body (:func:`find_cursor`; an echo of the cursor sent is not a next cursor). A body that
    is not an object, or has no records list (:func:`find_list`), is an incomplete page.

    Example::

        >>> paginator = BodyCursorPaginator()
        >>> paginator.request("c1")
        ({'pageCursor': 'c1'}, {})
        >>> paginator.read(ApiResponse(200, {}, {"posts": [1, 2], "nextPageCursor": "c2"}), "c1")
        ([1, 2], 'c2', None)
        >>> paginator.read(ApiResponse(200, {}, {"posts": [3]}), "c2")
        ([3], None, None)
        >>> # for page in paginate(client, "/v1/posts", paginator, params={"pageSize": 20}): ...

    :param cursor_param: the query parameter that sends the cursor.
    :param cursor_field: the body field holding the next cursor (default: the key naming a cursor).
    :param records_key: the body field holding the records (default: the first list-valued field).
    """

    cursor_param: str = "pageCursor"
    cursor_field: str | None = None
    records_key: str | None = None

    def request(self, state: Any) -> tuple[dict[str, Any], dict[str, str]]:
        return ({self.cursor_param: state} if state else {}), {}

    def read(self, answer: ApiResponse, state: Any, *, fetch: GetAnswer | None = None) -> PageRead:
        body = answer.data
        if not isinstance(body, dict):
            raise incomplete(self.label, state, f"the answer is {type(body).__name__}, not an object")
        records = find_list(body, self.records_key)
        if records is None:
            raise incomplete(self.label, state, f"the answer has no {self.records_key or 'records'!r} list")
        # Documented end: no next cursor.
        return records, find_cursor(body, self.cursor_field, (self.cursor_param, state or None)), None


@dataclass(kw_only=True)
class PageNumberPaginator(Paginator):
    """A list paged by page number and page size with a total (Oktopost ``_page``/``_count``); the state is the page.

    Documented end: ``Total`` reached (the SDK loops while ``page * count < Total``); a list without
    ``Total`` ends on its last page, one shorter than the page size. An empty page before ``Total``,
    or a body without ``items_key``, is an incomplete page.

    Example::

        >>> paginator = PageNumberPaginator(count=2)
        >>> paginator.request(0)
        ({'_page': 0, '_count': 2}, {})
        >>> paginator.read(ApiResponse(200, {}, {"Items": [1, 2], "Total": 3}), 0)
        ([1, 2], 1, 3)
        >>> paginator.read(ApiResponse(200, {}, {"Items": [3], "Total": 3}), 1)
        ([3], None, 3)
        >>> # for page in paginate(client, "/v2/campaign", paginator): ...

    :param count: the page size.
    """

    beginning: ClassVar[Any] = 0

    count: int
    page_param: str = "_page"
    count_param: str = "_count"
    items_key: str = "Items"
    total_key: str = "Total"

    def request(self, state: Any) -> tuple[dict[str, Any], dict[str, str]]:
        return {self.page_param: state, self.count_param: self.count}, {}

    def read(self, answer: ApiResponse, state: Any, *, fetch: GetAnswer | None = None) -> PageRead:
        page = int(state)
        body = answer.data
        if not isinstance(body, dict) or not isinstance(body.get(self.items_key), list):
            raise incomplete(self.label, page, f"the answer has no {self.items_key!r} list")
        items = body[self.items_key]
        raw_total = body.get(self.total_key)
        total = int(raw_total) if isinstance(raw_total, int | str) and str(raw_total).isdigit() else None
        if total is None:
            # Lists without Total end on their last page: one shorter than the page size.
            return items, (page + 1 if len(items) >= self.count else None), None
        # Documented end: Total reached.
        if (page + 1) * self.count >= total:
            return items, None, total
        if not items:
            raise incomplete(self.label, page, f"an empty page while Total is {total}")
        return items, page + 1, total


def paginate(
    client: RestClient,
    path: str,
    paginator: Paginator,
    *,
    params: Mapping[str, Any] | None = None,
    start: Any = None,
    limit: int | None = None,
) -> Iterator[Page]:
    """Pages of the list at ``GET path``, requested as ``paginator`` says and driven by :func:`iterate_pages`.

    Each page's request is the list's ``params`` (``None`` values dropped) plus ``paginator.request(state)``,
    sent through ``client.request`` (retries, rate limits) with the paginator's ``accept_statuses``;
    an error answer the paginator does not take for the end is raised as the client's typed error.

    Example::

        paginator = PageNumberPaginator(count=100)
        for page in paginate(client, "/v2/campaign", paginator, params={"status": "active"}):
            write(page.records)  # then checkpoint page.next_state

    :param start: the state to start from (a resumed fetch passes ``Page.next_state``); default
        :attr:`Paginator.beginning`.
    :param limit: stop after this many records.
    """
    base = {key: value for key, value in (params or {}).items() if value is not None}
    paginator.label = f"{client.profile.name} {path}"
    paginator.message_of = client.error_message

    def get(state: Any) -> ApiResponse:
        extra, headers = paginator.request(state)
        return client.request("GET", path, params={**base, **extra} or None, headers=headers or None,
                              accept_statuses=paginator.accept_statuses)

    def fetch(state: Any) -> PageRead:
        answer = get(state)
        if answer.status >= 400 and not paginator.is_end_answer(answer):
            client.raise_for_response(answer, "GET", path)
        return paginator.read(answer, state, fetch=get)

    return iterate_pages(fetch, paginator.beginning if start is None else start, limit=limit,
                         label=paginator.label, beginning=paginator.beginning, refetch=Refetch.of(client))
