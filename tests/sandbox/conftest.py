"""What the CustomerOS sandbox contract tests share: ``cos(method, path, **kwargs)``, a plain ``requests``
call with the sandbox's API key header (``cos.sandbox`` and ``cos.base`` for control and URLs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_gtm.sandbox import SANDBOX_CREDENTIALS


@pytest.fixture
def cos(gtm_sandbox: Any) -> Iterator[Any]:
    session = requests.Session()
    session.headers["X-CUSTOMER-OS-API-KEY"] = SANDBOX_CREDENTIALS["customeros"]["password"]
    base = gtm_sandbox.base_url("customeros")

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return session.request(method, base + path, timeout=10, **kwargs)

    call.sandbox = gtm_sandbox  # type: ignore[attr-defined]
    call.base = base  # type: ignore[attr-defined]
    yield call
    session.close()
