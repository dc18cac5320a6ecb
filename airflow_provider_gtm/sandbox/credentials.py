"""The sandbox's fixed, documented, fake credentials (README "The sandbox", docs/sandbox.md)."""

from __future__ import annotations

# Fixed, documented, fake credentials (README "Sandbox"). They look like real keys so that
# Airflow's secret masker (which skips values shorter than 5 characters) masks them in logs.
SANDBOX_CREDENTIALS: dict[str, dict[str, str]] = {
    "octy": {"login": "pk_sandbox_4f1c2a9e7b3d", "password": "sk_sandbox_9d8e7f6a5b4c3d2e1f00"},
    "customeros": {"password": "cos_sandbox_key_7a6b5c4d3e2f1a0b"},
    "octopus": {"password": "connect-secret-sandbox-3e2d1c0b9a8f7e6d"},
    "oktopost": {"login": "001sandbox0acct", "password": "okto_sandbox_key_1a2b3c4d5e6f7a8b"},
}
