"""``docs/endpoints.md``, written from the catalogue: one row per vendor endpoint the provider reaches.

Run ``python -m airflow_provider_gtm.apis.docs > docs/endpoints.md`` after changing a spec module;
tests/unit/test_api_specs.py fails while the file and the catalogue disagree. Standard library and
the spec modules only (``apis/`` stays import-light).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from airflow_provider_gtm.apis import specs
from airflow_provider_gtm.apis.model import READ_WHOLE, ApiSpec, Operation, Resource

HEADER = """# Endpoints

Generated from the catalogue (`airflow_provider_gtm/apis/`) by
`python -m airflow_provider_gtm.apis.docs > docs/endpoints.md`; do not edit by hand (a test compares
this file with the catalogue). One row per vendor endpoint the provider reaches: the hook method that
calls it, the operator argument that reaches it (if any), the filter an incremental fetch narrows it
by, and the vendor file the facts come from.
"""

COLUMNS = ("method", "path", "hook method", "operator", "paging / limits", "incremental filter", "writes",
           "vendor source")


def _cell(text: object) -> str:
    """A Markdown table cell: pipes escaped, never empty."""
    value = str(text).replace("|", "\\|").strip()
    return value or "–"


def _limits(row: Resource) -> str:
    parts = []
    if row.paging:
        parts.append(row.paging)
    if row.page_sizes:
        parts.append("sizes " + "/".join(map(str, row.page_sizes)))
    if row.page_size_max:
        parts.append(f"size 1-{row.page_size_max}")
    parts.extend(f"≤ {value} {name}" for name, value in row.limits)
    return "; ".join(parts)


def _incremental(row: Resource) -> str:
    """The filter an incremental fetch narrows a list by; a paged list without one is read whole."""
    if row.incremental:
        return row.incremental
    return READ_WHOLE if row.paging else ""


def _write_semantics(op: Operation) -> str:
    """Batch maximum, how each record is confirmed, how a lost answer is settled, whether a resend is safe,
    and the key ``sync="changed"`` names records by (none: the operator refuses it)."""
    confirm = ("`Result: true`" if op.result_only
               else f"`{op.response_key}` in the answer" if op.response_key
               else f"listed in `{op.accepted_key}` (refusals in `{op.rejected_key}`)" if op.accepted_key
               else "summary count")
    lost = {"resend": f"resend (duplicate of {', '.join(op.unique_fields)} refused)",
            "lookup": "looked up", None: "a person decides"}[op.resolution]
    parts = [op.write, f"≤ {op.batch_max} per chunk" if op.batch_max else "", f"confirmed by {confirm}",
             f"lost answer: {lost}", "client resends after 5xx" if op.safe_to_retry else "",
             f"sync key `{op.key}`" if op.key else "no sync key"]
    if op.required:
        parts.append("requires " + ", ".join(op.required))
    return "; ".join(p for p in parts if p)


def rows(spec: ApiSpec) -> Iterator[tuple[str, ...]]:
    """The table rows of one API: lists, then writes, then single calls, each in catalogue order."""
    prefix = spec.path_prefix
    for name, res in spec.resources.items():
        operator = f"`{spec.fetch_operator}({spec.fetch_argument}=\"{name}\")`" if spec.fetch_operator else ""
        yield (res.method, f"`{prefix}{res.path}`", f"`{res.hook_method}`" if res.hook_method else "", operator,
               _limits(res), _incremental(res), "", res.source)
    for name, op in spec.operations.items():
        operator = f"`{spec.batch_operator}(operation=\"{name}\")`" if spec.batch_operator else ""
        yield (op.method, f"`{prefix}{op.path}`", f"`{op.hook_method}`" if op.hook_method else "", operator, "",
               "", _write_semantics(op), op.source)
    for call in spec.calls.values():
        yield (call.method, f"`{prefix}{call.path}`", f"`{call.hook_method}`", "", _limits(call), "", "",
               call.source)


def render() -> str:
    """The whole of ``docs/endpoints.md``."""
    out = [HEADER]
    for spec in specs():
        out.append(f"\n## {spec.display_name}\n")
        out.append(f"\nHook `{spec.hook_class}`; base URL `{spec.default_host}{spec.path_prefix}`. "
                   f"Sources: {spec.source}.\n\n")
        out.append("| " + " | ".join(COLUMNS) + " |\n")
        out.append("|" + " --- |" * len(COLUMNS) + "\n")
        for row in rows(spec):
            out.append("| " + " | ".join(_cell(c) for c in row) + " |\n")
    return "".join(out)


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
