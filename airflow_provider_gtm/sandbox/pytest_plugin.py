"""pytest fixtures for testing DAGs and hooks against the sandbox.

Enable with ``pytest_plugins = ["airflow_provider_gtm.sandbox.pytest_plugin"]`` in a conftest.py.

- ``gtm_sandbox_server``: one sandbox for the test session (127.0.0.1, free port).
- ``gtm_sandbox``: the same server, reset (writes, faults, counters, rate limits) for each test.
- ``gtm_sandbox_connections``: ``gtm_sandbox`` plus the four ``AIRFLOW_CONN_*`` variables set.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_gtm.core.ratelimit_shared import reset_shared_limiters
from airflow_provider_gtm.sandbox.server import SandboxServer


@pytest.fixture(scope="session")
def gtm_sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, records=250) as server:
        yield server


@pytest.fixture
def gtm_sandbox(gtm_sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    # A fresh sandbox forgets rate-limit history and blocks; so must the hooks' shared limiters.
    reset_shared_limiters()
    gtm_sandbox_server.reset()
    # The clock back at real time too: a test that ran it faster (time_scale) leaves it hours ahead,
    # and the next test's "created since" lookups compare its timestamps with the worker's clock.
    gtm_sandbox_server.configure(rate_limits=True, time_scale=1.0, resync_clock=True, records=250, seed=42)
    yield gtm_sandbox_server
    gtm_sandbox_server.reset()


@pytest.fixture
def gtm_sandbox_connections(gtm_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    for name, value in gtm_sandbox.connection_env().items():
        monkeypatch.setenv(name, value)
    return gtm_sandbox
