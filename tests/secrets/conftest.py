"""Fixtures of the secrets suite (the planted secrets and the scanner live in secret_scan.py)."""

from secret_scan import planted, planted_sandbox  # noqa: F401 - pytest fixtures
