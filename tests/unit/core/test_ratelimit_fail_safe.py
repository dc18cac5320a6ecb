"""The limiter fails safe (issue 23): a lost or garbled state file, a clock stepped back, a hold
longer than the wait budget, a store that forgot a key block. Waits are a FakeTimer's, never real.
"""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_gtm.core.client import ApiProfile, RestClient, RetryPolicy
from airflow_provider_gtm.core.errors import GtmRateLimitError
from airflow_provider_gtm.core.ratelimit import FileLimiterStore, KeyBlockedError, LimiterStore, RateLimiter, Window
from airflow_provider_gtm.core.timing import FakeTimer

OKTOPOST = [Window(60, 60.0), Window(120, 5.0)]


# -- a lost or unreadable state file ---------------------------------------------------------------


@pytest.mark.parametrize("damage", ["deleted", "garbled", "empty", "not an object"])
def test_a_state_file_lost_while_a_block_is_recorded_sends_nothing_for_a_window(tmp_path, caplog, damage):
    timer = FakeTimer()
    path = tmp_path / "key.json"
    first = RateLimiter(OKTOPOST, timer, FileLimiterStore(str(path)))
    for _ in range(5):
        first.acquire()
    first.block_for(900)
    {"deleted": path.unlink, "garbled": lambda: path.write_text('{"stamps": [1, 2'),
     "empty": lambda: path.write_text(""), "not an object": lambda: path.write_text("[]")}[damage]()

    # A new process (a retry, the next task): it cannot know of the block, and must not trust the
    # empty history either. Before: 5 calls went out at once into the blocked key.
    later = RateLimiter(OKTOPOST, timer, FileLimiterStore(str(path)))
    with caplog.at_level(logging.WARNING):
        assert later.acquire() == pytest.approx(60.1)
    assert "assuming the windows are full" in caplog.text
    assert timer.sleeps == [pytest.approx(60.1)], "one window, nothing sent before it ended"
    assert json.loads(path.read_text())["lost_at"] == pytest.approx(timer.time() - 60.1)


def test_a_first_use_is_no_loss(tmp_path):
    timer = FakeTimer()
    limiter = RateLimiter(OKTOPOST, timer, FileLimiterStore(str(tmp_path / "new" / "key.json")))
    assert [limiter.acquire() for _ in range(60)] == [0] * 60


def test_the_process_that_recorded_a_block_records_it_again_when_the_file_is_lost(tmp_path, caplog):
    timer = FakeTimer()
    path = tmp_path / "key.json"
    limiter = RateLimiter(OKTOPOST, timer, FileLimiterStore(str(path)))
    limiter.block_for(900)
    timer.sleep(100)
    path.unlink()
    with caplog.at_level(logging.WARNING):
        assert limiter.acquire(max_block_wait=2000) == pytest.approx(800)
    assert "forgot a key block with 800s left" in caplog.text
    assert RateLimiter(OKTOPOST, timer, FileLimiterStore(str(path))).blocked_for() == 0  # over now


# -- a clock stepped back ----------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["memory", "file"])
def test_a_clock_stepped_back_an_hour_waits_at_most_one_window(tmp_path, caplog, store):
    timer = FakeTimer(now=7200.0)
    make = (lambda: LimiterStore()) if store == "memory" else (lambda: FileLimiterStore(str(tmp_path / "k.json")))
    shared = make()
    limiter = RateLimiter(OKTOPOST, timer, shared)
    for _ in range(60):
        limiter.acquire()
    timer.now -= 3600  # the host's clock is stepped back an hour
    with caplog.at_level(logging.WARNING):
        waited = RateLimiter(OKTOPOST, timer, shared if store == "memory" else make()).acquire()
    # Before: 3660 s, silently. Now: the 60 calls count as made "now", one window at most.
    assert waited == pytest.approx(60.1)
    assert "the clock went back by about 3600s" in caplog.text


@pytest.mark.parametrize("store", ["memory", "file"])
def test_a_block_seen_after_a_clock_step_lasts_no_longer_than_recorded(tmp_path, store):
    timer = FakeTimer(now=7200.0)
    shared = LimiterStore() if store == "memory" else FileLimiterStore(str(tmp_path / "k.json"))
    RateLimiter([], timer, shared).block_for(900)
    timer.now -= 3600
    later = RateLimiter([], timer, shared)
    assert later.blocked_for() == pytest.approx(900)
    with pytest.raises(KeyBlockedError) as caught:
        later.acquire(max_block_wait=300)
    assert caught.value.wait_seconds == pytest.approx(900)


# -- waits capped by the budget ------------------------------------------------------------------------


def test_a_pause_longer_than_the_budget_fails_at_once_naming_it():
    timer = FakeTimer()
    limiter = RateLimiter([Window(10, 1.0)], timer)
    limiter.observe_headers({"RateLimit-Remaining": "0", "RateLimit-Reset": "3600"})
    with pytest.raises(KeyBlockedError) as caught:
        limiter.acquire(max_block_wait=300)
    assert (caught.value.blocked, timer.sleeps) == (False, [])

    client = RestClient(profile=ApiProfile(name="testapi"), base_url="https://api.example.test", timer=timer,
                        limiter=limiter, retry=RetryPolicy(max_wait_seconds=300))
    with pytest.raises(GtmRateLimitError, match=r"asked to pause calls for 3600s, longer than the wait budget "
                                                r"of 300s \(connection extra 'max_wait_seconds'\); nothing was sent"):
        client.get_json("/x")
    assert timer.sleeps == []


def test_window_waits_are_still_waited_within_any_budget():
    timer = FakeTimer()
    limiter = RateLimiter([Window(2, 10.0)], timer)
    limiter.acquire()
    limiter.acquire()
    assert limiter.acquire(max_block_wait=1) == pytest.approx(10.1)

