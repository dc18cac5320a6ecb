"""https only; http for loopback alone; path prefixes kept."""

from __future__ import annotations

import pytest

from airflow_provider_gtm.core.errors import GtmConfigError
from airflow_provider_gtm.core.urls import join_url, normalize_base_url


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("api.octy.ai", "https://api.octy.ai"),
        ("https://api.octy.ai/", "https://api.octy.ai"),
        ("http://127.0.0.1:8790/octy", "http://127.0.0.1:8790/octy"),
        ("http://localhost:1/x/", "http://localhost:1/x"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_accepted_hosts(host, expected):
    assert normalize_base_url(host, conn_id="c") == expected


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("http://api.octy.ai", "only allowed for loopback"),
        ("ftp://api.octy.ai", "not supported"),
        ("https://user:pw@api.octy.ai", "must not carry credentials"),
    ],
)
def test_rejected_hosts_explain_the_fix(host, message):
    with pytest.raises(GtmConfigError, match=message) as info:
        normalize_base_url(host, conn_id="octy_default")
    assert "octy_default" in str(info.value)
    assert "pw" not in str(info.value).replace("https://", "")


def test_join_keeps_prefix():
    assert join_url("http://127.0.0.1:1/octy", "/v1/retention/profiles") == "http://127.0.0.1:1/octy/v1/retention/profiles"
