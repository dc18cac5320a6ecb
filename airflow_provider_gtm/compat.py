"""Every difference between the Airflow (and Python) lines the provider supports lives here, and only here.

The same package runs on Airflow 2.11, 3.0, 3.1, 3.2 and 3.3 and on Python 3.10 to 3.13. The rest of
the package imports Airflow names from this module (``from airflow_provider_gtm.compat import
BaseOperator``) instead of from ``airflow.sdk``:

- each name is looked up lazily, on first use, so importing an operator loads exactly what importing it
  from ``airflow.sdk`` loads (DAG parsing stays cheap: tests/unit/test_lazy_imports.py);
- its first home is where Airflow 3.3 keeps it (what the provider imported before it ran on older lines),
  then ``apache-airflow-providers-common-compat``'s ``sdk`` shim, which maps each name to its home on the
  running line (``airflow.sdk`` on 3.x, ``airflow.models.*``/``airflow.hooks.base``/``airflow.datasets``
  on 2.11: an ``Asset`` is a ``Dataset`` there), then homes the shim does not know (``mask_secret``,
  ``BaseXCom``, ``DateTimeTrigger``);
- the few behaviours that differ (``Variable.get``'s keyword, ``datetime.fromisoformat`` before Python
  3.11) are small functions below; ``AIRFLOW_V_*`` flags say which line runs, for code that must branch.

tests/unit/test_compat.py checks that no other module of the package, its DAGs or its tests compares
Airflow versions.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow import __version__ as _airflow_version

if TYPE_CHECKING:  # what mypy sees: Airflow 3.3's names (CI type-checks on the newest line)
    from airflow.dag_processing.dagbag import DagBag
    from airflow.providers.standard.triggers.temporal import DateTimeTrigger
    from airflow.sdk import (
        DAG,
        Asset,
        BaseHook,
        BaseOperator,
        BaseOperatorLink,
        BaseXCom,
        Connection,
        ObjectStoragePath,
        Param,
        Variable,
        XComArg,
        dag,
        get_current_context,
        task,
    )
    from airflow.sdk.configuration import conf
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSkipException,
        ParamValidationError,
        TaskDeferred,
    )
    from airflow.sdk.io import fs as io_fs
    from airflow.sdk.log import mask_secret

__all__ = [
    "DAG", "DAG_TEST_DATE_ARG",
    "AIRFLOW_LINE", "AIRFLOW_VERSION", "AIRFLOW_V_3_0_PLUS", "AIRFLOW_V_3_1_PLUS", "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS", "AirflowException", "AirflowFailException", "AirflowSkipException", "Asset", "BaseHook",
    "BaseOperator", "BaseOperatorLink", "BaseXCom", "Connection", "DagBag", "DateTimeTrigger", "ObjectStoragePath",
    "Param", "ParamValidationError", "TaskDeferred", "Variable", "XComArg", "conf", "dag", "fromisoformat",
    "get_current_context", "io_fs", "make_asset", "mask_secret", "prepare_dag_test", "task", "triggering_asset_events",
    "variable_get",
]

def _release(version: str) -> tuple[int, int]:
    major, minor = re.match(r"(\d+)\.(\d+)", version).groups()  # type: ignore[union-attr]
    return int(major), int(minor)


AIRFLOW_VERSION: tuple[int, int] = _release(_airflow_version)
AIRFLOW_V_3_0_PLUS = AIRFLOW_VERSION >= (3, 0)
AIRFLOW_V_3_1_PLUS = AIRFLOW_VERSION >= (3, 1)
AIRFLOW_V_3_2_PLUS = AIRFLOW_VERSION >= (3, 2)
AIRFLOW_V_3_3_PLUS = AIRFLOW_VERSION >= (3, 3)
#: Airflow's line as ``"<major>.<minor>"`` (test parametrization, the README's per-line notes).
AIRFLOW_LINE = f"{AIRFLOW_VERSION[0]}.{AIRFLOW_VERSION[1]}"

_SHIM = "airflow.providers.common.compat.sdk"
_EXCEPTIONS = ("airflow.sdk.exceptions", _SHIM)

#: name -> its homes, tried in order (``module`` or ``module:attribute``).
_HOMES: dict[str, tuple[str, ...]] = {
    **{name: ("airflow.sdk", _SHIM) for name in (
        "DAG", "Asset", "BaseHook", "BaseOperator", "BaseOperatorLink", "Connection", "ObjectStoragePath",
        "Param", "Variable", "XComArg", "dag", "get_current_context", "task")},
    **{name: _EXCEPTIONS for name in (
        "AirflowException", "AirflowFailException", "AirflowSkipException", "ParamValidationError",
        "TaskDeferred")},
    "BaseXCom": ("airflow.sdk", "airflow.sdk.bases.xcom", "airflow.models.xcom"),
    "conf": ("airflow.sdk.configuration", _SHIM),
    "mask_secret": ("airflow.sdk.log", "airflow.sdk.execution_time.secrets_masker",
                    "airflow.utils.log.secrets_masker"),
    "DateTimeTrigger": ("airflow.providers.standard.triggers.temporal", "airflow.triggers.temporal"),
    # The module that maps a URL scheme to its fsspec filesystem (ObjectStoragePath's registry).
    "io_fs": ("=airflow.sdk.io.fs", "=airflow.io"),
    # Parsing DAG files (tests, bench): the DAG processor's on 3.1+, airflow.models' before.
    "DagBag": ("airflow.dag_processing.dagbag", "airflow.models.dagbag"),
}


def __getattr__(name: str) -> Any:
    homes = _HOMES.get(name)
    if homes is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    errors = []
    for home in homes:
        module_name, _, attribute = home.lstrip("=").partition(":")
        try:
            module = importlib.import_module(module_name)
            value = module if home.startswith("=") else getattr(module, attribute or name)
        except (ImportError, AttributeError) as error:
            errors.append(f"{home}: {error}")
            continue
        if name == "ObjectStoragePath":
            _iterable_files(sys.modules.get(value.__module__))
        elif name == "BaseHook":
            _async_connection_lookup(value)
        globals()[name] = value  # found once per process
        return value
    raise ImportError(f"{name} is in none of its homes on Airflow {_airflow_version}: " + "; ".join(errors))


def _resolved(name: str) -> Any:
    """A name of this module as ``from airflow_provider_gtm.compat import <name>`` gives it (the found one)."""
    return globals()[name] if name in globals() else __getattr__(name)


def _iterable_files(path_module: Any) -> None:
    """Let ``for line in path.open("rb")`` iterate the file on every line.

    On Airflow 2.11 and 3.0 ``ObjectStoragePath.open()`` returns a ``TrackingFileWrapper`` (lineage;
    ``_TrackingFileWrapper`` on 3.0) that forwards attributes and ``[]`` to the file but has no
    ``__iter__``, so Python iterates it through ``__getitem__`` and fails ("'LocalFileOpener' object is
    not subscriptable"). Airflow 3.1 added the missing ``__iter__`` (forwarding to the file); this adds
    the same method where it is missing.
    """
    for wrapper_name in ("TrackingFileWrapper", "_TrackingFileWrapper"):
        wrapper = getattr(path_module, wrapper_name, None)
        if isinstance(wrapper, type) and "__iter__" not in vars(wrapper):
            wrapper.__iter__ = lambda self: iter(self._obj)  # type: ignore[attr-defined]


def _async_connection_lookup(hook_class: Any) -> None:
    """Give ``BaseHook`` the ``aget_connection`` classmethod of Airflow 3.1+ where it is missing.

    A trigger (``triggers/customeros.py``) looks its connection up with ``await
    BaseHook.aget_connection(conn_id)``: a synchronous lookup inside the triggerer's event loop fails on
    Airflow 3. Airflow 2.11's and 3.0's ``BaseHook`` have no such method; there the synchronous
    ``get_connection`` runs in a worker thread (what common-compat's ``get_async_connection`` does).
    """
    if hasattr(hook_class, "aget_connection"):
        return

    async def aget_connection(cls: Any, conn_id: str) -> Any:
        from asgiref.sync import sync_to_async

        return await sync_to_async(cls.get_connection)(conn_id)

    hook_class.aget_connection = classmethod(aget_connection)


def triggering_asset_events(context: Mapping[str, Any]) -> Mapping[Any, list[Any]]:
    """The asset events that triggered this run, looked up by ``Asset`` (``events.get(asset)``, ``[asset]``).

    Airflow 3 has them as ``context["triggering_asset_events"]``; Airflow 2.11 as
    ``context["triggering_dataset_events"]``, keyed by each Dataset's URI: there an Asset (a Dataset, see
    :func:`make_asset`) is looked up by its URI.
    """
    if AIRFLOW_V_3_0_PLUS:
        return context["triggering_asset_events"]  # type: ignore[no-any-return]
    return _EventsByUri(context["triggering_dataset_events"])


class _EventsByUri(Mapping[Any, list[Any]]):
    """Airflow 2.11's triggering dataset events (URI -> events), also looked up by a Dataset."""

    def __init__(self, events: Mapping[str, list[Any]]) -> None:
        self._events = events

    def __getitem__(self, key: Any) -> list[Any]:
        return self._events[getattr(key, "uri", key)]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)


