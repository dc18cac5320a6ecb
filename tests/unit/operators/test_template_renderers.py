"""Every templated field that holds a dict or a list renders as JSON in the UI's Rendered Template view."""

from __future__ import annotations

import importlib
import inspect

import pytest
from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_gtm import get_provider_info
from airflow_provider_gtm.operators.base import GtmBatchOperator, GtmFetchOperator
from airflow_provider_gtm.operators.lookup import GtmLookupOperator

#: Words in a parameter's annotation that mean the value can be a JSON object or array.
_STRUCTURED = ("dict", "list", "Mapping", "Sequence", "Iterable", "tuple")


def _operator_classes() -> list[type[BaseOperator]]:
    found: dict[str, type[BaseOperator]] = {
        cls.__name__: cls for cls in (GtmFetchOperator, GtmBatchOperator, GtmLookupOperator)
    }
    for entry in get_provider_info()["operators"]:
        for module_name in entry["python-modules"]:
            module = importlib.import_module(module_name)
            for name, cls in vars(module).items():
                if inspect.isclass(cls) and issubclass(cls, BaseOperator) and cls.__module__ == module_name:
                    found[name] = cls
    return sorted(found.values(), key=lambda cls: cls.__name__)


def _annotation(cls: type, argument: str) -> str | None:
    """The annotation of ``argument`` in the first ``__init__`` of the MRO that declares it."""
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        parameter = inspect.signature(init).parameters.get(argument)
        if parameter is not None and parameter.annotation is not inspect.Parameter.empty:
            return str(parameter.annotation)
    return None


OPERATORS = _operator_classes()


def test_the_provider_operators_are_all_found() -> None:
    names = {cls.__name__ for cls in OPERATORS}
    assert {"OctyFetchOperator", "OctyBatchOperator", "OktopostFetchOperator", "OktopostCreateOperator",
            "OktopostBatchOperator", "CustomerOSBatchOperator", "CustomerOSLookupOperator",
            "OctopusFetchOperator"} <= names


@pytest.mark.parametrize("operator", OPERATORS, ids=lambda cls: cls.__name__)
def test_every_structured_template_field_renders_as_json(operator: type[BaseOperator]) -> None:
    structured = []
    for field in operator.template_fields:
        # A field kept under another name than its argument (``dry_run=`` -> ``dry_run_flag``) says which.
        annotation = _annotation(operator, getattr(operator, "template_field_arguments", {}).get(field, field))
        assert annotation is not None, f"{operator.__name__}.{field} is templated but has no annotated argument"
        if any(word in annotation for word in _STRUCTURED):
            structured.append(field)
    missing = [field for field in structured if operator.template_fields_renderers.get(field) != "json"]
    assert not missing, f"{operator.__name__}: templated dict/list fields without a json renderer: {missing}"
    stale = set(operator.template_fields_renderers) - set(operator.template_fields)
    assert not stale, f"{operator.__name__}: renderers for fields that are not templated: {stale}"


def test_the_fields_the_issue_names_are_covered() -> None:
    """records, filters and inputs: the three fields that showed a Python repr."""
    by_name = {cls.__name__: cls for cls in OPERATORS}
    assert by_name["OctyBatchOperator"].template_fields_renderers["records"] == "json"
    assert by_name["OktopostFetchOperator"].template_fields_renderers["filters"] == "json"
    assert by_name["OctyFetchOperator"].template_fields_renderers["filters"] == "json"
    assert by_name["CustomerOSLookupOperator"].template_fields_renderers["inputs"] == "json"


def test_a_mapped_operator_keeps_the_renderers() -> None:
    """``.partial().expand()`` (the sample DAGs' create_events) reads the class's renderers."""
    from airflow.providers.common.compat.sdk import DAG

    with DAG("renderers", schedule=None):
        mapped = by_class("OctyBatchOperator").partial(task_id="t", operation="events.create").expand(
            records=[[{"a": 1}]])
    assert mapped.template_fields_renderers["records"] == "json"


def by_class(name: str) -> type[BaseOperator]:
    return next(cls for cls in OPERATORS if cls.__name__ == name)
