"""Planted secrets, a sandbox that accepts them, and the scanner that looks for every form of them.

Every credential field of the four connection types holds its own realistic secret (so that a hit
names the field), plus a secret-named extra and, for Octopus, a ``paths`` extra whose query carries
an ``apiKey``. The sandbox is started with these credentials (``SandboxServer(credentials=...)``).

The forms are spelled out here, independently of ``core/redact.py``: raw, ``Bearer``, HTTP Basic
(``base64(login:password)`` and base64 of each secret alone), URL-encoded (``quote`` with and
without ``/`` kept, ``quote_plus``), JSON-escaped, and the middle of each secret (a partial mask
still leaks).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from airflow_provider_gtm.core.ratelimit_shared import reset_shared_limiters
from airflow_provider_gtm.sandbox.server import CONNECTIONS, SandboxServer

# Distinct per field; characters that URL-encoding, JSON-escaping and base64 all change.
PLANTED: dict[str, dict[str, str]] = {
    "octy": {"login": "pk_live_Oc7yPublic9Key4Planted", "password": "sk_live_Oc7y+Secret/Key=Planted\"71"},
    "customeros": {"password": "cos_live_Cust0mer+OS/ApiKey=Planted52"},
    "octopus": {"password": "connect-secret-Octo+pus/Key=Planted38"},
    "oktopost": {"login": "001Okt0AcctPlanted", "password": "okto_live_Okt0+Post/Key=Planted64"},
}
#: Secrets kept in extras (never sent: only the scan can tell whether they leak).
EXTRA_SECRETS: dict[str, str] = {
    "octy": "whsec_octy_Extra9Secret4Planted",
    "customeros": "whsec_customeros_Extra7Secret2Planted",
    "octopus": "whsec_octopus_Extra3Secret8Planted",
    "oktopost": "whsec_oktopost_Extra5Secret6Planted",
}
#: An API key in a query (Octopus ``paths`` extra): sent on every topics call.
OCTOPUS_QUERY_KEY = "octoQueryApiKey7Planted3x9"


def all_secrets() -> dict[str, str]:
    """``{"octy.password": secret, ...}``: every planted secret, named by where it was planted."""
    found = {f"{api}.{field}": value for api, fields in PLANTED.items() for field, value in fields.items()}
    found.update({f"{api}.extra.webhook_secret": value for api, value in EXTRA_SECRETS.items()})
    found["octopus.extra.paths.topics?apiKey"] = OCTOPUS_QUERY_KEY
    return found


def forms_of(secret: str) -> set[str]:
    encoded = base64.b64encode(secret.encode()).decode()
    forms = {
        secret, f"Bearer {secret}", quote(secret, safe=""), quote(secret), quote_plus(secret),
        json.dumps(secret)[1:-1], encoded, encoded.rstrip("="),
        secret[4:-4],  # the middle: a secret masked only at its ends still leaks
    }
    return {form for form in forms if len(form) >= 8}


def every_form() -> dict[str, str]:
    """``{form: "where it was planted (which form)"}`` for every secret and every Basic pair."""
    forms: dict[str, str] = {}
    for name, secret in all_secrets().items():
        for form in forms_of(secret):
            forms.setdefault(form, name)
    for api, fields in PLANTED.items():
        if "login" in fields:
            pair = f"{fields['login']}:{fields['password']}"
            encoded = base64.b64encode(pair.encode()).decode()
            for form in (pair, encoded, f"Basic {encoded}", quote(pair, safe="")):
                forms.setdefault(form, f"{api} Basic pair")
    return forms


FORMS = every_form()


def hits(text: str) -> list[str]:
    """Every planted form found in ``text``, with where it was planted."""
    return sorted({f"{FORMS[form]}: {form!r}" for form in FORMS if form in text})


def scan_files(root: Path) -> dict[str, list[str]]:
    """``{file: hits}`` for every file under ``root`` whose bytes hold a planted form."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", errors="replace")
        if hit := hits(text):
            found[str(path)] = hit
    return found


def connections(server: SandboxServer, **extra: Any) -> dict[str, dict[str, Any]]:
    """The four connections (default ids) with every planted secret, pointing at ``server``."""
    conns: dict[str, dict[str, Any]] = {}
    for api, (conn_id, conn_type) in CONNECTIONS.items():
        conn_extra: dict[str, Any] = {"webhook_secret": EXTRA_SECRETS[api], **extra}
        if api == "octopus":
            conn_extra["paths"] = {"topics": f"/v1/topics?apiKey={OCTOPUS_QUERY_KEY}"}
        conns[conn_id] = {"conn_type": conn_type, "host": server.base_url(api), "login": PLANTED[api].get("login"),
                          "password": PLANTED[api]["password"], "extra": extra_json(conn_extra)}
    return conns


def extra_json(extra: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(extra))


def connection_env(server: SandboxServer, **extra: Any) -> dict[str, str]:
    conns = connections(server, **extra)
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in conns.items()}


#: Small budgets so that failure paths end fast; no client-side pacing (the sandbox's is off too).
FAST_EXTRA: dict[str, Any] = {"rate_limits": [], "max_attempts": 2, "retry_backoff": 0.01, "max_wait_seconds": 5,
                              "connect_timeout": 2, "read_timeout": 2}


@pytest.fixture(scope="module")
def planted_sandbox() -> Iterator[SandboxServer]:
    """A sandbox that accepts only the planted credentials (the default ones are refused)."""
    with SandboxServer(port=0, records=60, rate_limits=False, credentials=PLANTED) as server:
        yield server


@pytest.fixture
def planted(planted_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """The planted connections in the environment, a fresh sandbox state and fresh limiters."""
    reset_shared_limiters()
    planted_sandbox.reset()
    planted_sandbox.configure(rate_limits=False, customeros={"enrichment_polls": 1, "bulk_polls": 1})
    for name, value in connection_env(planted_sandbox, **FAST_EXTRA).items():
        monkeypatch.setenv(name, value)
    yield planted_sandbox
    planted_sandbox.reset()


def texts_of_exception(exc: BaseException) -> Iterable[str]:
    """Everything an exception exposes: str, repr, args, attributes, the whole formatted traceback."""
    import traceback

    yield str(exc)
    yield repr(exc)
    yield repr(exc.args)
    yield repr(vars(exc)) if hasattr(exc, "__dict__") else ""
    yield "".join(traceback.format_exception(exc))
