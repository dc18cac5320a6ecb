"""Sphinx configuration of the docs site (`make docs`: warnings are errors)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

# The version is read from the source, not imported: the docs venv has no Airflow.
_init = (REPO / "airflow_provider_gtm" / "__init__.py").read_text()
release = version = re.search(r'^__version__ = "([^"]+)"', _init, re.M)[1]  # type: ignore[index]
project = "airflow-provider-gtm"
author = "The airflow-provider-gtm authors"
copyright = "2026, The airflow-provider-gtm authors"  # noqa: A001 (Sphinx's name)

extensions = ["myst_parser", "gtm_docs"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
html_theme = "alabaster"
html_title = f"airflow-provider-gtm {release}"
html_static_path: list[str] = []
