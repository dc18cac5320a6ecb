"""The docs site covers what the provider ships, and its examples come from the sample DAGs.

Every operator class of every operators module named in provider info has a ``gtm-operator`` directive
on a page; every connection type has its page; every ``how-to-guide`` path is a page; every
``literalinclude`` marker a page uses exists, once, as ``# [START x]`` / ``# [END x]`` in that file.
(`make docs` builds the site with warnings as errors; this test needs no Sphinx.)
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from airflow_provider_gtm import get_provider_info
from airflow_provider_gtm.compat import BaseOperator

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGES = sorted(p for p in DOCS.rglob("*") if p.suffix in (".rst", ".md") and "_build" not in p.parts)


def documented_operators() -> set[str]:
    found = set()
    for page in PAGES:
        found.update(re.findall(r"^\.\. gtm-operator:: (\S+)$", page.read_text(), re.M))
    return found


def shipped_operators() -> set[str]:
    found = set()
    for entry in get_provider_info()["operators"]:
        for module_name in entry["python-modules"]:
            module = importlib.import_module(module_name)
            for name, cls in vars(module).items():
                if (inspect.isclass(cls) and issubclass(cls, BaseOperator) and cls.__module__ == module_name
                        and not name.startswith("_")):
                    found.add(f"{module_name}.{name}")
    return found


def test_every_operator_class_has_its_page():
    shipped = shipped_operators()
    assert len(shipped) >= 9
    missing = shipped - documented_operators()
    assert not missing, f"operators without a `.. gtm-operator::` on a docs page: {sorted(missing)}"


def test_every_documented_operator_exists():
    for path in documented_operators():
        module, _, name = path.rpartition(".")
        assert inspect.isclass(getattr(importlib.import_module(module), name, None)), path


def test_every_connection_type_has_its_page():
    for conn in get_provider_info()["connection-types"]:
        page = DOCS / "connections" / f"{conn['connection-type']}.rst"
        assert page.is_file(), page
        assert f".. gtm-connection:: {conn['connection-type']}" in page.read_text()


def test_how_to_guides_point_at_pages_in_the_toctree():
    index = (DOCS / "index.rst").read_text()
    guides = [g for i in get_provider_info()["integrations"] for g in i["how-to-guide"]]
    assert len(guides) == 8
    for guide in guides:
        relative = guide.removeprefix("/docs/airflow-provider-gtm/")
        assert (DOCS / relative).is_file(), guide
        assert f"   {relative.rsplit('.', 1)[0]}\n" in index, f"{relative} is not in index.rst's toctree"


INCLUDE = re.compile(
    r"^\.\. literalinclude:: (?P<file>\S+)\n(?P<options>(?:   :[^\n]*\n)+)", re.M)


def includes() -> list[tuple[Path, Path, str, str]]:
    found = []
    for page in PAGES:
        for match in INCLUDE.finditer(page.read_text()):
            options = dict(re.findall(r":([\w-]+): ?(.*)", match["options"]))
            found.append((page, (page.parent / match["file"]).resolve(), options.get("start-after", ""),
                          options.get("end-before", "")))
    return found


def test_the_pages_include_sample_dag_examples():
    pages = {page.name for page, *_ in includes()}
    assert {"octy.rst", "customeros.rst", "octopus.rst", "oktopost.rst"} <= pages


@pytest.mark.parametrize("page, source, start, end", includes(), ids=lambda v: getattr(v, "name", v))
def test_every_included_marker_exists_in_its_dag_file(page, source, start, end):
    assert source.parent == REPO / "dags", f"{page.name} includes {source}, not a sample DAG"
    text = source.read_text()
    assert re.fullmatch(r"\[START (\w+)\]", start) and end == start.replace("START", "END"), (start, end)
    assert text.count(f"# {start}\n") == 1 and text.count(f"# {end}\n") == 1, f"{source.name}: {start}"
    between = text.split(f"# {start}\n", 1)[1].split(f"# {end}\n", 1)[0]
    assert "Operator(" in between, f"{source.name}: {start} .. {end} holds no operator"


def test_example_dags_are_the_dags_folder():
    """The package's example_dags is the repository's dags/ (one set of files, not a copy)."""
    package = REPO / "airflow_provider_gtm" / "example_dags"
    if (REPO / ".git").exists():  # a checkout: the symlink (an unpacked sdist holds real files)
        assert package.is_symlink() and package.resolve() == (REPO / "dags").resolve()
    import airflow_provider_gtm.example_dags as shipped

    shipped_files = {p.name: p.read_bytes() for p in Path(shipped.__file__).parent.glob("*.py")}
    assert shipped_files == {p.name: p.read_bytes() for p in (REPO / "dags").glob("*.py")}


def test_the_docs_url_is_one_value():
    """Provider info (what `airflow providers list` shows) and the package metadata name the same site."""
    import configparser

    from airflow_provider_gtm import DOCS_URL

    assert DOCS_URL in get_provider_info()["description"]
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    urls = dict(line.split(" = ", 1) for line in cfg["metadata"]["project_urls"].strip().splitlines())
    assert urls["Documentation"] == DOCS_URL
    assert set(urls) == {"Documentation", "Source", "Changelog", "Issues"}
