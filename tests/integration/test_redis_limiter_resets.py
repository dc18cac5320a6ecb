"""The Redis limiter backend fails safe against a real ``redis-server`` that forgets (issue 23).

A Redis restarted without persistence, a credential's history evicted, a clock that went back: the
limiter must never hand out a fresh budget it cannot prove. Windows are short (half a second) and
waits real but small; what is asserted is what the limiter returns as waited, never wall time.
Skipped locally when ``redis-server`` is missing (``make system-deps`` installs it), failed under CI.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
from services import _stop, free_port, missing, wait_for_port

from airflow_provider_gtm.core import ratelimit_redis
from airflow_provider_gtm.core.ratelimit import KeyBlockedError, RateLimiter, Window
from airflow_provider_gtm.core.ratelimit_redis import RedisLimiterStore

WINDOWS = [Window(3, 0.5)]
ONE_WINDOW = 0.5 + 0.1  # the window and the limiter's safety margin


class Redis:
    """A ``redis-server`` on a fixed loopback port that can be restarted, forgetting everything."""

    def __init__(self, *options: str) -> None:
        server = shutil.which("redis-server")
        if server is None:
            missing("redis-server", "`make system-deps`")
        self.command = [str(server), "--bind", "127.0.0.1", "--port", str(free_port()), "--save", "",
                        "--appendonly", "no", *options]
        self.port = int(self.command[4])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.workdir = ""

    def start(self) -> None:
        # A new empty folder each time: nothing of the last run can be loaded back.
        self.workdir = tempfile.mkdtemp(prefix="gtm-redis-reset-")
        self.process = subprocess.Popen([*self.command, "--dir", self.workdir], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, "redis-server")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def redis() -> Iterator[Redis]:
    server = Redis()
    server.start()
    ratelimit_redis._CHECKED.clear()  # each server is checked (and warned about) afresh
    yield server
    server.stop()


def limiter(redis: Redis, key: str = "octy-test", windows: list[Window] = WINDOWS) -> RateLimiter:
    return RateLimiter(windows, store=RedisLimiterStore(redis.url, key))


def test_a_restart_without_persistence_between_two_uses_sends_nothing_for_a_window(redis, caplog):
    with caplog.at_level(logging.WARNING):
        first = limiter(redis)
        first.acquire()  # the first use on an empty Redis proves nothing either: one window
        for _ in range(3):
            first.acquire()
    assert "appendonly no" in caplog.text and "a restart loses recent calls and key blocks" in caplog.text
    assert caplog.text.count("appendonly no") == 1, "warned once"

    redis.restart()  # every call of the last half second is forgotten
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        waited = limiter(redis).acquire()
    # Before: 0, three more calls at once into a window that was full.
    assert waited >= ONE_WINDOW - 0.05
    assert "lost this key's state" in caplog.text


def test_a_block_known_to_a_process_survives_a_restart(redis, caplog):
    first = limiter(redis)
    first.acquire()
    first.block_for(30)
    redis.restart()
    with caplog.at_level(logging.WARNING), pytest.raises(KeyBlockedError) as caught:
        first.acquire(max_block_wait=5)
    assert caught.value.wait_seconds == pytest.approx(30, abs=2)
    assert "forgot a key block" in caplog.text
    # ... and every other process now sees it in Redis again.
    with pytest.raises(KeyBlockedError):
        limiter(redis).acquire(max_block_wait=5)


def test_an_evicted_history_with_a_recent_call_sends_nothing_for_a_window(redis, caplog):
    first = limiter(redis)
    first.acquire()  # the first use: one window
    first.acquire()
    import redis as redis_client

    redis_client.Redis.from_url(redis.url).delete("gtm:ratelimit:octy-test:calls")  # what eviction does
    with caplog.at_level(logging.WARNING):
        assert limiter(redis).acquire() >= ONE_WINDOW - 0.2
    assert "evicted this key's recent calls" in caplog.text


def test_a_safe_redis_is_not_warned_about_and_a_new_key_starts_at_once(redis, caplog):
    import redis as redis_client

    admin = redis_client.Redis.from_url(redis.url)
    admin.config_set("appendonly", "yes")
    admin.config_set("maxmemory-policy", "noeviction")
    limiter(redis, "octy-other").acquire()  # the Redis's first use: the marker is set
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert limiter(redis, "octy-new").acquire() == 0
    assert "appendonly" not in caplog.text and "lost" not in caplog.text


def test_times_in_the_future_are_cut_to_what_they_stand_for(redis, caplog):
    import redis as redis_client

    first = limiter(redis)
    first.acquire()
    first.block_for(2)
    admin = redis_client.Redis.from_url(redis.url)
    # What Redis holds after its clock was stepped back an hour: everything an hour ahead.
    later = time.time() + 3600
    admin.hset("gtm:ratelimit:octy-test", mapping={"blocked_until": f"{later + 2:.6f}"})
    admin.zadd("gtm:ratelimit:octy-test:calls", {f"{later:.6f}:{n}": later for n in range(3)})
    with caplog.at_level(logging.WARNING), pytest.raises(KeyBlockedError) as caught:
        limiter(redis).acquire(max_block_wait=1)
    assert caught.value.wait_seconds <= 2 + 0.1, "never the hour the stored time implies"
    assert "went back by about 3600s" in caplog.text
    assert limiter(redis).acquire() <= 2 + ONE_WINDOW
