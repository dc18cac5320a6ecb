"""The generic page loop (end conditions, repeated cursors, limits, resumable state) and the paginators."""

from __future__ import annotations

import json

import pytest

from airflow_provider_gtm.core.client import ApiProfile, ApiResponse, RestClient, RetryPolicy
from airflow_provider_gtm.core.errors import GtmClientError, GtmNotFoundError, GtmPaginationError
from airflow_provider_gtm.core.pagination import (
    RECENT_CURSORS,
    BodyCursorPaginator,
    OffsetHeaderPaginator,
    PageNumberPaginator,
    Refetch,
    find_cursor,
    first_list,
    iterate_pages,
    paginate,
)
from airflow_provider_gtm.core.timing import FakeTimer


def pages_from(table):
    def fetch(state):
        return table[state]

    return fetch


def test_stops_on_last_page_and_exposes_resume_state():
    table = {0: ([1, 2], 2, 5), 2: ([3, 4], 4, 5), 4: ([5], None, 5)}
    pages = list(iterate_pages(pages_from(table), 0))
    assert [p.records for p in pages] == [[1, 2], [3, 4], [5]]
    assert [p.next_state for p in pages] == [2, 4, None]
    assert pages[0].total == 5
    resumed = list(iterate_pages(pages_from(table), pages[0].next_state))
    assert [r for p in resumed for r in p.records] == [3, 4, 5]


def refetch(timer):
    return Refetch(attempts=3, wait=1.0, max_wait=30.0, budget=60.0, timer=timer)


def test_empty_page_that_is_not_the_end_is_an_error_not_an_end():
    # Before issue #10 an empty page ended every list silently (and the fetch reported success).
    timer = FakeTimer()
    table = {0: ([1], 1, None), 1: ([], 2, None)}
    pages = []
    with pytest.raises(GtmPaginationError, match="empty page") as caught:
        pages.extend(iterate_pages(pages_from(table), 0, refetch=refetch(timer)))
    assert [p.records for p in pages] == [[1]]
    assert caught.value.retryable
    assert timer.sleeps == [1.0, 2.0, 4.0]


def test_empty_page_at_the_documented_end_ends_the_list():
    table = {0: ([1], 1, 1), 1: ([], None, 1)}
    assert [p.records for p in iterate_pages(pages_from(table), 0)] == [[1]]


def test_incomplete_page_recovers_when_refetched():
    timer = FakeTimer()
    answers = iter([([], 2, None), ([2], None, None)])
    table = {0: ([1], 1, None)}

    def fetch(state):
        return table[state] if state in table else next(answers)

    pages = list(iterate_pages(fetch, 0, refetch=refetch(timer)))
    assert [r for p in pages for r in p.records] == [1, 2]
    assert timer.sleeps == [1.0]


def test_repeated_cursor_is_an_error_instead_of_a_loop_or_an_end():
    timer = FakeTimer()
    table = {"a": ([1], "b", None), "b": ([2], "a", None)}
    with pytest.raises(GtmPaginationError, match="'a' again"):
        list(iterate_pages(pages_from(table), "a", refetch=refetch(timer)))


def test_loop_guard_memory_is_bounded():
    # A list of 10 * RECENT_CURSORS pages: the guard remembers only the recent cursors, and a
    # cursor that comes back after the window is not mistaken for a loop by memory growth.
    pages_count = RECENT_CURSORS * 10

    def fetch(state):
        return [state], (state + 1 if state + 1 < pages_count else None), None

    assert sum(1 for _ in iterate_pages(fetch, 0)) == pages_count


def test_refetch_waits_stay_within_the_budget():
    timer = FakeTimer()
    table = {0: ([1], 1, None), 1: ([], 2, None)}
    budget = Refetch(attempts=10, wait=1.0, max_wait=30.0, budget=3.0, timer=timer)
    with pytest.raises(GtmPaginationError):
        list(iterate_pages(pages_from(table), 0, refetch=budget))
    assert timer.sleeps == [1.0, 2.0]


def test_404_on_first_page_is_raised_and_mid_list_is_refetched():
    def not_found(state):
        if state == 0:
            raise GtmNotFoundError("Not Found", status=404)
        return [1], None, None

    with pytest.raises(GtmNotFoundError):
        list(iterate_pages(not_found, 0, beginning=0))
    timer = FakeTimer()
    with pytest.raises(GtmPaginationError, match="404"):
        list(iterate_pages(not_found, 0, beginning=None, refetch=refetch(timer)))
    assert len(timer.sleeps) == 3