def make_asset(uri: str, name: str) -> Asset:
    """An Asset with a URI and a name; on Airflow 2.11 a ``Dataset``, which has a URI only."""
    asset = _resolved("Asset")
    return asset(uri=uri, name=name) if AIRFLOW_V_3_0_PLUS else asset(uri=uri)


#: The keyword of ``dag.test()`` for the run's date: ``logical_date`` on Airflow 3, ``execution_date`` on 2.
DAG_TEST_DATE_ARG = "logical_date" if AIRFLOW_V_3_0_PLUS else "execution_date"


def prepare_dag_test(dag_bag: Any) -> None:
    """Write a DagBag's DAGs (and their Assets) to the metadata DB before ``dag.test()``, where it does not.

    From Airflow 3.1 (and on 2.11) ``dag.test()`` runs a DAG that is in the DAGs folder as it stands.
    On 3.0 it runs tasks whose Asset outlets are unknown to the DB, and each fails with
    ``AirflowInactiveAssetInInletOrOutletException``: the DAG processor (or ``airflow dags reserialize``)
    must have written the DAG first; this does what the DAG processor does.
    """
    if not AIRFLOW_V_3_0_PLUS or AIRFLOW_V_3_1_PLUS:
        return
    from airflow.dag_processing.bundles.manager import DagBundlesManager

    DagBundlesManager().sync_bundles_to_db()
    dag_bag.sync_to_db(bundle_name="dags-folder", bundle_version=None)


def variable_get(key: str, default: Any = None) -> Any:
    """``Variable.get(key)`` with a default: the keyword is ``default`` on Airflow 3, ``default_var`` on 2."""
    variable = _resolved("Variable")
    if AIRFLOW_V_3_0_PLUS:
        return variable.get(key, default=default)
    return variable.get(key, default_var=default)


_ISO_TAIL = re.compile(r"(?P<frac>\.\d+)?(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$")


def fromisoformat(text: str) -> datetime:
    """``datetime.fromisoformat`` as Python 3.11 reads it (``Z``, ``+HHMM``, any number of fraction digits).

    Python 3.10's accepts only what ``isoformat()`` writes; this normalizes those forms first.
    """
    if sys.version_info >= (3, 11):
        return datetime.fromisoformat(text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _ISO_TAIL.search(text)
    head = text[: match.start()] if match else text
    frac = (match["frac"] or "") if match else ""
    tz = (match["tz"] or "") if match else ""
    if frac:
        frac = "." + (frac[1:] + "000000")[:6]
    if tz == "Z":
        tz = "+00:00"
    elif tz and ":" not in tz:
        tz = f"{tz[:3]}:{tz[3:] or '00'}"
    return datetime.fromisoformat(head + frac + tz)
