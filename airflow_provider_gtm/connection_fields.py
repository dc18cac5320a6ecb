"""Typed connection-form fields (provider info ``conn-fields``) for the operational extras.

Airflow's UI renders each entry as a form field (label, description, a JSON schema for the type and
the default shown in the field) and stores its value in the connection's extra under the same
name, which is where the hooks read it (``core/hook.py``, ``hooks/*.py``). A field the user clears is
stored as ``null``, which the hooks read as "use the default".

Pure data, no imports from the hooks: Airflow reads provider info on every CLI start. A test
(tests/unit/test_connection_fields.py) checks that the defaults shown equal the hooks' defaults.
"""

from __future__ import annotations

from typing import Any

#: Octopus paths a connection may override (the hook's DEFAULT_PATHS; a test keeps them equal).
OCTOPUS_DEFAULT_PATHS: dict[str, str] = {
    "topic_posts": "/v1/feeds/posts",
    "post_comments": "/v1/feeds/comments",
    "comment_replies": "/v1/feeds/replies",
    "user_posts": "/v1/feeds/user-posts",
    "all_posts": "/v1/feeds/all-posts",
    "post": "/v1/messages/post",
    "comment": "/v1/messages/comment",
    "reply": "/v1/messages/reply",
    "translations": "/v1/messages/translations",
    "profile": "/v1/users/profile",
    "topics": "/v1/topics",
}

#: Client-side rate limits per connection type, ``[[calls, seconds], ...]`` (the hooks' profiles).
DEFAULT_RATE_LIMITS: dict[str, list[list[int]]] = {
    "octy": [[120, 60]],
    "customeros": [],
    "octopus_connect": [],
    "oktopost": [[60, 60], [120, 5]],
}

_RATE_LIMIT_NOTES = {
    "octy": "Octy allows 120 calls per minute per key.",
    "customeros": "CustomerOS publishes no limit; its 429 answers are honoured.",
    "octopus_connect": "Octopus paces calls with its RateLimit-* headers, which are followed either way.",
    "oktopost": "Oktopost allows 60 calls per minute and 120 per 5 seconds, and blocks a key for 15 "
    "minutes after a breach.",
}


def _number(label: str, description: str, default: float, *, minimum: float, integer: bool = False) -> dict[str, Any]:
    return {
        "label": label,
        "description": description,
        "schema": {"type": ["integer" if integer else "number", "null"], "minimum": minimum, "default": default},
    }


def _common_fields(conn_type: str) -> dict[str, Any]:
    return {
        "connect_timeout": _number(
            "Connect timeout (s)", "Seconds to wait for the TCP/TLS connection.", 10, minimum=0.001),
        "read_timeout": _number(
            "Read timeout (s)", "Seconds to wait for each answer once connected.", 60, minimum=0.001),
        "max_attempts": _number(
            "Max attempts", "Tries per call, counting the first, for errors that are safe to retry "
            "(429, 5xx, network errors on reads).", 6, minimum=1, integer=True),
        "retry_backoff": _number(
            "Retry backoff (s)", "First wait between retries and page re-fetches; doubled each time.",
            1, minimum=0),
        "max_wait_seconds": _number(
            "Max wait per call (s)", "The most one call may spend waiting on retries, Retry-After and "
            "rate limits before it fails (the task can then be retried by Airflow).", 300, minimum=0),
        "rate_limits": {
            "label": "Rate limits",
            "description": "Client-side limits enforced per credential across processes, as "
            "[[calls, seconds], ...]; [] turns them off. " + _RATE_LIMIT_NOTES[conn_type],
            "schema": {
                "type": ["array", "null"],
                "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                "default": DEFAULT_RATE_LIMITS[conn_type],
            },
        },
        "rate_limit_backend": {
            "label": "Rate-limit backend",
            "description": "Where the rate budget is shared: local (every process of this host), memory "
            "(this process only) or a redis:// URL (every host). Empty: [gtm] rate_limit_backend.",
            "schema": {"type": ["string", "null"]},
        },
    }


def conn_fields(conn_type: str) -> dict[str, Any]:
    """The ``conn-fields`` of one connection type."""
    fields = _common_fields(conn_type)
    if conn_type == "octopus_connect":
        fields["paths"] = {
            "label": "API paths",
            "description": "The path of each feed and endpoint, joined onto the Base URL. Only three are "
            "documented by Octopus; change one here if your deployment differs.",
            "schema": {
                "type": ["object", "null"],
                "properties": {name: {"type": "string"} for name in OCTOPUS_DEFAULT_PATHS},
                "additionalProperties": False,
                "default": dict(OCTOPUS_DEFAULT_PATHS),
            },
        }
        fields["cursor_field"] = {
            "label": "Next-page cursor field",
            "description": "The answer field that holds the next page's cursor. Empty: the first field "
            "whose name contains 'cursor' (a 'next' one first).",
            "schema": {"type": ["string", "null"]},
        }
    if conn_type == "oktopost":
        fields = {
            "data_center": {
                "label": "Data center",
                "description": "Where the Oktopost account is hosted: us (api.oktopost.com) or "
                "eu (eu-api.oktopost.com). An explicit Base URL wins.",
                "schema": {"type": "string", "enum": ["us", "eu"], "default": "us"},
            },
            **fields,
        }
    return fields