def test_limit_truncates_and_stops():
    table = {0: ([1, 2, 3], 3, None), 3: ([4, 5, 6], 6, None), 6: ([7], None, None)}
    pages = list(iterate_pages(pages_from(table), 0, limit=4))
    assert [r for p in pages for r in p.records] == [1, 2, 3, 4]
    assert pages[-1].next_state is None


def test_cursor_and_records_discovery():
    assert find_cursor({"posts": [], "nextPageCursor": "abc"}) == "abc"
    assert find_cursor({"posts": [], "pageCursor": ""}) is None
    assert find_cursor({"next": "x", "cursorNext": "y"}, "next") == "x"
    assert first_list({"meta": {}, "comments": [1]}) == [1]


def test_find_cursor_skips_an_echo_of_the_cursor_sent():
    echo = ("pageCursor", "c1")
    assert find_cursor({"pageCursor": "c1", "posts": [], "cursor": "c2"}, echo=echo) == "c2"
    assert find_cursor({"pageCursor": "c1"}, echo=echo) is None  # the echo alone: the list ends
    assert find_cursor({"cursor": "c9", "nextPageCursor": "c2"}, echo=echo) == "c2"
    assert find_cursor({"nextPageCursor": "c1"}, echo=echo) == "c1"  # a real repeat: the guard reports it


# -- the paginator objects: request, read (end signals, incomplete pages), JSON state and resume --------


def answer(data, status=200, headers=None):
    return ApiResponse(status=status, headers=headers or {}, data=data)


def octy_total(body):
    total = body.get("total") if isinstance(body, dict) else None
    return total if isinstance(total, int) else None


def octy_exhausted(resp):
    return resp.status == 400 and "exhausted" in str(resp.data)


def octy(**kwargs):
    return OffsetHeaderPaginator(records_key="profiles", total_of=octy_total, is_end_of_list=octy_exhausted, **kwargs)


EXHAUSTED = answer({"error": "pagination cursor exhausted"}, status=400)


def json_round_trip(state):
    return json.loads(json.dumps(state))


def test_offset_header_paginator_requests_by_header_and_ends_at_the_total():
    paginator = octy()
    assert paginator.beginning == 0 and paginator.accept_statuses == (400, 404)
    assert paginator.request(5) == ({}, {"cursor": "5"})
    records, state, total = paginator.read(answer({"profiles": [1, 2], "total": 3}, headers={"cursor": "2"}), 0)
    assert (records, state, total) == ([1, 2], 2, 3)
    assert (paginator.known_total, paginator.pages_seen) == (3, 1)
    # The checkpointed state is a JSON int; a new paginator resumes from it.
    resumed = json_round_trip(state)
    assert resumed == 2 and isinstance(resumed, int)
    assert octy().read(answer({"profiles": [3], "total": 3}, headers={"cursor": "3"}), resumed) == ([3], None, 3)
    # A last page without a cursor header ends the list when it reaches the total.
    assert octy().read(answer({"profiles": [3], "total": 3}), 2) == ([3], None, 3)
    # An empty page at the total is the end.
    assert octy().read(answer({"profiles": [], "total": 3}), 3) == ([], None, 3)


def test_offset_header_paginator_exhausted_answer_is_the_end_only_where_expected():
    paginator = octy()
    assert paginator.is_end_answer(EXHAUSTED)
    assert not paginator.is_end_answer(answer({"detail": "Not Found"}, status=404))
    paginator.read(answer({"profiles": [1], "total": 3}, headers={"cursor": "1"}), 0)
    with pytest.raises(GtmPaginationError, match="exhausted before its total 3") as caught:
        paginator.read(EXHAUSTED, 1)
    assert caught.value.retryable
    assert paginator.read(EXHAUSTED, 3) == ([], None, 3)
    # No total known (an empty list, a list without totals): the exhausted answer is the end.
    assert octy().read(EXHAUSTED, 0) == ([], None, None)
    # An error answer that is not the end signal is not a page.
    with pytest.raises(GtmPaginationError, match="an error answer"):
        octy().read(answer({"detail": "Not Found"}, status=404), 1)


@pytest.mark.parametrize(("first_total", "ends"), [(100, True), (250, False)])
def test_offset_header_paginator_checks_a_resumed_exhausted_answer_against_the_first_page(first_total, ends):
    asked = []

    def fetch(state):
        asked.append(state)
        return answer({"profiles": [0], "total": first_total}, headers={"cursor": "1"})

    paginator = octy()
    resumed = json_round_trip(100)
    if ends:
        assert paginator.read(EXHAUSTED, resumed, fetch=fetch) == ([], None, 100)
    else:
        with pytest.raises(GtmPaginationError, match="exhausted before its total 250"):
            paginator.read(EXHAUSTED, resumed, fetch=fetch)
    assert asked == [0]
    assert paginator.known_total == first_total
    # The lookup is made once per iteration: the total is known from then on.
    with pytest.raises(GtmPaginationError):
        paginator.read(EXHAUSTED, 50, fetch=fetch)
    assert asked == [0]


