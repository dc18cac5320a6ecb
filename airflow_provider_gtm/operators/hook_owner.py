"""How an operator gets its hook: the class named lazily, one instance per try, closed when the try ends."""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

if TYPE_CHECKING:
    # Types only: the hooks (requests, urllib3, tenacity) load in execute, not when a DAG file is parsed.
    from airflow_provider_gtm.core.hook import GtmBaseHook

HookT = TypeVar("HookT", bound="GtmBaseHook")


class LazyHookClass(Generic[HookT]):
    """An operator's ``hook_class``, imported on first use (``execute``), not when the DAG file is parsed.

    ``hook_class = LazyHookClass("airflow_provider_gtm.hooks.octy.OctyHook")`` reads like the class
    itself (``self.hook_class(conn_id)``, ``Operator.hook_class.default_conn_name``); the import of
    the hook module, and with it ``requests``, ``urllib3`` and ``tenacity``, waits until then.
    """

    def __init__(self, dotted_path: str) -> None:
        self.dotted_path = dotted_path

    @overload
    def __get__(self, obj: None, owner: type) -> type[HookT]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> type[HookT]: ...
    def __get__(self, obj: object | None, owner: type) -> type[HookT]:
        module, _, name = self.dotted_path.rpartition(".")
        hook: type[HookT] = getattr(importlib.import_module(module), name)
        return hook


class HookOwner(Generic[HookT]):
    """An operator's hook: ``hook_class(conn_id)``, built on first use of :attr:`hook` and kept for the try."""

    hook_class: ClassVar[LazyHookClass[Any]]
    #: The hook's ``default_conn_name``, known without importing the hook (checked by a unit test).
    default_conn_id: ClassVar[str] = ""
    conn_id: str

    def make_hook(self) -> HookT:
        """A new hook on the operator's connection (the connection is read on the hook's first call)."""
        hook: HookT = self.hook_class(self.conn_id)
        return hook

    @functools.cached_property
    def hook(self) -> HookT:
        """The hook of this try, built on first use (in ``execute``, never at DAG parse)."""
        return self.make_hook()

    def release_hook(self) -> None:
        """Close the hook of this try and forget it (a later ``execute`` builds a new one)."""
        hook = self.__dict__.pop("hook", None)
        if hook is not None:
            hook.close()
