"""Sliding windows, header pacing and key blocks, on a virtual clock."""

from __future__ import annotations

import pytest

from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.core.ratelimit import KeyBlockedError, RateLimiter, Window, parse_windows
from airflow_provider_gtm.core.timing import FakeTimer


def test_two_windows_enforced_at_once():
    timer = FakeTimer()
    limiter = RateLimiter([Window(60, 60.0), Window(120, 5.0)], timer)
    for _ in range(60):
        assert limiter.acquire() == 0
    # A full window waits until the oldest call leaves it, plus a 0.1 s safety margin for latency.
    assert limiter.acquire() == pytest.approx(60.1)
    assert timer.now == pytest.approx(60.1)


def test_short_window_binds_first():
    timer = FakeTimer()
    limiter = RateLimiter([Window(60, 60.0), Window(3, 5.0)], timer)
    for _ in range(3):
        limiter.acquire()
    assert limiter.acquire() == pytest.approx(5.1)


def test_minimum_completion_time_is_reached_without_overshoot():
    timer = FakeTimer()
    limiter = RateLimiter([Window(10, 1.0)], timer)
    for _ in range(100):
        limiter.acquire()
    # 100 calls at 10 per second: the 100th call may start at t=9 s; the 0.1 s safety margin
    # adds 0.1 s per refill, nothing more.
    assert timer.now == pytest.approx(9.9)


def test_header_pacing_waits_for_refill():
    timer = FakeTimer()
    limiter = RateLimiter([], timer)
    limiter.observe_headers({"RateLimit-Remaining": "0", "RateLimit-Reset": "7"})
    assert limiter.acquire() == pytest.approx(7.0)
    limiter.observe_headers({"RateLimit-Remaining": "5", "RateLimit-Reset": "7"})
    assert limiter.acquire() == 0


def test_block_beyond_budget_raises_and_within_budget_waits():
    timer = FakeTimer()
    limiter = RateLimiter([], timer)
    limiter.block_for(900)
    with pytest.raises(KeyBlockedError):
        limiter.acquire(max_block_wait=300)
    assert limiter.acquire(max_block_wait=1000) == pytest.approx(900)


def test_parse_windows_accepts_both_forms_and_explains_errors():
    assert parse_windows([[60, 60], {"limit": 120, "seconds": 5}], conn_id="c") == [Window(60, 60.0), Window(120, 5.0)]
    assert parse_windows([], conn_id="c") == []
    with pytest.raises(GtmConfigError, match="rate_limits"):
        parse_windows([[0, 60]], conn_id="c")
    with pytest.raises(GtmConfigError, match="rate_limits"):
        parse_windows("60/min", conn_id="c")
