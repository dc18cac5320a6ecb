"""The base every hook of the provider extends: lazy connection, one client, clear config errors."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from airflow_provider_gtm.compat import BaseHook
from airflow_provider_gtm.core import redact
from airflow_provider_gtm.core.client import ApiProfile, RestClient, RetryPolicy
from airflow_provider_gtm.core.errors import GtmApiError, GtmAuthError, GtmConfigError, GtmError
from airflow_provider_gtm.core.ratelimit import Window, parse_windows
from airflow_provider_gtm.core.ratelimit_shared import configured_backend, shared_limiter
from airflow_provider_gtm.core.timing import REAL_TIMER, Timer
from airflow_provider_gtm.core.transport import DEFAULT_MAX_RESPONSE_BYTES
from airflow_provider_gtm.core.urls import normalize_base_url


def _number(extra: Mapping[str, Any], key: str, default: float, *, conn_id: str, minimum: float = 0) -> float:
    value = extra.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        # The connection form writes a cleared field as null: that means "the default".
        value = default
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number >= minimum:
        raise GtmConfigError(
            f"Connection {conn_id!r}: extra {key!r} must be a number >= {minimum:g}, got {value!r}."
        )
    return number


class GtmBaseHook(BaseHook):
    """Shared base of the four API hooks.

    Subclasses set the class attributes and implement :meth:`_credentials`. The connection is read
    on first use, never in ``__init__``.

    Connection extras understood by every hook (all optional):
    ``connect_timeout`` (s, default 10), ``read_timeout`` (s, default 60), ``max_attempts``
    (default 6), ``max_wait_seconds`` (total wait budget per call, default 300), ``retry_backoff``
    (first wait between retries and page re-fetches, doubled each time, default 1 s),
    ``rate_limits`` (``[[calls, seconds], ...]``; ``[]`` turns client-side limiting off),
    ``total_timeout`` (s, the most one attempt may take, connect, headers and body included;
    default ``connect_timeout + 2 * read_timeout``), ``max_response_bytes`` (the most decoded bytes
    one answer may hold, default 64 MiB).

    The connection id is the first argument, positional or by the hook's ``conn_name_attr`` name
    (``OctyHook(octy_conn_id=...)``, how Airflow's ``Connection.get_hook()`` and the UI's Test button
    build a hook) or as ``conn_id=``; it defaults to ``default_conn_name``.

    :param timer: clock/sleep used for every wait (inject a ``FakeTimer`` in tests).
    :param retry: override the retry policy (otherwise read from the connection's extra).
    """

    conn_name_attr = "gtm_conn_id"
    default_conn_name = ""
    conn_type = ""
    hook_name = ""
    profile: ClassVar[ApiProfile]
    default_host: ClassVar[str] = ""
    #: A human name of the fields, for "missing field" messages: {"login": "Public key", ...}.
    field_labels: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        conn_id: str | None = None,
        *,
        timer: Timer | None = None,
        retry: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        named = kwargs.pop(self.conn_name_attr, None)
        if conn_id and named and conn_id != named:
            raise GtmConfigError(
                f"{type(self).__name__}: conn_id={conn_id!r} and {self.conn_name_attr}={named!r} name "
                "different connections; pass only one."
            )
        super().__init__(**kwargs)
        self.conn_id: str = conn_id or named or self.default_conn_name
        # Airflow's own hooks keep the id under their conn_name_attr too (e.g. ``http_conn_id``).
        setattr(self, self.conn_name_attr, self.conn_id)
        self._timer = timer or REAL_TIMER
        self._retry_override = retry

    # -- connection ---------------------------------------------------------------------------

    @functools.cached_property
    def connection(self) -> Any:
        """The Airflow connection, read once on first use."""
        return self.get_connection(self.conn_id)

    @functools.cached_property
    def extra(self) -> dict[str, Any]:
        extra = self.connection.extra_dejson
        return extra if isinstance(extra, dict) else {}

    def require(self, field: str) -> str:
        """A connection field's value, or a :class:`GtmConfigError` naming the field and the fix."""
        value = getattr(self.connection, field, None)
        if value is None or not str(value).strip():
            label = self.field_labels.get(field, field)
            raise GtmConfigError(
                f"Connection {self.conn_id!r} ({self.hook_name}) has no {label}: set the connection's "
                f"{field!r} field (labelled {label!r} in the UI)."
            )
        return str(value).strip()

    def _credentials(self) -> tuple[requests.auth.AuthBase | None, dict[str, str], str]:
        """``(auth, headers, identity)``: how to authenticate and a string naming the credential."""
        raise NotImplementedError

    def _host(self) -> str:
        """The base URL before validation: the connection's host, else the API's default host."""
        host = self.connection.host
        if host and str(host).strip():
            host = str(host).strip()
            schema = getattr(self.connection, "schema", None)
            port = getattr(self.connection, "port", None)
            if "://" not in host and schema in ("http", "https"):
                host = f"{schema}://{host}"
            if port and "://" in host and host.count(":") < 2:
                scheme, rest = host.split("://", 1)
                name, _, path = rest.partition("/")
                host = f"{scheme}://{name}:{port}" + (f"/{path}" if path else "")
            return host
        return self.default_host

    def _windows(self) -> tuple[Window, ...]:
        if self.extra.get("rate_limits") is not None:
            return tuple(parse_windows(self.extra["rate_limits"], conn_id=self.conn_id))
        return self.profile.default_windows

    def _retry_policy(self) -> RetryPolicy:
        if self._retry_override is not None:
            return self._retry_override
        extra, cid = self.extra, self.conn_id
        return RetryPolicy(
            max_attempts=int(_number(extra, "max_attempts", 6, conn_id=cid, minimum=1)),
            max_wait_seconds=_number(extra, "max_wait_seconds", 300, conn_id=cid),
            # First retry wait (doubling, plus up to as much jitter): also paces page re-fetches.
            backoff_initial=(backoff := _number(extra, "retry_backoff", 1.0, conn_id=cid)),
            jitter=min(1.0, backoff),
        )

    @functools.cached_property
    def client(self) -> RestClient:
        """The connection's :class:`RestClient`, built on first use."""
        return self.get_conn()

    def redactor(self) -> redact.Redactor:
        """Every form of this connection's secrets: password, login, secret extras and query values.

        The login (Octy public key, Oktopost account id) is half of an HTTP Basic credential and
        is treated as a secret too.
        """
        conn = self.connection
        secrets = {str(value) for value in (conn.password, conn.login) if value and str(value).strip()}
        secrets |= {s.strip() for s in secrets}
        secrets |= redact.secrets_in_extra(self.extra)
        secrets |= redact.secrets_in_extra(str(conn.host or ""))
        basic = [(str(conn.login).strip(), str(conn.password).strip())] if conn.login and conn.password else []
        return redact.Redactor(secrets, basic=basic)

    def _register_secrets(self) -> None:
        # Before the first call: from now on every error, failure and log line of this process
        # is redacted (core/redact.py), and Airflow's masker hides every form in task logs.
        redactor = self.redactor()
        redact.register(redactor)
        redact.mask_in_airflow(redactor)

    def get_conn(self) -> RestClient:
        """Build a client from the connection (reads the connection; call lazily)."""
        self._register_secrets()
        auth, headers, identity = self._credentials()
        base_url = normalize_base_url(self._host(), conn_id=self.conn_id)
        extra, cid = self.extra, self.conn_id
        timeout = (
            _number(extra, "connect_timeout", 10, conn_id=cid, minimum=0.001),
            _number(extra, "read_timeout", 60, conn_id=cid, minimum=0.001),
        )
        total = extra.get("total_timeout")
        deadline = None if total is None or (isinstance(total, str) and not total.strip()) else _number(
            extra, "total_timeout", 0, conn_id=cid, minimum=0.001)
        max_bytes = int(_number(extra, "max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES, conn_id=cid, minimum=1))
        windows = self._windows()
        limiter = None
        # A 429 must still stop further calls during the block, and RateLimit-* headers must
        # still pace the calls, even without client-side windows.
        if windows or self.profile.block_on_429_seconds is not None or self.profile.follow_ratelimit_headers:
            backend = configured_backend(extra.get("rate_limit_backend"), conn_id=cid)
            limiter = shared_limiter(self.profile.name, base_url, identity, windows, self._timer, backend)
        from airflow_provider_gtm import __version__

        return RestClient(
            profile=self.profile,
            base_url=base_url,
            auth=auth,
            headers=headers,
            timeout=timeout,
            deadline=deadline,
            max_response_bytes=max_bytes,
            limiter=limiter,
            retry=self._retry_policy(),
            timer=self._timer,
            user_agent=f"airflow-provider-gtm/{__version__} python-requests/{requests.__version__}",
        )

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()
            del self.__dict__["client"]

    # -- connection test ----------------------------------------------------------------------

    def _probe(self) -> str:
        """A cheap authenticated call; returns a short description of who we are connected as."""
        raise NotImplementedError

    def test_connection(self) -> tuple[bool, str]:
        """Make one cheap authenticated call and say, in plain words, whether it worked."""
        try:
            who = self._probe()
        except GtmConfigError as exc:
            return False, str(exc)
        except GtmAuthError as exc:
            return False, (
                f"{self.hook_name} refused the credentials (HTTP {exc.status}: {exc.api_message}). "
                "Check the key fields of the connection."
            )
        except GtmApiError as exc:
            return False, f"{self.hook_name} answered with an error: {exc}"
        except GtmError as exc:
            return False, str(exc)
        return True, f"Connected to {self.hook_name}{': ' + who if who else ''}."
