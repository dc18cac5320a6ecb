"""Per-field checks of one input record before anything is sent (the mechanism; rules live per API).

Each API module declares what a record of one operation must hold (:class:`FieldRule` per field,
from the vendor's documented request body); :func:`record_problem` returns the first thing wrong
with a record, naming the field and how to fix it, or ``None``. The batch operator calls it for
every input record before the first write (``GtmBatchOperator.validate_record``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               dict: "an object", list: "a list"}


@dataclass(frozen=True)
class FieldRule:
    """What one field must be: its JSON type, whether required, and the API's documented limits."""

    kind: type
    required: bool = True
    #: Length limits of a string (characters) or least number of keys/items of an object/list.
    min_len: int | None = None
    max_len: int | None = None
    #: Characters a string may not contain (e.g. Octy identifiers: ``, " ' .``).
    forbidden: str = ""
    #: The allowed values, when the API takes only a few.
    choices: tuple[Any, ...] = ()
    #: The type of every item of a list.
    items: type | None = None


def _describe(rule: FieldRule) -> str:
    text = _TYPE_NAMES.get(rule.kind, rule.kind.__name__)
    if rule.kind is str and (rule.min_len or rule.max_len):
        text += f" of {rule.min_len or 0}-{rule.max_len or '...'} characters"
    if rule.kind in (dict, list) and rule.min_len:
        text = f"{text} with at least {rule.min_len} {'key' if rule.kind is dict else 'item'}"
    if rule.forbidden:
        shown = " ".join("space" if c == " " else c for c in rule.forbidden)
        text += f" without {shown}"
    if rule.choices:
        text = "one of " + ", ".join(repr(c) for c in rule.choices)
    return text


def _is_kind(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is dict:
        return isinstance(value, Mapping)
    return isinstance(value, kind)


def field_problem(name: str, value: Any, rule: FieldRule) -> str | None:
    """What is wrong with one field's value (``None``: nothing)."""
    fix = f"it must be {_describe(rule)}"
    if value is None or (rule.kind is str and value == ""):
        return f"field {name!r} is missing; {fix}" if rule.required else None
    if rule.choices:
        return None if value in rule.choices else f"field {name!r} is {value!r}; {fix}"
    if not _is_kind(value, rule.kind):
        return f"field {name!r} is {type(value).__name__} {value!r:.60}; {fix}"
    if isinstance(value, str):
        if (rule.min_len and len(value) < rule.min_len) or (rule.max_len and len(value) > rule.max_len):
            return f"field {name!r} has {len(value)} characters; {fix}"
        bad = sorted({c for c in value if c in rule.forbidden})
        if bad:
            return f"field {name!r} contains {' '.join(repr(c) for c in bad)}; {fix}"
    elif isinstance(value, Mapping | list) and rule.min_len and len(value) < rule.min_len:
        return f"field {name!r} is empty; {fix}"
    if rule.items is not None and isinstance(value, list):
        for index, item in enumerate(value):
            if not _is_kind(item, rule.items):
                return (f"field {name!r} item {index} is {type(item).__name__} {item!r:.60}; every item must be "
                        f"{_TYPE_NAMES.get(rule.items, rule.items.__name__)}")
    return None


def record_problem(record: Any, rules: Mapping[str, FieldRule], what: str) -> str | None:
    """The first thing wrong with ``record`` under ``rules`` (``what`` names the record: "a profile")."""
    if not isinstance(record, Mapping):
        return f"{what} must be an object with {', '.join(repr(n) for n in rules)}; got {type(record).__name__}"
    for name, rule in rules.items():
        problem = field_problem(name, record.get(name), rule)
        if problem:
            return problem
    return None


def id_problem(record: Any, what: str) -> str | None:
    """Deletes take ids: a non-empty string."""
    if isinstance(record, str) and record.strip():
        return None
    return f"{what} must be an id (a non-empty string); got {record!r:.60}"


def one_of_problem(record: Any, names: Sequence[str], what: str) -> str | None:
    """At least one of ``names`` holds a non-empty string."""
    if not isinstance(record, Mapping):
        return f"{what} must be an object with one of {', '.join(repr(n) for n in names)}; got {type(record).__name__}"
    if not any(record.get(n) not in (None, "") for n in names):
        return f"{what} needs one of the fields {', '.join(repr(n) for n in names)}; add one"
    for name in names:
        problem = field_problem(name, record.get(name), FieldRule(str, required=False))
        if problem:
            return problem
    return None
