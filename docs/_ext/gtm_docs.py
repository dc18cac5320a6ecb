"""Sphinx directives that render the docs from the code itself, so a page cannot drift from it.

- ``.. gtm-operator:: airflow_provider_gtm.operators.octy.OctyFetchOperator``: the class's docstring
  and its own keyword arguments (with defaults), read from the source with ``ast``: the docs venv has
  no Airflow, so nothing of the operators is imported.
- ``.. gtm-connection:: octy``: the connection type's form (fields, labels, hidden fields, defaults)
  and its extras, from the catalogue (``airflow_provider_gtm.apis``) and ``connection_fields``, which
  are import-light by design (standard library only).
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

REPO = Path(__file__).resolve().parents[2]


def _class_node(module: str, name: str) -> tuple[ast.ClassDef, Path]:
    path = REPO / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(), str(path))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node, path
    raise ValueError(f"{module} has no class {name}")


def _own_arguments(cls: ast.ClassDef) -> list[tuple[str, str]]:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            args = node.args
            found = []
            for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                found.append((arg.arg, "required" if default is None else f"``{ast.unparse(default)}``"))
            return found
    return []


class GtmOperator(SphinxDirective):
    """An operator's docstring and its own keyword-only arguments, from its source."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module, _, name = self.arguments[0].rpartition(".")
        cls, path = _class_node(module, name)
        self.env.note_dependency(str(path))
        bases = ", ".join(f"``{ast.unparse(b)}``" for b in cls.bases)
        lines = [f".. rubric:: ``{name}``", "", f"``from {module} import {name}`` (bases: {bases})", ""]
        # ":param x:" fields read as "x:" (the docs have no autodoc to turn them into a parameter list).
        doc = inspect.cleandoc(ast.get_docstring(cls, clean=False) or "")
        lines += [re.sub(r"^:param (\w+):", r":\1:", line) for line in doc.splitlines()]
        own = _own_arguments(cls)
        if own:
            lines += ["", "Its own keyword arguments (default); the rest are the base's, see :doc:`common`:", ""]
            lines += [f"- ``{arg}``: {default}" for arg, default in own]
        lines.append("")
        container = nodes.container()
        self.state.nested_parse(StringList(lines, str(path)), self.content_offset, container)
        return container.children


def _schema_text(schema: dict[str, Any]) -> str:
    kinds = schema.get("type", "")
    kinds = "/".join(k for k in kinds if k != "null") if isinstance(kinds, list) else kinds
    parts = [kinds or "any"]
    for key in ("enum", "minimum", "maximum", "pattern"):
        if key in schema:
            parts.append(f"{key} {json.dumps(schema[key])}")
    if "default" in schema:
        parts.append(f"default ``{json.dumps(schema['default'])}``")
    return ", ".join(parts)


class GtmConnection(SphinxDirective):
    """A connection type's fields and extras, from the catalogue."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        if str(REPO) not in sys.path:
            sys.path.insert(0, str(REPO))
        from airflow_provider_gtm.apis import specs
        from airflow_provider_gtm.connection_fields import conn_fields

        conn_type = self.arguments[0]
        (spec,) = [s for s in specs() if s.conn_type == conn_type]
        for source in ("apis/model.py", f"apis/{spec.name}.py", "connection_fields.py"):
            self.env.note_dependency(str(REPO / "airflow_provider_gtm" / source))
        relabel = spec.relabeling()
        lines = [
            f"Connection type ``{spec.conn_type}``, default connection id ``{spec.default_conn_id}``, hook "
            f"``{spec.hook_class}`` (also ``{spec.conn_name_attr}=``). Default host ``{spec.default_host}``.",
            "",
            ".. list-table:: Form fields",
            "   :header-rows: 1",
            "",
            "   * - field",
            "     - label in the form",
            "     - placeholder",
        ]
        for field in ("host", "login", "password", "port", "schema"):
            if field in spec.hidden_fields:
                continue
            lines += [f"   * - ``{field}``", f"     - {relabel.get(field, field.capitalize())}",
                      f"     - ``{spec.placeholders[field]}``" if spec.placeholders.get(field) else "     - "]
        lines += ["", f"Hidden in the form: {', '.join(f'``{f}``' for f in spec.hidden_fields) or 'none'}.", "",
                  ".. list-table:: Extras (each a typed field of the form; empty means the default)",
                  "   :header-rows: 1", "", "   * - extra", "     - label", "     - type and limits",
                  "     - what it does"]
        for key, field in conn_fields(conn_type).items():
            lines += [f"   * - ``{key}``", f"     - {field['label']}", f"     - {_schema_text(field['schema'])}",
                      f"     - {field.get('description', '')}"]
        lines.append("")
        container = nodes.container()
        self.state.nested_parse(StringList(lines, f"<gtm-connection {conn_type}>"), self.content_offset, container)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("gtm-operator", GtmOperator)
    app.add_directive("gtm-connection", GtmConnection)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
