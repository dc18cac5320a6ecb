"""Base URL handling: https only, plain http for loopback hosts alone."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_gtm.core.errors import GtmConfigError


def is_loopback(hostname: str) -> bool:
    """Whether ``hostname`` is localhost, 127.0.0.0/8 or ::1."""
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_base_url(host: str, *, conn_id: str, default_scheme: str = "https") -> str:
    """Turn a connection's host into a base URL without trailing slash, keeping any path prefix.

    A bare host name gets ``https://``. ``http://`` is accepted only for loopback hosts so that a
    secret never crosses a network in clear text.

    :raises GtmConfigError: on an unsupported scheme, a missing host name, or http to a non-loopback host.
    """
    raw = host.strip()
    if "://" not in raw:
        raw = f"{default_scheme}://{raw}"
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if not parts.hostname:
        raise GtmConfigError(
            f"Connection {conn_id!r}: host {host!r} has no host name; set it to a base URL such as "
            "'https://api.example.com'."
        )
    if parts.username or parts.password:
        raise GtmConfigError(
            f"Connection {conn_id!r}: the host must not carry credentials; put them in the "
            "connection's login/password fields."
        )
    if scheme not in ("https", "http"):
        raise GtmConfigError(
            f"Connection {conn_id!r}: scheme {scheme!r} is not supported; use https://."
        )
    if scheme == "http" and not is_loopback(parts.hostname):
        raise GtmConfigError(
            f"Connection {conn_id!r}: plain http is only allowed for loopback hosts "
            f"(127.0.0.1, localhost, ::1), not {parts.hostname!r}; use https://."
        )
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def join_url(base_url: str, path: str) -> str:
    """Join an API path onto a base URL without dropping the base URL's own path prefix."""
    if path.startswith(("http://", "https://")):
        return path
    return f"{base_url.rstrip('/')}/{path.lstrip('/')}"
