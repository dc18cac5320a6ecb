"""The generic page loop: end conditions, repeated cursors, limits, resumable state."""

from __future__ import annotations

import pytest

from airflow_provider_gtm.core.errors import GtmNotFoundError, GtmPaginationError
from airflow_provider_gtm.core.pagination import RECENT_CURSORS, Refetch, find_cursor, first_list, iterate_pages
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
