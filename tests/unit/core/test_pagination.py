"""The generic page loop: end conditions, repeated cursors, limits, resumable state."""

from __future__ import annotations

from airflow_provider_gtm.core.pagination import find_cursor, first_list, iterate_pages


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


def test_stops_on_empty_page():
    table = {0: ([1], 1, None), 1: ([], 2, None)}
    assert [p.records for p in iterate_pages(pages_from(table), 0)] == [[1]]


def test_repeated_cursor_stops_instead_of_looping(caplog):
    table = {"a": ([1], "b", None), "b": ([2], "a", None)}
    pages = list(iterate_pages(pages_from(table), "a"))
    assert [p.records for p in pages] == [[1], [2]]
    assert "again" in caplog.text


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
