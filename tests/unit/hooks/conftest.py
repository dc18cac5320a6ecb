"""Fixtures of the hook unit tests."""

from __future__ import annotations

import pytest

from airflow_provider_gtm.core.timing import FakeTimer


@pytest.fixture
def timer() -> FakeTimer:
    """The clock every hook under test waits on: waits are recorded in ``timer.sleeps``, never slept."""
    return FakeTimer()