def test_offset_header_paginator_resumed_lookup_of_an_exhausted_first_page_means_an_empty_list():
    paginator = octy()
    assert paginator.read(EXHAUSTED, 7, fetch=lambda state: EXHAUSTED) == ([], None, 0)


@pytest.mark.parametrize(("page", "why"), [
    (answer({"profiles": [], "total": 5}, headers={"cursor": "3"}), "empty page before the list's total"),
    (answer({"profiles": [1], "total": 5}), "no usable 'cursor' header"),
    (answer({"profiles": [1], "total": 5}, headers={"cursor": "x"}), "no usable 'cursor' header"),
    (answer({"profiles": [1]}, headers={"cursor": "2"}), "did not advance"),
    (answer({"records": [1], "total": 5}, headers={"cursor": "3"}), "no 'profiles' list"),
    (answer({}), "no 'profiles' list"),
    (answer([1, 2]), "no 'profiles' list"),
])
def test_offset_header_paginator_incomplete_pages(page, why):
    with pytest.raises(GtmPaginationError, match=why):
        octy(label="octy /v1/retention/profiles").read(page, 2)


def test_body_cursor_paginator_reads_the_next_cursor_from_the_body():
    paginator = BodyCursorPaginator()
    assert paginator.beginning is None and paginator.accept_statuses == ()
    assert paginator.request(None) == ({}, {})
    assert paginator.request("c1") == ({"pageCursor": "c1"}, {})
    records, state, total = paginator.read(answer({"posts": [1, 2], "nextPageCursor": "c2"}), None)
    assert (records, state, total) == ([1, 2], "c2", None)
    resumed = json_round_trip(state)
    assert resumed == "c2"
    # Documented end: no next cursor (an echo of the cursor sent is not one).
    assert BodyCursorPaginator().read(answer({"posts": [3], "pageCursor": "c2"}), resumed) == ([3], None, None)
    assert BodyCursorPaginator().read(answer({"posts": [], "pageCursor": ""}), resumed) == ([], None, None)
    configured = BodyCursorPaginator(cursor_param="after", cursor_field="next", records_key="comments")
    assert configured.request("n1") == ({"after": "n1"}, {})
    body = {"posts": [9], "comments": [1], "next": "n2", "cursor": "zz"}
    assert configured.read(answer(body), "n1") == ([1], "n2", None)


@pytest.mark.parametrize(("body", "records_key", "why"), [
    ([1, 2], None, "the answer is list, not an object"),
    (None, None, "the answer is NoneType, not an object"),
    ({"nextPageCursor": "c2"}, None, "no 'records' list"),
    ({"posts": [1], "nextPageCursor": "c2"}, "comments", "no 'comments' list"),
])
def test_body_cursor_paginator_incomplete_pages(body, records_key, why):
    with pytest.raises(GtmPaginationError, match=why):
        BodyCursorPaginator(records_key=records_key).read(answer(body), "c1")


def test_page_number_paginator_ends_at_total_or_on_a_short_page():
    paginator = PageNumberPaginator(count=2)
    assert paginator.beginning == 0
    assert paginator.request(3) == ({"_page": 3, "_count": 2}, {})
    records, state, total = paginator.read(answer({"Items": [1, 2], "Total": "5"}), 0)
    assert (records, state, total) == ([1, 2], 1, 5)
    resumed = json_round_trip(state)
    assert resumed == 1 and isinstance(resumed, int)
    assert paginator.read(answer({"Items": [3, 4], "Total": 5}), resumed) == ([3, 4], 2, 5)
    assert paginator.read(answer({"Items": [5], "Total": 5}), 2) == ([5], None, 5)
    # Documented end: Total reached, even when the last page is full or empty.
    assert paginator.read(answer({"Items": [1, 2], "Total": 2}), 0) == ([1, 2], None, 2)
    assert paginator.read(answer({"Items": [], "Total": 0}), 0) == ([], None, 0)
    # A list without Total ends on a page shorter than the page size.
    assert paginator.read(answer({"Items": [1, 2]}), 0) == ([1, 2], 1, None)
    assert paginator.read(answer({"Items": [3]}), 1) == ([3], None, None)
    assert paginator.read(answer({"Items": []}), 2) == ([], None, None)
    custom = PageNumberPaginator(count=10, page_param="p", count_param="n", items_key="data", total_key="count")
    assert custom.request(0) == ({"p": 0, "n": 10}, {})
    assert custom.read(answer({"data": [1], "count": 21}), 1) == ([1], 2, 21)


