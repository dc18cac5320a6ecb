"""One spec per API: every per-API fact (host, connection, labels, endpoints, limits) written once.

Pure data and standard library only: the hooks (at run time), the operators (at DAG parse), the
provider info (on every Airflow CLI start), the connection form and the sandbox all read these
modules, so importing them must never load requests, urllib3, tenacity or a hook. A test
(tests/unit/test_api_specs.py) checks that, and that each fact below is not written again elsewhere.

Modelled on Databricks' endpoint constants (``RUN_NOW_ENDPOINT = ("POST", "2.1/jobs/run-now")``):
an endpoint is a method and a path; where the code cites a vendor file for a fact, ``source`` says
which.
"""

from __future__ import annotations

from airflow_provider_gtm.apis.customeros import CUSTOMEROS
from airflow_provider_gtm.apis.model import ApiSpec, Operation, Resolution, Resource, Write
from airflow_provider_gtm.apis.octopus import OCTOPUS
from airflow_provider_gtm.apis.octy import OCTY
from airflow_provider_gtm.apis.oktopost import OKTOPOST


def specs() -> tuple[ApiSpec, ...]:
    """The four specs, in the order of the provider info."""
    return OCTY, CUSTOMEROS, OCTOPUS, OKTOPOST


def by_name(name: str) -> ApiSpec:
    """The spec of ``name`` (``octy``, ``customeros``, ``octopus``, ``oktopost``)."""
    for spec in specs():
        if spec.name == name:
            return spec
    raise KeyError(name)


def by_conn_type(conn_type: str) -> ApiSpec:
    """The spec of a connection type (``octy``, ``customeros``, ``octopus_connect``, ``oktopost``)."""
    for spec in specs():
        if spec.conn_type == conn_type:
            return spec
    raise KeyError(conn_type)


__all__ = ["ApiSpec", "Operation", "Resolution", "Resource", "Write", "by_conn_type", "by_name", "specs"]
