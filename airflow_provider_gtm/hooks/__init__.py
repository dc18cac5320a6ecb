"""Hooks of the provider, one module per API."""
