"""The one place where secrets are taken out of every text that leaves the client.

A :class:`Redactor` is built by the hook from its connection's secrets (password, login, extras
whose names say they are secret, and query values of sensitive names in the extras) and knows every
form a server or a library may echo them in: raw, ``Bearer <key>``, ``Basic base64(login:password)``
(and base64 of each secret alone), URL-encoded (``quote``/``quote_plus``) and JSON-escaped.

The hook registers each redactor here (:func:`register`) and with Airflow's own log masker when it
builds its client. From then on the errors themselves are clean by construction:
:class:`~airflow_provider_gtm.core.errors.GtmError` scrubs its message, path and body as it is built,
:class:`~airflow_provider_gtm.core.batching.Failure` scrubs its ``error_message``, and the provider's
loggers carry :class:`RedactingFilter`. Everything downstream (failure files, ``report.json``,
XComs, task logs, tracebacks) only ever sees the redacted text.

Independently of any connection, query values of sensitive parameter names (``apiKey=``,
``token=``, ``signature=`` ...) and e-mail-looking query values are replaced in every text.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

MASK = "***"

#: Secrets shorter than this are not redacted by value (they would mask ordinary words); Airflow's
#: masker draws the same line.
MIN_SECRET_LENGTH = 5

#: Query parameter and extra names whose values are secrets (compared case-insensitively, with
#: ``-`` and ``_`` ignored).
SENSITIVE_NAMES = frozenset({
    "apikey", "key", "token", "accesstoken", "refreshtoken", "idtoken", "secret", "clientsecret",
    "password", "passwd", "pwd", "signature", "sig", "auth", "authorization", "credential",
    "credentials", "session", "sessionid", "xcustomerosapikey", "privatekey", "secretkey", "jwt",
})

# `name=value` in a query string (or anything shaped like one): the name is checked in Python.
_QUERY_PAIR = re.compile(r"(?P<lead>[?&;](?:amp;)?)(?P<name>[A-Za-z0-9_.\-\[\]%]{1,64})=(?P<value>[^&#\s\"'<>]*)")
_EMAIL_VALUE = re.compile(r"@|%40", re.IGNORECASE)


def _is_sensitive_name(name: str) -> bool:
    normal = name.lower().replace("-", "").replace("_", "").replace(".", "")
    if normal in SENSITIVE_NAMES:
        return True
    return normal.endswith(("apikey", "secret", "token", "password", "signature"))


def _scrub_query_pair(match: re.Match[str]) -> str:
    value = match.group("value")
    if value and (_is_sensitive_name(match.group("name")) or _EMAIL_VALUE.search(value)):
        return f"{match.group('lead')}{match.group('name')}={MASK}"
    return match.group(0)


def scrub_query_values(text: str) -> str:
    """``text`` with the values of sensitive query parameters and e-mail-looking values masked."""
    if "=" not in text:
        return text
    return _QUERY_PAIR.sub(_scrub_query_pair, text)


def secret_forms(secret: str) -> set[str]:
    """Every form one secret may be echoed in: raw, URL-encoded, JSON-escaped, base64."""
    forms = {secret, f"Bearer {secret}"}
    forms.add(quote(secret, safe=""))
    forms.add(quote(secret))
    forms.add(quote_plus(secret))
    forms.add(json.dumps(secret)[1:-1])
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    encoded = base64.b64encode(secret.encode()).decode()
    forms.update({encoded, encoded.rstrip("="), base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")})
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def basic_forms(login: str, password: str) -> set[str]:
    """The forms of an HTTP Basic credential: ``Basic base64(login:password)`` and its parts."""
    pair = f"{login}:{password}"
    encoded = base64.b64encode(pair.encode()).decode()
    forms = {f"Basic {encoded}", encoded, encoded.rstrip("="), pair, quote(pair, safe=""), quote_plus(pair)}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def _query_secrets(text: str) -> set[str]:
    """Values of sensitive query parameters inside a URL or path (e.g. an extra ``?apiKey=...``)."""
    found: set[str] = set()
    for match in _QUERY_PAIR.finditer(text):
        if _is_sensitive_name(match.group("name")) and match.group("value"):
            found.add(match.group("value"))
    query = urlsplit(text).query if "?" in text else ""
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if value and _is_sensitive_name(name):
            found.add(value)
    return found


def secrets_in_extra(extra: Any, *, _name: str = "") -> set[str]:
    """Secrets inside a connection's extra: values under sensitive names, sensitive query values."""
    found: set[str] = set()
    if isinstance(extra, Mapping):
        for key, value in extra.items():
            found |= secrets_in_extra(value, _name=str(key))
    elif isinstance(extra, (list, tuple)):
        for value in extra:
            found |= secrets_in_extra(value, _name=_name)
    elif isinstance(extra, str):
        if _name and _is_sensitive_name(_name) and extra.strip():
            found.add(extra.strip())
        found |= _query_secrets(extra)
    return found


