"""Apache Airflow provider for go-to-market APIs: Octy, CustomerOS, Octopus Community Connect, Oktopost."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_HOSTS = {
    "octy": "https://api.octy.ai",
    "customeros": "https://api.customeros.ai",
    "octopus_connect": "https://connect.octopuscommunity.com",
    "oktopost": "https://api.oktopost.com",
}


def get_provider_info() -> dict[str, Any]:
    """Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``)."""
    from airflow_provider_gtm.config import provider_config
    from airflow_provider_gtm.connection_fields import conn_fields

    return {
        "package-name": "airflow-provider-gtm",
        "name": "Go-to-market APIs (Octy, CustomerOS, Octopus Community Connect, Oktopost)",
        "description": "Hooks, operators and sample DAGs to pull data from and push batches to "
        "Octy, CustomerOS, Octopus Community Connect and Oktopost.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": "Octy", "external-doc-url": "https://api-docs.octy.ai/", "tags": ["service"]},
            {"integration-name": "CustomerOS", "external-doc-url": "https://docs.customeros.ai/", "tags": ["service"]},
            {
                "integration-name": "Octopus Community Connect",
                "external-doc-url": "https://octopus-documentation.pages.dev/connect/",
                "tags": ["service"],
            },
            {
                "integration-name": "Oktopost",
                "external-doc-url": "https://developers.oktopost.com/",
                "tags": ["service"],
            },
        ],
        "hooks": [
            {"integration-name": "Octy", "python-modules": ["airflow_provider_gtm.hooks.octy"]},
            {"integration-name": "CustomerOS", "python-modules": ["airflow_provider_gtm.hooks.customeros"]},
            {"integration-name": "Octopus Community Connect", "python-modules": ["airflow_provider_gtm.hooks.octopus"]},
            {"integration-name": "Oktopost", "python-modules": ["airflow_provider_gtm.hooks.oktopost"]},
        ],
        "connection-types": [
            {
                "connection-type": "octy",
                "hook-class-name": "airflow_provider_gtm.hooks.octy.OctyHook",
                "hook-name": "Octy",
                "conn-fields": conn_fields("octy"),
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"login": "Public key", "password": "Secret key", "host": "Base URL"},
                    "placeholders": {
                        "host": _HOSTS["octy"],
                        "login": "pk_...",
                        "password": "sk_...",
                        "extra": '{"read_timeout": 60, "rate_limits": [[120, 60]]}',
                    },
                },
            },
            {
                "connection-type": "customeros",
                "hook-class-name": "airflow_provider_gtm.hooks.customeros.CustomerOSHook",
                "hook-name": "CustomerOS",
                "conn-fields": conn_fields("customeros"),
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"password": "API key", "host": "Base URL"},
                    "placeholders": {
                        "host": _HOSTS["customeros"],
                        "password": "sent as the X-CUSTOMER-OS-API-KEY header",
                        "extra": '{"read_timeout": 60}',
                    },
                },
            },
            {
                "connection-type": "octopus_connect",
                "hook-class-name": "airflow_provider_gtm.hooks.octopus.OctopusConnectHook",
                "hook-name": "Octopus Community Connect",
                "conn-fields": conn_fields("octopus_connect"),
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"password": "API key", "host": "Base URL"},
                    "placeholders": {
                        "host": _HOSTS["octopus_connect"],
                        "password": "connect-secret-...",
                        "extra": '{"read_timeout": 60}',
                    },
                },
            },
            {
                "connection-type": "oktopost",
                "hook-class-name": "airflow_provider_gtm.hooks.oktopost.OktopostHook",
                "hook-name": "Oktopost",
                "conn-fields": conn_fields("oktopost"),
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"login": "Account ID", "password": "API key", "host": "Base URL (optional)"},
                    "placeholders": {
                        "host": f"{_HOSTS['oktopost']} (us) or https://eu-api.oktopost.com (eu)",
                        "login": "001xxxxxxxxxxxx",
                        "password": "API key from My Profile",
                    },
                },
            },
        ],
        "operators": [
            {
                "integration-name": name,
                "python-modules": [f"airflow_provider_gtm.operators.{module}"],
            }
            for name, module in (
                ("Octy", "octy"),
                ("CustomerOS", "customeros"),
                ("Octopus Community Connect", "octopus"),
                ("Oktopost", "oktopost"),
            )
        ],
        "triggers": [
            {"integration-name": "CustomerOS", "python-modules": ["airflow_provider_gtm.triggers.customeros"]},
        ],
        "extra-links": ["airflow_provider_gtm.operators.links.OktopostAppLink"],
        "config": provider_config(),
    }