@pytest.mark.parametrize(("body", "why"), [
    ({"Items": [], "Total": 5}, "empty page while Total is 5"),
    ({"Total": 5}, "no 'Items' list"),
    ({"Items": {"a": 1}, "Total": 5}, "no 'Items' list"),
    ("not json", "no 'Items' list"),
])
def test_page_number_paginator_incomplete_pages(body, why):
    with pytest.raises(GtmPaginationError, match=why):
        PageNumberPaginator(count=2).read(answer(body), 0)


# -- paginate(): each page's request through the client, the one loop, resume from a JSON state --------

BASE = "https://api.example.test"


def client(timer):
    return RestClient(profile=ApiProfile(name="testapi"), base_url=BASE, timer=timer,
                      retry=RetryPolicy(max_attempts=2, max_wait_seconds=60, jitter=0))


def test_paginate_sends_the_paginators_requests_and_resumes_from_a_checkpointed_state(requests_mock):
    def octy_answer(request, context):
        cursor = int(request.headers["cursor"])
        context.headers["cursor"] = str(cursor + 2)
        return {"profiles": list(range(cursor, min(cursor + 2, 5))), "total": 5}

    requests_mock.get(f"{BASE}/v1/profiles", json=octy_answer)
    api = client(FakeTimer())
    paginator = octy()
    pages = list(paginate(api, "/v1/profiles", paginator, params={"rfm": "1-5", "segments": None}))
    assert [p.records for p in pages] == [[0, 1], [2, 3], [4]]
    assert [p.next_state for p in pages] == [2, 4, None]
    assert paginator.label == "testapi /v1/profiles"
    assert all(r.qs == {"rfm": ["1-5"]} for r in requests_mock.request_history)
    resumed = paginate(api, "/v1/profiles", octy(), start=json_round_trip(pages[0].next_state))
    assert [r for p in resumed for r in p.records] == [2, 3, 4]


def test_paginate_ends_on_an_accepted_end_answer_and_raises_any_other(requests_mock):
    api = client(FakeTimer())
    requests_mock.get(f"{BASE}/v1/items", [
        {"json": {"profiles": [1], "total": None}, "headers": {"cursor": "1"}},
        {"status_code": 400, "json": {"error": "pagination cursor exhausted"}},
    ])
    assert [p.records for p in paginate(api, "/v1/items", octy())] == [[1]]
    requests_mock.get(f"{BASE}/v1/segments", status_code=400, json={"error": "Missing Parameters"})
    with pytest.raises(GtmClientError):
        list(paginate(api, "/v1/segments", octy()))
    requests_mock.get(f"{BASE}/v1/nowhere", status_code=404, json={"detail": "Not Found"})
    with pytest.raises(GtmNotFoundError):
        list(paginate(api, "/v1/nowhere", octy()))


def test_paginate_body_cursor_and_page_number_lists(requests_mock):
    api = client(FakeTimer())
    requests_mock.get(f"{BASE}/feed", [
        {"json": {"posts": [1], "nextPageCursor": "c2"}},
        {"json": {"posts": [2], "pageCursor": "c2"}},
    ])
    pages = list(paginate(api, "/feed", BodyCursorPaginator(), params={"pageSize": 1, "order": None}))
    assert [(p.records, p.state, p.next_state) for p in pages] == [([1], None, "c2"), ([2], "c2", None)]
    assert [r.qs for r in requests_mock.request_history] == [{"pagesize": ["1"]},
                                                             {"pagesize": ["1"], "pagecursor": ["c2"]}]
    requests_mock.get(f"{BASE}/v2/campaign", [
        {"json": {"Items": [1, 2], "Total": 5}},
        {"json": {"Items": [], "Total": 5}},  # incomplete: re-fetched
        {"json": {"Items": [3, 4], "Total": 5}},
        {"json": {"Items": [5], "Total": 5}},
    ])
    timer = FakeTimer()
    pages = list(paginate(client(timer), "/v2/campaign", PageNumberPaginator(count=2), limit=10))
    assert [p.records for p in pages] == [[1, 2], [3, 4], [5]]
    assert timer.sleeps == [1.0]
    assert [r.qs["_page"] for r in requests_mock.request_history[2:]] == [["0"], ["1"], ["1"], ["2"]]
