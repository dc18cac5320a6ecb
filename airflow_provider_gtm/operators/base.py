"""What every fetch and batch-write operator shares, written once for the four APIs.

- :class:`GtmFetchOperator` streams pages from a hook's paginator into a JSON Lines file at
  ``output_uri`` (one page in memory at a time), checkpoints after each page so that a retried
  task resumes after the last complete page, and returns a small XCom ``{"uri", "records", "pages"}``.
- :class:`GtmBatchOperator` reads records (a list, or JSON Lines at ``input_uri``) one chunk at a
  time, lets the hook send each chunk, writes every failure to ``failures_uri`` with the API's
  reason, and returns ``{"submitted", "succeeded", "failed", "failures_uri"}``.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib
import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

from airflow.sdk import BaseOperator, ObjectStoragePath
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_gtm.core import jsonio
from airflow_provider_gtm.core.deferral import GtmLongWaitError
from airflow_provider_gtm.core.errors import GtmApiError, GtmConfigError, GtmError, GtmOutcomeUnknownError
from airflow_provider_gtm.core.records import encode_record
from airflow_provider_gtm.operators.deferral import LongWaitDeferral, defers_long_waits, settled_before_wait
from airflow_provider_gtm.operators.lineage import GtmLineageMixin
from airflow_provider_gtm.operators.output import PartedJsonLinesWriter, binding_mismatch
from airflow_provider_gtm.operators.progress import BatchProgress, count_input, hook_windows
from airflow_provider_gtm.operators.watermark import IncrementalFetch, Watermark, default_variable_key

if TYPE_CHECKING:
    # Types only: the hooks (requests, urllib3, tenacity) load in execute, not when a DAG file is parsed.
    from airflow_provider_gtm.core.batching import BatchResult
    from airflow_provider_gtm.core.hook import GtmBaseHook
    from airflow_provider_gtm.core.ledger import ChunkOutcome, WriteLedger
    from airflow_provider_gtm.core.pagination import Page

OUTPUT_BASE_ENV = "AIRFLOW__GTM__OUTPUT_BASE_URI"
FAILURE_POLICIES = ("fail", "warn", "ratio")
#: The failure message of a record an earlier try sent whose outcome no lookup could settle.
OUTCOME_UNKNOWN_RETRY = (
    "outcome unknown: an earlier try sent this record and stopped before the answer was recorded; "
    "not sent again, check it and decide"
)
#: The failure message of a record whose write this try sent without a confirming answer (a
#: timeout or 5xx on a write the API does not deduplicate, an empty answer) and no lookup can settle.
OUTCOME_UNKNOWN_LOST = (
    "outcome unknown: the answer to this write was lost or confirmed nothing (timeout, 5xx, empty answer) "
    "and the API cannot tell whether it was applied; not sent again, check it and decide"
)


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


def default_output_base() -> str:
    """Where outputs go when no URI is given: ``[gtm] output_base_uri``, else ``$AIRFLOW_HOME/gtm-data``.

    On a distributed executor, set it to shared storage (``s3://bucket/gtm``) so that every worker
    sees every file.
    """
    from airflow_provider_gtm import config

    configured = config.get("output_base_uri")  # airflow.cfg [gtm], or $AIRFLOW__GTM__OUTPUT_BASE_URI
    if configured:
        return configured.rstrip("/")
    home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
    return f"file://{os.path.abspath(home)}/gtm-data"


def _safe(part: object) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", str(part)).strip("_") or "_"


def default_uri(context: Mapping[str, Any], base: str | None, name: str) -> str:
    """``<base>/<dag_id>/<run_id>/<task_id>[/map_<i>]/<name>``: unique per run, task and map index."""
    ti = context["ti"]
    parts = [base or default_output_base(), _safe(ti.dag_id), _safe(ti.run_id), _safe(ti.task_id)]
    map_index = getattr(ti, "map_index", -1)
    if map_index is not None and map_index >= 0:
        parts.append(f"map_{map_index}")
    parts.append(name)
    return "/".join(parts)


@contextlib.contextmanager
def airflow_errors(what: str) -> Iterator[None]:
    """Map provider errors onto Airflow's meaning: bad input and auth fail at once, the rest retry."""
    try:
        yield
    except GtmConfigError as exc:
        raise AirflowFailException(f"{what}: {exc}") from None
    except GtmLongWaitError:
        raise  # a deferrable task defers until the wait ends (operators/deferral.py)
    except GtmApiError as exc:
        if exc.retryable:
            raise AirflowException(f"{what}: {exc}") from None
        raise AirflowFailException(f"{what}: {exc}") from None
    except GtmError as exc:
        raise AirflowFailException(f"{what}: {exc}") from None


def _dumps(record: Any) -> str:
    # Lone surrogates are escaped and unwritable records are named (core/records.py).
    return encode_record(record)


def fetch_binding(context: Mapping[str, Any], operator: BaseOperator, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """What a fetch checkpoint is bound to: the task instance and a fingerprint of the query's arguments.

    Only a retry of the same task instance (DAG, run, task, map index) with the same rendered
    arguments may resume from a checkpoint; another run, or the same run with other arguments,
    writing to the same ``output_uri`` starts over.
    """
    ti = context.get("ti") if isinstance(context, Mapping) else None
    canonical = json.dumps(
        {"operator": type(operator).__name__, **arguments}, sort_keys=True, default=str, separators=(",", ":")
    )
    return {
        "dag_id": getattr(ti, "dag_id", None),
        "run_id": getattr(ti, "run_id", None),
        "task_id": getattr(ti, "task_id", None),
        "map_index": getattr(ti, "map_index", None),
        "arguments": hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest(),
    }


def _json_lines_writer(
    path: ObjectStoragePath, *, resume: bool, binding: Mapping[str, Any] | None = None
) -> _JsonLinesWriter | PartedJsonLinesWriter:
    """The writer of a fetch's output: a local file, or part objects on an object store (both resume)."""
    from airflow_provider_gtm.core.ledger import is_local

    if is_local(path):
        return _JsonLinesWriter(path, resume=resume, binding=binding)
    return PartedJsonLinesWriter(path, resume=resume, binding=binding)


class _JsonLinesWriter:
    """Writes JSON lines to a local file and can resume after a checkpoint.

    The checkpoint (``<output>.checkpoint.json``) is one small JSON document
    rewritten in place on an open descriptor after each page: the byte length, record and page
    counts of the output up to the last complete page, the paginator's ``next_state``, and the
    :func:`fetch_binding` it belongs to. The page's lines are written to the output before the
    checkpoint names them, so after a kill at any point the checkpoint never claims more than the
    output holds; the retry truncates the output to the checkpoint's length (dropping a partly
    written page) and continues with the next page: no line lost, none written twice. (On an object
    store, :class:`~airflow_provider_gtm.operators.output.PartedJsonLinesWriter` does the same with
    part objects.)
    """

    def __init__(self, path: ObjectStoragePath, *, resume: bool, binding: Mapping[str, Any] | None = None) -> None:
        self.path = path
        self.binding = dict(binding or {})
        self.checkpoint_path = ObjectStoragePath(f"{path}.checkpoint.json")
        self.state: dict[str, Any] | None = None
        self.ignored: str | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume and self.checkpoint_path.exists():
            with contextlib.suppress(ValueError, OSError):
                self.state = jsonio.loads(self.checkpoint_path.read_bytes())
            if not isinstance(self.state, dict):
                self.state = None
            elif self.state.get("binding") != self.binding:
                self.ignored = binding_mismatch(self.state.get("binding"), self.binding)
                self.state = None
        local = self._local_path()
        fh = open(local, "r+b" if os.path.exists(local) else "w+b")  # noqa: SIM115
        # Drop whatever the failed try wrote after its last complete page (all of it when
        # starting over).
        fh.truncate(int(self.state.get("bytes", 0)) if self.state is not None else 0)
        fh.seek(0, os.SEEK_END)
        self._fh: IO[bytes] = fh
        self._checkpoint_fd: int | None = os.open(f"{local}.checkpoint.json", os.O_RDWR | os.O_CREAT, 0o644)
        self._checkpoint_len = os.fstat(self._checkpoint_fd).st_size

    def _local_path(self) -> str:
        raw = str(self.path)
        return raw[len("file://"):] if raw.startswith("file://") else getattr(self.path, "path", raw)

    def write_records(self, records: Iterable[Any]) -> None:
        self._fh.write(jsonio.encode_lines(records))

    def commit(self, state: dict[str, Any]) -> None:
        """Mark everything written so far as complete (the resume point)."""
        self._fh.flush()
        if self._checkpoint_fd is None:
            return
        document = jsonio.dumps({**state, "bytes": self._fh.tell(), "binding": self.binding}).encode()
        # Padded to the longest document written so far, so the tail of an older, longer one never
        # survives; JSON ignores the trailing spaces. One pwrite: a kill leaves the old or the new.
        padded = document.ljust(self._checkpoint_len)
        os.pwrite(self._checkpoint_fd, padded, 0)
        self._checkpoint_len = len(padded)

    def close(self, *, success: bool) -> None:
        self._fh.close()
        if self._checkpoint_fd is not None:
            os.close(self._checkpoint_fd)
            self._checkpoint_fd = None
            if success:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{self._local_path()}.checkpoint.json")


@contextlib.contextmanager
def _long_lived_objects_frozen() -> Iterator[None]:
    """Keep the collector off the objects that exist before a fetch (Airflow's, ~150k) while it runs.

    A fetch allocates thousands of dicts a page; each full collection they trigger walked every
    object Airflow had loaded (~0.1 s each, ~20-40% of a 100k-record fetch). ``gc.freeze`` moves
    those to the permanent generation for the fetch and ``gc.unfreeze`` puts them back after, so
    the process ends up as it was; only the fetch's own objects are collected in between.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class GtmFetchOperator(LongWaitDeferral, GtmLineageMixin, BaseOperator):
    """Base of the fetch operators: stream every page of a list into JSON Lines at ``output_uri``.

    :param conn_id: the Airflow connection id (templated).
    :param output_uri: where to write (an ``ObjectStoragePath`` URI, templated). Default:
        ``<output_base_uri>/<dag_id>/<run_id>/<task_id>[/map_<i>]/records.jsonl``.
    :param output_base_uri: base for the default ``output_uri`` (default: ``[gtm] output_base_uri``
        i.e. env ``AIRFLOW__GTM__OUTPUT_BASE_URI``, else ``$AIRFLOW_HOME/gtm-data``).
    :param limit: stop after this many records.
    :param resume: on a retried try, continue after the last complete page instead of starting over
        (local files; other stores always start over, which also never duplicates lines).
    :param log_every_pages: progress is logged every this many pages.
    :param max_pages: safety bound: fail (without retries) rather than fetch more pages than this,
        so a list that never ends cannot run forever (``None``: no bound). Unlike ``limit``, reaching
        it is an error: the list was not fetched whole.
    :param max_records: the same bound in records (``None``, the default: no bound).
    :param watermark_field: the record field that grows over time (e.g. Octopus ``createdAt``): the
        XCom gets ``"watermark"`` (its newest value and the ids carrying it).
    :param since_last_watermark: continue from the watermark of the last successful run of this task
        (kept in an Airflow Variable, see :mod:`airflow_provider_gtm.operators.watermark`) and record
        the new one when the output is complete. Operators whose API can filter by it say how.
    :param watermark_variable: the Variable's key (default ``gtm_watermark__<dag_id>__<task_id>``).
    :param id_field: the record field that identifies a record (default ``id``).
    :param deferrable: defer a rate-limit wait longer than ``defer_waits_longer_than`` (an Oktopost
        key block, a long ``Retry-After``) instead of holding a worker; the fetch then resumes after
        its last complete page (operators/deferral.py). Default: ``[operators] default_deferrable``.
    :param defer_waits_longer_than: seconds (default ``[gtm] defer_waits_longer_than``, 60).
    """

    template_fields: Sequence[str] = ("conn_id", "output_uri", "output_base_uri", "limit")
    #: Default ``max_pages``: 100,000 pages is millions of records for every API here.
    default_max_pages: ClassVar[int | None] = 100_000
    ui_color = "#e8f4ea"
    hook_class: ClassVar[LazyHookClass[Any]]
    #: The hook's ``default_conn_name``, known without importing the hook (checked by a unit test).
    default_conn_id: ClassVar[str] = ""

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        output_uri: str | None = None,
        output_base_uri: str | None = None,
        limit: int | None = None,
        resume: bool = True,
        log_every_pages: int = 10,
        max_pages: int | None = -1,
        max_records: int | None = None,
        watermark_field: str | None = None,
        since_last_watermark: bool = False,
        watermark_variable: str | None = None,
        id_field: str = "id",
        deferrable: bool | None = None,
        defer_waits_longer_than: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._init_long_wait(deferrable, defer_waits_longer_than)
        if since_last_watermark and not watermark_field:
            raise ValueError(f"{type(self).__name__}: since_last_watermark=True needs watermark_field=")
        self.watermark_field = watermark_field
        self.since_last_watermark = since_last_watermark
        self.watermark_variable = watermark_variable
        self.id_field = id_field
        self.incremental: IncrementalFetch | None = None
        if max_pages == -1:
            max_pages = self.default_max_pages
        for name, bound in (("max_pages", max_pages), ("max_records", max_records)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int) or bound < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {bound!r}")
        self.max_pages = max_pages
        self.max_records = max_records
        self.conn_id = conn_id or self.default_conn_id
        self.output_uri = output_uri
        self.output_base_uri = output_base_uri
        if limit is not None and not isinstance(limit, str) and (not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
        self.limit: int | str | None = limit  # a template renders to a string
        self.resume = resume
        if log_every_pages < 1:
            raise ValueError(f"log_every_pages must be >= 1, got {log_every_pages!r}")
        self.log_every_pages = log_every_pages

    # -- what subclasses provide --------------------------------------------------------------

    def make_hook(self) -> GtmBaseHook:
        return self.hook_class(self.conn_id)

    def iter_pages(self, hook: GtmBaseHook, start: Any, limit: int | None) -> Iterator[Page]:
        """Pages of the list, starting at ``start`` (``None`` = the beginning)."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short description of what is fetched, for logs and messages."""
        return self.task_id

    def query_arguments(self) -> dict[str, Any]:
        """The rendered arguments that decide what is fetched (a checkpoint is bound to them).

        Every templated field but the output location; a subclass with a non-templated argument
        that changes the query adds it here.
        """
        skip = {"output_uri", "output_base_uri"}
        return {name: getattr(self, name, None) for name in self.template_fields if name not in skip}

    def watermark_seed(self) -> Watermark | None:
        """Where a watermark starts before any run recorded one (e.g. the origin time asked for)."""
        return None

    def start_incremental(self, context: Any, checkpoint: Mapping[str, Any] | None) -> IncrementalFetch | None:
        if not self.watermark_field:
            return None
        ti = context["ti"]
        key = (self.watermark_variable or default_variable_key(ti.dag_id, ti.task_id)) if self.since_last_watermark \
            else None
        return IncrementalFetch(field_name=self.watermark_field, id_field=self.id_field, variable_key=key,
                                run_id=ti.run_id, seed=self.watermark_seed(), checkpoint=checkpoint)

    def extra_xcom(self, last_page: Page | None) -> dict[str, Any]:
        """What the API adds to the XCom (e.g. ``total``)."""
        if last_page is not None and last_page.total is not None:
            return {"total": last_page.total}
        return {}

    # -- the loop -----------------------------------------------------------------------------

    @defers_long_waits
    def execute(self, context: Any) -> dict[str, Any]:
        limit = int(self.limit) if self.limit not in (None, "", "None") else None
        uri = self.output_uri or default_uri(context, self.output_base_uri, "records.jsonl")
        path = ObjectStoragePath(uri)
        binding = fetch_binding(context, self, self.query_arguments())
        writer = _json_lines_writer(path, resume=self.resume, binding=binding)
        if writer.ignored:
            self.log.warning("Not resuming from the checkpoint next to %s: %s; starting over", uri, writer.ignored)
        state = writer.state or {}
        records, pages = int(state.get("records", 0)), int(state.get("pages", 0))
        start = state.get("next_state")
        if writer.state:
            self.log.info(
                "Resuming %s after %d complete pages (%d records) in %s", self.describe(), pages, records, uri
            )
        remaining = None if limit is None else max(0, limit - records)
        self.incremental = incremental = self.start_incremental(context, writer.state)
        hook = self.make_hook()
        started = time.monotonic()
        last: Page | None = None
        success = False
        try:
            with airflow_errors(f"Fetching {self.describe()}"), _long_lived_objects_frozen():
                if remaining != 0:
                    for page in self.iter_pages(hook, start, remaining):
                        self._check_bounds(pages + 1, records + len(page.records))
                        writer.write_records(page.records)
                        records += len(page.records)
                        pages += 1
                        last = page
                        if incremental is not None:
                            incremental.observe(page.records)
                        writer.commit({"records": records, "pages": pages, "next_state": page.next_state,
                                       **(incremental.checkpoint() if incremental is not None else {})})
                        if pages % self.log_every_pages == 0:
                            self._progress(records, pages, started, page.total)
            success = True
        finally:
            writer.close(success=success)
            hook.close()
        self._progress(records, pages, started, last.total if last else None, done=True)
        result = {"uri": str(path), "records": records, "pages": pages, **self.extra_xcom(last)}
        total = last.total if last is not None else None
        if total is not None and records != total and (limit is None or records < limit):
            # The list ended on its documented end signal, but the count differs from the API's own
            # total (records added or removed while paging, or an API that miscounts): say so.
            self.log.warning(
                "%s: the list ended with %d records but the API's total is %d", self.describe(), records, total
            )
            result["count_mismatch"] = {"records": records, "total": total}
        if incremental is not None:
            incremental.finish(result)
        return result

    def _check_bounds(self, pages: int, records: int) -> None:
        """Fail, without retries, past ``max_pages``/``max_records`` (a list that does not end)."""
        for name, bound, value in (("max_pages", self.max_pages, pages), ("max_records", self.max_records, records)):
            if bound is not None and value > bound:
                raise AirflowFailException(
                    f"Fetching {self.describe()}: the list goes on past {name}={bound} ({pages} pages, "
                    f"{records} records) without its end signal; stopped. If the list really is this long, "
                    f"raise {name} (or pass {name}=None)."
                )

    def _progress(self, records: int, pages: int, started: float, total: int | None, *, done: bool = False) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        of_total = f" of {total}" if total is not None else ""
        self.log.info(
            "%s %s: %d records%s, %d pages, %.0f records/s",
            "Fetched" if done else "Fetching", self.describe(), records, of_total, pages, records / elapsed,
        )


def _check_policy(on_failures: Any, max_failure_ratio: Any, error: type[Exception]) -> None:
    """Validate the partial-failure policy (templated values are checked once rendered)."""
    if isinstance(on_failures, str) and "{{" in on_failures:
        return
    if on_failures not in FAILURE_POLICIES:
        raise error(f"on_failures must be one of {FAILURE_POLICIES}, got {on_failures!r}")
    if isinstance(max_failure_ratio, str) and "{{" in max_failure_ratio:
        return
    try:
        ratio = float(max_failure_ratio)
    except (TypeError, ValueError):
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise error(f"max_failure_ratio must be a number between 0 and 1, got {max_failure_ratio!r}")


def _load_records(value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise GtmConfigError(
                "records must be a list of objects (or its JSON text); the rendered value is not JSON: "
                f"{value[:80]!r}"
            ) from None
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise GtmConfigError(f"records must be a list of objects, got {type(value).__name__}")
    return value


def _position(chunk: list[Any], record: Any, used: set[int]) -> int | None:
    """Where a failed record sits in its chunk (hooks may hand back a copy, so compare by value)."""
    for i, candidate in enumerate(chunk):
        if i not in used and candidate is record:
            return i
    encoded = _dumps(record)
    for i, candidate in enumerate(chunk):
        if i not in used and _dumps(candidate) == encoded:
            return i
    return None


def read_json_lines(uri: str) -> Iterator[Any]:
    """Stream records from a JSON Lines file, one line at a time."""
    path = ObjectStoragePath(uri)
    if not path.exists():
        raise GtmConfigError(
            f"input_uri {uri!r} does not exist; point it at a JSON Lines file (e.g. a fetch XCom's uri)"
        )
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError:
                raise GtmConfigError(f"input_uri {uri!r}: line {number} is not valid JSON") from None


class GtmBatchOperator(LongWaitDeferral, GtmLineageMixin, BaseOperator):
    """Base of the batch-write operators: send records in chunks and account for every one.

    :param conn_id: the Airflow connection id (templated).
    :param records: records to send: a list (templated; e.g. from an upstream XCom), or its JSON text.
    :param input_uri: JSON Lines to send instead of ``records`` (templated), read a chunk at a time.
    :param failures_uri: where failures go, one JSON line each ``{"record", "identifier",
        "error_message", "status"}`` (templated; default next to the run's other outputs).
    :param results_uri: where the API's returned objects go (one per accepted record; default next
        to ``failures_uri``), so downstream tasks can use the ids the API assigned.
    :param batch_size: records per call (default: the API's limit).
    :param on_failures: ``"fail"`` (default: fail the task if any record failed), ``"warn"`` (succeed
        and log a warning) or ``"ratio"`` (fail only above ``max_failure_ratio``). The failures file
        and the XCom are written either way.
    :param max_failure_ratio: with ``on_failures="ratio"``, the largest acceptable failed/submitted.
    :param existing_is_success: count "already exists" answers (Octy duplicate identifiers,
        CustomerOS 409) as succeeded, so re-running after a lost response neither duplicates
        records nor fails on its own earlier work. They are still reported in the XCom as ``existing``.
    :param deferrable: defer a rate-limit wait longer than ``defer_waits_longer_than`` (an Oktopost
        key block, a long ``Retry-After``) instead of holding a worker; on resume the write ledger
        carries every confirmed chunk (operators/deferral.py). Default: ``[operators] default_deferrable``.
    :param defer_waits_longer_than: seconds (default ``[gtm] defer_waits_longer_than``, 60).
    """

    template_fields: Sequence[str] = (
        "conn_id", "records", "input_uri", "failures_uri", "results_uri", "on_failures", "max_failure_ratio",
    )
    ui_color = "#fdf1e0"
    hook_class: ClassVar[LazyHookClass[Any]]
    #: The hook's ``default_conn_name``, known without importing the hook (checked by a unit test).
    default_conn_id: ClassVar[str] = ""
    max_batch_size: ClassVar[int] = 500
    #: How many assigned ids go into the XCom itself (all of them are in results_uri).
    max_xcom_ids: ClassVar[int] = 1000
    #: True when the API takes one call per record (the progress log's time left counts calls).
    one_call_per_record: bool = False

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        records: list[Any] | str | None = None,
        input_uri: str | None = None,
        failures_uri: str | None = None,
        results_uri: str | None = None,
        output_base_uri: str | None = None,
        batch_size: int | None = None,
        on_failures: str = "fail",
        max_failure_ratio: float = 0.0,
        existing_is_success: bool = False,
        deferrable: bool | None = None,
        defer_waits_longer_than: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._init_long_wait(deferrable, defer_waits_longer_than)
        if (records is None) == (input_uri is None):
            raise ValueError(
                f"{type(self).__name__}: pass exactly one of records= (a list, e.g. from an upstream XCom) "
                "or input_uri= (a JSON Lines file)"
                + (", not both" if records is not None else "; neither was given")
            )
        _check_policy(on_failures, max_failure_ratio, ValueError)
        if batch_size is not None and (not isinstance(batch_size, int) or not 1 <= batch_size <= self.max_batch_size):
            raise ValueError(f"batch_size must be an integer from 1 to {self.max_batch_size}, got {batch_size!r}")
        self.conn_id = conn_id or self.default_conn_id
        self.records = records
        self.input_uri = input_uri
        self.failures_uri = failures_uri
        self.results_uri = results_uri
        self.output_base_uri = output_base_uri
        self.batch_size = batch_size
        self.on_failures = on_failures
        self.max_failure_ratio = max_failure_ratio
        self.existing_is_success = existing_is_success

    # -- what subclasses provide --------------------------------------------------------------

    def make_hook(self) -> GtmBaseHook:
        return self.hook_class(self.conn_id)

    def send(self, hook: GtmBaseHook, records: Iterable[Any]) -> Iterator[BatchResult]:
        """Send the records and yield one checked result per chunk."""
        raise NotImplementedError

    def assigned_id(self, accepted: Any) -> Any:
        """The id the API assigned to an accepted record (``None`` when it assigns none)."""
        return None

    def describe(self) -> str:
        return self.task_id

    # -- the loop -----------------------------------------------------------------------------

    def _input(self) -> Iterator[Any]:
        if self.input_uri:
            return read_json_lines(self.input_uri)
        return iter(_load_records(self.records))

    #: Records per ledger chunk when ``batch_size`` is not given (each chunk is one ledger entry).
    ledger_chunk_size: ClassVar[int] = 50

    #: Record fields that name a record in messages (the first one present is used).
    identifier_fields: ClassVar[tuple[str, ...]] = (
        "customer_id", "item_id", "event_type", "email", "domain", "name", "messageId", "id",
    )

    def record_identifier(self, record: Any) -> Any:
        """What names a record in the failures file when the API gave no answer for it."""
        if isinstance(record, Mapping):
            for name in self.identifier_fields:
                if record.get(name) not in (None, ""):
                    return record[name]
            return None
        return record

    def validate_record(self, record: Any) -> str | None:
        """What is wrong with one record before anything is sent (``None``: nothing); per API."""
        return None

    def ledger_arguments(self) -> dict[str, Any]:
        """The arguments that decide what is sent: a retry with other arguments starts a new ledger."""
        names = ("operation", "kind", "conn_id", "batch_size", "existing_is_success")
        return {"class": type(self).__name__, **{n: getattr(self, n, None) for n in names}}

    def resolve_unknown(
        self, hook: GtmBaseHook, records: list[Any], started_at: str | None
    ) -> tuple[list[Any], list[int]] | None:
        """Find out whether records an earlier try sent (its answer never recorded) were applied.

        Return ``(found, not_applied)``: the API's objects for the records it has (they count as
        succeeded, even if this task's earlier try created them) and the positions in ``records`` it
        does not have (sent again). ``None`` when the API cannot tell: nothing is resent and the
        records are reported as outcome unknown for a person to decide. Per API, in its operator.
        """
        return None

    def can_resolve_unknown(self, records: list[Any]) -> bool:
        """Whether :meth:`resolve_unknown` can settle these records (without asking the API).

        When it can, a write whose answer was lost fails the task retryably and the retry looks it
        up (after Airflow's retry delay, when a write still in flight has landed); when it cannot,
        the records are reported "outcome unknown" at once for a person to decide.
        """
        return False

    def _preflight(self) -> str:
        """Check everything checkable before the first write; return a digest of the input."""
        _check_policy(self.on_failures, self.max_failure_ratio, AirflowFailException)
        digest = hashlib.sha256()
        where = f"input_uri {self.input_uri!r}" if self.input_uri else "records"
        with airflow_errors(f"Checking {self.describe()}"):
            for number, record in enumerate(self._input(), start=1):
                problem = self.validate_record(record)
                if problem:
                    raise AirflowFailException(
                        f"{self.describe()}: {where} record {number} is invalid, nothing was sent: {problem}"
                    )
                digest.update(_dumps(record).encode() + b"\n")
        return digest.hexdigest()

    @defers_long_waits
    def execute(self, context: Any) -> dict[str, Any]:
        # Loaded here, not at DAG parse time (see LazyHookClass).
        from airflow_provider_gtm.core.batching import chunked
        from airflow_provider_gtm.core.ledger import LEDGER_DIR, WriteLedger, ledger_key

        input_digest = self._preflight()
        chunk_size = int(self.batch_size or self.ledger_chunk_size)
        failures_uri = self.failures_uri or default_uri(context, self.output_base_uri, "failures.jsonl")
        results_uri = self.results_uri or re.sub(r"[^/]*$", "results.jsonl", failures_uri, count=1)
        failures_path, results_path = ObjectStoragePath(failures_uri), ObjectStoragePath(results_uri)
        failures_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.parent.mkdir(parents=True, exist_ok=True)
        key = ledger_key(context, input_digest, self.ledger_arguments())
        ledger = WriteLedger(failures_path.parent / LEDGER_DIR / key)
        if not ledger.empty:
            self.log.info("Resuming %s from its write ledger %s", self.describe(), ledger.directory)
        submitted = succeeded = failed = existing = 0
        reasons: Counter[str] = Counter()
        examples: dict[str, list[Any]] = {}
        ids: list[Any] = []
        unknown: list[tuple[Any, str]] = []
        hook = self.make_hook()
        # The files are rewritten whole on every try from the ledger (carried results first), so a
        # retry never loses what an earlier try recorded and never duplicates it.
        progress = BatchProgress(
            self.log, f"Sending {self.describe()}", total=count_input(self.records, self.input_uri),
            windows=hook_windows(hook), calls_per_chunk=None if self.one_call_per_record else 1,
        )
        with (
            airflow_errors(f"Sending {self.describe()}"),
            failures_path.open("wb") as failures_fh,
            results_path.open("wb") as results_fh,
        ):
            try:
                for index, chunk in enumerate(chunked(self._input(), chunk_size)):
                    outcome = self._settle_chunk(hook, ledger, index, chunk, unknown)
                    if outcome is None:
                        continue
                    submitted += len(outcome.accepted) + outcome.confirmed + len(outcome.failures)
                    succeeded += len(outcome.accepted) + outcome.confirmed
                    lines = []
                    for accepted in outcome.accepted:
                        lines.append(_dumps(accepted) + "\n")
                        if isinstance(accepted, dict) and accepted.get("existing") is True:
                            existing += 1
                            new_id = accepted.get("existing_id")
                        else:
                            new_id = self.assigned_id(accepted)
                        if new_id is not None and len(ids) <= self.max_xcom_ids:
                            ids.append(new_id)
                    for line in outcome.failures:
                        failed += 1
                        message = str(line.get("error_message"))
                        reasons[message] += 1
                        examples.setdefault(message, [])
                        if len(examples[message]) < 5:
                            examples[message].append(line.get("identifier"))
                        failures_fh.write((_dumps(line) + "\n").encode())
                    results_fh.write("".join(lines).encode())
                    progress.chunk(submitted, succeeded, failed)
                    if outcome.resend or outcome.inflight:
                        # Server errors, a key block or lost answers (after the client's own retries).
                        # Fail retryably now instead of spending the retry budget chunk after chunk;
                        # the next try looks up what may have been applied, resends what was not, and
                        # resumes the rest from the ledger.
                        raise AirflowException(
                            f"{self.describe()}: chunk {index}: {len(outcome.resend)} records met an outage "
                            "(server errors, no connection or a rate-limit block; or not sent after several "
                            "in a row) "
                            f"and {len(outcome.inflight)} have an unknown outcome; failing so that Airflow "
                            f"retries the task, which resumes from the write ledger {ledger.directory}"
                        )
                for record, message in unknown:
                    line = {"record": record, "identifier": self.record_identifier(record),
                            "error_message": message, "status": None}
                    examples.setdefault(message, [])
                    if len(examples[message]) < 5:
                        examples[message].append(line["identifier"])
                    failures_fh.write((_dumps(line) + "\n").encode())
                    submitted += 1
                    failed += 1
                    reasons[message] += 1
            finally:
                hook.close()
        if submitted != succeeded + failed:
            raise AirflowFailException(
                f"accounting error: submitted {submitted} != succeeded {succeeded} + failed {failed}"
            )
        summary: dict[str, Any] = {
            "submitted": submitted,
            "succeeded": succeeded,
            "failed": failed,
            "failures_uri": str(failures_path),
            "results_uri": str(results_path),
        }
        if existing:
            summary["existing"] = existing
        if ids:
            summary["ids"] = ids[: self.max_xcom_ids]
            if len(ids) > self.max_xcom_ids:
                summary["ids_truncated"] = True
        self._log_summary(summary, reasons, examples)
        if unknown:
            summary["outcome_unknown"] = len(unknown)
            context["ti"].xcom_push(key="return_value", value=summary)
            raise AirflowFailException(
                f"{self.describe()}: {len(unknown)} records were sent (by an earlier try or this one) without an "
                "answer that says whether they were applied, and the API cannot tell; they were not sent again. "
                f"A person must decide: they are in the failures file {failures_path} as 'outcome unknown' "
                f"(write ledger: {ledger.directory})"
            )
        self._apply_policy(context, summary)
        return summary

    def _settle_chunk(
        self, hook: GtmBaseHook, ledger: WriteLedger, index: int, chunk: list[Any], unknown: list[tuple[Any, str]]
    ) -> ChunkOutcome | None:
        """The chunk's outcome: from the ledger, from a lookup, or by sending what is still unsent.

        Records whose outcome stays unknown go to ``unknown`` (not sent again); ``None`` when the
        whole chunk is unknown.
        """
        from airflow_provider_gtm.core.batching import BatchResult
        from airflow_provider_gtm.core.ledger import ChunkOutcome

        outcome = ledger.done(index)
        if outcome is None:
            if ledger.unknown(index):
                # An earlier try sent the chunk and died before recording the answer.
                outcome = ChunkOutcome(inflight=list(range(len(chunk))))
            else:
                outcome = ChunkOutcome(resend=list(range(len(chunk))))
        if outcome.inflight:
            part = [chunk[i] for i in outcome.inflight]
            with airflow_errors(f"Looking up {self.describe()} sent by an earlier try"):
                resolved = self.resolve_unknown(hook, part, ledger.started_at(index))
            if resolved is None:
                unknown.extend((record, OUTCOME_UNKNOWN_RETRY) for record in part)
                if not (outcome.accepted or outcome.failures or outcome.confirmed):
                    return None
                return ChunkOutcome(outcome.accepted, outcome.failures, confirmed=outcome.confirmed)
            found, not_applied = resolved
            self.log.info(
                "%s chunk %d: an earlier try's answer was lost; the API has %d of its records, %d are sent again",
                self.describe(), index, len(found), len(not_applied),
            )
            earlier = outcome
            outcome = earlier.merge(
                ChunkOutcome(accepted=list(found), resend=list(not_applied), touched=list(not_applied)),
                earlier.inflight,
            )
            # What the earlier try left to resend (not in flight) is still to be sent.
            outcome.resend = sorted({*outcome.resend, *earlier.resend})
            outcome.touched = sorted({*outcome.touched, *earlier.touched})
            ledger.mark_done(index, outcome)
        if outcome.resend:
            positions = outcome.resend
            # What the API answers "already exists" for now may be this task's own earlier work.
            touched = set(outcome.touched)
            own = {i for i, position in enumerate(positions) if position in touched}
            part = [chunk[i] for i in positions]
            started_at = datetime.now(UTC).isoformat()
            if len(positions) == len(chunk) and not ledger.unknown(index) and ledger.done(index) is None:
                ledger.mark_sent(index, len(chunk), started_at)
            else:
                # Resending part of a chunk: record what is in flight first, like a first send.
                outcome.resend, outcome.inflight = [], positions
                ledger.mark_sent(index, len(chunk), started_at)
                ledger.mark_done(index, outcome)
            base = ChunkOutcome(outcome.accepted, outcome.failures, confirmed=outcome.confirmed)
            result = BatchResult()
            try:
                for piece in settled_before_wait(self.send(hook, part)):
                    result.extend(piece.check())
            except GtmOutcomeUnknownError:
                # The call may have been applied: what earlier calls of this part settled is kept,
                # the rest stays in flight for the next try to resolve (a lookup, else a person).
                done_count = result.submitted
                sent = base.merge(self._outcome(result, part[:done_count], own=own), positions[:done_count])
                sent.inflight.extend(positions[done_count:])
                ledger.mark_done(index, sent)
                raise
            except GtmApiError:
                # The API answered with an error before applying anything (refused, rate limit run
                # out, connection never made): what this call settled is kept, the rest is resent.
                # Hooks send a part in order, one answer per call: the first ``submitted`` are settled.
                done_count = result.submitted
                sent = base.merge(self._outcome(result, part[:done_count], own=own), positions[:done_count])
                sent.resend.extend(positions[done_count:])
                ledger.mark_done(index, sent)
                raise
            outcome = base.merge(self._outcome(result.check(), part, own=own), positions)
            ledger.mark_done(index, outcome)
            if outcome.inflight and not self.can_resolve_unknown([chunk[i] for i in outcome.inflight]):
                # Nothing can tell whether these landed: never resent, a person decides (the ledger
                # keeps them in flight, so a retry reports them the same way).
                unknown.extend((chunk[i], OUTCOME_UNKNOWN_LOST) for i in outcome.inflight)
                outcome = ChunkOutcome(outcome.accepted, outcome.failures, resend=outcome.resend,
                                       confirmed=outcome.confirmed, touched=outcome.touched)
        return outcome

    def _outcome(self, result: BatchResult, chunk: list[Any], *, own: set[int] | None = None) -> ChunkOutcome:
        """Turn a chunk's checked result into its ledger entry (what is settled, what is resent).

        ``own``: positions this task sent before (a lost answer or a server error): an "already
        exists" answer for them is this task's work, a success whatever ``existing_is_success``
        says; so is one the client's own retry met (``Failure.own_work``). A record whose outcome
        is unknown goes in flight: a lookup settles it, else a person (never resent blindly).
        """
        from airflow_provider_gtm.core.batching import OUTCOME_UNKNOWN
        from airflow_provider_gtm.core.ledger import ChunkOutcome

        own = own or set()

        outcome = ChunkOutcome(accepted=list(result.accepted))
        # Some answers confirm by count without returning objects: keep the count right.
        outcome.confirmed = max(0, result.succeeded - len(result.accepted))
        used: set[int] = set()
        for failure in result.failures:
            # A server error that applied nothing (not "outcome unknown") is sent again by the
            # next try; a record whose outcome is unknown goes in flight (a lookup, else a person).
            maybe_applied = failure.error_message.startswith(OUTCOME_UNKNOWN)
            server_error = failure.status is not None and failure.status >= 500
            if failure.resend or maybe_applied or server_error:
                position = _position(chunk, failure.record, used)
                if position is not None:
                    used.add(position)
                    if maybe_applied:
                        outcome.inflight.append(position)
                    else:
                        outcome.resend.append(position)
                        if failure.sent:
                            outcome.touched.append(position)
                    continue
            position = _position(chunk, failure.record, used) if failure.already_exists else None
            if position is not None:
                used.add(position)
            mine = failure.own_work or (position is not None and position in own)
            if failure.already_exists and (self.existing_is_success or mine):
                outcome.accepted.append({"existing": True, **failure.to_json()})
                continue
            outcome.failures.append(failure.to_json())
        return outcome

    def _log_summary(self, summary: dict[str, Any], reasons: Counter[str], examples: dict[str, list[Any]]) -> None:
        self.log.info(
            "%s: submitted %d, succeeded %d, failed %d%s",
            self.describe(), summary["submitted"], summary["succeeded"], summary["failed"],
            f", already existing {summary['existing']}" if summary.get("existing") else "",
        )
        for message, count in reasons.most_common(20):
            self.log.warning("  %d x %r, e.g. %s", count, message, ", ".join(map(str, examples[message])))
        if summary["failed"]:
            self.log.warning("Every failure, with its record: %s", summary["failures_uri"])

    def _apply_policy(self, context: Any, summary: dict[str, Any]) -> None:
        _check_policy(self.on_failures, self.max_failure_ratio, AirflowFailException)
        max_ratio = float(self.max_failure_ratio)
        failed, submitted = summary["failed"], summary["submitted"]
        if not failed or self.on_failures == "warn":
            return
        ratio = failed / submitted if submitted else 0.0
        if self.on_failures == "ratio" and ratio <= max_ratio:
            self.log.warning("%.1f%% failed, within max_failure_ratio %.1f%%", ratio * 100, max_ratio * 100)
            return
        # Push the summary before failing so downstream tasks and people can still see what went wrong.
        context["ti"].xcom_push(key="return_value", value=summary)
        over = f" ({ratio:.1%} > max_failure_ratio {max_ratio:.1%})" if self.on_failures == "ratio" else ""
        raise AirflowFailException(
            f"{self.describe()}: {failed} of {submitted} records failed{over}; see {summary['failures_uri']}"
        )
