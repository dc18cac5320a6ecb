"""Apache Airflow provider for go-to-market APIs: Octy, CustomerOS, Octopus Community Connect, Oktopost."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
#: The docs site (`make docs` builds it from docs/); provider info's description links it, so
#: `airflow providers list` and the UI's providers page show it.
DOCS_URL = "https://airflow-provider-gtm.github.io/airflow-provider-gtm/"


def get_provider_info() -> dict[str, Any]:
    """Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``)."""
    from airflow_provider_gtm.apis import specs
    from airflow_provider_gtm.config import provider_config
    from airflow_provider_gtm.connection_fields import conn_fields

    apis = specs()
    names = [spec.display_name for spec in apis]
    return {
        "package-name": "airflow-provider-gtm",
        "name": f"Go-to-market APIs ({', '.join(names)})",
        # Official providers link their docs in RST; the CLI strips the markup, leaving the URL.
        "description": "Hooks, operators and sample DAGs to pull data from and push batches to "
        f"{', '.join(names[:-1])} and {names[-1]}. `Documentation <{DOCS_URL}>`__",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": spec.display_name,
                "external-doc-url": spec.external_doc_url,
                # The pages of docs/ (paths as official providers write them: /docs/<package>/...).
                "how-to-guide": [f"/docs/airflow-provider-gtm/{page}" for page in how_to_guides(spec)],
                "tags": ["service"],
            }
            for spec in apis
        ],
        "hooks": [{"integration-name": spec.display_name, "python-modules": [spec.hook_module]} for spec in apis],
        "connection-types": [
            {
                "connection-type": spec.conn_type,
                "hook-class-name": spec.hook_class,
                "hook-name": spec.display_name,
                "conn-fields": conn_fields(spec.conn_type),
                "ui-field-behaviour": {
                    "hidden-fields": list(spec.hidden_fields),
                    "relabeling": spec.relabeling(),
                    "placeholders": spec.ui_placeholders(),
                },
            }
            for spec in apis
        ],
        "operators": [
            {"integration-name": spec.display_name, "python-modules": [spec.operators_module]} for spec in apis
        ],
        "triggers": [
            {"integration-name": "CustomerOS", "python-modules": ["airflow_provider_gtm.triggers.customeros"]},
        ],
        "extra-links": ["airflow_provider_gtm.operators.links.OktopostAppLink"],
        "config": provider_config(),
    }


def how_to_guides(spec: Any) -> list[str]:
    """The docs pages of one API (under docs/): its operators' page and its connection type's page."""
    return [f"operators/{spec.operators_module.rsplit('.', 1)[1]}.rst", f"connections/{spec.conn_type}.rst"]
