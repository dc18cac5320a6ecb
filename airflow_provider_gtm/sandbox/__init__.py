"""A local stand-in for Octy, CustomerOS, Octopus Community Connect and Oktopost (see docs/sandbox.md)."""

from airflow_provider_gtm.sandbox.server import CONNECTIONS, SANDBOX_CREDENTIALS, SandboxApp, SandboxServer

__all__ = ["CONNECTIONS", "SANDBOX_CREDENTIALS", "SandboxApp", "SandboxServer"]
