"""Construction-time argument checks shared by the operators (no I/O; templated values pass)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


def is_template(value: Any) -> bool:
    """Whether a value will only be known at run time (a Jinja template string or an upstream XComArg)."""
    from airflow_provider_gtm.compat import XComArg

    return (isinstance(value, str) and "{{" in value) or isinstance(value, XComArg)


def check_choice(operator: str, argument: str, value: Any, choices: Collection[Any]) -> None:
    """Raise a ValueError naming the argument and the allowed values when ``value`` is not one of them."""
    if value is None or is_template(value):
        return
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{operator}: {argument}={value!r} is not supported; use one of {allowed}")


def check_range(operator: str, argument: str, value: Any, low: int, high: int) -> None:
    """Raise a ValueError unless ``low <= value <= high`` (templated values pass)."""
    if value is None or is_template(value):
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{operator}: {argument} must be an integer from {low} to {high}, got {value!r}")


#: What a batch task does when records fail: fail the task, only warn, or fail above a ratio.
FAILURE_POLICIES = ("fail", "warn", "ratio")


def check_failure_policy(on_failures: Any, max_failure_ratio: Any, error: type[Exception]) -> None:
    """Validate the partial-failure policy (templated values are checked once rendered)."""
    if isinstance(on_failures, str) and "{{" in on_failures:
        return
    if on_failures not in FAILURE_POLICIES:
        raise error(f"on_failures must be one of {FAILURE_POLICIES}, got {on_failures!r}")
    if isinstance(max_failure_ratio, str) and "{{" in max_failure_ratio:
        return
    try:
        ratio = float(max_failure_ratio)
    except (TypeError, ValueError):
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise error(f"max_failure_ratio must be a number between 0 and 1, got {max_failure_ratio!r}")
