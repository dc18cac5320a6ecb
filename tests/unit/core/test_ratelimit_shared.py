"""The limiter's state shared through a file: one budget per key for every process of a host."""

from __future__ import annotations

import json
import os

import pytest

from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.core.ratelimit import FileLimiterStore, KeyBlockedError, RateLimiter, Window
from airflow_provider_gtm.core.ratelimit_shared import configured_backend, reset_shared_limiters, shared_limiter
from airflow_provider_gtm.core.timing import REAL_TIMER, FakeTimer

OKTOPOST = [Window(60, 60.0), Window(120, 5.0)]


def test_two_limiters_on_one_file_share_one_budget(tmp_path):
    timer = FakeTimer()
    path = str(tmp_path / "key.json")
    first = RateLimiter(OKTOPOST, timer, FileLimiterStore(path))
    second = RateLimiter(OKTOPOST, timer, FileLimiterStore(path))
    for _ in range(30):
        assert first.acquire() == 0
        assert second.acquire() == 0
    # 60 calls in the window between them: the next one, from either, waits for the window.
    assert second.acquire() == pytest.approx(60.1)


def test_history_survives_a_new_process(tmp_path):
    timer = FakeTimer()
    path = str(tmp_path / "key.json")
    for _ in range(60):
        RateLimiter(OKTOPOST, timer, FileLimiterStore(path)).acquire()
    # A task that starts after the first one ended (a retry, the next task of a pool) starts
    # from the file, not from an empty history.
    assert RateLimiter(OKTOPOST, timer, FileLimiterStore(path)).acquire() == pytest.approx(60.1)


def test_a_block_recorded_by_one_process_holds_every_other(tmp_path):
    timer = FakeTimer()
    path = str(tmp_path / "key.json")
    RateLimiter(OKTOPOST, timer, FileLimiterStore(path)).block_for(900)
    later = RateLimiter(OKTOPOST, timer, FileLimiterStore(path))
    assert later.blocked_for() == pytest.approx(900)
    with pytest.raises(KeyBlockedError) as caught:
        later.acquire(max_block_wait=60)
    assert caught.value.wait_seconds == pytest.approx(900)
    assert later.acquire() == pytest.approx(900)


def test_header_pause_is_shared(tmp_path):
    timer = FakeTimer()
    path = str(tmp_path / "key.json")
    RateLimiter([], timer, FileLimiterStore(path)).observe_headers({"RateLimit-Remaining": "0", "RateLimit-Reset": "7"})
    assert RateLimiter([], timer, FileLimiterStore(path)).acquire() == pytest.approx(7)


def test_state_file_holds_no_credential_and_an_unreadable_one_starts_conservatively(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__GTM__RATE_LIMIT_STATE_DIR", str(tmp_path))
    reset_shared_limiters()
    limiter = shared_limiter("oktopost", "https://api.oktopost.com", "001acct:secret-api-key-123", OKTOPOST,
                             REAL_TIMER, "local")
    limiter.acquire()
    files = [name for name in os.listdir(tmp_path) if name.endswith(".json")]
    assert len(files) == 1 and files[0].startswith("oktopost-")
    text = (tmp_path / files[0]).read_text()
    assert "secret-api-key-123" not in text and "001acct" not in text and len(json.loads(text)["stamps"]) == 1
    (tmp_path / files[0]).write_text("{not json")
    # Unreadable: nothing proves the key was not just used (or blocked), so the windows count as full
    # for one window (issue 23: "starting a new history" sent 5 calls into a blocked key).
    garbled = RateLimiter(OKTOPOST, FakeTimer(), FileLimiterStore(str(tmp_path / files[0])))
    assert garbled.acquire() == pytest.approx(60.1)
    reset_shared_limiters()
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".json")]


def test_unwritable_state_dir_names_the_setting(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    limiter = RateLimiter(OKTOPOST, FakeTimer(), FileLimiterStore(str(blocker / "sub" / "key.json")))
    with pytest.raises(GtmConfigError, match=r"rate_limit_state_dir"):
        limiter.acquire()


def test_backend_from_config_and_from_the_connection(monkeypatch):
    monkeypatch.delenv("AIRFLOW__GTM__RATE_LIMIT_BACKEND", raising=False)
    assert configured_backend() == "local"
    monkeypatch.setenv("AIRFLOW__GTM__RATE_LIMIT_BACKEND", "redis://127.0.0.1:6379/0")
    assert configured_backend() == "redis://127.0.0.1:6379/0"
    assert configured_backend("memory", conn_id="c") == "memory"
    with pytest.raises(GtmConfigError, match=r"Connection 'c': extra 'rate_limit_backend'.*'local'"):
        configured_backend("postgres://x", conn_id="c")
    monkeypatch.setenv("AIRFLOW__GTM__RATE_LIMIT_BACKEND", "sqlite")
    with pytest.raises(GtmConfigError, match=r"\[gtm\] rate_limit_backend"):
        configured_backend()


def test_a_test_clock_never_shares_state_with_other_processes(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__GTM__RATE_LIMIT_STATE_DIR", str(tmp_path))
    limiter = shared_limiter("octy", "https://api.octy.ai", "pk:sk", [Window(2, 1.0)], FakeTimer(), "local")
    limiter.acquire()
    assert not os.listdir(tmp_path)
