"""No operator of the provider takes a parameter that overwrites a BaseOperator attribute.

``CustomerOSEnrichPersonOperator(email=...)`` once replaced ``BaseOperator.email`` (the failure-alert
recipients) with the person to enrich. Every operator class's own ``__init__`` parameters are
checked against BaseOperator's parameters and attributes.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import airflow_provider_gtm.operators as operators_package
from airflow_provider_gtm.compat import BaseOperator

# Parameters an operator may pass through on purpose (documented BaseOperator behaviour it extends).
ALLOWED: set[str] = {"kwargs"}
# Parameters named like a BaseOperator attribute on purpose (the issue's own word), whose value lives under
# another attribute so that BaseOperator's stays what it is: ``dry_run=`` (a plan without writes, kept as
# ``dry_run_flag``) leaves ``BaseOperator.dry_run()`` (``airflow tasks test --dry-run``) alone.
STORED_APART: dict[str, str] = {"dry_run": "dry_run_flag"}


def provider_operators() -> list[type[BaseOperator]]:
    found = set()
    for module_info in pkgutil.iter_modules(operators_package.__path__):
        module = importlib.import_module(f"{operators_package.__name__}.{module_info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseOperator) and obj.__module__.startswith("airflow_provider_gtm."):
                found.add(obj)
    return sorted(found, key=lambda cls: cls.__qualname__)


def base_operator_names() -> set[str]:
    names = set(inspect.signature(BaseOperator.__init__).parameters)
    names |= {name for name in dir(BaseOperator) if not name.startswith("_")}
    return names


def test_the_check_sees_every_operator():
    names = {cls.__name__ for cls in provider_operators()}
    assert {"CustomerOSEnrichPersonOperator", "CustomerOSLookupOperator", "OctyBatchOperator",
            "OktopostCreateOperator", "OctopusFetchOperator", "GtmFetchOperator", "GtmBatchOperator"} <= names
    assert {"email", "params", "retries", "pool", "task_id", "log"} <= base_operator_names()


def test_no_operator_parameter_shadows_a_base_operator_attribute():
    base = base_operator_names()
    clashes = {}
    for cls in provider_operators():
        own = set(inspect.signature(cls.__init__).parameters) - {"self"} - ALLOWED - set(STORED_APART)
        shadowed = sorted(own & base)
        if shadowed:
            clashes[cls.__qualname__] = shadowed
    assert clashes == {}


def test_alert_recipients_stay_base_operator_email():
    from airflow_provider_gtm.operators.customeros import CustomerOSEnrichPersonOperator

    op = CustomerOSEnrichPersonOperator(task_id="e", person_email="prospect@acme.example",
                                        email=["oncall@ops.example"])
    assert op.email == ["oncall@ops.example"]
    assert op.person_email == "prospect@acme.example"


def test_parameters_stored_apart_leave_the_base_operator_attribute_alone():
    from airflow_provider_gtm.operators.octy import OctyBatchOperator

    op = OctyBatchOperator(task_id="w", operation="items.create", records=[], dry_run=True)
    for parameter, attribute in STORED_APART.items():
        assert getattr(op, attribute) is True
        assert getattr(type(op), parameter) is getattr(BaseOperator, parameter)
        assert parameter not in vars(op)
