"""The inputs → answers loop: one API call per input, one JSON line per answer, resumable.

A lookup is not a list: there are no pages and no end signal, only the inputs the task was given.
:class:`GtmLookupOperator` asks the API about each input in order and writes
``{"input": <input>, "result": <the API's answer>}`` through the same resumable writers as a fetch
(``operators/output.py``), checkpointing after every answer: a retried try (or one resumed after a
long rate-limit wait) continues with the first input it has no answer for, and never asks twice
about one whose answer is written. The XCom is ``{"uri", "records", "inputs"}``: lines written and
inputs asked about (equal when the task succeeds). One live writer: the output's lease is held while
the loop runs, and ``on_kill`` stops it before the next call (``core/lease.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_gtm.compat import BaseOperator, ObjectStoragePath
from airflow_provider_gtm.core.lease import StopsOnKill
from airflow_provider_gtm.operators._validation import is_template
from airflow_provider_gtm.operators.deferral import LongWaitDeferral, defers_long_waits
from airflow_provider_gtm.operators.errors import airflow_errors
from airflow_provider_gtm.operators.hook_owner import HookOwner, HookT
from airflow_provider_gtm.operators.inputs import load_records
from airflow_provider_gtm.operators.lineage import GtmLineageMixin
from airflow_provider_gtm.operators.output import default_uri, fetch_binding, lease_path, open_fetch_writer


class GtmLookupOperator(HookOwner[HookT], LongWaitDeferral, GtmLineageMixin, StopsOnKill, BaseOperator):
    """Base of the lookup operators: answer each input with one call, one JSON line per input.

    :param conn_id: the Airflow connection id (templated).
    :param inputs: what to look up: a list (templated; e.g. from an upstream XCom) or its JSON text.
    :param output_uri: where to write (templated). Default:
        ``<output_base_uri>/<dag_id>/<run_id>/<task_id>[/map_<i>]/records.jsonl``.
    :param output_base_uri: base for the default ``output_uri`` (default ``[gtm] output_base_uri``).
    :param limit: look up only the first this many inputs.
    :param resume: on a retried try, continue after the last input answered instead of starting over.
    :param deferrable: defer a rate-limit wait longer than ``defer_waits_longer_than`` instead of
        holding a worker (operators/deferral.py). Default: ``[operators] default_deferrable``.
    :param defer_waits_longer_than: seconds (default ``[gtm] defer_waits_longer_than``, 60).
    """

    template_fields: Sequence[str] = ("conn_id", "output_uri", "output_base_uri", "limit", "inputs")
    template_fields_renderers = {"inputs": "json"}  # the Rendered Template view shows JSON, not a Python repr
    ui_color = "#e8f0f4"

    def __init__(
        self,
        *,
        inputs: list[Any] | str,
        conn_id: str | None = None,
        output_uri: str | None = None,
        output_base_uri: str | None = None,
        limit: int | None = None,
        resume: bool = True,
        deferrable: bool | None = None,
        defer_waits_longer_than: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._init_long_wait(deferrable, defer_waits_longer_than)
        name = type(self).__name__
        if not is_template(inputs) and not isinstance(inputs, list | str):
            raise ValueError(f"{name}: inputs must be a list (or a template rendering to one)")
        if limit is not None and not isinstance(limit, str) and (
                isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"{name}: limit must be a positive integer or None, got {limit!r}")
        self.conn_id = conn_id or self.default_conn_id
        self.inputs = inputs
        self.output_uri = output_uri
        self.output_base_uri = output_base_uri
        self.limit: int | str | None = limit  # a template renders to a string
        self.resume = resume

    # -- what subclasses provide --------------------------------------------------------------

    def answer(self, hook: HookT, item: Any) -> Any:
        """The API's answer for one input (one call, or a call and its polling)."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short description of what is looked up, for logs and messages."""
        return self.task_id

    def query_arguments(self) -> dict[str, Any]:
        """The rendered arguments that decide the answers (a checkpoint is bound to them)."""
        skip = {"output_uri", "output_base_uri"}
        return {name: getattr(self, name, None) for name in self.template_fields if name not in skip}

    # -- the loop -----------------------------------------------------------------------------

    def limited_inputs(self) -> list[Any]:
        """The rendered inputs, cut to ``limit``."""
        inputs = load_records(self.inputs)
        limit = int(self.limit) if self.limit not in (None, "", "None") else None
        return inputs if limit is None else inputs[:limit]

    def output_path(self, context: Any) -> ObjectStoragePath:
        return ObjectStoragePath(self.output_uri or default_uri(context, self.output_base_uri, "records.jsonl"))

    @defers_long_waits
    def execute(self, context: Any) -> dict[str, Any]:
        inputs = self.limited_inputs()
        path = self.output_path(context)
        # The lease on the output (core/lease.py) is taken before the checkpoint is read; the writer
        # asks it (and the kill flag) at every answer it commits.
        writer = open_fetch_writer(path, resume=self.resume,
                                   binding=fetch_binding(context, self, self.query_arguments()),
                                   session=self.writer_session(lease_path(path), context, f"the output {path}"))
        if writer.ignored:
            self.log.warning("Not resuming from the checkpoint next to %s: %s; starting over", path, writer.ignored)
        answered = int((writer.state or {}).get("records", 0))
        if answered:
            self.log.info("Resuming %s after %d of %d inputs answered (%s)", self.describe(), answered,
                          len(inputs), path)
        success = False
        try:
            with airflow_errors(f"Looking up {self.describe()}"):
                for index in range(answered, len(inputs)):
                    item = inputs[index]
                    writer.write_records([{"input": item, "result": self.answer(self.hook, item)}])
                    writer.commit({"records": index + 1, "pages": index + 1, "next_state": index + 1})
            success = True
        finally:
            writer.close(success=success)
            self.release_hook()
        self.log.info("Looked up %s: %d inputs answered", self.describe(), len(inputs))
        return {"uri": str(path), "records": len(inputs), "inputs": len(inputs)}
