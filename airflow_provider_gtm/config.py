"""The provider's ``[gtm]`` configuration section: declared once here, read with Airflow's config.

Every setting is declared in :data:`OPTIONS` (it goes into provider info under ``config``, so that
``airflow config list`` shows it with its description and default) and read with :func:`get`, i.e.
Airflow's own configuration: ``airflow.cfg`` ``[gtm] <name>``, the environment form
``AIRFLOW__GTM__<NAME>`` (which wins, as for every Airflow setting), ``_CMD``/``_SECRET`` variants
for sensitive options, then the declared default.

To add a setting: add an entry to :data:`OPTIONS` (the keys Airflow's
``provider_info.schema.json`` requires: description, version_added, type, example, default) and
call ``get("<name>")`` where it is used.
"""

from __future__ import annotations

from typing import Any

SECTION = "gtm"

#: Declared options of ``[gtm]`` (schema: Airflow's provider_info.schema.json ``definitions.option``).
OPTIONS: dict[str, dict[str, Any]] = {
    "output_base_uri": {
        "description": "Where operators write their files when no output_uri is given: "
        "<output_base_uri>/<dag_id>/<run_id>/<task_id>/... Any ObjectStoragePath URI works (file://, "
        "s3://... with its provider). On a distributed executor use shared storage. "
        "Empty: $AIRFLOW_HOME/gtm-data.",
        "version_added": "0.1.0",
        "type": "string",
        "example": "s3://my-bucket/gtm",
        "default": "",
    },
    "rate_limit_backend": {
        "description": "Where client-side rate budgets are shared: local (a file per credential, shared "
        "by every process of the host), memory (this process only) or a redis:// URL (every host "
        "using that Redis). A connection's rate_limit_backend extra wins.",
        "version_added": "0.1.0",
        "type": "string",
        "example": "redis://127.0.0.1:6379/0",
        "default": "local",
    },
    "rate_limit_state_dir": {
        "description": "Folder of the local rate-limit backend's files. Empty: $AIRFLOW_HOME/gtm-ratelimit.",
        "version_added": "0.1.0",
        "type": "string",
        "example": "/var/lib/airflow/gtm-ratelimit",
        "default": "",
    },
    "defer_waits_longer_than": {
        "description": "Seconds: a deferrable GTM task (deferrable=True, or [operators] default_deferrable) that "
        "meets a rate-limit wait longer than this (an Oktopost key block, a Retry-After or RateLimit-Reset "
        "pause) defers until the wait ends instead of holding a worker slot; shorter waits are waited "
        "in-process. An operator's defer_waits_longer_than argument wins.",
        "version_added": "0.1.0",
        "type": "string",
        "example": "120",
        "default": "60",
    },
    "writer_lease_seconds": {
        "description": "Seconds a writing task's lease (on its write ledger, fetch output or submission ledger) "
        "lasts without renewal. A running try renews it every quarter of this from a background thread and "
        "checks it before every call; a try frozen or killed longer than this is taken over by the next try, "
        "which replays its ledger. Hosts sharing storage must keep their clocks well within this.",
        "version_added": "0.1.0",
        "type": "string",
        "example": "120",
        "default": "60",
    },
    "writer_lease_wait_seconds": {
        "description": "Seconds a second live try of a task instance (or another run writing the same output_uri) "
        "waits for the lease held by the first before it fails, retryably, naming the holder. It never sends "
        "while it waits.",
        "version_added": "0.1.0",
        "type": "string",
        "example": "300",
        "default": "90",
    },
    "oktopost_app_link": {
        "description": "URL template of the Oktopost extra link on OktopostCreateOperator, with {kind} and "
        "{id}. Oktopost documents its app host but not its page paths: check the default against your app.",
        "version_added": "0.1.0",
        "type": "string",
        "example": "https://app.oktopost.com/{kind}/{id}",
        "default": "https://app.oktopost.com/{kind}/{id}",
        # Not a str.format template of Airflow's config variables: Airflow < 3.3 expands those and fails
        # on {kind} (KeyError) unless the option says it is a template of its own.
        "is_template": True,
    },
}


def provider_config() -> dict[str, Any]:
    """The ``config`` key of provider info."""
    return {
        SECTION: {
            "description": "Settings of the go-to-market provider (airflow-provider-gtm).",
            "options": {name: dict(option) for name, option in OPTIONS.items()},
        }
    }


def _airflow_conf() -> Any:
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # pragma: no cover - older task SDK
        from airflow.configuration import conf
    return conf


def get(name: str, fallback: str | None = None) -> str:
    """The value of ``[gtm] <name>`` from Airflow's configuration, stripped.

    ``fallback`` (else the declared default) when the option is set nowhere or set empty.
    """
    if name not in OPTIONS:
        raise KeyError(f"[{SECTION}] {name} is not declared in airflow_provider_gtm.config.OPTIONS")
    default = OPTIONS[name]["default"] if fallback is None else fallback
    value = _airflow_conf().get(SECTION, name, fallback=default)
    text = "" if value is None else str(value).strip()
    return text or ("" if default is None else str(default))