class Redactor:
    """Replaces every form of a set of secrets (and sensitive query values) with ``***``.

    :param secrets: the raw secrets (password, keys, tokens); short or empty ones are ignored.
    :param basic: ``(login, password)`` pairs sent as HTTP Basic credentials.
    """

    def __init__(self, secrets: Iterable[str | None] = (), *, basic: Iterable[tuple[str, str]] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(str(secret)) >= MIN_SECRET_LENGTH:
                forms |= secret_forms(str(secret))
        for login, password in basic:
            if login and password:
                forms |= basic_forms(str(login), str(password))
        self.forms: frozenset[str] = frozenset(forms)
        self._pattern = _compile(self.forms)

    def __bool__(self) -> bool:
        return bool(self.forms)

    def scrub(self, text: str) -> str:
        """``text`` without any form of the secrets and without sensitive query values."""
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return scrub_query_values(text)

    def scrub_obj(self, value: Any) -> Any:
        """A copy of a JSON-like value (dicts, lists, strings) with every string scrubbed, keys too."""
        return _scrub_obj(value, self.scrub)


def _compile(forms: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted(set(forms), key=lambda form: (-len(form), form))  # longest first: Basic before its parts
    return re.compile("|".join(re.escape(form) for form in ordered)) if ordered else None


def _scrub_obj(value: Any, scrub: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {(scrub(k) if isinstance(k, str) else k): _scrub_obj(v, scrub) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_obj(v, scrub) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub_obj(v, scrub) for v in value)
    return value


# -- the process-wide registry --------------------------------------------------------------------

_lock = threading.Lock()
_forms: set[str] = set()
_pattern: re.Pattern[str] | None = None


#: Libraries that log the URLs the client calls (urllib3 logs each request line at DEBUG).
LIBRARY_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry")


def register(redactor: Redactor) -> None:
    """Make every later :func:`scrub` in this process redact ``redactor``'s secrets too."""
    global _pattern
    for name in LIBRARY_LOGGERS:
        protect(logging.getLogger(name))
    if not redactor.forms or redactor.forms <= _forms:
        return
    with _lock:
        _forms.update(redactor.forms)
        _pattern = _compile(_forms)


def scrub(text: str) -> str:
    """``text`` without any registered secret form and without sensitive query values."""
    if not isinstance(text, str):
        text = str(text)
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return scrub_query_values(text)


def scrub_obj(value: Any) -> Any:
    """A copy of a JSON-like value with every string scrubbed by the registry (see :func:`scrub`)."""
    return _scrub_obj(value, scrub)


def mask_in_airflow(redactor: Redactor) -> None:
    """Register every form with Airflow's task-log masker (a no-op outside an Airflow install)."""
    try:
        from airflow_provider_gtm.compat import mask_secret
    except ImportError:  # pragma: no cover - Airflow is a dependency; kept for use outside it
        return
    for form in sorted(redactor.forms):
        mask_secret(form)


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs a record's rendered message (its arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's own error to report
            return True
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactingFilter()


def protect(logger: logging.Logger) -> logging.Logger:
    """Attach :class:`RedactingFilter` to ``logger`` (once) and return it."""
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
